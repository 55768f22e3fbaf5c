"""Critical samples (LASS) and the dispersion index, against exact answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from genlab.measures.critical import critical_samples, dispersion_index


def _linear(w0, w1, b=0.0):
    """Two-class linear model with logits (w0·x, w1·x + b)."""
    model = nn.Linear(len(w0), 2).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor([w0, w1], dtype=torch.float64))
        model.bias.copy_(torch.tensor([0.0, b], dtype=torch.float64))
    return model


def test_linear_model_matches_exact_linf_margin():
    # logit gap f0 − f1 = (w0 − w1)·x − b; the smallest L∞ change that flips it is
    # |gap| / ‖w0 − w1‖₁, so x is critical at radius r iff r > that distance.
    model = _linear([1.0, -2.0, 0.5], [-0.5, 1.0, 0.0], b=0.3)
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 3, generator=g, dtype=torch.float64)
    dw = torch.tensor([1.5, -3.0, 0.5], dtype=torch.float64)
    distance = ((x @ dw - 0.3).abs() / dw.abs().sum())  # (N,)
    r = 0.4
    res = critical_samples(model, x, r, generator=g, steps=1, step_size=r, noise=0.0)
    expected = distance < r
    assert 20 < int(expected.sum()) < 180  # both kinds present
    assert torch.equal(res.critical, expected)
    assert res.ratio == pytest.approx(float(expected.double().mean()))
    assert res.stderr == pytest.approx(np.sqrt(res.ratio * (1 - res.ratio) / 200))


def test_search_stays_in_ball_and_range_and_is_reproducible():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 4))
    x = torch.rand(64, 5)
    r = 0.1
    a = critical_samples(model, x, r, generator=torch.Generator().manual_seed(1), steps=5,
                         clamp=(0.0, 1.0), batch_size=20)
    b = critical_samples(model, x, r, generator=torch.Generator().manual_seed(1), steps=5,
                         clamp=(0.0, 1.0), batch_size=20)
    assert torch.equal(a.critical, b.critical) and torch.equal(a.x_adv, b.x_adv)
    assert float((a.x_adv - x).abs().max()) <= r + 1e-6
    assert float(a.x_adv.min()) >= 0 and float(a.x_adv.max()) <= 1
    changed = model(a.x_adv).argmax(1) != model(x).argmax(1)
    assert torch.equal(changed, a.critical)  # every reported point really flips


def test_radius_zero_and_monotone_in_radius():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 4))
    x = torch.randn(100, 5)
    ratios = [critical_samples(model, x, r, generator=torch.Generator().manual_seed(0),
                               steps=10).ratio for r in (0.0, 0.05, 0.5, 5.0)]
    assert ratios[0] == 0.0
    assert ratios[1] <= ratios[2] <= ratios[3] and ratios[3] > 0.5


def test_model_left_unchanged():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.Dropout(0.5), nn.Linear(8, 3))
    model.train()
    model[1].eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    critical_samples(model, torch.randn(10, 5), 0.3, generator=torch.Generator().manual_seed(0))
    assert [m.training for m in model.modules()] == [True, True, False, True]
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())
    with pytest.raises(ValueError, match="radius"):
        critical_samples(model, torch.randn(2, 5), -1.0, generator=torch.Generator())


def test_dispersion_index_hand_case_and_numpy():
    # two examples over R = 4 runs: one always right, one never: p̂ = (1, 0), p̄ = 1/2,
    # Var (ddof 1) = 1/2, null = (1/4)/4 → D = 8 = R · 2.
    c = torch.tensor([[1, 0]] * 4)
    assert dispersion_index(c) == pytest.approx(8.0)
    rng = np.random.default_rng(0)
    m = rng.random((7, 30)) < rng.random(30)
    p = m.mean(0)
    ref = p.var(ddof=1) / (p.mean() * (1 - p.mean()) / 7)
    assert dispersion_index(torch.from_numpy(m)) == pytest.approx(ref)
    assert np.isnan(dispersion_index(torch.ones(3, 5)))
    with pytest.raises(ValueError):
        dispersion_index(torch.ones(5))


def test_dispersion_index_binomial_null_near_one():
    g = torch.Generator().manual_seed(0)
    same = torch.rand(100, 2000, generator=g) < 0.3  # every example p = 0.3
    assert dispersion_index(same) == pytest.approx(1.0, abs=0.15)
    p = torch.rand(2000, generator=g)  # heterogeneous examples
    varied = torch.rand(100, 2000, generator=g) < p
    assert dispersion_index(varied) > 20
