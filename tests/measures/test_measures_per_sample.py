"""Per-sample gradients (vmap) against the one-at-a-time loop, and their moments."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from genlab.measures import (
    FunctionalLoss,
    cross_entropy_loss,
    flatten,
    gradient_moments,
    per_sample_grads,
    per_sample_grads_loop,
)
from genlab.models import MnistCNN


@pytest.mark.parametrize("chunk_size", [None, 5])
def test_vmap_equals_loop_mlp(make_mlp, make_data, chunk_size):
    model, data = make_mlp(), make_data(n=12)
    fast = per_sample_grads(model, cross_entropy_loss, data, chunk_size=chunk_size)
    slow = per_sample_grads_loop(model, cross_entropy_loss, data)
    assert set(fast) == set(slow)
    for n in fast:
        assert fast[n].shape == (12, *dict(model.named_parameters())[n].shape)
        torch.testing.assert_close(fast[n], slow[n], rtol=1e-12, atol=1e-14)


def test_vmap_equals_loop_cnn_subset_and_dict_batch():
    model = MnistCNN(0, channels=2, hidden=6, num_classes=3, image_size=8).double()
    g = torch.Generator().manual_seed(0)
    batch = {"x": torch.randn(6, 1, 8, 8, generator=g, dtype=torch.float64),
             "y": torch.randint(0, 3, (6,), generator=g)}
    loss = lambda out, b: F.cross_entropy(out, b["y"])  # noqa: E731
    kw = dict(params="0", inputs=lambda b: b["x"])
    fast = per_sample_grads(model, loss, batch, **kw)
    slow = per_sample_grads_loop(model, loss, batch, **kw)
    assert set(fast) == {"0.weight", "0.bias"}
    for n in fast:
        torch.testing.assert_close(fast[n], slow[n], rtol=1e-12, atol=1e-14)


def test_gradient_moments_match_loop(make_mlp, make_data):
    model, (x, y) = make_mlp(), make_data(n=20)
    batches = [(x[:8], y[:8]), (x[8:], y[8:])]
    mom = gradient_moments(model, cross_entropy_loss, batches, covariance=True)
    loop = per_sample_grads_loop(model, cross_entropy_loss, (x, y))
    G = torch.cat([t.reshape(20, -1) for t in loop.values()], 1)  # (n, P)
    _, full = FunctionalLoss(model, cross_entropy_loss, (x, y)).value_and_grad()
    torch.testing.assert_close(mom.mean, flatten(full))  # mean loss: ḡ = full gradient
    centered = G - G.mean(0)
    assert mom.trace_cov == pytest.approx(float((centered**2).sum(1).mean()), rel=1e-10)
    torch.testing.assert_close(mom.covariance, centered.T @ centered / 20)
    assert mom.n == 20
    assert mom.mean_sq_norm == pytest.approx(mom.trace_cov + float(mom.mean @ mom.mean))
