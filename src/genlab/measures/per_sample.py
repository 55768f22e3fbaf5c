"""Per-sample gradients and the gradient noise they define.

``vmap(grad(ℓ))`` over the batch computes every example's gradient in one
vectorized pass (the torch.func recipe; Dangel, Kunstner & Hennig 2020 "BackPACK"
for the motivation). The trace of the per-sample gradient covariance
tr C = E‖g_i − ḡ‖² is the gradient noise that sets SGD's temperature
T ∝ η·tr C / B (Mandt, Hoffman & Blei 2017; Jastrzębski et al. 2017).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import grad, vmap
from torch.utils._pytree import tree_map

from ._func import Batch, FunctionalLoss, LossFn, Params, batch_size, default_inputs

__all__ = ["GradientMoments", "gradient_moments", "per_sample_grads", "per_sample_grads_loop"]


def _one(batch: Batch, i: int) -> Batch:
    return tree_map(lambda t: t[i:i + 1] if isinstance(t, Tensor) else t, batch)


def per_sample_grads(model: nn.Module, loss_fn: LossFn, batch: Batch, *,
                     params: str | Sequence[str] | None = None,
                     inputs: Callable[[Batch], Any] = default_inputs,
                     chunk_size: int | None = None) -> Params:
    """Gradient of each example's loss, vectorized with ``vmap(grad(·))``.

    Runs in eval mode (batch statistics would couple the examples). Every tensor
    in ``batch`` is split along dim 0; each example is seen as a batch of one.

    Args:
        model, loss_fn: as for every measure (``loss_fn`` on a batch of one).
        batch: one batch of B examples.
        params: parameter subset.
        inputs: ``inputs(batch)`` -> model input.
        chunk_size: examples per vectorized chunk, bounding memory (None: all B).

    Returns:
        name -> gradients (B, *param.shape).
    """
    f = FunctionalLoss(model, loss_fn, batch, params=params, inputs=inputs, train_mode=False)
    in_dims = tree_map(lambda t: 0 if isinstance(t, Tensor) else None, batch)

    def loss_one(p: Params, example: Batch) -> Tensor:
        single = tree_map(lambda t: t.unsqueeze(0) if isinstance(t, Tensor) else t, example)
        return f.loss(p, single)

    return vmap(grad(loss_one), in_dims=(None, in_dims), chunk_size=chunk_size)(
        f.params, f.batches[0])


def per_sample_grads_loop(model: nn.Module, loss_fn: LossFn, batch: Batch, *,
                          params: str | Sequence[str] | None = None,
                          inputs: Callable[[Batch], Any] = default_inputs) -> Params:
    """Reference: the same as :func:`per_sample_grads`, one example at a time."""
    f = FunctionalLoss(model, loss_fn, batch, params=params, inputs=inputs, train_mode=False)
    b = f.batches[0]
    grads = [grad(f.loss)(f.params, _one(b, i)) for i in range(batch_size(b))]
    return {n: torch.stack([g[n] for g in grads]) for n in f.params}


@dataclass
class GradientMoments:
    """First and second moments of per-example gradients over n examples.

    ``mean`` (P,) the full-data gradient ḡ; ``trace_cov`` = (1/n)Σ‖g_i − ḡ‖²
    (the trace of the per-sample covariance C); ``mean_sq_norm`` = (1/n)Σ‖g_i‖²
    = tr C + ‖ḡ‖²; ``covariance`` (P, P) when requested."""

    mean: Tensor
    trace_cov: float
    mean_sq_norm: float
    n: int
    covariance: Tensor | None = None


def gradient_moments(model: nn.Module, loss_fn: LossFn, data: Any, *,
                     params: str | Sequence[str] | None = None,
                     inputs: Callable[[Batch], Any] = default_inputs,
                     chunk_size: int | None = None, covariance: bool = False) -> GradientMoments:
    """Mean, covariance trace (and optionally covariance) of per-example gradients.

    Args:
        model, loss_fn, data: as for every measure; ``data`` may be many batches.
        params, inputs, chunk_size: see :func:`per_sample_grads`.
        covariance: also return the full (P, P) covariance (small models only).

    Returns:
        :class:`GradientMoments`, accumulated in float64.
    """
    f = FunctionalLoss(model, loss_fn, data, params=params, inputs=inputs)
    total = torch.zeros(f.dim, dtype=torch.float64, device=f.device)
    outer = torch.zeros(f.dim, f.dim, dtype=torch.float64, device=f.device) if covariance else None
    sq, n = 0.0, 0
    for b in f.batches:
        g = per_sample_grads(model, loss_fn, b, params=params, inputs=inputs,
                             chunk_size=chunk_size)
        G = torch.cat([t.reshape(t.shape[0], -1) for t in g.values()], 1).double()  # (B, P)
        total += G.sum(0)
        sq += float((G**2).sum())
        n += G.shape[0]
        if outer is not None:
            outer += G.T @ G
    mean = total / n
    cov = None if outer is None else outer / n - torch.outer(mean, mean)
    return GradientMoments(mean, sq / n - float(mean @ mean), sq / n, n, cov)
