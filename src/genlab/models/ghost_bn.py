"""Ghost Batch Normalization: batch norm whose statistics come from small "ghost" batches.

Hoffer, Hubara & Soudry 2017, "Train longer, generalize better: closing the
generalization gap in large batch training of neural networks", NeurIPS,
arXiv:1705.08741, Algorithm 1. A large batch of B examples is split into ghost
batches of g examples; in training each ghost batch is normalized by its own mean
and (biased) variance, so the normalization noise is that of a batch of g while
the gradient averages over B. The affine parameters are shared; eval mode uses
the running statistics exactly as ``nn.BatchNorm`` does.

**Which examples form a ghost batch.** With B = k·g + r (0 ≤ r < g), the first
k·g examples form k ghost batches of g *interleaved* examples: ghost batch j holds
examples j, j + k, j + 2k, ... That partition is a free view of the input,
``x[:k·g].view(g, k·C, ...)``, on which PyTorch's own batch-norm kernel treats each
(ghost batch, channel) pair as one channel: one vectorized pass, no copy, and every
autograd feature of the native kernel (double backward, forward mode,
``torch.func``). Contiguous chunks (the same pass on ``[B/g, g, ...]``) would need a
transposed copy (a row of ``benchmarks/ghost_bn.py``) or a composite of many
elementwise kernels with a hand-written backward: both were slower. Batches are
shuffled, so which examples share a ghost batch is immaterial. The remaining r
examples (if any) form one smaller, last ghost batch, normalized by a second call;
it must hold more than one value per channel, as in ``nn.BatchNorm``. With B ≤ g
the layer is plain batch norm.

**Running statistics.** Algorithm 1 folds every ghost batch's statistics into the
running ones with geometrically decaying momentum weights: that is batch norm's
update r ← (1 − η)·r + η·s applied once per ghost batch, in order (ghost batches
0..k−1, then the remainder). We apply it in closed form,
r ← Π(1 − η_t)·r + Σ_t η_t·Π_{u>t}(1 − η_u)·s_t, so the buffers end exactly where
``nn.BatchNorm`` applied ghost batch by ghost batch leaves them: the unbiased
variance is tracked (the paper tracks the standard deviation; we keep PyTorch's
convention so that eval mode is plain batch norm), ``num_batches_tracked`` counts
ghost batches, and ``momentum=None`` (cumulative average) averages ghost batches.
"""

from __future__ import annotations

import functools
import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["GhostBatchNorm1d", "GhostBatchNorm2d", "ghost_batch_norm"]


class _Ghost:
    """Forward shared by the 1d and 2d layers (mixed in before the ``nn.BatchNorm`` class)."""

    ghost_batch_size: int

    def _init_ghost(self, ghost_batch_size: int) -> None:
        if isinstance(ghost_batch_size, bool) or not isinstance(ghost_batch_size, int) \
                or ghost_batch_size < 1:
            raise ValueError(f"ghost_batch_size must be an integer >= 1, got {ghost_batch_size!r}")
        self.ghost_batch_size = ghost_batch_size

    def forward(self, input: Tensor) -> Tensor:
        uses_batch_stats = self.training or self.running_mean is None
        if not uses_batch_stats or input.shape[0] <= self.ghost_batch_size:
            return super().forward(input)  # eval mode, or a single ghost batch
        self._check_input_dim(input)
        return _ghost_forward(self, input)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, ghost_batch_size={self.ghost_batch_size}"


class GhostBatchNorm1d(_Ghost, nn.BatchNorm1d):
    """``nn.BatchNorm1d`` over ghost batches of ``ghost_batch_size`` examples in training.

    A drop-in replacement: same constructor arguments, parameters, buffers and
    state-dict keys as ``nn.BatchNorm1d`` (and ``isinstance(m, nn.BatchNorm1d)``),
    plus the keyword ``ghost_batch_size``. Inputs ``(N, C)`` or ``(N, C, L)``; see the
    module docstring for the ghost-batch partition and the running-statistics rule.

    Args:
        num_features, eps, momentum, affine, track_running_stats, device, dtype:
            as ``nn.BatchNorm1d``.
        ghost_batch_size: g, examples per ghost batch (≥ 1); a batch of ≤ g examples
            is normalized as plain batch norm.

    Raises:
        ValueError: ``ghost_batch_size`` < 1; in training, a ghost batch with a single
            value per channel (e.g. a remainder of 1 example on ``(N, C)`` input).
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, ghost_batch_size: int):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self._init_ghost(ghost_batch_size)


class GhostBatchNorm2d(_Ghost, nn.BatchNorm2d):
    """``nn.BatchNorm2d`` over ghost batches of ``ghost_batch_size`` examples in training.

    The 2d counterpart of :class:`GhostBatchNorm1d` (inputs ``(N, C, H, W)``); same
    drop-in contract, partition and running-statistics rule.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=None, *, ghost_batch_size: int):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype)
        self._init_ghost(ghost_batch_size)


def _ghost_forward(bn: _Ghost, x: Tensor) -> Tensor:
    """Training-mode forward of ``bn`` on ``x`` (N, C, *S) with N > g."""
    g, c, spatial = bn.ghost_batch_size, x.shape[1], x.shape[2:]
    k, r = divmod(x.shape[0], g)
    smallest = min(g, r or g)
    if smallest * math.prod(spatial) < 2:
        raise ValueError(f"batch {x.shape[0]} with ghost_batch_size {g} leaves a ghost batch of "
                         f"{smallest} example(s) of shape {tuple(x.shape[1:])}: one value per "
                         "channel; each ghost batch needs at least 2")
    update = bn.training and bn.track_running_stats
    # With momentum 1 the kernel leaves each ghost batch's mean and unbiased variance in
    # these zeroed "running" buffers: (2, K·C), K = k + (r > 0), ghost batches in order.
    stats = bn.running_mean.new_zeros(2, (k + (r > 0)) * c) if update else None
    head, tail = x.split([k * g, r]) if r else (x, None)  # split, not slicing: cheap backward
    head = head.reshape(g, k * c, *spatial)  # (g, k·C, *S): block j of row a is example a·k + j
    weight, bias = (None if p is None else p.expand(k, c).reshape(k * c)  # (k·C,) repeated
                    for p in (bn.weight, bn.bias))
    y = F.batch_norm(head, *_span(stats, 0, k * c), weight, bias, True, 1.0, bn.eps)
    y = y.view(k * g, c, *spatial)
    if r:
        tail = F.batch_norm(tail, *_span(stats, k * c, None), bn.weight, bn.bias, True, 1.0,
                            bn.eps)
        y = torch.cat([y, tail])  # (N, C, *S)
    if update:
        _update_running(bn, stats.view(2, -1, c))
    return y


def _span(stats: Tensor | None, lo: int, hi: int | None) -> tuple[Tensor | None, Tensor | None]:
    """The (mean, variance) buffers of columns lo:hi of ``stats``, or (None, None)."""
    return (None, None) if stats is None else (stats[0, lo:hi], stats[1, lo:hi])


def _update_running(bn: _Ghost, stats: Tensor) -> None:
    """Batch norm's running update applied once per ghost batch, in order, in closed form.

    ``stats`` is (2, K, C): the ghost batches' means and unbiased variances (no grad).
    With factor η_t for the t-th ghost batch,
    r ← Π(1 − η_t)·r + Σ_t η_t·Π_{u>t}(1 − η_u)·s_t, computed on the device (no host
    sync when the momentum is set).
    """
    n_ghost = stats.shape[1]
    if bn.momentum is None:  # cumulative average over every batch seen: equal weights
        seen = bn.num_batches_tracked.to(stats.dtype)
        keep, update = seen / (seen + n_ghost), stats.sum(1) / (seen + n_ghost)  # (), (2, C)
        for buffer, new in zip((bn.running_mean, bn.running_var), update):
            buffer.mul_(keep).add_(new)
    else:
        eta = float(bn.momentum)
        update = torch.matmul(_momentum_weights(n_ghost, eta, stats.dtype, stats.device), stats)
        for buffer, new in zip((bn.running_mean, bn.running_var), update):  # (C,) each
            torch.add(new, buffer, alpha=(1 - eta) ** n_ghost, out=buffer)
    bn.num_batches_tracked.add_(n_ghost)


@functools.lru_cache(maxsize=64)
def _momentum_weights(n_ghost: int, eta: float, dtype: torch.dtype,
                      device: torch.device) -> Tensor:
    """(K,) weights η·(1 − η)^(K−1−t) of ghost batch t (cached: a small tensor per setting)."""
    ages = torch.arange(n_ghost - 1, -1, -1, dtype=torch.float64)
    return (eta * (1 - eta) ** ages).to(dtype=dtype, device=device)


_GHOST_OF = {nn.BatchNorm1d: GhostBatchNorm1d, nn.BatchNorm2d: GhostBatchNorm2d}


def ghost_batch_norm(model: nn.Module, ghost_batch_size: int) -> nn.Module:
    """Swap every ``nn.BatchNorm1d``/``2d`` in ``model`` for its ghost version, in place.

    The new layers take over the old ones' parameter and buffer tensors (the same
    objects, so an optimizer built before the swap keeps working), their settings and
    their train/eval mode; the state-dict keys do not change, and eval-mode outputs
    are unchanged. Layers that already are ghost layers get the new size.

    Args:
        model: any module, e.g. ``MLP(784, [512] * 3, 10, batch_norm=True)``.
        ghost_batch_size: g, examples per ghost batch.

    Returns:
        ``model`` itself.

    Raises:
        ValueError: ``model`` has no BatchNorm1d/2d layer, or ``ghost_batch_size`` < 1.
    """
    if isinstance(model, tuple(_GHOST_OF)):
        raise ValueError("ghost_batch_norm swaps the layers inside a model; for a single layer "
                         "build GhostBatchNorm1d/2d directly")
    swapped = 0
    for parent in list(model.modules()):
        for name, child in parent.named_children():
            kind = next((k for k in _GHOST_OF if isinstance(child, k)), None)
            if kind is not None:
                setattr(parent, name, _as_ghost(child, _GHOST_OF[kind], ghost_batch_size))
                swapped += 1
    if not swapped:
        raise ValueError("model has no BatchNorm1d/BatchNorm2d layer to make ghost")
    return model


def _as_ghost(bn: nn.modules.batchnorm._BatchNorm, cls: type, size: int) -> nn.Module:
    """A ``cls`` layer that shares ``bn``'s parameters, buffers, settings and mode."""
    ghost = cls(bn.num_features, bn.eps, bn.momentum, bn.affine, bn.track_running_stats,
                device="meta", ghost_batch_size=size)
    for name, tensor in [*bn.named_parameters(recurse=False), *bn.named_buffers(recurse=False)]:
        setattr(ghost, name, tensor)
    return ghost.train(bn.training)
