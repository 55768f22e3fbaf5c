"""Polynomial regression with weight decay, solved exactly: the lecture's section 2 model."""

from __future__ import annotations

import numpy as np

__all__ = ["legendre_features", "ridge_fit"]


def legendre_features(x: np.ndarray, degree: int) -> np.ndarray:
    """Legendre features P_0..P_degree of x ∈ [0, 1] mapped to [−1, 1], shape (N, degree + 1).

    Legendre polynomials keep high degrees well conditioned where monomials x^k do not.
    """
    return np.polynomial.legendre.legvander(2 * np.asarray(x).reshape(-1) - 1, degree)


def ridge_fit(phi: np.ndarray, y: np.ndarray, decay: float) -> np.ndarray:
    """argmin_w mean (Φw − y)² + λ‖w‖², the point gradient descent with weight decay λ
    converges to (minimum-norm least squares when λ = 0).

    Args:
        phi: features (N, P).
        y: targets (N,).
        decay: λ ≥ 0.

    Returns:
        Weights (P,).
    """
    n, p = phi.shape
    if decay == 0:
        return np.linalg.lstsq(phi, y, rcond=None)[0]
    aug = np.vstack([phi, np.sqrt(n * decay) * np.eye(p)])  # (N + P, P)
    return np.linalg.lstsq(aug, np.concatenate([y, np.zeros(p)]), rcond=None)[0]
