"""MNIST-1D (procedural, writes nothing) and scikit-learn's digits."""

from __future__ import annotations

import os
import random

import numpy as np
import pytest
import torch

from genlab.data import DIGITS_TEST_SIZE, digits, mnist1d


def test_mnist1d_writes_nothing_to_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ds = mnist1d(n_train=60, n_test=20, seed=11)
    assert ds.n_train == 60
    assert os.listdir(tmp_path) == []


def test_mnist1d_shapes_types_and_matches_the_package():
    from mnist1d.data import get_dataset_args, make_dataset

    ds = mnist1d(n_train=70, n_test=30, seed=5)
    assert ds.x_train.shape == (70, 1, 40) and ds.x_test.shape == (30, 1, 40)
    assert ds.x_train.dtype == torch.float32 and ds.y_train.dtype == torch.int64
    assert ds.source == "procedural" and set(ds.y_train.tolist()) <= set(range(10))
    args = get_dataset_args()
    args.num_samples, args.seed = 100, 5
    ref = make_dataset(args)  # the package's own split is 80/20, our 70/30 cuts the same sequence
    x = np.concatenate([ref["x"], ref["x_test"]]).astype(np.float32)
    y = np.concatenate([ref["y"], ref["y_test"]])
    np.testing.assert_array_equal(ds.x_train[:, 0].numpy(), x[:70])
    np.testing.assert_array_equal(ds.y_test.numpy(), y[70:])


def test_mnist1d_seeded():
    a, b, c = (mnist1d(n_train=30, n_test=10, seed=s) for s in (1, 1, 2))
    assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.x_train, c.x_train)
    a.x_train.zero_()  # callers cannot corrupt the cache
    assert torch.equal(mnist1d(n_train=30, n_test=10, seed=1).x_train, b.x_train)


def test_mnist1d_leaves_global_rngs_alone():
    np.random.seed(123)
    random.seed(123)
    expected = (np.random.rand(), random.random())
    np.random.seed(123)
    random.seed(123)
    mnist1d(n_train=20, n_test=10, seed=99)
    assert (np.random.rand(), random.random()) == expected


def test_mnist1d_bad_sizes():
    with pytest.raises(ValueError, match="n_test=0"):
        mnist1d(n_train=10, n_test=0)


def test_digits_split():
    from sklearn.datasets import load_digits

    ds = digits()
    assert (ds.n_train, ds.n_test) == (1797 - DIGITS_TEST_SIZE, DIGITS_TEST_SIZE)
    assert ds.x_train.shape[1:] == (1, 8, 8) and 0 <= ds.x_train.min() and ds.x_train.max() == 1
    x, y = load_digits(return_X_y=True)
    counts = np.bincount(y)
    # stratified: each class's test count is its share of 360, rounded
    assert np.all(np.abs(torch.bincount(ds.y_test).numpy() - counts * 360 / 1797) < 1)
    got = torch.cat([ds.x_train, ds.x_test]).reshape(1797, 64).numpy() * 16
    labels = torch.cat([ds.y_train, ds.y_test]).numpy()
    order_got, order_ref = np.lexsort(got.T), np.lexsort(x.T)
    np.testing.assert_allclose(got[order_got], x[order_ref], atol=1e-5)  # same images, disjoint split
    np.testing.assert_array_equal(labels[order_got], y[order_ref])
    assert torch.equal(digits(seed=4).x_test, ds.x_test)  # fixed split
    sub = digits(n_train=100, seed=4)
    assert sub.n_train == 100 and sub.n_test == 360
