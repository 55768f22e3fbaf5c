"""Synthetic regression sets of lecture sections 1-2."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from genlab.data import linear_regression, polynomial_regression, target_function


def test_linear_regression_least_squares_recovers_a_b():
    n, noise = 20000, 0.5
    x, y = linear_regression(n, a=2.0, b=-1.0, noise=noise, seed=3, dtype=torch.float64)
    assert x.shape == (n, 1) and y.shape == (n, 1) and x.dtype == torch.float64
    assert -1 <= x.min() and x.max() <= 1
    design = np.hstack([x.numpy(), np.ones((n, 1))])
    (a, b), *_ = np.linalg.lstsq(design, y.numpy()[:, 0], rcond=None)
    # standard errors: noise / sqrt(n · var(x)) with var(U(-1, 1)) = 1/3, and noise / sqrt(n)
    assert abs(a - 2.0) < 5 * noise / math.sqrt(n / 3) and abs(b + 1.0) < 5 * noise / math.sqrt(n)
    residual = y.numpy()[:, 0] - design @ [a, b]
    assert residual.std() == pytest.approx(noise, rel=0.03)


def test_linear_regression_seeded_and_noise_free():
    a = linear_regression(50, seed=1)
    assert torch.equal(a.x, linear_regression(50, seed=1).x)
    assert not torch.equal(a.y, linear_regression(50, seed=2).y)
    x, y = linear_regression(50, a=0.5, b=3.0, noise=0.0, seed=1, interval=(2.0, 4.0))
    torch.testing.assert_close(y, 0.5 * x + 3.0)
    assert 2 <= x.min() and x.max() <= 4


@pytest.mark.parametrize("fn", ["sin", "cubic", "runge", "abs"])
def test_polynomial_regression_noise_and_shapes(fn):
    data = polynomial_regression(5000, 3000, fn=fn, noise=0.2, seed=0, interval=(-1.0, 1.0), dtype=torch.float64)
    assert data.x_train.shape == (5000, 1) and data.y_test.shape == (3000, 1) and data.name == fn
    f = target_function(fn)
    for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        eps = (y - f(x)).numpy()
        assert abs(eps.mean()) < 5 * 0.2 / math.sqrt(len(eps)) and eps.std() == pytest.approx(0.2, rel=0.05)
    assert not torch.equal(data.x_train[:3000], data.x_test)  # independent draws


def test_sin_target_hand_checked():
    f = target_function("sin")
    torch.testing.assert_close(f(torch.tensor([0.0, 0.25, 0.5, 0.75])), torch.tensor([0.0, 1.0, 0.0, -1.0]),
                               atol=1e-6, rtol=0)


def test_polynomial_regression_default_interval_and_seed():
    a = polynomial_regression(10, 5, seed=7)
    b = polynomial_regression(10, 5, seed=7)
    assert torch.equal(a.y_train, b.y_train) and 0 <= a.x_train.min() and a.x_train.max() <= 1


def test_bad_arguments():
    with pytest.raises(ValueError, match="allowed: sin, cubic, runge, abs"):
        polynomial_regression(10, 10, fn="tan")
    with pytest.raises(ValueError, match="noise"):
        linear_regression(10, noise=-1.0)
    with pytest.raises(ValueError, match="sample size"):
        polynomial_regression(0, 10)
    with pytest.raises(ValueError, match="interval"):
        linear_regression(10, interval=(1.0, 1.0))
