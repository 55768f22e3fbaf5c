"""The typed records every loader returns, and the seeded split helpers they share."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
import torch
from torch import Tensor

__all__ = ["Dataset", "Regression", "Samples", "as_generator", "stratified_split"]


@dataclass(frozen=True, repr=False)
class Dataset:
    """A classification data set as tensors, split into train and test.

    Images are float32 in [0, 1] shaped (N, C, H, W); MNIST-1D signals are
    float32 shaped (N, 1, 40) (standardized, not in [0, 1]); labels are int64 (N,).

    Attributes:
        x_train: training inputs, (N_train, C, ...).
        y_train: training labels, (N_train,) int64 in [0, num_classes).
        x_test: test inputs, (N_test, C, ...).
        y_test: test labels, (N_test,) int64.
        name: data set name as accepted by :func:`genlab.data.load_dataset`.
        num_classes: number of classes K.
        source: where the data came from ("embedded", "procedural" or a directory).
    """

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    name: str
    num_classes: int
    source: str = "embedded"

    def __post_init__(self) -> None:
        if len(self.x_train) != len(self.y_train) or len(self.x_test) != len(self.y_test):
            raise ValueError(f"{self.name}: inputs and labels differ in length")

    @property
    def n_train(self) -> int:
        """Number of training examples."""
        return len(self.y_train)

    @property
    def n_test(self) -> int:
        """Number of test examples."""
        return len(self.y_test)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """Shape of one input, e.g. (1, 28, 28)."""
        return tuple(self.x_train.shape[1:])

    def to(self, device: str | torch.device) -> Dataset:
        """The same data set with every tensor moved to ``device``."""
        return replace(self, x_train=self.x_train.to(device), y_train=self.y_train.to(device),
                       x_test=self.x_test.to(device), y_test=self.y_test.to(device))

    def __repr__(self) -> str:
        return (f"Dataset(name={self.name!r}, num_classes={self.num_classes}, "
                f"train={tuple(self.x_train.shape)}, test={tuple(self.x_test.shape)}, "
                f"source={self.source!r})")


@dataclass(frozen=True, repr=False)
class Regression:
    """A 1-D regression data set: x shaped (N, 1), y shaped (N, 1).

    Attributes:
        x_train, y_train, x_test, y_test: tensors, each (N, 1).
        name: the target function's name (e.g. "sin").
        noise: standard deviation of the additive Gaussian noise on y.
    """

    x_train: Tensor
    y_train: Tensor
    x_test: Tensor
    y_test: Tensor
    name: str
    noise: float

    def __repr__(self) -> str:
        return (f"Regression(name={self.name!r}, noise={self.noise}, "
                f"n_train={len(self.x_train)}, n_test={len(self.x_test)})")


class Samples(NamedTuple):
    """One sample of a regression problem: ``x`` (N, 1) and ``y`` (N, 1)."""

    x: Tensor
    y: Tensor


def as_generator(generator: torch.Generator | int) -> torch.Generator:
    """A ``torch.Generator``: returned as is, or a new CPU one seeded with an int.

    Args:
        generator: a generator, or an int seed.

    Returns:
        A generator; the same int always gives the same stream.
    """
    if isinstance(generator, torch.Generator):
        return generator
    if isinstance(generator, (int, np.integer)) and not isinstance(generator, bool):
        return torch.Generator().manual_seed(int(generator))
    raise ValueError(f"generator must be a torch.Generator or an int seed, got {type(generator).__name__}")


def _quotas(counts: np.ndarray, n: int) -> np.ndarray:
    """Split ``n`` across classes in proportion to ``counts`` (largest remainder)."""
    exact = counts * n / counts.sum()  # (K,)
    quota = np.floor(exact).astype(np.int64)
    short = n - int(quota.sum())
    order = np.argsort(-(exact - quota), kind="stable")  # largest remainders first
    quota[order[:short]] += 1
    return quota


def stratified_split(y: Tensor, n_first: int, generator: torch.Generator | int) -> tuple[Tensor, Tensor]:
    """Split indices into two disjoint parts with (nearly) equal class proportions.

    Class k with c_k examples gives round(n_first · c_k / N) of them to the first
    part (largest-remainder rounding, so the sizes add up exactly); which ones is a
    seeded random choice. Each part comes back in a seeded random order.

    Args:
        y: labels, (N,) integers.
        n_first: size of the first part, 0 ≤ n_first ≤ N.
        generator: torch.Generator or int seed.

    Returns:
        ``(first, rest)``: int64 index tensors of sizes n_first and N − n_first.
    """
    g = as_generator(generator)
    labels = y.detach().cpu().numpy().astype(np.int64)
    if not 0 <= n_first <= len(labels):
        raise ValueError(f"cannot take {n_first} of {len(labels)} examples; allowed: 0..{len(labels)}")
    classes, counts = np.unique(labels, return_counts=True)
    quota = _quotas(counts, n_first)
    first, rest = [], []
    for k, q in zip(classes, quota):
        members = torch.from_numpy(np.flatnonzero(labels == k))  # (c_k,)
        members = members[torch.randperm(len(members), generator=g)]
        first.append(members[:q])
        rest.append(members[q:])
    first_t, rest_t = torch.cat(first), torch.cat(rest)
    first_t = first_t[torch.randperm(len(first_t), generator=g)]
    rest_t = rest_t[torch.randperm(len(rest_t), generator=g)]
    return first_t, rest_t


def _check_size(name: str, what: str, n: int | None, available: int) -> int:
    """Resolve a requested subset size: None means all; else 1..available."""
    if n is None:
        return available
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= available:
        raise ValueError(f"{name}: {what}={n!r} is out of range; allowed: 1..{available} (or None for all)")
    return int(n)


def _subset(x: Tensor, y: Tensor, n: int, seed: int) -> tuple[Tensor, Tensor]:
    """A seeded stratified subset of size ``n`` (the whole set, unchanged, if n = N)."""
    if n == len(y):
        return x, y
    keep, _ = stratified_split(y, n, seed)
    return x[keep], y[keep]


def _finish(name: str, source: str, split: tuple[Tensor, Tensor, Tensor, Tensor],
            n_train: int | None, n_test: int | None, seed: int, num_classes: int) -> Dataset:
    """Take the requested stratified subsets (train: ``seed``, test: ``seed + 1``) and wrap."""
    x_train, y_train, x_test, y_test = split
    n_train = _check_size(name, "n_train", n_train, len(y_train))
    n_test = _check_size(name, "n_test", n_test, len(y_test))
    x_train, y_train = _subset(x_train, y_train, n_train, seed)
    x_test, y_test = _subset(x_test, y_test, n_test, seed + 1)
    return Dataset(x_train, y_train, x_test, y_test, name=name, num_classes=num_classes, source=source)
