"""Gradient noise of a real model against the closed form of linear regression.

For ℓ_i(w) = ½(x_iᵀw − y_i)² the per-example gradient is g_i = x_i(x_iᵀw − y_i), so
C = (1/N)Σ (g_i − ḡ)(g_i − ḡ)ᵀ is known in closed form at any w.
"""

from __future__ import annotations

import pytest
import torch

from genlab.dynamics import (
    gradient_noise,
    least_squares,
    noise_covariance,
    temperature,
)


def _regression(n=60, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.randn(n, generator=g, dtype=torch.float64)
    model = torch.nn.Linear(d, 1, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(torch.randn(1, d, generator=g, dtype=torch.float64))
    return model, x, y


def _half_mse(out, batch):
    return 0.5 * ((out[:, 0] - batch[1]) ** 2).mean()


def _closed_form(model, x, y):
    w = model.weight.detach()[0]
    g = x * (x @ w - y)[:, None]  # (N, d) per-example gradients
    centered = g - g.mean(0)
    return centered.T @ centered / x.shape[0], g.mean(0)


def test_noise_covariance_matches_linear_regression():
    model, x, y = _regression()
    exact, mean = _closed_form(model, x, y)
    batches = [(x[:25], y[:25]), (x[25:], y[25:])]
    torch.testing.assert_close(noise_covariance(model, _half_mse, batches), exact)
    torch.testing.assert_close(least_squares(x, y).noise_at(model.weight.detach()[0]), exact)
    noise = gradient_noise(model, _half_mse, batches, k=2,
                           generator=torch.Generator().manual_seed(0), tol=1e-10)
    assert noise.trace == pytest.approx(float(torch.trace(exact)), rel=1e-12)
    torch.testing.assert_close(noise.diagonal, torch.diagonal(exact))
    torch.testing.assert_close(noise.mean, mean)
    evals, evecs = torch.linalg.eigh(exact)
    torch.testing.assert_close(noise.eigen.values, evals.flip(0)[:2], rtol=1e-9, atol=0)
    overlap = (noise.eigen.vectors @ evecs[:, -2:].flip(1)).diagonal().abs()
    torch.testing.assert_close(overlap, torch.ones(2, dtype=torch.float64), rtol=0, atol=1e-8)
    assert noise.n == 60 and noise.eigen.vectors.shape == (2, 5)


def test_temperature():
    t = temperature(0.1, 32, trace_cov=4.0, dim=8)
    assert (t.ratio, t.trace, t.gibbs) == pytest.approx((0.1 / 32, 0.1 * 4.0 / 32,
                                                         0.1 * 4.0 / 32 / 16))
    assert temperature(0.1, 32).trace is None
    model, x, y = _regression()
    noise = gradient_noise(model, _half_mse, (x, y))
    assert noise.eigen is None
    assert noise.temperature(0.2, 4).trace == pytest.approx(0.2 * noise.trace / 4)
    with pytest.raises(ValueError, match="need lr > 0"):
        temperature(0.1, 0)
