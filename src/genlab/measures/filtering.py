"""Low and high frequencies of a function known only at scattered points (the filtering method).

In high dimension there is no grid to take a Fourier transform on. Xu, Zhang, Luo,
Xiao & Ma (2019), "Frequency Principle: Fourier Analysis Sheds Light on Deep Neural
Networks", arXiv:1901.06523, split a function f sampled at the training inputs x_i
into a low-frequency part, its convolution with a Gaussian normalized over the data,

    f_low(x_i) = Σ_j f(x_j) G_δ(x_i − x_j) / Σ_j G_δ(x_i − x_j),   G_δ(u) = exp(−‖u‖² / (2δ)),

and the high-frequency rest f_high = f − f_low. Convolving with a Gaussian multiplies
the Fourier transform by a Gaussian of width ∝ 1/√δ, so f_low keeps the frequencies
below about 1/√δ. Applied to the targets y and the network's outputs h during training,
the relative errors

    e_low = ‖y_low − h_low‖ / ‖y_low‖,   e_high = ‖y_high − h_high‖ / ‖y_high‖

(norms over all points and output channels) measure how far each band of the fit is
from done; the frequency principle is that e_low falls first.

Limits: δ → 0 makes the operator the identity (f_low = f, f_high = 0); δ → ∞ makes
it the mean over the points. Between, δ is best chosen relative to the data's own
distances (:func:`median_sq_distance`). Everything is computed in float64.
"""

from __future__ import annotations

import torch
from torch import Tensor

__all__ = ["filtered_errors", "low_pass_operator", "median_sq_distance", "split_frequencies"]


def _sq_distances(x: Tensor) -> Tensor:
    flat = x.reshape(x.shape[0], -1).to(torch.float64)  # (N, P)
    return torch.cdist(flat, flat).square()  # (N, N)


def median_sq_distance(x: Tensor) -> float:
    """The median of ‖x_i − x_j‖² over the pairs i < j of a batch (N, ...), N ≥ 2."""
    if x.shape[0] < 2:
        raise ValueError(f"need at least 2 points, got {x.shape[0]}")
    d2 = _sq_distances(x)
    i, j = torch.triu_indices(len(d2), len(d2), offset=1)
    return float(d2[i, j].median())


def low_pass_operator(x: Tensor, delta: float) -> Tensor:
    """The row-stochastic matrix S with (S f)_i = f_low(x_i) for the Gaussian of width δ.

    S_ij = G_δ(x_i − x_j) / Σ_j' G_δ(x_i − x_j'), computed as a softmax over j of
    −‖x_i − x_j‖² / (2δ), so it stays finite however small δ is.

    Args:
        x: the N points (N, ...) (e.g. images (N, 1, 28, 28)), flattened per point.
        delta: the width δ > 0, in squared input units (see :func:`median_sq_distance`).

    Returns:
        (N, N) float64, each row summing to 1.
    """
    if not delta > 0:
        raise ValueError(f"delta must be > 0, got {delta}")
    return torch.softmax(-_sq_distances(x) / (2 * delta), dim=1)  # (N, N)


def split_frequencies(values: Tensor, operator: Tensor) -> tuple[Tensor, Tensor]:
    """(low, high) parts of ``values`` (N,) or (N, C) at the operator's points; low + high = values.

    Returns float64 tensors of the shape of ``values``.
    """
    if operator.ndim != 2 or operator.shape[0] != operator.shape[1] \
            or values.shape[0] != operator.shape[0]:
        raise ValueError(f"operator must be (N, N) with N = {values.shape[0]} rows of values, "
                         f"got {tuple(operator.shape)}")
    v = values.to(torch.float64)
    low = operator @ v  # (N,) or (N, C)
    return low, v - low


def filtered_errors(outputs: Tensor, targets: Tensor, operator: Tensor) -> tuple[float, float]:
    """Xu et al.'s relative errors (e_low, e_high) of ``outputs`` against ``targets``.

    Args:
        outputs: the model's values at the N points, (N,) or (N, C) (e.g. softmax
            probabilities against one-hot labels).
        targets: the same shape.
        operator: :func:`low_pass_operator` of the N inputs.

    Returns:
        (e_low, e_high); a band in which the targets are exactly zero gives NaN.
    """
    if outputs.shape != targets.shape:
        raise ValueError(f"outputs {tuple(outputs.shape)} and targets {tuple(targets.shape)} "
                         "differ in shape")
    y_low, y_high = split_frequencies(targets, operator)
    h_low, h_high = split_frequencies(outputs, operator)
    errors = []
    for y, h in ((y_low, h_low), (y_high, h_high)):
        norm = float(y.norm())
        errors.append(float((y - h).norm()) / norm if norm > 0 else float("nan"))
    return errors[0], errors[1]
