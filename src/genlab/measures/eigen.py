"""Extreme eigenpairs of a symmetric operator by Lanczos (Lanczos 1950).

The basis, the recurrence and the reorthogonalization are float64 around the
operator's own products (float32 for a float32 model): the eigenvalues reach the
accuracy of the products (about 1e-7 relative), not the 1e-5 floor of float32 dot
products over n ~ 10⁶ entries. :func:`lanczos` reorthogonalizes every vector
against the whole basis (Paige 1972); :func:`top_eigen` only once the basis may
lose semi-orthogonality, i.e. once a Ritz pair has converged (Paige's theorem;
Simon 1984), which saves most of that work for a few eigenpairs at a moderate tol.

Stopping at a requested tolerance. For a Ritz pair (θ, u) with residual
r = ‖Au − θu‖ (= β_m·|s_m| from the recurrence, no extra product):
- there is an eigenvalue within r of θ (Weyl / Krylov–Bogoliubov), and
- if the other eigenvalues are at least ``gap`` away from θ, within r²/gap
  (Kato–Temple; Parlett, "The Symmetric Eigenvalue Problem", 1998, §11.7).
``tol`` is a relative eigenvalue error. The default test, ``criterion="gap"``,
stops once min(r, r²/gap) ≤ tol·|θ| for each of the k Ritz values watched, with
gap = min over the other Ritz pairs (θ_j, r_j) of |θ − θ_j| − r_j (the distance to
the eigenvalue that θ_j approximates, at the least; r alone when that is ≤ 0). The
gap is an estimate: while the Krylov space has not yet seen the eigenvalue next to
θ it is too large, so the test is reliable for tol ≲ 1e-2 (after a few steps),
not for very loose ones. ``"residual"`` asks the gap-free r ≤ tol·|θ| (the test of
ARPACK / ``scipy.sparse.linalg.eigsh``; about tol²·|θ|/gap in error, much more than
asked); ``"change"`` is PyHessian's test on power iteration (θ moved by ≤ tol·|θ|
since the previous step, which says little about the error).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from .linop import LinearOperatorLike, as_operator

__all__ = ["Eigen", "lanczos", "top_eigen"]

_CRITERIA = ("gap", "residual", "change")
_F64 = torch.float64


@dataclass
class Eigen:
    """Eigenpairs: ``values`` (k,) float64, ``vectors`` (k, n) unit rows (the operator's
    dtype), ``residuals`` (k,) = ‖A u − λ u‖ (for Lanczos the recurrence's β_m·|s_m|,
    exact in exact arithmetic), the number of operator products ``matvecs``, and
    whether the stopping test passed (``converged``; False: ``max_steps`` ran out)."""

    values: Tensor
    vectors: Tensor
    residuals: Tensor
    matvecs: int
    converged: bool = True


@dataclass
class _Run:
    alpha: list[float]
    beta: list[float]  # couplings between consecutive basis vectors (0 after a restart)
    Q: Tensor  # (m, n) float64 basis
    last: float  # β_m, the norm of the next (unused) Lanczos vector
    converged: bool


def _ritz(alpha: Sequence[float] | Tensor, beta: Sequence[float] | Tensor
          ) -> tuple[Tensor, Tensor]:
    """Eigenpairs of the tridiagonal T(alpha, beta): θ ascending (m,), S (m, m)."""
    T = torch.diag(torch.as_tensor(alpha, dtype=_F64))
    if len(beta):
        b = torch.as_tensor(beta, dtype=_F64)
        T = T + torch.diag(b, 1) + torch.diag(b, -1)
    return torch.linalg.eigh(T)


def _orthogonalize(w: Tensor, Q: Tensor) -> tuple[Tensor, Tensor]:
    """w minus its projection on the rows of Q, in place (classical Gram–Schmidt), and
    the coefficients Q w. One pass leaves w orthogonal to about (rounding + the
    basis' own loss of orthogonality)·‖w‖/‖w⊥‖; a second pass runs when more than
    30% was removed ("twice is enough", Giraud, Langou & Rozložník 2005)."""
    before = w.norm()
    h = Q @ w  # (j,)
    w.addmv_(Q.T, h, alpha=-1.0)  # (n,)
    if w.norm() < 0.7 * before:
        h2 = Q @ w
        w.addmv_(Q.T, h2, alpha=-1.0)
        h += h2
    return w, h


class _StopTest:
    """The stopping test on the top ``top`` Ritz values (see the module docstring)."""

    def __init__(self, tol: float, top: int, criterion: str):
        if criterion not in _CRITERIA:
            raise ValueError(f"criterion must be one of {_CRITERIA}, got {criterion!r}")
        self.tol, self.top, self.criterion, self.previous = tol, top, criterion, None

    def __call__(self, theta: Tensor, s: Tensor, b: float) -> bool:
        """Whether the Ritz pairs (θ ascending (m,), S (m, m)) of a run whose next
        Lanczos vector had norm ``b`` are accurate enough."""
        m, k = len(theta), self.top
        if self.tol <= 0 or m < k:
            return False
        top = theta[-k:]  # (k,)
        scale = self.tol * top.abs().clamp_min(1e-300)
        if self.criterion == "change":
            done = self.previous is not None and bool(((top - self.previous).abs() <= scale).all())
            self.previous = top
            return done
        res = b * s[-1].abs()  # (m,) residual norms of all Ritz pairs
        r = res[-k:]
        if self.criterion == "gap":  # gap to the eigenvalue each other Ritz value approximates
            dist = (top[:, None] - theta[None, :]).abs() - res[None, :]  # (k, m)
            dist[torch.arange(k), torch.arange(m - k, m)] = float("inf")  # not to itself
            gap = dist.min(dim=1).values  # (k,); inf when m = 1
            bound = torch.minimum(r, r**2 / gap.clamp_min(1e-300))
            r = torch.where(torch.isfinite(gap) & (gap > 0), bound, r)
        return bool((r <= scale).all())


def _orthogonality_lost(theta: Tensor, s: Tensor, b: float, eps: float) -> bool:
    """Whether the next Lanczos vector may have lost semi-orthogonality: by Paige's
    theorem its component along a Ritz vector is about eps·‖A‖ / (its residual)
    (Paige 1980; Simon 1984, "The Lanczos algorithm with partial
    reorthogonalization"); semi-orthogonality (√eps) keeps the Ritz values accurate
    to eps."""
    smallest = float((b * s[-1].abs()).min())
    return eps * float(theta.abs().max()) > eps**0.5 * smallest


def _lanczos(op: LinearOperatorLike, v0: Tensor, steps: int, stop: _StopTest | None = None,
             restart: Callable[[], Tensor] | None = None, selective: bool = False) -> _Run:
    """Lanczos in float64. ``selective``: only the three-term recurrence until the
    basis may lose semi-orthogonality, full reorthogonalization from then on."""
    n = op.shape[0]
    steps = min(steps, n)
    Q = torch.empty(min(steps, 16), n, dtype=_F64, device=op.device)  # grows by doubling
    q = v0.to(device=op.device, dtype=_F64)
    Q[0] = q / q.norm()
    w = torch.empty(n, dtype=_F64, device=op.device)  # buffers reused at every step
    q_in = None if op.dtype == _F64 else torch.empty(n, dtype=op.dtype, device=op.device)
    eps = 10 * torch.finfo(op.dtype).eps  # the relative accuracy assumed of a product
    alpha: list[float] = []
    beta: list[float] = []
    full = not selective
    for j in range(steps):
        w.copy_(op.matvec(Q[j] if q_in is None else q_in.copy_(Q[j])))  # the step's product
        alpha.append(float(w @ Q[j]))  # the three-term recurrence ...
        w.sub_(Q[j], alpha=alpha[-1])
        if j:
            w.sub_(Q[j - 1], alpha=beta[-1])
        if full:  # ... then against the whole basis: only rounding errors are removed
            _orthogonalize(w, Q[:j + 1])
        b = float(w.norm())
        # the Ritz values feed the orthogonality test (until full reorthogonalization is on)
        # and the stopping test: skip the eigensolve when neither needs it
        ritz = _ritz(alpha, beta) if not full or (stop and stop.tol > 0) else None
        if not full and _orthogonality_lost(*ritz, b, eps):
            full = True
            b = float(_orthogonalize(w, Q[:j + 1])[0].norm())
        if stop is not None and ritz is not None and stop(*ritz, b):
            return _Run(alpha, beta, Q[:j + 1], b, True)
        if j + 1 == steps:
            break
        if b <= 1e-12 * max(abs(a) for a in alpha):  # invariant subspace found
            if restart is None:
                return _Run(alpha, beta, Q[:j + 1], 0.0, True)
            w.copy_(restart())
            _orthogonalize(w, Q[:j + 1])
            b = 0.0
        beta.append(b)
        if j + 1 == Q.shape[0]:
            Q = torch.cat([Q, torch.empty_like(Q[:min(Q.shape[0], steps - j - 1)])])
        torch.div(w, w.norm(), out=Q[j + 1])
    return _Run(alpha, beta, Q[:len(alpha)], b, len(alpha) == n)  # m = n: exact


def lanczos(op: LinearOperatorLike | Tensor, v0: Tensor, steps: int, tol: float = 0.0,
            top: int = 0, criterion: str = "gap") -> tuple[Tensor, Tensor, Tensor]:
    """Lanczos tridiagonalization with full reorthogonalization, in float64.

    Args:
        op: symmetric operator or matrix (n, n).
        v0: start vector (n,), normalized here.
        steps: maximum number of Lanczos steps m (capped at n).
        tol: if > 0, stop once the ``top`` largest Ritz values pass the test.
        top: how many Ritz values the stopping test watches.
        criterion: ``"gap"``, ``"residual"`` or ``"change"`` (module docstring).

    Returns:
        ``alpha`` (m,), ``beta`` (m−1,) of the tridiagonal T and the orthonormal
        basis ``Q`` (m, n), all float64, with Q A Qᵀ = T; m ≤ steps (smaller when an
        invariant subspace is found or the test passes).
    """
    run = _lanczos(as_operator(op), v0, steps, _StopTest(tol, top, criterion))
    return torch.tensor(run.alpha, dtype=_F64), torch.tensor(run.beta, dtype=_F64), run.Q


def _randn(n: int, generator: torch.Generator, device: torch.device) -> Tensor:
    """A standard normal vector (n,) in float64, drawn in float32 (4× faster)."""
    z = torch.randn(n, generator=generator, device=generator.device)
    return z.to(device=device, dtype=_F64)


def _start(op: LinearOperatorLike, generator: torch.Generator, v0: Tensor | None) -> Tensor:
    """A random start vector, or the sum of the unit rows of ``v0`` plus a random
    vector of 1% of its norm (so that, in exact arithmetic, no eigenvector orthogonal
    to ``v0`` is missed)."""
    n = op.shape[0]
    z = _randn(n, generator, op.device)
    if v0 is None:
        return z
    rows = v0.reshape(-1, v0.shape[-1]).to(device=op.device, dtype=_F64)  # (p, n)
    norms = rows.norm(dim=1)  # (p,): not finite if a row is not
    if rows.shape[1] != n or not (torch.isfinite(norms).all() and (norms > 0).all()):
        raise ValueError(f"v0 must be finite non-zero vectors of length {n} (shape (n,) or "
                         f"(p, n)), got shape {tuple(v0.shape)}")
    start = (1 / norms) @ rows  # (n,)
    return start / start.norm() + 0.01 / z.norm() * z


def _gradient_start(op: LinearOperatorLike) -> Tensor | None:
    gradient = getattr(op, "gradient", None)
    if not callable(gradient):
        return None
    g = gradient()
    return g if bool(torch.isfinite(g).all()) and float(g.norm()) > 0 else None


def top_eigen(op: LinearOperatorLike | Tensor, k: int = 1, *,
              generator: torch.Generator | None = None, tol: float = 1e-8,
              max_steps: int = 200, criterion: str = "gap", v0: Tensor | None = None) -> Eigen:
    """The k algebraically largest eigenpairs by Lanczos with full reorthogonalization.

    Args:
        op: symmetric operator or matrix (n, n).
        k: number of eigenpairs.
        generator: source of the random start vector (default: seed 0); also of a
            fresh direction if Lanczos finds an invariant subspace early.
        tol: relative eigenvalue error at which the top-k Ritz values are accepted
            (see ``criterion`` and the module docstring).
        max_steps: maximum Lanczos steps (capped at n); ``converged`` says if it sufficed.
        criterion: ``"gap"`` (default) min(r, r²/gap) ≤ tol·|θ|; ``"residual"``
            r ≤ tol·|θ|; ``"change"`` PyHessian's test.
        v0: start: a vector (n,) or a block (p, n), e.g. the ``vectors`` of a
            previous call at a nearby checkpoint (a warm start). Lanczos starts from
            the sum of its unit rows plus 1% of a random vector; a start close to
            the top-k eigenspace needs fewer products. Default: the operator's loss
            gradient when it has a ``gradient()`` method (the curvature operators
            do; the gradient lies mostly in the top eigenspace: Gur-Ari, Roberts &
            Dyer 2018, arXiv:1812.04754), else (or if it is zero) a random vector.

    Returns:
        :class:`Eigen`, values in decreasing order; ``matvecs`` = Lanczos steps.
    """
    op = as_operator(op)
    n = op.shape[0]
    if not 1 <= k <= n:
        raise ValueError(f"k must be in [1, {n}], got {k}")
    stop = _StopTest(tol, k, criterion)
    generator = generator or torch.Generator().manual_seed(0)

    def fresh() -> Tensor:
        return _randn(n, generator, op.device)

    v0 = _gradient_start(op) if v0 is None else v0
    run = _lanczos(op, _start(op, generator, v0), max(max_steps, k + 1), stop, fresh,
                   selective=True)
    theta, s = _ritz(run.alpha, run.beta)
    top = s[:, -k:].flip(1)  # (m, k) Ritz coefficients, largest first
    vectors = top.T.to(run.Q.device) @ run.Q  # (k, n) float64
    vectors = vectors / vectors.norm(dim=1, keepdim=True)
    return Eigen(theta[-k:].flip(0), vectors.to(op.dtype), run.last * top[-1].abs(),
                 len(run.alpha), run.converged)
