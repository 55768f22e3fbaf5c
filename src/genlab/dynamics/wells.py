"""Double wells and their exact basin masses: which basin a noisy descent prefers.

The overdamped Langevin equation dx = −∇E(x)dt + √(2T) D^½ dW, integrated by
Euler–Maruyama x ← x − h∇E(x) + √(2Th) D^½ z, has for D = I the stationary (Gibbs)
density p(x) ∝ exp(−E(x)/T); SGD with isotropic noise C = σ²I, batch B and step η is
this scheme with h = η and T = ησ²/(2B). The mass of a basin i is then, at low T, the
Laplace estimate p_i ∝ exp(−E_i/T)·det(H_i)^(−1/2) (H_i the Hessian at its minimum):
at equal depth the wide basin wins, and above some temperature a wide basin wins over
a deeper narrow one. With D ≠ I (e.g. noise ∝ H, as SGD's) the stationary density is
no longer Gibbs; :func:`~genlab.dynamics.escape_times` measures how fast a basin is left.

The potential (:class:`DoubleWell`) is a smooth minimum of two paraboloids,
E(x) = −s·log Σ_i exp(−q_i(x)/s) with q_i(x) = E_i + ½(x − a_i)ᵀK_i(x − a_i), so each
basin's depth E_i and curvature K_i are set independently (up to corrections of order
exp(−Δq/s)); basin i is the region where q_i is the smaller paraboloid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = ["DoubleWell", "Minimum", "boltzmann_occupation", "laplace_occupation"]


@dataclass
class Minimum:
    """A local minimum: ``location`` (d,), ``energy``, ``hessian`` (d, d)."""

    location: Tensor
    energy: float
    hessian: Tensor


def _curvature(k: Any, d: int) -> Tensor:
    k = torch.as_tensor(k, dtype=torch.float64)
    if k.ndim == 0:
        return k * torch.eye(d, dtype=torch.float64)
    return torch.diag(k) if k.ndim == 1 else k


class DoubleWell:
    """Two basins of chosen depth and curvature (see the module docstring).

    Args:
        centers: a_i, (2, d) (or (2,) for d = 1).
        energies: E_i, the depth of each minimum (2,).
        curvatures: K_i per basin: a number (K_i = k·I), a (d,) diagonal or a (d, d) matrix.
        softness: s, the width of the smooth minimum (small: sharper barrier top).
    """

    def __init__(self, centers: Any, energies: Sequence[float], curvatures: Sequence[Any], *,
                 softness: float = 0.1):
        c = torch.as_tensor(centers, dtype=torch.float64)
        self.centers = c[:, None] if c.ndim == 1 else c  # (2, d)
        self.dim = self.centers.shape[1]
        self.energies = torch.as_tensor(energies, dtype=torch.float64)  # (2,)
        self.curvatures = torch.stack([_curvature(k, self.dim) for k in curvatures])  # (2, d, d)
        if self.centers.shape[0] != 2 or self.energies.shape != (2,) or softness <= 0:
            raise ValueError("a double well needs 2 centers, 2 energies, 2 curvatures, softness > 0")
        if (torch.linalg.eigvalsh(self.curvatures) <= 0).any():
            raise ValueError("each curvature must be positive definite")
        self.softness = softness
        ka = torch.einsum("ide,ie->id", self.curvatures, self.centers)  # (2, d) K_i a_i
        stacked = self.curvatures.transpose(0, 1).reshape(self.dim, 2 * self.dim)  # [K_0 K_1]
        self._precomputed = (stacked, ka, self.energies + 0.5 * (ka * self.centers).sum(1))
        self._on: dict[tuple, tuple[Tensor, ...]] = {}  # the same on each (device, dtype)

    def _terms(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """q (K, 2) and m_i = K_i(x − a_i) (K, 2, d) for x (K, d), in one matrix product:
        K_i x − K_i a_i, and q_i = E_i + ½aᵢᵀK_iaᵢ + ½xᵀ(m_i − K_i a_i)."""
        key = (x.device, x.dtype)
        if key not in self._on:  # plain tensors: safe to keep under torch.func transforms
            self._on[key] = tuple(t.to(device=x.device, dtype=x.dtype) for t in self._precomputed)
        stacked, ka, const = self._on[key]
        m = (x @ stacked).unflatten(1, (2, self.dim)) - ka  # (K, 2, d)
        return const + 0.5 * (x[:, None, :] * (m - ka)).sum(2), m

    def parabolas(self, x: Tensor) -> Tensor:
        """q_i(x) for x (K, d) -> (K, 2)."""
        return self._terms(x)[0]

    def energy(self, x: Tensor) -> Tensor:
        """E(x) (K,) for x (K, d)."""
        return -self.softness * torch.logsumexp(-self.parabolas(x) / self.softness, dim=1)

    def gradient_and_basin(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """∇E(x) = Σ_i p_i K_i (x − a_i) with p = softmax(−q/s) (K, d), and the basin (K,)."""
        q, m = self._terms(x)
        p1 = torch.sigmoid((q[:, 0] - q[:, 1]) / self.softness)[:, None]  # (K, 1)
        return m[:, 0] + p1 * (m[:, 1] - m[:, 0]), (q[:, 1] < q[:, 0]).long()

    def gradient(self, x: Tensor) -> Tensor:
        """∇E(x) (K, d) for x (K, d)."""
        return self.gradient_and_basin(x)[0]

    def basin(self, x: Tensor) -> Tensor:
        """Index (K,) of the basin of each point: the smaller paraboloid (0 on a tie)."""
        return self.gradient_and_basin(x)[1]

    def minima(self, iterations: int = 30) -> list[Minimum]:
        """The two exact local minima, by Newton's method from the centers (float64)."""
        f = lambda v: self.energy(v[None])[0]  # noqa: E731
        out = []
        for x in self.centers:
            for _ in range(iterations):
                h = torch.autograd.functional.hessian(f, x)
                step = torch.linalg.solve(h, self.gradient(x[None])[0])
                x = x - step
                if float(step.abs().max()) < 1e-14:
                    break
            out.append(Minimum(x, float(f(x)), torch.autograd.functional.hessian(f, x)))
        return out

    def laplace(self, temperature: float) -> Tensor:
        """Laplace estimate of the basin masses at ``temperature`` (see
        :func:`laplace_occupation`), from the exact minima."""
        m = self.minima()
        return laplace_occupation([v.energy for v in m], [v.hessian for v in m], temperature)


def laplace_occupation(energies: Sequence[float], hessians: Sequence[Tensor],
                       temperature: float) -> Tensor:
    """p_i ∝ exp(−E_i/T)·det(H_i)^(−1/2), normalized (k,): the Gaussian approximation of
    each basin's Gibbs mass, exact as T → 0 (the common factor (2πT)^(d/2) cancels)."""
    e = torch.as_tensor(energies, dtype=torch.float64)
    logdet = torch.stack([torch.linalg.slogdet(torch.as_tensor(h, dtype=torch.float64))[1]
                          for h in hessians])
    return torch.softmax(-e / temperature - 0.5 * logdet, dim=0)


def _box(well: DoubleWell, temperature: float, width: float) -> tuple[Tensor, Tensor]:
    """Per-axis bounds (d,) holding all but a negligible part of the Gibbs mass."""
    lam = torch.linalg.eigvalsh(well.curvatures)[:, 0]  # smallest curvature per basin
    reach = width * (temperature / lam).sqrt()[:, None]  # (2, 1)
    return (well.centers - reach).min(0).values, (well.centers + reach).max(0).values


def _gauss(a: Tensor, b: Tensor, pieces: int, order: int) -> tuple[Tensor, Tensor]:
    """Composite Gauss–Legendre nodes and weights on [a, b] (each (...,)) -> (..., M)."""
    x, w = (torch.from_numpy(v) for v in np.polynomial.legendre.leggauss(order))
    edges = torch.linspace(0, 1, pieces + 1, dtype=torch.float64)
    mid, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2  # (pieces,)
    unit = (mid[:, None] + half[:, None] * x).reshape(-1)  # (M,) nodes on [0, 1]
    unit_w = (half[:, None] * w).reshape(-1)
    span = (b - a)[..., None]
    return a[..., None] + span * unit, span * unit_w


def _line_masses(well: DoubleWell, rho, lo: float, hi: float, rest: Tensor,
                 pieces: int, order: int) -> Tensor:
    """∫ ρ dx over basin 0 and basin 1 along x_0 on each line x_1.. = ``rest`` (L, d−1):
    the lines are cut where the paraboloids cross (q_0 − q_1 is quadratic in x_0), so
    every piece lies in one basin and Gauss–Legendre converges fast. Returns (L, 2)."""
    def at(x0: Tensor) -> Tensor:  # points (L, ..., d) from x_0 values (L, ...)
        r = rest.reshape(rest.shape[0], *([1] * (x0.ndim - 1)), -1).expand(*x0.shape, -1)
        return torch.cat([x0[..., None], r], -1)

    probe = at(torch.tensor([-1.0, 0.0, 1.0], dtype=torch.float64).expand(rest.shape[0], 3))
    f = well.parabolas(probe.reshape(-1, well.dim)).reshape(-1, 3, 2)
    f = f[..., 0] - f[..., 1]  # (L, 3) q_0 − q_1 at x_0 = −1, 0, 1
    qa, qb, qc = (f[:, 0] + f[:, 2]) / 2 - f[:, 1], (f[:, 2] - f[:, 0]) / 2, f[:, 1]
    roots = torch.stack(_roots(qa, qb, qc), 1)  # (L, 2), +inf where none
    cuts = torch.cat([torch.full_like(roots[:, :1], lo), roots.clamp(lo, hi).sort(1).values,
                      torch.full_like(roots[:, :1], hi)], 1)  # (L, 4)
    x, w = _gauss(cuts[:, :-1], cuts[:, 1:], pieces, order)  # (L, 3, M)
    inner = (rho(at(x)) * w).sum(-1)  # (L, 3)
    side = well.basin(at((cuts[:, :-1] + cuts[:, 1:]) / 2).reshape(-1, well.dim))
    side = side.reshape(-1, 3)
    return torch.stack([(inner * (side == i)).sum(1) for i in range(2)], 1)


def _roots(a: Tensor, b: Tensor, c: Tensor) -> tuple[Tensor, Tensor]:
    """The real roots of a x² + b x + c (L,) each; +inf where there is none."""
    inf = torch.full_like(a, float("inf"))
    disc = b**2 - 4 * a * c
    sq = disc.clamp_min(0).sqrt()
    quad = a.abs() > 1e-12 * (b.abs() + c.abs() + 1)
    q = -0.5 * (b + torch.where(b >= 0, sq, -sq))  # stable form
    r1 = torch.where(quad, q / torch.where(q == 0, 1, a), -c / torch.where(b == 0, 1, b))
    r2 = torch.where(quad, c / torch.where(q == 0, 1, q), inf)
    real = ~quad | (disc >= 0)
    lin_ok = quad | (b != 0)
    return torch.where(real & lin_ok, r1, inf), torch.where(real & quad & (q != 0), r2, inf)


def boltzmann_occupation(well: DoubleWell, temperature: float, *, width: float = 12.0,
                         pieces: int = 16, order: int = 16) -> Tensor:
    """Exact Gibbs mass of each basin, ∫_basin exp(−E/T) / ∫ exp(−E/T), by quadrature.

    Composite Gauss–Legendre (``pieces`` × ``order`` nodes per interval) along x_0 on
    lines cut at the basin boundary (so each piece lies in one basin, no discontinuity)
    and, for d = 2, the same rule across the lines; relative error ~1e-10 at the
    defaults (checked against ``scipy.integrate.quad`` in the tests).

    Args:
        well: the potential (d = 1 or 2).
        temperature: T > 0.
        width: half-width of the integration box in units of √(T/k_min) around each center.
        pieces, order: the quadrature rule.

    Returns:
        Masses (2,) summing to 1 (float64).
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if well.dim not in (1, 2):
        raise ValueError(f"boltzmann_occupation integrates d = 1 or 2, got d = {well.dim}")
    lo, hi = _box(well, temperature, width)
    e0 = min(m.energy for m in well.minima())

    def rho(x: Tensor) -> Tensor:  # (..., d) -> (...,)
        return torch.exp(-(well.energy(x.reshape(-1, well.dim)) - e0) / temperature
                         ).reshape(x.shape[:-1])

    if well.dim == 1:
        rest, weights = torch.zeros(1, 0, dtype=torch.float64), torch.ones(1, dtype=torch.float64)
    else:
        rest, weights = _gauss(lo[1], hi[1], pieces, order)
        rest = rest[:, None]  # (L, 1)
    masses = (weights[:, None] * _line_masses(well, rho, float(lo[0]), float(hi[0]), rest,
                                              pieces, order)).sum(0)
    return masses / masses.sum()
