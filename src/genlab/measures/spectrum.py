"""Trace, spectral density and power iteration of a symmetric linear operator.

Everything here works on any :class:`~genlab.measures.LinearOperatorLike` (``shape``,
``dtype``, ``device``, ``matvec``: a :class:`~genlab.measures.HessianOperator`, a
:class:`~genlab.measures.GaussNewtonOperator`) and on a plain symmetric matrix. Lanczos
(:func:`~genlab.measures.top_eigen`) lives in :mod:`genlab.measures.eigen` and is
re-exported here; power iteration is here as the baseline PyHessian uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from .eigen import Eigen, _randn, _ritz, lanczos, top_eigen
from .linop import LinearOperatorLike, MatrixOperator, as_operator

__all__ = [
    "Eigen",
    "Estimate",
    "MatrixOperator",
    "SpectralDensity",
    "hutchinson_trace",
    "hutchpp_trace",
    "lanczos",
    "power_iteration",
    "spectral_density",
    "top_eigen",
]


@dataclass
class Estimate:
    """A Monte-Carlo estimate: ``value`` ± ``stderr`` from ``n`` samples."""

    value: float
    stderr: float
    n: int


def _rademacher(n: int, generator: torch.Generator, op: LinearOperatorLike) -> Tensor:
    z = torch.randint(0, 2, (n,), generator=generator, device=generator.device)
    return (2 * z - 1).to(device=op.device, dtype=op.dtype)


def hutchinson_trace(op: LinearOperatorLike | Tensor, num_samples: int = 100, *,
                     generator: torch.Generator | None = None) -> Estimate:
    """Hutchinson's trace estimate mean(zᵀ A z), z Rademacher (Hutchinson 1989).

    Returns:
        :class:`Estimate` with the sample standard error std/√m.
    """
    op = as_operator(op)
    generator = generator or torch.Generator().manual_seed(0)
    samples = []
    for _ in range(num_samples):
        z = _rademacher(op.shape[0], generator, op)
        samples.append(float(torch.dot(z, op.matvec(z))))
    return _estimate(torch.tensor(samples, dtype=torch.float64), 0.0)


def _estimate(samples: Tensor, offset: float) -> Estimate:
    m = samples.numel()
    se = float(samples.std() / math.sqrt(m)) if m > 1 else float("inf")
    return Estimate(offset + float(samples.mean()), se, m)


def hutchpp_trace(op: LinearOperatorLike | Tensor, num_matvecs: int = 99, *,
                  generator: torch.Generator | None = None) -> Estimate:
    """Hutch++ trace estimate (Meyer, Musco, Musco & Woodruff 2021).

    A third of the products sketch the top subspace Q, whose trace tr(QᵀAQ) is
    exact; Hutchinson estimates the rest on (I − QQᵀ)A(I − QQᵀ). The standard
    error is that of the Hutchinson part.

    Args:
        num_matvecs: total operator products (≥ 6; split m/3 sketch, m/3 for AQ,
            m/3 Hutchinson samples).
    """
    op = as_operator(op)
    if num_matvecs < 6:
        raise ValueError(f"num_matvecs must be >= 6, got {num_matvecs}")
    generator = generator or torch.Generator().manual_seed(0)
    s = num_matvecs // 3
    sketch = torch.stack([op.matvec(_rademacher(op.shape[0], generator, op)) for _ in range(s)])
    Q = torch.linalg.qr(sketch.T).Q.T  # (s, n) orthonormal rows
    exact = sum(float(torch.dot(q, op.matvec(q))) for q in Q)
    samples = []
    for _ in range(num_matvecs - 2 * s):
        g = _rademacher(op.shape[0], generator, op)
        g = g - Q.T @ (Q @ g)  # (n,)
        samples.append(float(torch.dot(g, op.matvec(g))))
    return _estimate(torch.tensor(samples, dtype=torch.float64), exact)


@dataclass
class SpectralDensity:
    """Stochastic Lanczos quadrature of a spectrum.

    ``nodes`` (V, m) Ritz values and ``weights`` (V, m) squared first components
    for each of V probe vectors (each row sums to 1); ``grid`` (G,) and
    ``density`` (G,) the Gaussian-smoothed density (integrates to ≈ 1).
    """

    nodes: Tensor
    weights: Tensor
    grid: Tensor
    density: Tensor
    sigma: float

    def moment(self, p: int) -> float:
        """Estimate of tr(Aᵖ)/n, exact for each probe when p ≤ 2m − 1."""
        return float((self.weights * self.nodes**p).sum(dim=1).mean())


def spectral_density(op: LinearOperatorLike | Tensor, num_vectors: int = 10,
                     num_steps: int = 80, *,
                     generator: torch.Generator | None = None, grid_size: int = 1000,
                     sigma: float | None = None) -> SpectralDensity:
    """Spectral density by stochastic Lanczos quadrature (Ubaru, Chen & Saad 2017;
    Ghorbani, Krishnan & Xiao 2019).

    Args:
        op: symmetric operator or matrix.
        num_vectors: V Rademacher probe vectors.
        num_steps: m Lanczos steps per probe (with full reorthogonalization).
        generator: source of the probes.
        grid_size: points of the density grid.
        sigma: Gaussian kernel width; default 1% of the spectral range.

    Returns:
        :class:`SpectralDensity`.
    """
    op = as_operator(op)
    generator = generator or torch.Generator().manual_seed(0)
    m = min(num_steps, op.shape[0])
    nodes = torch.zeros(num_vectors, m, dtype=torch.float64)
    weights = torch.zeros_like(nodes)
    for i in range(num_vectors):
        alpha, beta, _ = lanczos(op, _rademacher(op.shape[0], generator, op), m)
        theta, s = _ritz(alpha, beta)
        nodes[i], weights[i, :len(theta)] = theta[0], s[0] ** 2  # pad: weight 0
        nodes[i, :len(theta)] = theta
    lo, hi = float(nodes.min()), float(nodes.max())
    sigma = sigma or max(hi - lo, 1e-12) / 100
    grid = torch.linspace(lo - 5 * sigma, hi + 5 * sigma, grid_size, dtype=torch.float64)
    kern = torch.exp(-0.5 * ((grid[:, None, None] - nodes) / sigma) ** 2)  # (G, V, m)
    density = (kern * weights).sum(dim=2).mean(dim=1) / (sigma * math.sqrt(2 * math.pi))
    return SpectralDensity(nodes, weights, grid, density, sigma)


def power_iteration(op: LinearOperatorLike | Tensor, k: int = 1, *,
                    generator: torch.Generator | None = None, tol: float = 1e-6,
                    max_iter: int = 1000) -> Eigen:
    """The k eigenpairs of largest magnitude by power iteration with deflation.

    Each new vector is kept orthogonal to the eigenvectors already found (the
    scheme of PyHessian, Yao et al. 2020); iteration stops when the Rayleigh
    quotient changes by less than ``tol`` relative.

    Args / Returns: as :func:`top_eigen`; values in the order found; the residuals
    are measured with one more product per pair (counted in ``matvecs``).
    """
    op = as_operator(op)
    n = op.shape[0]
    generator = generator or torch.Generator().manual_seed(0)
    found: list[Tensor] = []
    values, count, converged = [], 0, True
    for _ in range(k):
        v, lam, done = _randn(n, generator, op.device).to(op.dtype), None, False
        for _ in range(max_iter):
            for u in found:
                v = v - torch.dot(u, v) * u
            v = v / v.norm()
            w = op.matvec(v)
            count += 1
            new = float(torch.dot(v, w))
            done = lam is not None and abs(new - lam) <= tol * abs(new)
            lam, v = new, w
            if done:
                break
        converged &= done
        for u in found:
            v = v - torch.dot(u, v) * u
        found.append(v / v.norm())
        values.append(lam)
    vectors = torch.stack(found)  # (k, n)
    res = torch.stack([(op.matvec(u) - lam * u).norm() for lam, u in zip(values, vectors)])
    return Eigen(torch.tensor(values, dtype=torch.float64), vectors, res.to(torch.float64),
                 count + k, converged)
