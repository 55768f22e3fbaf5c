"""Randomization tests of Zhang et al. (2017), "Understanding deep learning requires
rethinking generalization" (ICLR, arXiv:1611.03530), as pure functions.

Each corruption is drawn once, from an explicit generator, and then kept fixed:
training on the returned tensors is training on a fixed corrupted data set.
Inputs are (N, C, *spatial) (images (N, C, H, W), signals (N, C, L)) or flat
(N, D); a "pixel" is a spatial position with all its channels.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from .dataset import as_generator

__all__ = ["LabelCorruption", "corrupt_labels", "gaussian_inputs", "pixel_permutation",
           "random_pixels", "shuffle_pixels"]


class LabelCorruption(NamedTuple):
    """Result of :func:`corrupt_labels`.

    Attributes:
        labels: the new labels, (N,) int64.
        mask: (N,) bool, True where the label was redrawn. A redrawn label equals
            the true one with probability 1/K, so ``labels != y`` is a subset of it.
    """

    labels: Tensor
    mask: Tensor


def corrupt_labels(y: Tensor, p: float, num_classes: int,
                   generator: torch.Generator | int) -> LabelCorruption:
    """Zhang et al.'s partially corrupted labels: each label, independently with
    probability ``p``, is replaced by a class drawn uniformly from all K classes.

    The expected fraction of labels that actually change is p·(1 − 1/K); p = 1
    gives Zhang's "random labels". The redraw decision uses u < p with one uniform
    u per example, so with the same generator state the corrupted sets are nested
    in p (the examples corrupted at p = 0.2 are also corrupted at p = 0.4).

    Args:
        y: true labels, (N,) integers in [0, num_classes).
        p: corruption probability in [0, 1].
        num_classes: K.
        generator: torch.Generator or int seed.

    Returns:
        ``LabelCorruption(labels, mask)``.
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"corruption probability p={p!r} is out of range; allowed: 0 <= p <= 1")
    if num_classes < 1:
        raise ValueError(f"num_classes={num_classes!r} is out of range; allowed: >= 1")
    g = as_generator(generator)
    u = torch.rand(len(y), generator=g, device=g.device)  # (N,)
    random_labels = torch.randint(num_classes, (len(y),), generator=g, device=g.device)  # (N,)
    mask = (u < p).to(y.device)
    labels = torch.where(mask, random_labels.to(y.device), y.to(torch.int64))
    return LabelCorruption(labels, mask)


def _pixels(x: Tensor) -> Tensor:
    """View x as (N, C, P): channels × pixels (C = 1 for flat (N, D) inputs)."""
    if x.ndim < 2:
        raise ValueError(f"inputs must be (N, D) or (N, C, ...), got shape {tuple(x.shape)}")
    if x.ndim == 2:
        return x.unsqueeze(1)  # (N, 1, D)
    return x.reshape(x.shape[0], x.shape[1], -1)  # (N, C, P)


def pixel_permutation(x: Tensor, generator: torch.Generator | int) -> Tensor:
    """One random permutation of the pixel positions of inputs shaped like ``x``.

    Args:
        x: inputs (N, C, *spatial) or (N, D); only the shape is used.
        generator: torch.Generator or int seed.

    Returns:
        (P,) int64 permutation, P = number of pixels (prod(spatial), or D).
    """
    g = as_generator(generator)
    return torch.randperm(_pixels(x).shape[-1], generator=g, device=g.device)


def shuffle_pixels(x: Tensor, generator: torch.Generator | int | None = None, *,
                   permutation: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """Zhang et al.'s "shuffled pixels": one permutation of the pixels, the same for every image.

    Apply the same permutation to train and test::

        x_train_s, perm = shuffle_pixels(x_train, generator)
        x_test_s, _ = shuffle_pixels(x_test, permutation=perm)

    Args:
        x: inputs (N, C, *spatial) or (N, D); channels of a pixel move together.
        generator: draws the permutation when ``permutation`` is not given.
        permutation: (P,) permutation to apply (e.g. the one used on the train set).

    Returns:
        ``(shuffled, permutation)``: shuffled has x's shape; pixel j of the
        output is pixel ``permutation[j]`` of the input.
    """
    if permutation is None:
        if generator is None:
            raise ValueError("shuffle_pixels needs a generator (or seed) or a permutation")
        permutation = pixel_permutation(x, generator)
    flat = _pixels(x)  # (N, C, P)
    if permutation.shape != (flat.shape[-1],):
        raise ValueError(f"permutation has shape {tuple(permutation.shape)}; inputs have {flat.shape[-1]} pixels")
    return flat[..., permutation.to(x.device)].reshape(x.shape), permutation


def random_pixels(x: Tensor, generator: torch.Generator | int) -> Tensor:
    """Zhang et al.'s "random pixels": an independent random permutation per image.

    Args:
        x: inputs (N, C, *spatial) or (N, D); channels of a pixel move together.
        generator: torch.Generator or int seed.

    Returns:
        Tensor of x's shape.
    """
    g = as_generator(generator)
    flat = _pixels(x)  # (N, C, P)
    n, c, p = flat.shape
    perms = torch.rand(n, p, generator=g, device=g.device).argsort(dim=1).to(x.device)  # (N, P)
    return flat.gather(2, perms[:, None, :].expand(n, c, p)).reshape(x.shape)


def gaussian_inputs(x: Tensor, generator: torch.Generator | int, *, per_channel: bool = True) -> Tensor:
    """Zhang et al.'s "Gaussian": inputs replaced by Gaussian noise with the data's mean and variance.

    Every entry is drawn independently from N(μ, σ²), where μ and σ² are the mean
    and (population) variance of ``x`` — per channel (over examples and pixels) when
    ``per_channel`` and x has a channel axis, else over all entries. Values are
    not clipped to [0, 1].

    Args:
        x: inputs (N, C, *spatial) or (N, D) (flat inputs use the global statistics).
        generator: torch.Generator or int seed.
        per_channel: match each channel's statistics (True) or the global ones.

    Returns:
        Tensor of x's shape and dtype.
    """
    g = as_generator(generator)
    flat = _pixels(x).double()  # (N, C, P)
    dims = (0, 2) if per_channel else (0, 1, 2)
    mean = flat.mean(dim=dims, keepdim=True)  # (1, C, 1) or (1, 1, 1)
    std = flat.var(dim=dims, keepdim=True, unbiased=False).sqrt()
    noise = torch.randn(flat.shape, generator=g, device=g.device, dtype=torch.float64).to(x.device)
    return (mean + std * noise).to(x.dtype).reshape(x.shape)
