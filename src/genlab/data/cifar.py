"""CIFAR-10 (Krizhevsky 2009) from a directory of the standard python batches.

The "python version" of CIFAR-10 is a folder ``cifar-10-batches-py`` holding
``data_batch_1`` … ``data_batch_5`` (10,000 images each) and ``test_batch``:
pickled dicts with ``b"data"``, a (10000, 3072) uint8 array whose rows are the
red, green then blue 32×32 planes, and ``b"labels"``, a list of ints 0..9.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import torch

from .dataset import Dataset, _finish

__all__ = ["CIFAR10_FILES", "cifar10"]

#: The six batch files of the python version of CIFAR-10.
CIFAR10_FILES = tuple(f"data_batch_{i}" for i in range(1, 6)) + ("test_batch",)

# The only globals a CIFAR batch needs: numpy array reconstruction. Anything else
# in a pickle (e.g. os.system) is refused, so a hostile file cannot run code.
_ALLOWED = {
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
    ("_codecs", "encode"),  # bytes in protocol-2 pickles written by python 3
}


class _BatchUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load global {module}.{name}")
        return super().find_class(module, name)


def _get(batch: dict, key: str):
    """``batch[b"key"]`` (python-2 pickles) or ``batch["key"]``."""
    return batch[key.encode()] if key.encode() in batch else batch.get(key)


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """One batch file -> uint8 (N, 3, 32, 32) images and int64 (N,) labels."""
    try:
        with open(path, "rb") as stream:
            batch = _BatchUnpickler(stream, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as err:
        raise ValueError(f"{path}: not a readable CIFAR-10 python batch ({err})") from None
    data = _get(batch, "data") if isinstance(batch, dict) else None
    labels = _get(batch, "labels") if isinstance(batch, dict) else None
    if data is None or labels is None:
        raise ValueError(f"{path}: not a CIFAR-10 python batch (need keys b'data' and b'labels')")
    data, labels = np.asarray(data), np.asarray(labels, dtype=np.int64)
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3072:
        raise ValueError(f"{path}: b'data' must be uint8 (N, 3072), got {data.dtype} {data.shape}")
    if labels.shape != (len(data),) or (labels.size and (labels.min() < 0 or labels.max() > 9)):
        raise ValueError(f"{path}: b'labels' must be {len(data)} ints in 0..9")
    return data.reshape(-1, 3, 32, 32), labels  # rows are R, G, B planes


def _root(source: str | os.PathLike) -> Path:
    root = Path(source).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"cifar10: data directory {root} does not exist")
    if not (root / "test_batch").is_file() and (root / "cifar-10-batches-py").is_dir():
        root = root / "cifar-10-batches-py"
    missing = [name for name in CIFAR10_FILES if not (root / name).is_file()]
    if missing:
        raise FileNotFoundError(f"cifar10: {root} lacks {', '.join(missing)}; expected the python "
                                f"batches {', '.join(CIFAR10_FILES)} (cifar-10-python.tar.gz, extracted)")
    return root


def _tensors(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[torch.Tensor, torch.Tensor]:
    images = np.concatenate([p[0] for p in parts])  # (N, 3, 32, 32) uint8
    labels = np.concatenate([p[1] for p in parts])  # (N,)
    return torch.tensor(images, dtype=torch.float32) / 255.0, torch.tensor(labels)


def cifar10(source: str | os.PathLike | None = None, *, n_train: int | None = None,
            n_test: int | None = None, seed: int = 0) -> Dataset:
    """CIFAR-10 as (N, 3, 32, 32) float32 in [0, 1] with int64 labels (50,000 / 10,000).

    Args:
        source: directory holding the six python batches, or its parent holding
            ``cifar-10-batches-py/``. There is no embedded copy.
        n_train, n_test: stratified subset sizes (None: all); chosen by ``seed``
            (train) and ``seed + 1`` (test).
        seed: see above.

    Returns:
        A :class:`Dataset` named "cifar10" with 10 classes.

    Raises:
        FileNotFoundError: the directory or one of the batch files is missing.
        ValueError: a batch file is not a CIFAR-10 python batch.
    """
    if source is None or source == "embedded":
        raise ValueError("cifar10 has no embedded copy; pass source=DIR holding data_batch_1..5 "
                         "and test_batch (the extracted cifar-10-python.tar.gz)")
    root = _root(source)
    x_train, y_train = _tensors([_read_batch(root / name) for name in CIFAR10_FILES[:5]])
    x_test, y_test = _tensors([_read_batch(root / "test_batch")])
    return _finish("cifar10", str(root), (x_train, y_train, x_test, y_test), n_train, n_test, seed, 10)
