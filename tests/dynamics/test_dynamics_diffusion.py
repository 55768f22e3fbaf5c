"""Weight-diffusion tracker against hand-set weights, and fits on synthetic curves."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genlab.dynamics import (
    DiffusionTracker,
    fit_diffusion,
    fit_log,
    fit_power,
    log_spaced_steps,
)
from genlab.models import MLP


def test_log_spaced_steps():
    steps = log_spaced_steps(10_000, 40)
    assert steps[0] == 1 and steps[-1] == 10_000 and steps == sorted(set(steps))
    ratios = np.diff(np.log(steps[-10:]))
    assert np.allclose(ratios, np.log(10_000) / 39, rtol=0.05)
    assert log_spaced_steps(5, 100) == [1, 2, 3, 4, 5]
    with pytest.raises(ValueError, match="need 1 ≤ first ≤ last"):
        log_spaced_steps(0, 3)


def test_tracker_distances_per_layer():
    model = MLP(3, [4], 2, seed=0)  # layers "1" (Linear 3→4) and "3" (Linear 4→2)
    tracker = DiffusionTracker(model, steps=[2, 5])
    with torch.no_grad():
        model[1].weight += 0.5  # 12 entries: ‖Δ‖ = 0.5·√12
        model[3].bias -= torch.tensor([3.0, 4.0])  # ‖Δ‖ = 5
    moved = {k: v.clone() for k, v in model.state_dict().items()}
    assert tracker(1) is None and tracker.records == []
    rec = tracker(2)
    assert tracker.layers == ["1", "3"]
    assert rec.layers["1"] == pytest.approx(0.5 * 12**0.5)
    assert rec.layers["3"] == pytest.approx(5.0)
    assert rec.distance == pytest.approx((0.25 * 12 + 25) ** 0.5)
    for k, v in model.state_dict().items():  # the tracker reads, never writes
        assert torch.equal(v, moved[k])
    t, d = tracker.series("3")
    assert t.tolist() == [2.0] and d.tolist() == pytest.approx([5.0])
    with pytest.raises(ValueError, match="no layer"):
        tracker.series("7")


def test_fits_recover_parameters():
    t = np.geomspace(10, 1e5, 50)
    noise = np.random.default_rng(0).normal(0, 0.01, t.size)  # the parameters' standard
    log = fit_log(t, 0.3 + 1.7 * np.log(t) + noise)  # errors are then ~1e-3 or less
    assert (log.a, log.b) == pytest.approx((0.3, 1.7), abs=0.01) and log.r2 > 0.999
    power = fit_power(t, 2.0 * t**0.5 + noise)
    assert (power.a, power.b) == pytest.approx((2.0, 0.5), rel=1e-3) and power.r2 > 0.999
    np.testing.assert_allclose(power(t[:3]), 2.0 * t[:3] ** 0.5, rtol=0.02)


def test_fit_diffusion_tells_log_from_power_over_a_window():
    t = np.geomspace(1, 1e6, 80)
    log_like = 1.0 + 0.8 * np.log(t)
    fit = fit_diffusion(t, log_like, t_min=1e3)
    assert fit.best == "log" and fit.log.r2 == pytest.approx(1.0)
    assert fit.n == int((t >= 1e3).sum()) and fit.t_min >= 1e3
    fit = fit_diffusion(t, 0.1 * t**0.5, t_min=1e3, t_max=1e5)
    assert fit.best == "power" and fit.power.b == pytest.approx(0.5, rel=1e-6)
    with pytest.raises(ValueError, match="≥ 3 points"):
        fit_diffusion(t, log_like, t_min=2e6)
