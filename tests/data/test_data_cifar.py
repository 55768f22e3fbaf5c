"""CIFAR-10 reader on small python batches written by the test."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from genlab.data import CIFAR10_FILES, cifar10


def make_cifar_dir(root: Path, per_batch: int = 20, protocol: int = 2) -> dict[str, tuple]:
    """Six batches in the original layout: {b'data': (N, 3072) uint8, b'labels': list}."""
    rng = np.random.default_rng(0)
    root.mkdir(parents=True, exist_ok=True)
    batches = {}
    for name in CIFAR10_FILES:
        data = rng.integers(0, 256, size=(per_batch, 3072), dtype=np.uint8)
        labels = [int(i % 10) for i in range(per_batch)]
        batch = {b"batch_label": name.encode(), b"data": data, b"labels": labels}
        (root / name).write_bytes(pickle.dumps(batch, protocol=protocol))
        batches[name] = (data, labels)
    return batches


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_reads_batches_in_order_with_channel_planes(tmp_path, protocol):
    batches = make_cifar_dir(tmp_path, protocol=protocol)
    ds = cifar10(tmp_path)
    assert ds.x_train.shape == (100, 3, 32, 32) and ds.x_test.shape == (20, 3, 32, 32)
    assert ds.x_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64
    data = np.concatenate([batches[f"data_batch_{i}"][0] for i in range(1, 6)])
    # pixel (c, h, w) of image n is byte 1024·c + 32·h + w of its row
    for n, c, h, w in [(0, 0, 0, 0), (3, 1, 5, 7), (57, 2, 31, 31), (99, 2, 0, 13)]:
        assert ds.x_train[n, c, h, w].item() == pytest.approx(data[n, 1024 * c + 32 * h + w] / 255)
    np.testing.assert_array_equal(ds.x_test.numpy() * 255, batches["test_batch"][0].reshape(20, 3, 32, 32))
    assert ds.y_train.tolist() == sum((batches[f"data_batch_{i}"][1] for i in range(1, 6)), [])


def test_parent_directory_and_subsets(tmp_path):
    make_cifar_dir(tmp_path / "cifar-10-batches-py")
    ds = cifar10(tmp_path, n_train=50, n_test=10, seed=3)
    assert torch.bincount(ds.y_train).tolist() == [5] * 10 and torch.bincount(ds.y_test).tolist() == [1] * 10
    assert ds.source == str(tmp_path / "cifar-10-batches-py")


def test_missing_directory_or_batches(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        cifar10(tmp_path / "absent")
    make_cifar_dir(tmp_path)
    (tmp_path / "test_batch").unlink()
    (tmp_path / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match="lacks data_batch_3, test_batch"):
        cifar10(tmp_path)
    with pytest.raises(ValueError, match="no embedded copy"):
        cifar10()


def test_corrupt_batches(tmp_path):
    make_cifar_dir(tmp_path)
    (tmp_path / "data_batch_2").write_bytes(b"not a pickle at all")
    with pytest.raises(ValueError, match="data_batch_2: not a readable CIFAR-10"):
        cifar10(tmp_path)
    good = (tmp_path / "data_batch_1").read_bytes()
    (tmp_path / "data_batch_2").write_bytes(good[: len(good) // 2])  # truncated
    with pytest.raises(ValueError, match="data_batch_2"):
        cifar10(tmp_path)
    (tmp_path / "data_batch_2").write_bytes(pickle.dumps({b"data": np.zeros((2, 100), np.uint8),
                                                         b"labels": [0, 1]}))
    with pytest.raises(ValueError, match=r"uint8 \(N, 3072\)"):
        cifar10(tmp_path)
    (tmp_path / "data_batch_2").write_bytes(pickle.dumps({b"labels": [0]}))
    with pytest.raises(ValueError, match="need keys"):
        cifar10(tmp_path)


class _Exploit:
    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_refuses_pickles_that_run_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    make_cifar_dir(tmp_path / "c")
    (tmp_path / "c" / "test_batch").write_bytes(pickle.dumps({b"data": _Exploit(), b"labels": []}))
    with pytest.raises(ValueError, match="refusing to load global"):
        cifar10(tmp_path / "c")
    assert not (tmp_path / "pwned").exists()
