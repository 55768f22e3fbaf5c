"""Where gradients live relative to the top of the Hessian spectrum.

Gur-Ari, Roberts & Dyer 2018 ("Gradient descent happens in a tiny subspace",
arXiv:1812.04754): after a short transient the gradient lies mostly in the span of
the top-k Hessian eigenvectors, k = number of classes, and that subspace changes
slowly. Papyan 2019 ("Measurements of three-level hierarchical structure in the
outliers in the spectrum of deepnet Hessians", arXiv:1901.08244): the k outliers
come from the class structure; the per-class mean gradients span their eigenspace.
Sagun et al. 2017 (arXiv:1706.04454): a bulk near zero plus about k outliers.

Subspaces are given as the rows of a matrix (k, n), e.g. ``Eigen.vectors``; they
are orthonormalized here (QR in float64), so any spanning set works.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils._pytree import tree_map

from ._func import Batch, FunctionalLoss, LossFn, default_inputs, flatten

__all__ = [
    "ClassGradients",
    "Outliers",
    "class_mean_gradients",
    "gradient_snr",
    "outlier_count",
    "principal_angles",
    "random_subspace_overlap",
    "span_fraction",
    "subspace_overlap",
    "vector_overlap",
]


def _orthonormal(rows: Tensor) -> Tensor:
    """An orthonormal basis (n, k) of the span of ``rows`` (k, n) or of a vector (n,)."""
    rows = rows.reshape(-1, rows.shape[-1]).to(torch.float64)
    if rows.shape[0] > rows.shape[1]:
        raise ValueError(f"a subspace of R^{rows.shape[1]} needs at most {rows.shape[1]} rows, "
                         f"got {rows.shape[0]}")
    Q, R = torch.linalg.qr(rows.T)  # (n, k), (k, k)
    if not torch.isfinite(R).all() or (R.diagonal().abs() <= 1e-12 * R.abs().max()).any():
        raise ValueError("the rows must be finite and linearly independent")
    return Q


def _same_space(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    Qa, Qb = _orthonormal(a), _orthonormal(b.to(a.device))
    if Qa.shape[0] != Qb.shape[0]:
        raise ValueError(f"subspaces of different spaces: R^{Qa.shape[0]} and R^{Qb.shape[0]}")
    return Qa, Qb


def vector_overlap(v: Tensor, basis: Tensor) -> float:
    """‖P v‖² / ‖v‖², the fraction of ``v`` in the span of ``basis``.

    With ``v`` the loss gradient and ``basis`` the top-k Hessian eigenvectors this is
    Gur-Ari et al.'s f_top; a random k-dimensional subspace gives k/n on average
    (:func:`random_subspace_overlap`).

    Args:
        v: a vector (n,).
        basis: rows (k, n) spanning the subspace.

    Returns:
        A number in [0, 1].
    """
    Q = _orthonormal(basis)  # (n, k)
    v = v.reshape(-1).to(device=Q.device, dtype=torch.float64)  # (n,)
    if v.shape[0] != Q.shape[0] or float(v.norm()) == 0:
        raise ValueError(f"v must be a non-zero vector of length {Q.shape[0]}")
    return float((Q.T @ v).square().sum() / v.square().sum())


def principal_angles(a: Tensor, b: Tensor) -> Tensor:
    """The principal angles (radians, ascending, min(k_a, k_b) of them) between the
    spans of the rows of ``a`` (k_a, n) and ``b`` (k_b, n).

    Small angles come from sines and large ones from cosines, both accurate
    (Knyazev & Argentati 2002; the method of ``scipy.linalg.subspace_angles``).
    """
    Qa, Qb = _same_space(a, b)
    if Qa.shape[1] < Qb.shape[1]:
        Qa, Qb = Qb, Qa
    cos = torch.linalg.svdvals(Qa.T @ Qb).clamp(max=1.0)  # (k_b,) descending
    sin = torch.linalg.svdvals(Qb - Qa @ (Qa.T @ Qb)).clamp(max=1.0).flip(0)  # ascending
    small = cos**2 >= 0.5  # angle ≤ π/4: the sine is the accurate one
    return torch.where(small, torch.arcsin(sin), torch.arccos(cos))


def subspace_overlap(a: Tensor, b: Tensor) -> float:
    """‖Q_aᵀ Q_b‖_F² / min(k_a, k_b): the mean squared cosine of the principal angles.

    1 when one subspace contains the other, 0 when they are orthogonal; two random
    k-dimensional subspaces of R^n give k/n on average. E.g. the top-k eigenspaces
    at two checkpoints (persistence), or of the Hessian and of the Gauss–Newton matrix.

    Args:
        a, b: rows (k_a, n) and (k_b, n) spanning the two subspaces.
    """
    Qa, Qb = _same_space(a, b)
    return float((Qa.T @ Qb).square().sum() / min(Qa.shape[1], Qb.shape[1]))


def span_fraction(vectors: Tensor, basis: Tensor) -> float:
    """‖P_V Q‖_F² / k: the fraction of the k-dimensional span of ``basis`` that lies
    in the span of ``vectors`` (1: the vectors span the whole subspace).

    With ``vectors`` the per-class mean gradients (:func:`class_mean_gradients`) and
    ``basis`` the top-k Hessian eigenvectors this tests Papyan's account of the
    outliers.
    """
    Qv, Qb = _same_space(vectors, basis)
    return float((Qv.T @ Qb).square().sum() / Qb.shape[1])


def random_subspace_overlap(k: int, n: int) -> float:
    """k/n: the expected :func:`vector_overlap` of a fixed vector with a uniformly
    random k-dimensional subspace of R^n (and the expected :func:`subspace_overlap` of
    two such subspaces): the baseline against which an overlap means something."""
    if not 1 <= k <= n:
        raise ValueError(f"need 1 <= k <= n, got k={k}, n={n}")
    return k / n


@dataclass
class Outliers:
    """``count`` eigenvalues stand clear of the bulk; ``ratio`` = λ_count / λ_count+1,
    the largest ratio of consecutive eigenvalues (the rule of :func:`outlier_count`)."""

    count: int
    ratio: float


def outlier_count(eigenvalues: Tensor | Sequence[float], min_ratio: float = 1.5) -> Outliers:
    """Eigenvalues standing clear of the bulk, by the largest eigengap ratio.

    Rule: sort the given top-m eigenvalues in decreasing order, keep the positive
    ones, and find the i maximizing λ_i / λ_{i+1}; if that ratio is at least
    ``min_ratio`` the first i are the outliers, else there are none. Pass m clearly
    larger than the expected count (e.g. 2 × classes) so that the bulk's top
    is among them. A dominant λ₁ (λ₁/λ₂ larger than the gap at the bulk edge)
    makes the count 1: read ``ratio`` beside the spectrum.

    Args:
        eigenvalues: the top-m eigenvalues (any order), m ≥ 2.
        min_ratio: the smallest ratio that counts as a gap.

    Returns:
        :class:`Outliers`.
    """
    lam = torch.as_tensor(eigenvalues, dtype=torch.float64).reshape(-1).sort(descending=True)
    lam = lam.values
    lam = lam[: int((lam > 0).sum())]  # the positive prefix
    if lam.numel() < 2:
        raise ValueError("outlier_count needs at least two positive eigenvalues")
    ratios = lam[:-1] / lam[1:]  # (m-1,) λ_i / λ_{i+1}
    i = int(ratios.argmax())
    best = float(ratios[i])
    return Outliers(i + 1 if best >= min_ratio else 0, best)


def gradient_snr(mean: Tensor | float, trace_cov: float, batch_size: int) -> float:
    """Gradient signal-to-noise ratio ‖ḡ‖² / (tr C / B).

    ḡ is the full-data mean gradient, C the per-example gradient covariance and B the
    batch size: tr C / B is the expected ‖g_B − ḡ‖² of a minibatch gradient drawn with
    replacement. Above 1 the minibatch gradient is mostly drift, below 1 mostly
    noise (diffusion). Use the fields ``mean`` and ``trace_cov`` of
    :func:`~genlab.measures.gradient_moments`.

    Args:
        mean: ḡ (P,), or its squared norm ‖ḡ‖².
        trace_cov: tr C ≥ 0.
        batch_size: B ≥ 1.

    Returns:
        The ratio (``inf`` when tr C = 0).
    """
    signal = float(mean.double().square().sum()) if isinstance(mean, Tensor) else float(mean)
    if batch_size < 1 or trace_cov < 0 or signal < 0:
        raise ValueError(f"need batch_size >= 1, trace_cov >= 0 and a squared norm >= 0; got "
                         f"{batch_size}, {trace_cov}, {signal}")
    return math.inf if trace_cov == 0 else signal * batch_size / trace_cov


@dataclass
class ClassGradients:
    """``gradients`` (C, n): row c is the gradient of the mean loss over the examples of
    class ``classes[c]``, of which there are ``counts[c]``. Their count-weighted mean
    is the full-data gradient."""

    gradients: Tensor
    classes: Tensor
    counts: Tensor


def _subset(batch: Batch, mask: Tensor) -> Batch:
    n = mask.shape[0]
    return tree_map(lambda t: t[mask] if isinstance(t, Tensor) and t.shape[:1] == (n,) else t,
                    batch)


def _labels(batch: Batch) -> Tensor:
    return batch[1]


def class_mean_gradients(model: nn.Module, loss_fn: LossFn, data: Any, *,
                         labels: Callable[[Batch], Tensor] = _labels,
                         params: str | Sequence[str] | None = None,
                         inputs: Callable[[Batch], Any] = default_inputs,
                         train_mode: bool = False) -> ClassGradients:
    """Per-class mean gradients (Papyan 2019): for each class, the gradient of the loss
    averaged over that class's examples only. Costs about one gradient pass.

    Args:
        model, loss_fn, data, params, inputs, train_mode: as for every measure;
            ``loss_fn`` must be a mean over the examples of a batch. In train mode
            batch statistics are those of each class's examples.
        labels: ``labels(batch)`` -> class labels (B,) (default ``batch[1]``).

    Returns:
        :class:`ClassGradients`, classes in increasing order.
    """
    f = FunctionalLoss(model, loss_fn, data, params=params, inputs=inputs,
                       train_mode=train_mode)
    parts: dict[int, list[tuple[int, Tensor]]] = {}
    for batch in f.batches:
        y = labels(batch)  # (B,)
        for c in torch.unique(y).tolist():
            sub = _subset(batch, y == c)
            g = torch.func.grad(f.loss)(f.params, sub)
            parts.setdefault(c, []).append((int((y == c).sum()), flatten(g)))
    classes = sorted(parts)
    counts = torch.tensor([sum(m for m, _ in parts[c]) for c in classes])
    rows = [sum(m * g for m, g in parts[c]) / int(counts[i]) for i, c in enumerate(classes)]
    return ClassGradients(torch.stack(rows), torch.tensor(classes), counts)
