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
from ._layer_moments import CHUNK_ELEMENTS, Moments, probing, sites

__all__ = [
    "GradientMoments",
    "gradient_moments",
    "per_example_losses",
    "per_sample_grads",
    "per_sample_grads_loop",
]


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


def per_example_losses(loss_fn: LossFn, outputs: Any, batch: Batch) -> Tensor:
    """The loss of each example on its own, ℓ_b = ``loss_fn`` on a batch of one (B,).

    ``loss_fn`` is vectorized over examples with ``vmap`` (a Python loop where it
    cannot be), so Σ_b ℓ_b is B times a mean-reduced batch loss, whatever its reduction.

    Args:
        loss_fn: ``loss_fn(outputs, batch) -> scalar``.
        outputs: model outputs for the batch (a tensor or a pytree of them), examples on dim 0.
        batch: the batch (every tensor split along dim 0).
    """
    def one(o: Any, example: Batch) -> Tensor:
        return loss_fn(tree_map(_unsqueeze, o), tree_map(_unsqueeze, example))

    in_dims = tree_map(lambda t: 0 if isinstance(t, Tensor) else None, batch)
    try:
        return vmap(one, in_dims=(0, in_dims))(outputs, batch)
    except (RuntimeError, NotImplementedError, ValueError):  # data-dependent loss code
        return torch.stack([loss_fn(tree_map(lambda t: t[i:i + 1], outputs), _one(batch, i))
                            for i in range(batch_size(batch))])


def _unsqueeze(t: Any) -> Any:
    return t.unsqueeze(0) if isinstance(t, Tensor) else t


@dataclass
class GradientMoments:
    """First and second moments of per-example gradients g_i over n examples.

    ``mean`` (P,) ḡ = (1/n)Σ g_i (for a mean-reduced loss, the gradient of the loss on
    all n examples);
    ``second_moment`` (P,) the diagonal (1/n)Σ g_i ⊙ g_i; ``covariance`` (P, P) the
    per-example covariance C = (1/n)Σ (g_i − ḡ)(g_i − ḡ)ᵀ when requested. A minibatch
    gradient of B examples drawn with replacement has covariance C/B. Vectors are float64.
    """

    mean: Tensor
    second_moment: Tensor
    n: int
    covariance: Tensor | None = None

    @property
    def variance(self) -> Tensor:
        """diag C (P,) = second_moment − mean²."""
        return self.second_moment - self.mean**2

    @property
    def trace_cov(self) -> float:
        """tr C = (1/n)Σ‖g_i − ḡ‖²."""
        return float(self.second_moment.sum() - self.mean @ self.mean)

    @property
    def mean_sq_norm(self) -> float:
        """(1/n)Σ‖g_i‖² = tr C + ‖ḡ‖²."""
        return float(self.second_moment.sum())


def gradient_moments(model: nn.Module, loss_fn: LossFn, data: Any, *,
                     params: str | Sequence[str] | None = None,
                     inputs: Callable[[Batch], Any] = default_inputs,
                     chunk_size: int | None = None, covariance: bool = False) -> GradientMoments:
    """Mean and diagonal second moment (optionally the covariance) of per-example gradients.

    Layer by layer, without forming the (B, P) matrix of per-example gradients: one
    forward pass and one backward pass through the layers' outputs (no weight
    gradients), in which every ``nn.Linear`` / ``nn.Conv1d/2d/3d`` turns its input and
    output gradient into the sums Σ g_b and Σ g_b ⊙ g_b as soon as the output gradient
    is known (see :mod:`genlab.measures._layer_moments`). Other
    parameters (e.g. batch-norm scales) use ``vmap(grad)`` over chunks of examples.
    Runs in eval mode, like :func:`per_sample_grads`, whose gradients these are.
    Accuracy: tr C = E‖g‖² − ‖ḡ‖² is formed from float32 sums accumulated in float64;
    when ‖ḡ‖² ≫ tr C use a float64 model.

    Args:
        model, loss_fn, data: as for every measure; ``data`` may be many batches.
        params, inputs: see :func:`per_sample_grads`.
        chunk_size: examples per chunk of the generic path (None: sized to ~64 MB).
        covariance: also return the full (P, P) covariance (small models only); this
            forms per-example gradients, a chunk at a time.

    Returns:
        :class:`GradientMoments`, accumulated in float64.
    """
    f = FunctionalLoss(model, loss_fn, data, params=params, inputs=inputs)
    outer = torch.zeros(f.dim, f.dim, dtype=torch.float64, device=f.device) if covariance else None
    total = torch.zeros(2, f.dim, dtype=torch.float64, device=f.device)  # Σ g_i, Σ g_i ⊙ g_i
    n = 0
    for b in f.batches:
        if outer is None:
            sums = _batch_sums(f, b, chunk_size)
        else:
            sums = _generic_sums(f, b, list(f.params), chunk_size, outer)
        i = 0
        for k, p in f.params.items():  # float32 sums added into float64 in one pass each
            total[:, i:i + p.numel()] += torch.stack([s.reshape(-1) for s in sums[k]])
            i += p.numel()
        n += batch_size(b)
    total /= n
    cov = None if outer is None else outer / n - torch.outer(total[0], total[0])
    return GradientMoments(total[0], total[1], n, cov)


def _batch_sums(f: FunctionalLoss, batch: Batch, chunk_size: int | None) -> Moments:
    """Σ_b g_b and Σ_b g_b ⊙ g_b for every parameter, on one batch."""
    n = batch_size(batch)
    found = sites(f.model, set(f.params))
    anchor = torch.zeros((), dtype=f.dtype, device=f.device, requires_grad=True)
    with torch.enable_grad(), probing(found, anchor):
        losses = per_example_losses(f.loss_fn, f.outputs(f.params, batch), batch)  # (B,)
    for s in found:
        s.ready = s.usable(n)
    if any(s.ready for s in found) and losses.requires_grad:
        torch.autograd.grad(losses.sum(), anchor, allow_unused=True)
    out = {k: v for s in found for k, v in s.result.items()}
    rest = [k for k in f.params if k not in out]
    if rest:
        out.update(_generic_sums(f, batch, rest, chunk_size))
    return out


def _generic_sums(f: FunctionalLoss, batch: Batch, names: list[str], chunk_size: int | None,
                  outer: Tensor | None = None) -> Moments:
    """The same sums from ``vmap(grad)`` per-example gradients, a chunk of examples at a
    time; adds Gᵀ G of each chunk to ``outer`` (P, P) when given."""
    n = batch_size(batch)
    dim = sum(f.params[k].numel() for k in names)
    step = chunk_size or max(1, CHUNK_ELEMENTS // dim)
    out: Moments = {}
    for i in range(0, n, step):
        part = tree_map(lambda t: t[i:i + step] if isinstance(t, Tensor) else t, batch)
        g = per_sample_grads(f.model, f.loss_fn, part, params=names, inputs=f.inputs)
        for k in names:
            s, sq = g[k].sum(0), (g[k] ** 2).sum(0)
            out[k] = (s, sq) if k not in out else (out[k][0] + s, out[k][1] + sq)
        if outer is not None:
            G = torch.cat([g[k].flatten(1) for k in names], 1).double()  # (c, P)
            outer += G.T @ G
    return out
