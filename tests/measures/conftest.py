"""Shared helpers (small float64 networks, data, exact Hessians) of the measure tests."""

from __future__ import annotations

import pytest
import torch

from genlab.measures import flatten, select_params, unflatten
from genlab.measures._func import FunctionalLoss
from genlab.models import MLP


def _make_data(seed: int = 0, n: int = 24, d: int = 5, classes: int = 3):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.randint(0, classes, (n,), generator=g)
    return x, y


def _make_mlp(seed: int = 1, **kwargs) -> MLP:
    return MLP(5, [6, 4], 3, seed=seed, **kwargs).double()


def _exact_hessian(model, loss_fn, data, *, loop: bool = False, **kwargs) -> torch.Tensor:
    """Full Hessian (n, n) of the flattened-parameter loss via torch.func.hessian.

    ``loop=True`` uses ``torch.autograd.functional.hessian`` (one double backward
    per row, no vmap) instead: under torch 2.13, vmap-based Hessians
    (``torch.func.hessian``, ``jacrev(jacrev)``) of a batch-norm layer using batch
    statistics disagree with the row-by-row autograd Hessian, which matches our HVP.
    """
    f = FunctionalLoss(model, loss_fn, data, **kwargs)

    def loss_flat(w):
        p = unflatten(w, f.params)
        return sum(wt * f.loss(p, b) for wt, b in f.weighted())

    w0 = flatten(select_params(model, kwargs.get("params")))
    if loop:
        return torch.autograd.functional.hessian(loss_flat, w0)
    return torch.func.hessian(loss_flat)(w0)


@pytest.fixture
def make_data():
    """Factory: (x (n, d) float64, y (n,) labels) from a seed."""
    return _make_data


@pytest.fixture
def make_mlp():
    """Factory: a float64 MLP 5 → 6 → 4 → 3."""
    return _make_mlp


@pytest.fixture
def exact_hessian():
    """The full Hessian of a model's loss (see :func:`_exact_hessian`)."""
    return _exact_hessian
