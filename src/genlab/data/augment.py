"""Data augmentation as pure functions of (inputs, generator)."""

from __future__ import annotations

import torch
from torch import Tensor

from .dataset import as_generator

__all__ = ["random_shift"]


def _shift_axis(x: Tensor, dim: int, shifts: Tensor) -> Tensor:
    """Translate each example of x by ``shifts[n]`` positions along ``dim``, zero filled."""
    length = x.shape[dim]
    src = torch.arange(length, device=x.device) - shifts[:, None]  # (N, L): out[j] = x[j - s]
    valid = (src >= 0) & (src < length)  # (N, L)
    view = [x.shape[0]] + [1] * (x.ndim - 1)
    view[dim] = length
    index = src.clamp(0, length - 1).reshape(view).expand_as(x)
    moved = x.gather(dim, index)
    return torch.where(valid.reshape(view), moved, torch.zeros((), dtype=x.dtype, device=x.device))


def random_shift(x: Tensor, max_shift: int, generator: torch.Generator | int) -> Tensor:
    """Translate each input by a random integer offset per spatial axis, zero padded.

    For each example and each spatial axis an offset s is drawn uniformly from
    {−max_shift, …, max_shift}; output position j holds input position j − s
    (zero where that falls outside). Images (N, C, H, W) get a 2-D shift, signals
    (N, C, L) a 1-D one. Pure: x is not modified.

    Args:
        x: inputs (N, C, *spatial) with at least one spatial axis.
        max_shift: largest offset in pixels (0 returns a copy of x).
        generator: torch.Generator or int seed.

    Returns:
        Tensor of x's shape.
    """
    if x.ndim < 3:
        raise ValueError(f"random_shift needs inputs (N, C, *spatial), got shape {tuple(x.shape)}")
    if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 0:
        raise ValueError(f"max_shift={max_shift!r} is out of range; allowed: an int >= 0")
    g = as_generator(generator)
    out = x.clone()
    for dim in range(2, x.ndim):
        shifts = torch.randint(-max_shift, max_shift + 1, (x.shape[0],), generator=g, device=g.device)
        out = _shift_axis(out, dim, shifts.to(x.device))
    return out
