"""Stationary covariance of SGD near a minimum: the Lyapunov equations.

Near a minimum w* the loss is ½(w − w*)ᵀH(w − w*) and SGD takes
w ← w − η(H(w − w*) + ξ), with ξ the minibatch gradient noise, of covariance C/B for
B examples drawn with replacement (C the per-example gradient covariance). The
iterates' covariance Σ then converges to the solution of the discrete Lyapunov
equation

    Σ = (I − ηH) Σ (I − ηH)ᵀ + (η²/B) C,   i.e.  HΣ + ΣH − ηHΣH = (η/B) C,

and for small ηH to that of the continuous one (the Ornstein–Uhlenbeck process
dw = −H(w − w*)dt + √(η C/B) dW), HΣ + ΣH = (η/B) C (Mandt, Hoffman & Blei 2017,
"Stochastic gradient descent as approximate Bayesian inference", arXiv:1704.04289).
With C = σ²I this is Σ = (ησ²/2B) H⁻¹: a Gibbs distribution at temperature ησ²/(2B).

For symmetric H both are solved in H's eigenbasis (H = V Λ Vᵀ, C̃ = Vᵀ C V):
Σ̃_ij = (η/B) C̃_ij / (λ_i + λ_j) and Σ̃_ij = (η²/B) C̃_ij / (1 − (1 − ηλ_i)(1 − ηλ_j));
a non-symmetric H goes to scipy's Bartels–Stewart solvers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.linalg
import torch
from torch import Tensor

__all__ = ["lyapunov_continuous", "lyapunov_discrete", "stationary_covariance"]

KINDS = ("discrete", "continuous")


def _matrices(hessian: Any, noise: Any, lr: float, batch_size: float
              ) -> tuple[np.ndarray, np.ndarray]:
    h = np.asarray(torch.as_tensor(hessian, dtype=torch.float64).cpu(), dtype=np.float64)
    c = np.asarray(torch.as_tensor(noise, dtype=torch.float64).cpu(), dtype=np.float64)
    if h.ndim != 2 or h.shape[0] != h.shape[1] or c.shape != h.shape:
        raise ValueError(f"hessian and noise must be square and of one shape, got {h.shape} "
                         f"and {c.shape}")
    if lr <= 0 or batch_size <= 0:
        raise ValueError(f"lr and batch_size must be positive, got {lr} and {batch_size}")
    return h, c


def _symmetric(h: np.ndarray) -> bool:
    return bool(np.allclose(h, h.T, rtol=1e-12, atol=1e-14 * np.abs(h).max(initial=1.0)))


def _in_eigenbasis(h: np.ndarray, c: np.ndarray, denominator) -> Tensor:
    lam, v = np.linalg.eigh((h + h.T) / 2)
    denom = denominator(lam[:, None], lam[None, :])  # (d, d)
    if (denom <= 0).any():
        raise ValueError(f"no stationary covariance: the Hessian's eigenvalues {lam.min():.3g} "
                         f"… {lam.max():.3g} make the iteration unstable")
    return torch.from_numpy(v @ ((v.T @ c @ v) / denom) @ v.T)


def lyapunov_continuous(hessian: Any, noise: Any, lr: float, batch_size: float) -> Tensor:
    """Σ solving HΣ + ΣH = (η/B) C (the Ornstein–Uhlenbeck limit of SGD).

    Args:
        hessian: H (d, d), positive definite (tensor or array).
        noise: C (d, d), the per-example gradient covariance.
        lr: step size η.
        batch_size: B (examples per minibatch, drawn with replacement).

    Returns:
        Σ (d, d) float64 tensor. Raises ``ValueError`` if H is not positive definite.
    """
    h, c = _matrices(hessian, noise, lr, batch_size)
    q = (lr / batch_size) * c
    if _symmetric(h):
        return _in_eigenbasis(h, q, lambda a, b: a + b)
    return torch.from_numpy(scipy.linalg.solve_continuous_lyapunov(h, q))


def lyapunov_discrete(hessian: Any, noise: Any, lr: float, batch_size: float) -> Tensor:
    """Σ solving Σ = (I − ηH) Σ (I − ηH)ᵀ + (η²/B) C (SGD's exact stationary covariance
    on a quadratic with additive noise).

    Args / Returns: as :func:`lyapunov_continuous`; every eigenvalue λ of H must satisfy
    0 < ηλ < 2, or ``ValueError`` is raised.
    """
    h, c = _matrices(hessian, noise, lr, batch_size)
    q = (lr**2 / batch_size) * c
    if _symmetric(h):
        return _in_eigenbasis(h, q, lambda a, b: 1 - (1 - lr * a) * (1 - lr * b))
    a = np.eye(h.shape[0]) - lr * h
    if np.abs(np.linalg.eigvals(a)).max() >= 1:
        raise ValueError("no stationary covariance: I − ηH has an eigenvalue of modulus ≥ 1")
    return torch.from_numpy(scipy.linalg.solve_discrete_lyapunov(a, q))


def stationary_covariance(hessian: Any, noise: Any, lr: float, batch_size: float, *,
                          kind: str = "discrete") -> Tensor:
    """SGD's stationary covariance of w − w*: ``kind`` "discrete" (exact for a quadratic
    with additive noise) or "continuous" (its small-η limit). See
    :func:`lyapunov_discrete` and :func:`lyapunov_continuous`."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    solve = lyapunov_discrete if kind == "discrete" else lyapunov_continuous
    return solve(hessian, noise, lr, batch_size)
