"""Part 3: which basin a noisy descent occupies, and how fast it leaves a sharp one.

Basin 0 is the narrow minimum at −well_center, basin 1 the wide one at +well_center;
occupations are reported as the wide basin's fraction.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.optimize import brentq

from ...dynamics import (
    DoubleWell,
    boltzmann_occupation,
    escape_times,
    langevin,
    noise_model,
)
from ..base import Context
from . import Config

__all__ = ["escapes", "occupations", "wells"]


def wells(cfg: Config) -> dict[str, DoubleWell]:
    """The 1-D wells: ``equal`` depth, and ``deep_narrow`` (the wide minimum depth_gap higher)."""
    a, k = cfg.well_center, [cfg.narrow_curvature, cfg.wide_curvature]
    return {"equal": DoubleWell([-a, a], [0.0, 0.0], k, softness=0.05),
            "deep_narrow": DoubleWell([-a, a], [0.0, cfg.depth_gap], k, softness=0.05)}


def _crossover(well: DoubleWell, temps: list[float]) -> float | None:
    """The temperature at which the exact wide-basin mass is ½ (None if not in range)."""
    f = lambda t: float(boltzmann_occupation(well, t)[1]) - 0.5
    lo, hi = min(temps) / 4, max(temps) * 4
    return brentq(f, lo, hi, xtol=1e-6) if f(lo) * f(hi) < 0 else None


def _barrier(well: DoubleWell) -> tuple[float, float]:
    """Barrier heights seen from the narrow and from the wide minimum."""
    m = well.minima()
    x = torch.linspace(float(m[0].location[0]), float(m[1].location[0]), 4001,
                       dtype=torch.float64)[:, None]
    top = float(well.energy(x).max())
    return top - m[0].energy, top - m[1].energy


def _measure(cfg: Config, ctx: Context, name: str, well: DoubleWell, t: float) -> dict:
    """Langevin chains at temperature t, half started in each minimum."""
    m = well.minima()
    k = cfg.well_chains
    start = torch.cat([m[0].location.expand(k // 2, 1), m[1].location.expand(k - k // 2, 1)])
    occ = langevin(well, t, cfg.dt, chains=k, steps=cfg.well_steps,
                   burn_in=cfg.well_steps // 4, record_every=7, start=start,
                   generator=ctx.generator("langevin", name, t))
    return {"well": name, "temperature": t, "measured": float(occ.fraction[1]),
            "stderr": float(occ.fraction_stderr[1]),
            "boltzmann": float(boltzmann_occupation(well, t)[1]),
            "laplace": float(well.laplace(t)[1])}


def occupations(cfg: Config, ctx: Context) -> dict:
    """Measured, Boltzmann and Laplace wide-basin fractions at every temperature, the
    exact curves on a fine grid for the figure, and each well's crossover and barriers."""
    out: dict = {"rows": [], "curves": {}, "wells": {}}
    grid = np.geomspace(min(cfg.temperatures) / 2, max(cfg.temperatures) * 2, 40)
    for name, well in wells(cfg).items():
        for t in ctx.track(cfg.temperatures, f"Langevin, {name} well"):
            out["rows"].append(_measure(cfg, ctx, name, well, t))
            ctx.log({"part": "wells", **out["rows"][-1]})
        out["curves"][name] = {"temperature": grid.tolist(),
                               "boltzmann": [float(boltzmann_occupation(well, t)[1])
                                             for t in grid],
                               "laplace": [float(well.laplace(t)[1]) for t in grid]}
        barrier = _barrier(well)
        out["wells"][name] = {"crossover": _crossover(well, cfg.temperatures),
                              "barrier_narrow": barrier[0], "barrier_wide": barrier[1],
                              "energies": [m.energy for m in well.minima()],
                              "curvatures": [float(m.hessian) for m in well.minima()]}
    return out


def escapes(cfg: Config, ctx: Context) -> tuple[dict, dict[str, np.ndarray]]:
    """Escape times from the sharp basin of a 2-D double well (curvature diag(k_n, k_w)
    at −well_center, isotropic k_w at +well_center) with isotropic noise and with noise
    ∝ the sharp basin's Hessian of the same trace (Zhu et al.'s SGD-like noise)."""
    a, kn, kw = cfg.well_center, cfg.narrow_curvature, cfg.wide_curvature
    well = DoubleWell([[-a, 0.0], [a, 0.0]], [0.0, 0.0], [[kn, kw], kw], softness=0.05)
    h = well.minima()[0].hessian
    shapes = {"isotropic": None, "hessian": noise_model("hessian", h, trace=2.0)}
    out, arrays = {"temperature": cfg.escape_temperature, "max_time": cfg.escape_max_steps
                   * cfg.dt, "barrier": _barrier2d(well), "sharp_curvature": [kn, kw]}, {}
    for name, diffusion in shapes.items():
        t = escape_times(well, cfg.escape_temperature, cfg.dt, basin=0,
                         chains=cfg.escape_chains, max_steps=cfg.escape_max_steps,
                         diffusion=diffusion, generator=ctx.generator("escape", name))
        done = ~t.isnan()
        d = torch.eye(2, dtype=torch.float64) if diffusion is None else diffusion
        out[name] = {"median": _median(t), "mean_escaped": float(t[done].mean()),
                     "escaped": float(done.double().mean()),
                     "zhu_indicator": float(torch.trace(h @ d)),
                     "diffusion": d.tolist()}
        arrays[f"escape_{name}"] = t.numpy()
        ctx.log({"part": "escape", "noise": name, **{k: v for k, v in out[name].items()
                                                     if k != "diffusion"}})
    return out, arrays


def _median(times: torch.Tensor) -> float:
    """Median escape time, chains that never escaped counting as +∞ (NaN if over half)."""
    ordered = torch.where(times.isnan(), math.inf, times).sort().values
    return float(ordered[(len(ordered) - 1) // 2]) if ordered.isfinite().double().mean() > 0.5 \
        else math.nan


def _barrier2d(well: DoubleWell) -> float:
    """Barrier of the sharp minimum along the axis joining the minima (the saddle)."""
    x = torch.linspace(-float(well.centers[0, 0].abs()), float(well.centers[1, 0]), 4001,
                       dtype=torch.float64)
    pts = torch.stack([x, torch.zeros_like(x)], 1)
    return float(well.energy(pts).max()) - well.minima()[0].energy
