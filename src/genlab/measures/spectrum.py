"""Eigenvalues, trace and spectral density of a symmetric linear operator.

Everything here works on any object with ``matvec(v)`` (n,) -> (n,), ``dim``,
``dtype`` and ``device`` (a :class:`~genlab.measures.HessianOperator`, a
:class:`~genlab.measures.GaussNewtonOperator`) and on a plain symmetric matrix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

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


@dataclass
class Eigen:
    """Eigenpairs: ``values`` (k,), ``vectors`` (k, n) unit rows, ``residuals`` (k,)
    = ‖A u − λ u‖, and the number of operator products used (``matvecs``)."""

    values: Tensor
    vectors: Tensor
    residuals: Tensor
    matvecs: int


class MatrixOperator:
    """A dense symmetric matrix (n, n) seen as an operator."""

    def __init__(self, matrix: Tensor):
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"expected a square matrix, got shape {tuple(matrix.shape)}")
        self.matrix, self.dim = matrix, matrix.shape[0]
        self.dtype, self.device = matrix.dtype, matrix.device

    def matvec(self, v: Tensor) -> Tensor:
        return self.matrix @ v


def _op(op: Any) -> Any:
    return MatrixOperator(op) if isinstance(op, Tensor) else op


def _rademacher(n: int, generator: torch.Generator, op: Any) -> Tensor:
    z = torch.randint(0, 2, (n,), generator=generator, device=generator.device)
    return (2 * z - 1).to(device=op.device, dtype=op.dtype)


def _randn(n: int, generator: torch.Generator, op: Any) -> Tensor:
    z = torch.randn(n, generator=generator, device=generator.device, dtype=torch.float64)
    return z.to(device=op.device, dtype=op.dtype)


def lanczos(op: Any, v0: Tensor, steps: int, tol: float = 0.0, top: int = 0,
            criterion: str = "residual") -> tuple[Tensor, Tensor, Tensor]:
    """Lanczos tridiagonalization with full reorthogonalization (Paige 1972).

    Args:
        op: symmetric operator or matrix.
        v0: start vector (n,), normalized here.
        steps: maximum number of Lanczos steps m.
        tol: if > 0, stop once the ``top`` largest Ritz values θ pass the test.
        top: how many Ritz values the stopping test watches.
        criterion: ``"residual"``: ‖Au − θu‖ = β_j·|s_j| ≤ tol·|θ| (then the
            eigenvalue error is O(tol²)); ``"change"``: θ moved by ≤ tol·|θ| since
            the previous step (the test PyHessian applies to power iteration).

    Returns:
        ``alpha`` (m,), ``beta`` (m−1,) of the tridiagonal T (float64) and the
        basis ``Q`` (m, n), m ≤ steps (smaller on breakdown or convergence).
    """
    op = _op(op)
    steps = min(steps, op.dim)
    Q = torch.zeros(min(steps, 16), op.dim, dtype=v0.dtype, device=v0.device)  # grows
    Q[0] = v0 / v0.norm()
    alpha: list[float] = []
    beta: list[float] = []
    previous: list[Tensor] = []
    for j in range(steps):
        w = op.matvec(Q[j])  # (n,)
        alpha.append(float(torch.dot(w, Q[j])))
        for _ in range(2):  # full reorthogonalization, twice is enough (Giraud et al. 2005)
            w = w - Q[:j + 1].T @ (Q[:j + 1] @ w)
        b = float(w.norm())
        if j + 1 == steps or b <= 1e-12 * max(abs(a) for a in alpha):
            break
        if tol > 0 and j + 1 >= top and _converged(alpha, beta, b, top, tol, criterion, previous):
            break
        beta.append(b)
        if j + 1 == Q.shape[0]:
            Q = torch.cat([Q, torch.zeros_like(Q[:min(Q.shape[0], steps - j - 1)])])
        Q[j + 1] = w / b
    m = len(alpha)
    return (torch.tensor(alpha, dtype=torch.float64), torch.tensor(beta, dtype=torch.float64),
            Q[:m])


def _tridiag(alpha: Tensor, beta: Tensor) -> Tensor:
    return torch.diag(alpha) + torch.diag(beta, 1) + torch.diag(beta, -1)


def _converged(alpha: list[float], beta: list[float], b: float, top: int, tol: float,
               criterion: str, previous: list[Tensor]) -> bool:
    theta, s = torch.linalg.eigh(_tridiag(torch.tensor(alpha, dtype=torch.float64),
                                          torch.tensor(beta, dtype=torch.float64)))
    scale = tol * theta[-top:].abs().clamp_min(1e-300)
    if criterion == "residual":
        return bool((b * s[-1, -top:].abs() <= scale).all())
    done = bool(previous) and bool(((theta[-top:] - previous[-1]).abs() <= scale).all())
    previous.append(theta[-top:])
    return done


def top_eigen(op: Any, k: int = 1, *, generator: torch.Generator | None = None,
              tol: float = 1e-8, max_steps: int = 200, criterion: str = "residual") -> Eigen:
    """The k algebraically largest eigenpairs by Lanczos with reorthogonalization.

    Args:
        op: symmetric operator or matrix (n, n).
        k: number of eigenpairs.
        generator: source of the random start vector (default: seed 0).
        tol: relative tolerance at which the top-k Ritz values are accepted.
        max_steps: maximum Lanczos steps (capped at n).
        criterion: ``"residual"`` or ``"change"`` (see :func:`lanczos`).

    Returns:
        :class:`Eigen`, values in decreasing order.
    """
    op = _op(op)
    if not 1 <= k <= op.dim:
        raise ValueError(f"k must be in [1, {op.dim}], got {k}")
    if criterion not in ("residual", "change"):
        raise ValueError(f"criterion must be 'residual' or 'change', got {criterion!r}")
    generator = generator or torch.Generator().manual_seed(0)
    alpha, beta, Q = lanczos(op, _randn(op.dim, generator, op), max(max_steps, k), tol, k,
                              criterion)
    theta, s = torch.linalg.eigh(_tridiag(alpha, beta))
    values = theta.flip(0)[:k]  # (k,)
    vectors = (s.flip(1)[:, :k].T.to(Q.dtype)) @ Q  # (k, n)
    vectors = vectors / vectors.norm(dim=1, keepdim=True)
    return _finish(op, values, vectors, len(alpha))


def _finish(op: Any, values: Tensor, vectors: Tensor, matvecs: int) -> Eigen:
    res = torch.stack([(op.matvec(u) - lam.to(u.dtype) * u).norm()
                       for lam, u in zip(values, vectors)])
    return Eigen(values, vectors, res.to(torch.float64), matvecs + len(values))


def power_iteration(op: Any, k: int = 1, *, generator: torch.Generator | None = None,
                    tol: float = 1e-6, max_iter: int = 1000) -> Eigen:
    """The k eigenpairs of largest magnitude by power iteration with deflation.

    Each new vector is kept orthogonal to the eigenvectors already found (the
    scheme of PyHessian, Yao et al. 2020); iteration stops when the Rayleigh
    quotient changes by less than ``tol`` relative.

    Args / Returns: as :func:`top_eigen`; values in the order found.
    """
    op = _op(op)
    generator = generator or torch.Generator().manual_seed(0)
    found: list[Tensor] = []
    values, count = [], 0
    for _ in range(k):
        v, lam = _randn(op.dim, generator, op), None
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
        for u in found:
            v = v - torch.dot(u, v) * u
        found.append(v / v.norm())
        values.append(lam)
    return _finish(op, torch.tensor(values, dtype=torch.float64), torch.stack(found), count)


def hutchinson_trace(op: Any, num_samples: int = 100, *,
                     generator: torch.Generator | None = None) -> Estimate:
    """Hutchinson's trace estimate mean(zᵀ A z), z Rademacher (Hutchinson 1989).

    Returns:
        :class:`Estimate` with the sample standard error std/√m.
    """
    op = _op(op)
    generator = generator or torch.Generator().manual_seed(0)
    samples = []
    for _ in range(num_samples):
        z = _rademacher(op.dim, generator, op)
        samples.append(float(torch.dot(z, op.matvec(z))))
    return _estimate(torch.tensor(samples, dtype=torch.float64), 0.0)


def _estimate(samples: Tensor, offset: float) -> Estimate:
    m = samples.numel()
    se = float(samples.std() / math.sqrt(m)) if m > 1 else float("inf")
    return Estimate(offset + float(samples.mean()), se, m)


def hutchpp_trace(op: Any, num_matvecs: int = 99, *,
                  generator: torch.Generator | None = None) -> Estimate:
    """Hutch++ trace estimate (Meyer, Musco, Musco & Woodruff 2021).

    A third of the products sketch the top subspace Q, whose trace tr(QᵀAQ) is
    exact; Hutchinson estimates the rest on (I − QQᵀ)A(I − QQᵀ). The standard
    error is that of the Hutchinson part.

    Args:
        num_matvecs: total operator products (≥ 6; split m/3 sketch, m/3 for AQ,
            m/3 Hutchinson samples).
    """
    op = _op(op)
    if num_matvecs < 6:
        raise ValueError(f"num_matvecs must be >= 6, got {num_matvecs}")
    generator = generator or torch.Generator().manual_seed(0)
    s = num_matvecs // 3
    sketch = torch.stack([op.matvec(_rademacher(op.dim, generator, op)) for _ in range(s)])
    Q = torch.linalg.qr(sketch.T).Q.T  # (s, n) orthonormal rows
    exact = sum(float(torch.dot(q, op.matvec(q))) for q in Q)
    samples = []
    for _ in range(num_matvecs - 2 * s):
        g = _rademacher(op.dim, generator, op)
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


def spectral_density(op: Any, num_vectors: int = 10, num_steps: int = 80, *,
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
    op = _op(op)
    generator = generator or torch.Generator().manual_seed(0)
    m = min(num_steps, op.dim)
    nodes = torch.zeros(num_vectors, m, dtype=torch.float64)
    weights = torch.zeros_like(nodes)
    for i in range(num_vectors):
        alpha, beta, _ = lanczos(op, _rademacher(op.dim, generator, op), m)
        theta, s = torch.linalg.eigh(_tridiag(alpha, beta))
        nodes[i], weights[i, :len(theta)] = theta[0], s[0] ** 2  # pad: weight 0
        nodes[i, :len(theta)] = theta
    lo, hi = float(nodes.min()), float(nodes.max())
    sigma = sigma or max(hi - lo, 1e-12) / 100
    grid = torch.linspace(lo - 5 * sigma, hi + 5 * sigma, grid_size, dtype=torch.float64)
    kern = torch.exp(-0.5 * ((grid[:, None, None] - nodes) / sigma) ** 2)  # (G, V, m)
    density = (kern * weights).sum(dim=2).mean(dim=1) / (sigma * math.sqrt(2 * math.pi))
    return SpectralDensity(nodes, weights, grid, density, sigma)
