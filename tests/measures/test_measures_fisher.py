"""The empirical Fisher operator against the matrix of per-example gradients (float64)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from genlab.measures import (
    EmpiricalFisherOperator,
    cross_entropy_loss,
    fisher_vp,
    flatten,
    per_sample_grads_loop,
    top_eigen,
    unflatten,
)
from genlab.models import MnistCNN


def _exact(model, loss, batch, **kw):
    """F = GᵀG/N and ḡ from the one-at-a-time per-example gradients G (N, P)."""
    loop = per_sample_grads_loop(model, loss, batch, **kw)
    G = torch.cat([t.flatten(1) for t in loop.values()], 1)  # (N, P)
    return G.T @ G / G.shape[0], G.mean(0)


@pytest.mark.parametrize("method", ["fwd", "rev"])
@pytest.mark.parametrize("centered", [False, True])
def test_fisher_matches_matrix(make_mlp, make_data, method, centered):
    model, (x, y) = make_mlp(), make_data(n=14)
    fisher, mean = _exact(model, cross_entropy_loss, (x, y))
    exact = fisher - torch.outer(mean, mean) if centered else fisher
    op = EmpiricalFisherOperator(model, cross_entropy_loss, [(x[:5], y[:5]), (x[5:], y[5:])],
                                 centered=centered, method=method)
    V = torch.randn(exact.shape[0], 3, generator=torch.Generator().manual_seed(0),
                    dtype=torch.float64)
    got = torch.stack([op.matvec(v) for v in V.T], 1)  # (P, 3)
    torch.testing.assert_close(got, exact @ V, rtol=1e-10, atol=1e-12)
    assert op.calls == 3 and op.dim == exact.shape[0]


def test_fisher_cnn_subset_sum_loss_and_dict_form():
    model = MnistCNN(0, channels=2, hidden=5, num_classes=3, image_size=8).double()
    g = torch.Generator().manual_seed(1)
    batch = (torch.randn(6, 1, 8, 8, generator=g, dtype=torch.float64),
             torch.randint(0, 3, (6,), generator=g))
    summed = lambda o, b: F.cross_entropy(o, b[1], reduction="sum")  # noqa: E731
    fisher, mean = _exact(model, cross_entropy_loss, batch, params="0")
    v = torch.randn(fisher.shape[0], generator=g, dtype=torch.float64)
    op = EmpiricalFisherOperator(model, summed, batch, params="0", centered=True)
    like = unflatten(v, op.loss.params)
    got = fisher_vp(model, summed, batch, like, params="0", centered=True)
    exact = (fisher - torch.outer(mean, mean)) @ v
    torch.testing.assert_close(flatten(got), exact, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(op @ v, exact, rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(flatten(op.mean_gradient()), mean, rtol=1e-10, atol=1e-13)


def test_top_eigen_of_centered_fisher(make_mlp, make_data):
    model, (x, y) = make_mlp(), make_data(n=30)
    fisher, mean = _exact(model, cross_entropy_loss, (x, y))
    exact = torch.linalg.eigvalsh(fisher - torch.outer(mean, mean)).flip(0)[:3]
    op = EmpiricalFisherOperator(model, cross_entropy_loss, (x, y), centered=True)
    eig = top_eigen(op, k=3, generator=torch.Generator().manual_seed(0), tol=1e-10)
    torch.testing.assert_close(eig.values, exact, rtol=1e-8, atol=1e-12)


def test_bad_method(make_mlp, make_data):
    with pytest.raises(ValueError, match="method must be one of"):
        EmpiricalFisherOperator(make_mlp(), cross_entropy_loss, make_data(), method="exact")
