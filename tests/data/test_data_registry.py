"""load_dataset, the Dataset record, stratified_split and the public surface."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import genlab.data as data
from genlab.data import DATASETS, Dataset, as_generator, load_dataset, stratified_split


def test_public_surface_exists():
    assert all(hasattr(data, name) for name in data.__all__)
    assert DATASETS == ("cifar10", "digits", "fashion_mnist", "mnist", "mnist1d")


def test_unknown_name_lists_allowed():
    with pytest.raises(ValueError, match="unknown dataset 'imagenet'; allowed: cifar10, digits, "
                                         "fashion_mnist, mnist, mnist1d"):
        load_dataset("imagenet")


@pytest.mark.parametrize("name", ["digits", "mnist1d"])
def test_built_in_sets_take_no_directory(tmp_path, name):
    with pytest.raises(ValueError, match="reads no files"):
        load_dataset(name, source=tmp_path)


def test_dispatch_and_missing_directories(tmp_path):
    ds = load_dataset("mnist", n_train=100, n_test=30, seed=2)
    assert ds.name == "mnist" and (ds.n_train, ds.n_test) == (100, 30)
    assert torch.equal(ds.x_train, data.mnist(n_train=100, n_test=30, seed=2).x_train)
    small = load_dataset("mnist1d", source="procedural", n_train=20, n_test=10, seed=4)
    assert torch.equal(small.x_test, data.mnist1d(n_train=20, n_test=10, seed=4).x_test)
    assert load_dataset("digits").n_test == 360
    for name in ("mnist", "fashion_mnist", "cifar10"):
        with pytest.raises(FileNotFoundError, match="does not exist"):
            load_dataset(name, source=tmp_path / "nothing-here")
    with pytest.raises(ValueError, match="no embedded copy"):
        load_dataset("cifar10")


def test_dataset_record():
    ds = load_dataset("digits", n_train=50, n_test=20)
    assert ds.input_shape == (1, 8, 8) and "train=(50, 1, 8, 8)" in repr(ds)
    assert ds.to("cpu").x_train.device.type == "cpu"
    with pytest.raises(AttributeError):
        ds.name = "other"  # frozen
    with pytest.raises(ValueError, match="differ in length"):
        Dataset(torch.zeros(3, 1), torch.zeros(2), torch.zeros(1, 1), torch.zeros(1), "x", 2)


def test_stratified_split_hand_checked_quotas():
    y = torch.tensor([0] * 5 + [1] * 3 + [2] * 2)
    first, rest = stratified_split(y, 5, 0)
    # exact shares 2.5, 1.5, 1.0 -> floors 2, 1, 1; the one left goes to the first
    # largest remainder (class 0, tie broken by class order)
    assert torch.bincount(y[first], minlength=3).tolist() == [3, 1, 1]
    assert sorted(torch.cat([first, rest]).tolist()) == list(range(10))


def test_stratified_split_proportions_and_seed():
    y = torch.tensor(np.repeat(np.arange(4), [100, 50, 30, 20]))
    first, rest = stratified_split(y, 40, torch.Generator().manual_seed(0))
    assert torch.bincount(y[first]).tolist() == [20, 10, 6, 4]
    assert not set(first.tolist()) & set(rest.tolist()) and len(first) + len(rest) == 200
    again, _ = stratified_split(y, 40, 0)
    assert torch.equal(first, again)
    with pytest.raises(ValueError, match="allowed: 0..200"):
        stratified_split(y, 201, 0)


def test_as_generator():
    assert torch.equal(torch.rand(3, generator=as_generator(5)), torch.rand(3, generator=as_generator(5)))
    g = torch.Generator()
    assert as_generator(g) is g
    with pytest.raises(ValueError, match="torch.Generator or an int seed"):
        as_generator(1.5)
