"""Loss-landscape views: filter-normalized directions, 1D/2D slices, interpolation.

Filter normalization is Li, Xu, Taylor, Studer & Goldstein 2018 ("Visualizing the
loss landscape of neural nets"): a Gaussian direction whose every filter (a slice
along the output dimension of a weight) is rescaled to the norm of the matching
filter of the weights, so that plots of nets whose weights differ in scale are
comparable; directions along biases and normalization parameters are zero.
The linear interpolation f((1 − t)·w_a + t·w_b) is Goodfellow, Vinyals & Saxe
2015, used by Keskar et al. 2017 between small- and large-batch minima.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from ._func import Batch, FunctionalLoss, LossFn, Params, default_inputs, select_params

__all__ = [
    "Interpolation",
    "filter_normalized_direction",
    "interpolate",
    "loss_slice_1d",
    "loss_slice_2d",
]


def filter_normalized_direction(model: nn.Module, *, generator: torch.Generator,
                                params: str | Sequence[str] | None = None) -> Params:
    """A random filter-normalized direction (Li et al. 2018).

    Args:
        model: the network (not modified).
        generator: source of the Gaussian draw.
        params: parameter subset (see :func:`~genlab.measures.select_params`).

    Returns:
        A dict shaped like the parameters: for each weight with ≥ 2 dims, d_i =
        g_i · ‖w_i‖ / ‖g_i‖ per filter i (dim 0); zero for 1-D parameters (biases,
        norm scales). Under the ReLU rescaling W1 → αW1, W2 → W2/α the same draw
        gives d1 → αd1, d2 → d2/α, so loss slices are invariant.
    """
    out = {}
    for name, w in select_params(model, params).items():
        if w.ndim < 2:
            out[name] = torch.zeros_like(w)
            continue
        g = torch.randn(w.shape, generator=generator, device=generator.device,
                        dtype=torch.float64).to(device=w.device, dtype=w.dtype)
        dims = tuple(range(1, w.ndim))  # per filter: every axis but the first
        w_norm = torch.linalg.vector_norm(w, dim=dims, keepdim=True)
        scale = w_norm / torch.linalg.vector_norm(g, dim=dims, keepdim=True).clamp_min(1e-30)
        out[name] = g * scale  # (out, ...) filter-wise
    return out


def _shifted(base: Params, steps: Sequence[tuple[float, Params]]) -> Params:
    return {n: w + sum(t * d[n] for t, d in steps) for n, w in base.items()}


def loss_slice_1d(model: nn.Module, loss_fn: LossFn, data: Any, direction: Params,
                  ts: Tensor, **kwargs: Any) -> Tensor:
    """Losses L(w + t·d) along one direction.

    Args:
        model, loss_fn, data: as for every measure; ``**kwargs`` go to
            :class:`~genlab.measures.FunctionalLoss` (``params``, ``inputs``, ``train_mode``).
        direction: dict shaped like the (selected) parameters.
        ts: step sizes (T,).

    Returns:
        Losses (T,) in float64.
    """
    f = FunctionalLoss(model, loss_fn, data, **kwargs)
    return torch.tensor([f.value(_shifted(f.params, [(float(t), direction)])) for t in ts],
                        dtype=torch.float64)


def loss_slice_2d(model: nn.Module, loss_fn: LossFn, data: Any, directions: tuple[Params, Params],
                  xs: Tensor, ys: Tensor, **kwargs: Any) -> Tensor:
    """Losses L(w + x·d1 + y·d2) on a grid: (len(xs), len(ys)) float64 (see 1D)."""
    f = FunctionalLoss(model, loss_fn, data, **kwargs)
    d1, d2 = directions
    return torch.tensor([[f.value(_shifted(f.params, [(float(x), d1), (float(y), d2)]))
                          for y in ys] for x in xs], dtype=torch.float64)


@dataclass
class Interpolation:
    """Values along (1 − t)·w_a + t·w_b: ``ts`` (T,), ``loss`` (T,) and one (T,)
    tensor per extra metric in ``metrics``."""

    ts: Tensor
    loss: Tensor
    metrics: dict[str, Tensor] = field(default_factory=dict)


def _mix(a: nn.Module, b: nn.Module, t: float) -> nn.Module:
    sa, sb = a.state_dict(), b.state_dict()
    mixed = {k: (1 - t) * v + t * sb[k] if v.is_floating_point() else v for k, v in sa.items()}
    out = copy.deepcopy(a)
    out.load_state_dict(mixed)
    return out


def interpolate(model_a: nn.Module, model_b: nn.Module, loss_fn: LossFn, data: Any,
                ts: Tensor, *, metrics: Mapping[str, LossFn] | None = None,
                inputs: Callable[[Batch], Any] = default_inputs,
                train_mode: bool = False) -> Interpolation:
    """Loss (and metrics, e.g. ``{"accuracy": accuracy}``) along the segment w_a → w_b.

    Parameters and floating buffers (batch-norm statistics) are interpolated;
    both models must share an architecture. Neither model is modified.

    Args:
        model_a, model_b: the endpoints (t = 0 and t = 1).
        loss_fn, data, inputs, train_mode: as for every measure.
        ts: positions (T,); values outside [0, 1] extrapolate.
        metrics: name -> ``fn(outputs, batch)`` averaged like the loss.

    Returns:
        :class:`Interpolation`.
    """
    metrics = dict(metrics or {})
    loss, extra = [], {k: [] for k in metrics}
    for t in ts:
        f = FunctionalLoss(_mix(model_a, model_b, float(t)), loss_fn, data, inputs=inputs,
                           train_mode=train_mode)
        loss.append(f.value())
        for k, fn in metrics.items():
            extra[k].append(f.metric(fn))
    as_t = lambda xs: torch.tensor(xs, dtype=torch.float64)  # noqa: E731
    return Interpolation(ts.to(torch.float64), as_t(loss), {k: as_t(v) for k, v in extra.items()})
