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


def _reference(model, loss, batch, **kw):
    """(mean, diagonal second moment) from the one-at-a-time loop, float64."""
    loop = per_sample_grads_loop(model, loss, batch, **kw)
    G = torch.cat([t.flatten(1) for t in loop.values()], 1)  # (B, P)
    return G.mean(0), (G**2).mean(0)


def _check_rules(model, loss, batch, **kw):
    mom = gradient_moments(model, loss, batch, **kw)
    mean, second = _reference(model, loss, batch, **kw)
    torch.testing.assert_close(mom.mean, mean, rtol=1e-10, atol=1e-13)
    torch.testing.assert_close(mom.second_moment, second, rtol=1e-10, atol=1e-13)
    torch.testing.assert_close(mom.variance, second - mean**2, rtol=1e-9, atol=1e-13)
    return mom


class _Convs(torch.nn.Module):
    """Every rule case: groups, stride, dilation, reflect and circular padding, Conv1d,
    Conv3d, no bias, a linear layer on a sequence, and batch norm (generic path)."""

    def __init__(self):
        super().__init__()
        nn = torch.nn
        self.c1 = nn.Conv2d(2, 4, 3, padding=1, padding_mode="reflect")
        self.c2 = nn.Conv2d(4, 6, 3, stride=2, dilation=2, groups=2, padding="valid", bias=False)
        self.bn = nn.BatchNorm2d(6)
        self.c3 = nn.Conv1d(6, 3, 2, padding=1)
        self.c4 = nn.Conv3d(1, 2, (1, 2, 2), padding=(0, 1, 0), padding_mode="circular")
        self.seq = nn.Linear(3, 5)
        self.out = nn.Linear(5, 3)

    def forward(self, x):
        h = self.bn(torch.tanh(self.c2(torch.tanh(self.c1(x)))))  # (B, 6, 2, 2)
        h = torch.tanh(self.c3(h.flatten(2)))  # (B, 3, 5)
        h = torch.tanh(self.c4(h[:, None, None]))[:, :, 0, :3, :3].sum(1)  # (B, 3, 3)
        return self.out(torch.tanh(self.seq(h.transpose(1, 2))).mean(1))  # (B, 3)


def _image_batch(n=7, size=8):
    g = torch.Generator().manual_seed(4)
    return (torch.randn(n, 2, size, size, generator=g, dtype=torch.float64),
            torch.randint(0, 3, (n,), generator=g))


def _spy(monkeypatch):
    """Record which parameters go through the generic (vmap) path."""
    import genlab.measures.per_sample as ps

    calls, original = [], ps.per_sample_grads
    monkeypatch.setattr(ps, "per_sample_grads", lambda *a, **k: calls.append(
        tuple(k["params"])) or original(*a, **k))
    return calls


def test_rules_match_loop_on_every_layer_kind(monkeypatch):
    torch.manual_seed(0)
    model = _Convs().double()
    with torch.no_grad():
        model.bn.running_mean.uniform_(-1, 1)
        model.bn.running_var.uniform_(0.5, 2)
    generic = _spy(monkeypatch)
    mom = _check_rules(model, cross_entropy_loss, _image_batch())
    assert mom.n == 7 and mom.mean.dtype == torch.float64
    assert set(generic) == {("bn.weight", "bn.bias")}  # every other layer took its rule


def test_rules_on_cnn_parameter_subset_and_several_batches():
    model = MnistCNN(0, channels=3, hidden=5, num_classes=4, image_size=8).double()
    x, _ = _image_batch(9)
    y = torch.randint(0, 4, (9,), generator=torch.Generator().manual_seed(1))
    x = x[:, :1]
    for params in (None, ["0.bias", "4.weight"]):
        mom = gradient_moments(model, cross_entropy_loss, [(x[:4], y[:4]), (x[4:], y[4:])],
                               params=params)
        mean, second = _reference(model, cross_entropy_loss, (x, y), params=params)
        torch.testing.assert_close(mom.mean, mean, rtol=1e-10, atol=1e-13)
        torch.testing.assert_close(mom.second_moment, second, rtol=1e-10, atol=1e-13)


def test_reduction_scaling(make_mlp):
    """Per-example gradients are those of ℓ_b alone: a sum-reduced loss gives the same
    moments as the mean-reduced one, and ḡ is the gradient of the mean loss."""
    model, batch = make_mlp(), _xy()
    mean_red = gradient_moments(model, cross_entropy_loss, batch)
    sum_red = gradient_moments(model, lambda o, b: F.cross_entropy(o, b[1], reduction="sum"),
                               batch)
    torch.testing.assert_close(mean_red.second_moment, sum_red.second_moment)
    torch.testing.assert_close(mean_red.mean, sum_red.mean)
    _, full = FunctionalLoss(model, cross_entropy_loss, batch).value_and_grad()
    torch.testing.assert_close(mean_red.mean, flatten(full).double())
    # a single example: the variance is zero and the second moment is ḡ²
    one = gradient_moments(model, cross_entropy_loss, (batch[0][:1], batch[1][:1]))
    torch.testing.assert_close(one.variance, torch.zeros_like(one.variance), atol=1e-15, rtol=0)


def _xy(n=10):
    g = torch.Generator().manual_seed(2)
    return torch.randn(n, 5, generator=g, dtype=torch.float64), torch.randint(0, 3, (n,), generator=g)


class _Tied(torch.nn.Module):
    """A layer called twice and a weight shared by two layers: both need the generic path."""

    def __init__(self):
        super().__init__()
        self.a, self.b, self.c = (torch.nn.Linear(5, 5) for _ in range(3))
        self.c.weight = self.b.weight

    def forward(self, x):
        return self.c(torch.tanh(self.b(torch.tanh(self.a(torch.tanh(self.a(x)))))))[:, :3]


def test_shared_and_repeated_layers_fall_back(monkeypatch):
    torch.manual_seed(0)
    generic = _spy(monkeypatch)
    _check_rules(_Tied().double(), cross_entropy_loss, _xy())
    assert set(generic) == {("a.weight", "a.bias", "b.weight", "b.bias", "c.bias")}


def test_float32_cnn_close_to_float64():
    model = MnistCNN(0, channels=4, hidden=16, image_size=12)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(32, 1, 12, 12, generator=g), torch.randint(0, 10, (32,), generator=g)
    mom = gradient_moments(model, cross_entropy_loss, (x, y))
    mean, second = _reference(model.double(), cross_entropy_loss, (x.double(), y))
    torch.testing.assert_close(mom.second_moment, second, rtol=1e-4, atol=1e-9)
    assert mom.trace_cov == pytest.approx(float(second.sum() - mean @ mean), rel=1e-4)


def test_gradient_moments_with_in_place_activations():
    """A layer followed by ReLU(inplace=True) (as in VGG) gives the same moments."""
    from torch import nn

    from genlab.measures import cross_entropy_loss, gradient_moments

    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(12, 5, generator=g, dtype=torch.float64), torch.randint(0, 3, (12,), generator=g)
    torch.manual_seed(0)
    inplace = nn.Sequential(nn.Linear(5, 7), nn.ReLU(inplace=True), nn.Linear(7, 3)).double()
    plain = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 3)).double()
    plain.load_state_dict(inplace.state_dict())
    a = gradient_moments(inplace, cross_entropy_loss, (x, y))
    b = gradient_moments(plain, cross_entropy_loss, (x, y))
    torch.testing.assert_close(a.second_moment, b.second_moment)
    assert a.trace_cov == pytest.approx(b.trace_cov)
