"""Two small, fast data sets: MNIST-1D (procedural) and scikit-learn's 8×8 digits."""

from __future__ import annotations

import functools
import random

import numpy as np
import torch

from .dataset import Dataset, _finish, stratified_split

__all__ = ["DIGITS_SPLIT_SEED", "DIGITS_TEST_SIZE", "digits", "mnist1d"]

#: Seed of the fixed stratified train/test split of the 1,797 digits.
DIGITS_SPLIT_SEED = 0
#: Test examples of the digits split (20 %); the other 1,437 train.
DIGITS_TEST_SIZE = 360


@functools.lru_cache(maxsize=4)
def _mnist1d_arrays(num_samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``num_samples`` MNIST-1D signals (read-only float32 (N, 40), int64 (N,)).

    Calls the generator ``mnist1d.data.make_dataset`` directly (``get_dataset``
    would read or write a pickle in the cwd). That function seeds numpy's and
    Python's global RNGs; their states are restored afterwards.
    """
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.seed, args.train_split = num_samples, seed, 1.0
    np_state, py_state = np.random.get_state(), random.getstate()
    try:
        data = make_dataset(args)
    finally:
        np.random.set_state(np_state)
        random.setstate(py_state)
    x = np.concatenate([data["x"], data["x_test"]]).astype(np.float32)  # (N, 40)
    y = np.concatenate([data["y"], data["y_test"]]).astype(np.int64)  # (N,)
    x.setflags(write=False)
    y.setflags(write=False)
    return x, y


def mnist1d(*, n_train: int | None = None, n_test: int | None = None, seed: int = 0) -> Dataset:
    """MNIST-1D (Greydanus 2020, arXiv:2011.14439): 1-D signals of length 40, 10 classes.

    Generated procedurally by the ``mnist1d`` package with its default transforms
    (padding, shear, translation, correlated and iid noise); nothing is read from
    or written to disk. The signals are standardized over the generated set (mean
    0, std 1), not scaled to [0, 1]. Train and test are the first ``n_train`` and
    the next ``n_test`` signals of one generated set (classes in shuffled order).

    Args:
        n_train: training examples (None: 4,000, the package's default split).
        n_test: test examples (None: 1,000).
        seed: the generator's seed; same seed -> same signals.

    Returns:
        A :class:`Dataset` named "mnist1d" with inputs (N, 1, 40) float32.
    """
    n_train = 4000 if n_train is None else n_train
    n_test = 1000 if n_test is None else n_test
    for what, n in (("n_train", n_train), ("n_test", n_test)):
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ValueError(f"mnist1d: {what}={n!r} is out of range; allowed: a positive int")
    total = -(-(n_train + n_test) // 10) * 10  # make_dataset draws the same number per class
    x, y = _mnist1d_arrays(int(total), int(seed))
    x_t = torch.tensor(x).unsqueeze(1)  # (total, 1, 40), a fresh copy
    y_t = torch.tensor(y)
    split = (x_t[:n_train], y_t[:n_train], x_t[n_train:n_train + n_test], y_t[n_train:n_train + n_test])
    return _finish("mnist1d", "procedural", split, None, None, seed, 10)


@functools.lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)  # (1797, 64) in 0..16, (1797,)
    images = (x / 16.0).astype(np.float32).reshape(-1, 8, 8)
    labels = y.astype(np.int64)
    images.setflags(write=False)
    labels.setflags(write=False)
    return images, labels


def digits(*, n_train: int | None = None, n_test: int | None = None, seed: int = 0) -> Dataset:
    """scikit-learn's 8×8 handwritten digits (UCI optdigits test set), 1,797 images.

    Pixel counts 0..16 are scaled to [0, 1]. The split is fixed: 1,437 train /
    360 test, stratified, by :func:`stratified_split` with seed
    ``DIGITS_SPLIT_SEED = 0``; ``seed`` only picks stratified subsets.

    Args:
        n_train, n_test: stratified subset sizes (None: all).
        seed: chooses the subsets (train: ``seed``, test: ``seed + 1``).

    Returns:
        A :class:`Dataset` named "digits" with inputs (N, 1, 8, 8) float32.
    """
    images, labels = _digits_arrays()
    x = torch.tensor(images).unsqueeze(1)  # (1797, 1, 8, 8)
    y = torch.tensor(labels)
    test, train = stratified_split(y, DIGITS_TEST_SIZE, DIGITS_SPLIT_SEED)
    return _finish("digits", "embedded", (x[train], y[train], x[test], y[test]),
                   n_train, n_test, seed, 10)
