"""Lyapunov solutions against scipy's solvers and against their own equations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from genlab.dynamics import lyapunov_continuous, lyapunov_discrete, stationary_covariance


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_against_scipy_and_equations(spd, seed):
    h, c = spd(6, seed), spd(6, seed + 10, floor=0.0)
    lr, b = 1.2 / float(torch.linalg.eigvalsh(h).max()), 7
    cont, disc = lyapunov_continuous(h, c, lr, b), lyapunov_discrete(h, c, lr, b)
    hn, cn = h.numpy(), c.numpy()
    ref_c = scipy.linalg.solve_continuous_lyapunov(hn, lr / b * cn)
    ref_d = scipy.linalg.solve_discrete_lyapunov(np.eye(6) - lr * hn, lr**2 / b * cn)
    np.testing.assert_allclose(cont.numpy(), ref_c, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(disc.numpy(), ref_d, rtol=1e-10, atol=1e-13)
    a = torch.eye(6, dtype=torch.float64) - lr * h
    torch.testing.assert_close(h @ cont + cont @ h, lr / b * c, rtol=1e-10, atol=1e-13)
    torch.testing.assert_close(a @ disc @ a.T + lr**2 / b * c, disc, rtol=1e-10, atol=1e-13)
    assert torch.equal(stationary_covariance(h, c, lr, b, kind="continuous"), cont)
    assert torch.equal(stationary_covariance(h, c, lr, b), disc)


def test_isotropic_noise_is_gibbs(spd):
    """C = σ²I: Σ = (ησ²/2B)·H⁻¹ (continuous), and discrete → continuous as η → 0."""
    h, sigma2, b = spd(4, 3), 0.7, 5
    eye = torch.eye(4, dtype=torch.float64)
    cont = lyapunov_continuous(h, sigma2 * eye, 1e-2, b)
    torch.testing.assert_close(cont, 1e-2 * sigma2 / (2 * b) * torch.linalg.inv(h))
    small = lyapunov_discrete(h, sigma2 * eye, 1e-6, b) / 1e-6
    torch.testing.assert_close(small, lyapunov_continuous(h, sigma2 * eye, 1e-6, b) / 1e-6,
                               rtol=1e-5, atol=0)


def test_non_symmetric_goes_to_scipy(spd):
    h = spd(3, 4) + torch.tensor([[0, 0.1, 0], [0, 0, 0], [0, 0, 0]], dtype=torch.float64)
    c = spd(3, 5)
    cont, disc = lyapunov_continuous(h, c, 0.1, 2), lyapunov_discrete(h, c, 0.1, 2)
    torch.testing.assert_close(h @ cont + cont @ h.T, 0.05 * c)
    a = torch.eye(3, dtype=torch.float64) - 0.1 * h
    torch.testing.assert_close(a @ disc @ a.T + 0.005 * c, disc)


def test_unstable_and_bad_input(spd):
    h, c = spd(3, 6), spd(3, 7)
    lam = float(torch.linalg.eigvalsh(h).max())
    with pytest.raises(ValueError, match="unstable"):
        lyapunov_discrete(h, c, 2.01 / lam, 1)
    with pytest.raises(ValueError, match="unstable"):
        lyapunov_continuous(-h, c, 0.1, 1)
    with pytest.raises(ValueError, match="one shape"):
        lyapunov_continuous(h, c[:2, :2], 0.1, 1)
    with pytest.raises(ValueError, match="kind must be"):
        stationary_covariance(h, c, 0.1, 1, kind="exact")
