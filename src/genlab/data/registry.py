"""One entry point for every classification data set: :func:`load_dataset`."""

from __future__ import annotations

import os
from collections.abc import Callable

from .cifar import cifar10
from .dataset import Dataset
from .mnist import fashion_mnist, mnist
from .small import digits, mnist1d

__all__ = ["DATASETS", "load_dataset"]

_FILE_BACKED: dict[str, Callable[..., Dataset]] = {
    "mnist": mnist, "fashion_mnist": fashion_mnist, "cifar10": cifar10,
}
_BUILT_IN: dict[str, Callable[..., Dataset]] = {"digits": digits, "mnist1d": mnist1d}

#: Names accepted by :func:`load_dataset`.
DATASETS: tuple[str, ...] = tuple(sorted({**_FILE_BACKED, **_BUILT_IN}))


def load_dataset(name: str, *, source: str | os.PathLike | None = None, n_train: int | None = None,
                 n_test: int | None = None, seed: int = 0) -> Dataset:
    """Load a classification data set by name.

    ======================  ===========================  ==============================
    name                    source                       inputs
    ======================  ===========================  ==============================
    ``mnist``               None/"embedded" (5,000) or   (N, 1, 28, 28) in [0, 1]
                            a directory of IDX files
    ``fashion_mnist``       a directory of IDX files     (N, 1, 28, 28) in [0, 1]
    ``cifar10``             a directory of python        (N, 3, 32, 32) in [0, 1]
                            batches
    ``digits``              None/"embedded" (sklearn)    (N, 1, 8, 8) in [0, 1]
    ``mnist1d``             None/"procedural"            (N, 1, 40), standardized
    ======================  ===========================  ==============================

    Nothing is downloaded; see :func:`genlab.data.download_mnist`.

    Args:
        name: one of ``DATASETS``.
        source: where to read the data (see the table).
        n_train: training examples to keep (a stratified subset; None: the loader's default).
        n_test: test examples to keep.
        seed: chooses the subsets; for mnist1d, the generator's seed.

    Returns:
        A :class:`Dataset` with int64 labels.

    Raises:
        ValueError: unknown name, a source the data set does not have, bad sizes.
        FileNotFoundError: a source directory or file is missing.
    """
    if name in _FILE_BACKED:
        return _FILE_BACKED[name](source, n_train=n_train, n_test=n_test, seed=seed)
    if name in _BUILT_IN:
        if source not in (None, "embedded", "procedural"):
            raise ValueError(f"{name} is built in and reads no files; got source={str(source)!r}, "
                             f"allowed: None")
        return _BUILT_IN[name](n_train=n_train, n_test=n_test, seed=seed)
    raise ValueError(f"unknown dataset {name!r}; allowed: {', '.join(DATASETS)}")
