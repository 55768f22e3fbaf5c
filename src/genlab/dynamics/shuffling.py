"""Stationary covariance of SGD with per-epoch shuffling (sampling without replacement).

With replacement the minibatch noise ξ_t = g_B − ∇L is independent from step to
step, of covariance C/B, and Σ solves the discrete Lyapunov equation
(:func:`~genlab.dynamics.lyapunov_discrete`). With per-epoch shuffling the m = ⌊N/B⌋
batches of an epoch are disjoint draws from the N examples, so within one epoch

    Cov(ξ_s, ξ_s) = V = (C/B)(N − B)/(N − 1),   Cov(ξ_s, ξ_s') = c = −C/(N − 1)  (s ≠ s'),

and steps of different epochs are independent. With N = mB the noise of one epoch
sums to zero (mV + m(m − 1)c = 0): a direction whose relaxation time 1/(ηλ) is long
against an epoch (m steps) sees almost no net noise, and its variance falls far below
the with-replacement value; a fast direction (ηλm ≫ 1) sees ξ as independent and
keeps it, times the finite-population factor (N − B)/(N − 1).

The iterates are then periodic in the epoch: with a = I − ηH, in H's eigenbasis
(a_i = 1 − ηλ_i, C̃ = VᵀCV), after p of the epoch's m steps,

    Σ̃_ij(p) = η² C̃_ij [ (V − c)/(1 − a_i a_j) + c (P_i P_j + a_i^p a_j^p F_i F_j /(1 − a_i^m a_j^m)) ],

P_i = (1 − a_i^p)/(1 − a_i) (the current epoch's steps), F_i = (1 − a_i^m)/(1 − a_i)
(each earlier epoch's), V and c in units of C. Averaged over p = 1…m this is the
covariance a long run records (when its recording stride does not alias with m).
Additive-noise approximation: ξ is the noise at w*, as in the Lyapunov equations
(the least-squares multiplicative part, C(w) ≠ C(w*), is left out).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import Tensor

from .lyapunov import _matrices

__all__ = ["lyapunov_shuffled"]


#: Up to this many batches per epoch the phase average is summed phase by phase (exact);
#: above it, the geometric sums' closed forms are used.
_ENUMERATE = 10_000


def _power_gap(gap: np.ndarray, m: int) -> np.ndarray:
    """1 − x^m for x = 1 − gap, without cancellation when x is near 1."""
    gap = np.asarray(gap, dtype=np.float64)
    out = 1 - (1 - gap) ** m  # exact enough where x ≤ 0 or x is far from 1
    near = 1 - gap > 0
    out[near] = -np.expm1(m * np.log1p(-gap[near]))
    return out


def _phase_sums(lam: np.ndarray, lr: float, m: int, phases: np.ndarray | None
                ) -> tuple[np.ndarray, np.ndarray]:
    """Averages over the phases p (all m, or the given ones) of P_iP_j and of
    a_i^p a_j^p F_i F_j, each (d, d) (see the module docstring)."""
    gap = lr * lam  # 1 − a_i (d,)
    a = 1 - gap
    full = _power_gap(gap, m) / gap  # F_i (d,)
    if phases is None and m > _ENUMERATE:  # closed forms of mean_p x^p
        pair_gap = gap[:, None] + gap[None, :] - gap[:, None] * gap[None, :]  # 1 − a_i a_j
        mean = lambda g: (1 - g) * _power_gap(g, m) / (m * g)
        mg, mp = mean(gap), mean(pair_gap)
        current = (1 - mg[:, None] - mg[None, :] + mp) / (gap[:, None] * gap[None, :])
        return current, full[:, None] * full[None, :] * mp
    ps = np.arange(1, m + 1) if phases is None else phases
    current, earlier = np.zeros((len(lam),) * 2), np.zeros((len(lam),) * 2)
    for p in ps:
        part = _power_gap(gap, p) / gap  # P_i (d,)
        ap = a**p
        current += part[:, None] * part[None, :]
        earlier += np.outer(ap * full, ap * full)
    return current / len(ps), earlier / len(ps)


def lyapunov_shuffled(hessian: Any, noise: Any, lr: float, batch_size: int, n: int, *,
                      phase: int | None = None) -> Tensor:
    """Stationary covariance of w − w* under SGD with per-epoch shuffling.

    Each epoch is a fresh permutation of the ``n`` examples cut into m = ⌊n/B⌋ batches
    of B (the n mod B left over sit the epoch out), as
    ``sgd_least_squares(..., replacement=False)`` draws them. See the module docstring
    for the formula; with ``n`` → ∞ at fixed B it becomes :func:`lyapunov_discrete`.

    Args:
        hessian: H (d, d), symmetric with 0 < ηλ < 2 for every eigenvalue λ.
        noise: C (d, d), the per-example gradient covariance (1/N normalization).
        lr: η; batch_size: B (1 ≤ B ≤ n); n: N, the number of examples.
        phase: p ∈ 1…m, the covariance after p steps of an epoch; None averages
            over the m phases (what a run recorded at every step measures).

    Returns:
        Σ (d, d) float64 tensor.
    """
    h, c = _matrices(hessian, noise, lr, batch_size)
    if not 1 <= batch_size <= n or (phase is not None and not 1 <= phase <= n // batch_size):
        raise ValueError(f"need 1 ≤ batch_size ≤ n and 1 ≤ phase ≤ n // batch_size, got "
                         f"batch_size {batch_size}, n {n}, phase {phase}")
    m = n // batch_size
    lam, vec = np.linalg.eigh((h + h.T) / 2)
    if not (0 < lr * lam).all() or not (lr * lam < 2).all():
        raise ValueError(f"no stationary covariance: ηλ must lie in (0, 2), got "
                         f"{lr * lam.min():.3g} … {lr * lam.max():.3g}")
    current, earlier = _phase_sums(lam, lr, m, None if phase is None else np.array([phase]))
    var = (n - batch_size) / (batch_size * (n - 1)) if n > 1 else 0.0  # V / C
    cov = -1.0 / (n - 1) if n > 1 else 0.0  # c / C
    gap = lr * lam
    pair_gap = gap[:, None] + gap[None, :] - gap[:, None] * gap[None, :]  # 1 − a_i a_j
    epochs = earlier / _power_gap(pair_gap, m)  # Σ over earlier epochs
    factor = (var - cov) / pair_gap + cov * (current + epochs)  # (d, d)
    ct = vec.T @ c @ vec
    return torch.from_numpy(vec @ (lr**2 * ct * factor) @ vec.T)
