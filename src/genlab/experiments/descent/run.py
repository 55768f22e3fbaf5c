"""Run the descent section: three trajectories on E(a, b), then the spread-law fits."""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch
from torch import Tensor

from ...data import linear_regression
from ...dynamics import LeastSquares, least_squares, sgd_least_squares
from ...train import OptimizerConfig, batches, step
from ..base import Context, Result
from . import GD_CONVERGES, SPREAD_BATCH, SPREAD_LR, Config


def _mse(out: Tensor, y: Tensor) -> Tensor:
    return torch.mean((out.squeeze(-1) - y) ** 2)


def _path(ctx: Context, x: Tensor, y: Tensor, *, lr: float, batch_size: int | None,
          steps: int, start, name: str) -> np.ndarray:
    """Plain SGD on the line from ``start``: the iterates (a, b), shape (steps + 1, 2)."""
    model = torch.nn.Linear(1, 1, dtype=torch.float64).to(ctx.device)
    with torch.no_grad():
        model.weight.fill_(start[0])
        model.bias.fill_(start[1])
    opt = OptimizerConfig(name="sgd", lr=lr).build(model.parameters())
    path = [tuple(start)]
    order = batches(len(x), batch_size, ctx.generator(name), device=x.device)
    for idx in itertools.islice(order, steps):
        step(model, opt, _mse, *((x, y) if idx is None else (x[idx], y[idx])))
        path.append((model.weight.item(), model.bias.item()))
    return np.asarray(path)


def _spread(problem: LeastSquares, *, lr: float, m: int, lam_min: float, cfg: Config,
            gen: torch.Generator, replacement: bool = True) -> dict:
    """RMS ‖θ_t − θ*‖ of K SGD chains started at θ*, after a burn-in, with its standard error.

    E has no ½, so its gradient is twice that of the simulator's ½-squares loss: SGD on
    E with η is :func:`~genlab.dynamics.sgd_least_squares` with 2η.
    """
    tau = 1.0 / (lr * lam_min)  # the slowest relaxation time, in steps
    burn, rec = math.ceil(cfg.burn_in * tau), math.ceil(cfg.record * tau)
    chains = sgd_least_squares(problem, 2 * lr, m, chains=cfg.chains, steps=burn + rec,
                               burn_in=burn, replacement=replacement, generator=gen)
    var = float(chains.covariance.trace())
    se = float(chains.covariance_stderr.diagonal().pow(2).sum().sqrt()) / (2 * math.sqrt(var))
    return {"lr": lr, "batch_size": m, "spread": math.sqrt(var), "spread_se": se,
            "steps": burn + rec, "replacement": replacement}


def _exponent(rows: list[dict], key: str) -> tuple[float, float]:
    """Slope of log spread against log ``key`` (weighted least squares) and its standard error."""
    v = np.log([r[key] for r in rows])
    s = np.log([r["spread"] for r in rows])
    w = 1.0 / np.maximum([r["spread_se"] / r["spread"] for r in rows], 1e-12)  # 1/σ of log s
    (slope, _), cov = np.polyfit(v, s, 1, w=w, cov="unscaled")
    return float(slope), float(np.sqrt(cov[0, 0]))


def _sweeps(cfg: Config, ctx: Context, problem: LeastSquares,
            lam_min: float) -> dict[str, list[dict]]:
    def run(name: str, lrs, ms, replacement=True) -> list[dict]:
        rows = []
        for lr, m in ctx.track(list(zip(lrs, ms)), name):
            rows.append(_spread(problem, lr=lr, m=m, lam_min=lam_min, cfg=cfg,
                                gen=ctx.generator(name, lr, m), replacement=replacement))
            ctx.log({"sweep": name, **rows[-1]})
        return rows

    fixed_m = 4
    lrs = cfg.lrs + cfg.large_lrs
    return {
        "lr": run("lr", cfg.lrs, [fixed_m] * len(cfg.lrs)),
        "batch": run("batch", [cfg.sweep_lr] * len(cfg.batch_sizes), cfg.batch_sizes),
        "large_lr": run("large_lr", cfg.large_lrs, [fixed_m] * len(cfg.large_lrs)),
        "lr_shuffled": run("lr_shuffled", lrs, [fixed_m] * len(lrs), replacement=False),
        "batch_shuffled": run("batch_shuffled", [cfg.sweep_lr] * len(cfg.batch_sizes),
                              cfg.batch_sizes, replacement=False),
    }


def _claims(cfg: Config, gd_error: float, sweeps: dict, lam_max: float) -> tuple[list, dict]:
    fits = {k: _exponent(rows, "lr" if k.startswith(("lr", "large")) else "batch_size")
            for k, rows in sweeps.items() if len(rows) > 1}
    fits["lr_all"] = _exponent(sweeps["lr"] + sweeps["large_lr"], "lr")
    (e_lr, se_lr), (e_m, se_m) = fits["lr"], fits["batch"]
    lr_span = f"η = {min(cfg.lrs):g}…{max(cfg.lrs):g} (ηλ_max ≤ {max(cfg.lrs) * lam_max:.2f})"
    breaks = (f"where it breaks: with η up to {max(cfg.large_lrs):g} (ηλ_max "
              f"{max(cfg.large_lrs) * lam_max:.2f}) the exponent is {fits['lr_all'][0]:.3f}; "
              f"with per-epoch shuffling {fits['lr_shuffled'][0]:.3f} in η and "
              f"{fits['batch_shuffled'][0]:.3f} in M")
    claims = [
        GD_CONVERGES(gd_error, f"relative distance ‖θ_GD − θ*‖/‖θ*‖ after {cfg.gd_steps} steps"),
        SPREAD_LR(abs(e_lr - 0.5), f"fitted exponent {e_lr:.3f} ± {se_lr:.3f} over {lr_span}, "
                  f"M = 4, {cfg.chains} chains drawn with replacement; {breaks}"),
        SPREAD_BATCH(abs(e_m + 0.5), f"fitted exponent {e_m:.3f} ± {se_m:.3f} over M = "
                     f"{cfg.batch_sizes}, η = {cfg.sweep_lr:g}, with replacement"),
    ]
    return claims, {k: {"exponent": v[0], "stderr": v[1]} for k, v in fits.items()}


def run(cfg: Config, ctx: Context) -> Result:
    x, y = linear_regression(cfg.n, cfg.slope, cfg.intercept, cfg.noise, ctx.seed_for("data"),
                             interval=(0.0, 2.0), dtype=torch.float64)  # (n, 1) each
    x64, y64 = x.reshape(-1), y.reshape(-1)
    design = torch.stack([x64, torch.ones(cfg.n, dtype=torch.float64)], 1)  # (n, 2)
    problem = least_squares(design, y64)
    optimum = problem.optimum
    lam_min, lam_max = map(float, torch.linalg.eigvalsh(2 * problem.hessian))  # E has no ½
    xs, ys = x.to(ctx.device), y64.to(ctx.device)

    paths = {"GD": _path(ctx, xs, ys, lr=cfg.lr, batch_size=None, steps=cfg.gd_steps,
                         start=cfg.start, name="gd"),
             "minibatch M=8": _path(ctx, xs, ys, lr=cfg.lr, batch_size=8,
                                    steps=cfg.epochs * cfg.n // 8, start=cfg.start, name="mb"),
             "online M=1": _path(ctx, xs, ys, lr=cfg.lr, batch_size=1,
                                 steps=cfg.epochs * cfg.n, start=cfg.start, name="online")}
    opt = optimum.numpy()
    gd_error = float(np.linalg.norm(paths["GD"][-1] - opt) / np.linalg.norm(opt))
    sweeps = _sweeps(cfg, ctx, problem, lam_min)
    claims, fits = _claims(cfg, gd_error, sweeps, lam_max)

    moments = {"xx": float((x64 ** 2).mean()), "x": float(x64.mean()),
               "xy": float((x64 * y64).mean()), "y": float(y64.mean()),
               "yy": float((y64 ** 2).mean())}
    stride = {k: max(1, len(p) // 600) for k, p in paths.items()}
    return Result(
        claims=claims,
        summary={"optimum_a": opt[0], "optimum_b": opt[1], "gd_rel_error": gd_error,
                 "lambda_min": lam_min, "lambda_max": lam_max,
                 **{f"exponent_{k}": v["exponent"] for k, v in fits.items()}},
        data={"optimum": opt, "moments": moments, "sweeps": sweeps, "fits": fits,
              "lambda": [lam_min, lam_max],
              "paths": {k: p[::stride[k]] for k, p in paths.items()}, "stride": stride})
