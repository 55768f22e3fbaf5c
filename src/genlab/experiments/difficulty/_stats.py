"""Dispersion of per-example accuracy within classes, and its binomial reference.

The dispersion index of :func:`genlab.measures.critical.dispersion_index` compares the
variance of per-example accuracies p̂_x (over R runs) with p̄(1 − p̄)/R, the variance R
coin flips at the overall mean accuracy p̄ would give. When classes differ in accuracy
(after one epoch on noise inputs a net has learned little but the class frequencies)
that index also counts the spread *between* classes as per-example difficulty. The
within-class index below takes each example against its own class's mean p̂_c:

    D_within = Σ_c Σ_{x∈c} (p̂_x − p̂_c)² / Σ_c (n_c − 1) p̂_c(1 − p̂_c) m_c/(m_c − 1) / R

with m_c = n_c·R trials per class. If every example of class c is right with the
same probability p_c in independent runs, the numerator's expectation is
Σ_c (n_c − 1) p_c(1 − p_c)/R and the denominator's is the same, so D_within ≈ 1.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import binom

__all__ = ["class_accuracies", "dispersion_within", "reference_quantiles"]


def class_accuracies(correct: np.ndarray, labels: np.ndarray) -> dict[int, float]:
    """Mean accuracy p̂_c of each class present, from ``correct`` (R, N) and ``labels`` (N,)."""
    p_x = np.asarray(correct, dtype=np.float64).mean(0)  # (N,)
    return {int(c): float(p_x[labels == c].mean()) for c in np.unique(labels)}


def dispersion_within(correct: np.ndarray, labels: np.ndarray) -> float:
    """D_within of the module docstring (NaN when no class has 0 < p̂_c < 1).

    Args:
        correct: (R, N) booleans or 0/1: run r got example x right.
        labels: (N,) the class each example is scored against.

    Returns:
        The within-class dispersion index; with one class it is the ordinary index
        with the unbiased variance and the m/(m − 1) correction.
    """
    correct = np.asarray(correct, dtype=np.float64)
    if correct.ndim != 2 or correct.shape[1] != len(labels):
        raise ValueError(f"correct must be (R, N) with N = len(labels) = {len(labels)}, got "
                         f"shape {correct.shape}")
    runs = correct.shape[0]
    p_x = correct.mean(0)  # (N,)
    spread, null = 0.0, 0.0
    for c in np.unique(labels):
        p = p_x[labels == c]  # (n_c,)
        m = p.size * runs
        spread += float(((p - p.mean()) ** 2).sum())
        null += (p.size - 1) * p.mean() * (1 - p.mean()) * m / max(m - 1, 1) / runs
    return spread / null if null > 0 else float("nan")


def reference_quantiles(labels: np.ndarray, class_acc: dict[int, float], runs: int) -> np.ndarray:
    """Sorted per-example accuracies expected if each example of class c were a coin with
    the class's accuracy: the binomial quantiles of each class, pooled and sorted, (N,)."""
    parts = []
    for c, p in class_acc.items():
        n = int((labels == c).sum())
        parts.append(binom.ppf((np.arange(n) + 0.5) / n, runs, p) / runs)
    return np.sort(np.concatenate(parts))
