"""Overdamped Langevin dynamics, many chains at once: basin occupation and escape times.

Euler–Maruyama for dx = −∇E(x)dt + √(2T) D^½ dW with step h:
x ← x − h∇E(x) + √(2Th) z D^½ᵀ, z ~ N(0, I). With D = I the stationary density is
∝ exp(−E/T) up to an O(h) bias; SGD with isotropic per-example noise σ²I, batch B
and step η is this scheme with h = η, T = ησ²/(2B). A constant D ≠ I (e.g.
:func:`~genlab.dynamics.noise_model` ("hessian", H_i, trace=d), SGD's noise shape near
minimum i at the same total noise as D = I) breaks the Gibbs form.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .quadratic import _sqrt
from .wells import DoubleWell

__all__ = ["Occupation", "escape_times", "langevin"]


@dataclass
class Occupation:
    """Chains of a Langevin run: ``final`` positions (K, d); ``fraction`` (2,) of the
    recorded steps spent in each basin, averaged over chains, and ``fraction_stderr``
    from the spread of the K independent per-chain fractions; ``records`` per chain."""

    final: Tensor
    fraction: Tensor
    fraction_stderr: Tensor
    records: int


def _noise_scale(well: DoubleWell, temperature: float, dt: float, diffusion: Tensor | None,
                 dtype: torch.dtype, device: torch.device) -> Tensor:
    """√(2Th) D^½ᵀ (d, d)."""
    if temperature <= 0 or dt <= 0:
        raise ValueError(f"temperature and dt must be positive, got {temperature} and {dt}")
    d = torch.eye(well.dim, dtype=torch.float64) if diffusion is None else diffusion.double()
    if d.shape != (well.dim, well.dim):
        raise ValueError(f"diffusion must be ({well.dim}, {well.dim}), got {tuple(d.shape)}")
    return ((2 * temperature * dt) ** 0.5 * _sqrt(d.cpu()).T).to(dtype=dtype, device=device)


def _start(well: DoubleWell, start: Tensor | int, chains: int, dtype: torch.dtype,
           device: torch.device) -> Tensor:
    """(K, d) start points: a basin index (its exact minimum), a point (d,) or points (K, d)."""
    if isinstance(start, int):
        start = well.minima()[start].location
    return torch.zeros(chains, well.dim, dtype=dtype, device=device) + start.to(dtype=dtype,
                                                                              device=device)


def langevin(well: DoubleWell, temperature: float, dt: float, *, chains: int, steps: int,
             start: Tensor | int = 0, burn_in: int = 0, record_every: int = 1,
             diffusion: Tensor | None = None, generator: torch.Generator | None = None,
             dtype: torch.dtype = torch.float64, device: str | torch.device = "cpu"
             ) -> Occupation:
    """Simulate K Langevin chains in ``well`` and measure the time spent in each basin.

    Args:
        well: the potential.
        temperature: T; dt: the step h.
        chains: K; steps: steps per chain; burn_in: steps before recording;
        record_every: record the basin every this many steps.
        start: a basin index (start at its minimum), a point (d,) or points (K, d).
        diffusion: D (d, d), constant (default I).
        generator: noise source (on ``device``).

    Returns:
        :class:`Occupation`.
    """
    if chains < 1 or steps <= burn_in or record_every < 1:
        raise ValueError(f"need chains ≥ 1, steps > burn_in, record_every ≥ 1; got {chains}, "
                         f"{steps}, {burn_in}, {record_every}")
    scale = _noise_scale(well, temperature, dt, diffusion, dtype, torch.device(device))
    x = _start(well, start, chains, dtype, torch.device(device))
    z, counts, records = torch.empty_like(x), torch.zeros(chains, 2, device=device), 0
    ones = torch.ones(chains, device=device)
    for t in range(1, steps + 1):
        g, _ = well.gradient_and_basin(x)
        x = torch.addmm(x - dt * g, z.normal_(generator=generator), scale)  # (K, d)
        if t > burn_in and (t - burn_in) % record_every == 0:
            counts[:, 1] += well.basin(x)
            records += 1
    counts[:, 0] = records * ones - counts[:, 1]
    if records == 0:
        raise ValueError("no step was recorded: lower record_every")
    per_chain = counts.double() / records  # (K, 2)
    return Occupation(x, per_chain.mean(0), per_chain.std(0) / chains**0.5, records)


def escape_times(well: DoubleWell, temperature: float, dt: float, *, basin: int, chains: int,
                 max_steps: int, diffusion: Tensor | None = None,
                 generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64,
                 device: str | torch.device = "cpu") -> Tensor:
    """First time each chain, started at the minimum of ``basin``, is in the other basin.

    A chain that crosses the basin boundary and falls back counts as escaped at the
    crossing (the boundary is where the two paraboloids are equal, near the barrier).

    Args:
        well, temperature, dt, chains, diffusion, generator, dtype, device: see
            :func:`langevin`.
        basin: the starting basin (0 or 1).
        max_steps: give up after this many steps.

    Returns:
        Escape times in time units (steps × dt), (K,) float64; NaN for chains that did
        not escape within ``max_steps`` (report their number; a mean over escaped chains
        alone is biased low).
    """
    if basin not in (0, 1):
        raise ValueError(f"basin must be 0 or 1, got {basin}")
    scale = _noise_scale(well, temperature, dt, diffusion, dtype, torch.device(device))
    x = _start(well, basin, chains, dtype, torch.device(device))
    z = torch.empty_like(x)
    times = torch.full((chains,), float("nan"), dtype=torch.float64, device=device)
    for t in range(1, max_steps + 1):
        g, where = well.gradient_and_basin(x)  # the basin of the previous point
        times.masked_fill_((where != basin) & times.isnan(), (t - 1) * dt)
        x = torch.addmm(x - dt * g, z.normal_(generator=generator), scale)  # (K, d)
        if t % 100 == 0 and not times.isnan().any():
            break
    return times
