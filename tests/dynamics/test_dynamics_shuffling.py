"""The per-epoch-shuffling covariance against a time-domain sum, its limits, and a simulation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch

from genlab.dynamics import lyapunov_discrete
from genlab.dynamics.shuffling import lyapunov_shuffled


def _brute_force(h: np.ndarray, c: np.ndarray, lr: float, b: int, n: int) -> list[np.ndarray]:
    """Σ after each phase p = 1…m, from full matrices: the covariance at epoch starts solves
    P = AᵐPAᵐᵀ + Q (scipy), Q the covariance an epoch's noise adds; then p steps more."""
    m, d = n // b, h.shape[0]
    a = np.eye(d) - lr * h
    var, cov = (n - b) / (b * (n - 1)), -1.0 / (n - 1)
    pw = [np.linalg.matrix_power(a, k) for k in range(m + 1)]

    def added(p: int) -> np.ndarray:  # Cov of Σ_{k ≤ p} A^{p−k}(−ηξ_k)
        out = np.zeros((d, d))
        for k in range(1, p + 1):
            for j in range(1, p + 1):
                out += (var if k == j else cov) * pw[p - k] @ c @ pw[p - j].T
        return lr**2 * out

    start = scipy.linalg.solve_discrete_lyapunov(pw[m], added(m))
    return [pw[p] @ start @ pw[p].T + added(p) for p in range(1, m + 1)]


@pytest.mark.parametrize("seed,b,n", [(0, 4, 24), (1, 3, 20), (2, 1, 7)])
def test_against_time_domain_sum(spd, seed, b, n):
    h, c = spd(3, seed), spd(3, seed + 10, floor=0.0)
    lr = 1.3 / float(torch.linalg.eigvalsh(h).max())
    phases = _brute_force(h.numpy(), c.numpy(), lr, b, n)
    np.testing.assert_allclose(lyapunov_shuffled(h, c, lr, b, n).numpy(), np.mean(phases, 0),
                               rtol=1e-10, atol=1e-14)
    for p in (1, len(phases)):
        np.testing.assert_allclose(lyapunov_shuffled(h, c, lr, b, n, phase=p).numpy(),
                                   phases[p - 1], rtol=1e-10, atol=1e-14)


def test_limits(spd):
    h, c = spd(4, 3), spd(4, 4, floor=0.0)
    lr = 0.5 / float(torch.linalg.eigvalsh(h).max())
    # infinitely many examples: independent batches, the with-replacement solution
    torch.testing.assert_close(lyapunov_shuffled(h, c, lr, 5, 10**9),
                               lyapunov_discrete(h, c, lr, 5), rtol=1e-6, atol=0)
    # one batch of all examples: no noise at all
    assert float(lyapunov_shuffled(h, c, lr, 16, 16).abs().max()) < 1e-15
    # fewer than with replacement, and more so for a slow direction against the epoch
    assert torch.trace(lyapunov_shuffled(h, c, lr, 4, 64)) < torch.trace(
        lyapunov_discrete(h, c, lr, 4))


def test_closed_form_equals_phase_sum(spd, monkeypatch):
    """The closed forms used for long epochs agree with the phase-by-phase sum."""
    from genlab.dynamics import shuffling

    h, c = spd(3, 5), spd(3, 6, floor=0.0)
    lr = 1.1 / float(torch.linalg.eigvalsh(h).max())
    summed = lyapunov_shuffled(h, c, lr, 3, 300)
    monkeypatch.setattr(shuffling, "_ENUMERATE", 0)
    torch.testing.assert_close(lyapunov_shuffled(h, c, lr, 3, 300), summed, rtol=1e-9, atol=0)


def test_matches_a_simulation():
    """K chains of Δ ← (I − ηH)Δ − η·(batch mean of centered u_i), batches from per-epoch
    permutations: the phase-averaged covariance within 4.5 standard errors (chains are
    independent; each chain's time average is one sample)."""
    g = torch.Generator().manual_seed(0)
    n, b, d, k = 32, 4, 2, 4000
    u = torch.randn(n, d, generator=g, dtype=torch.float64) @ torch.tensor(
        [[1.0, 0.3], [0.0, 0.5]], dtype=torch.float64)
    u -= u.mean(0)
    c, h = u.T @ u / n, torch.tensor([[1.0, 0.2], [0.2, 0.3]], dtype=torch.float64)
    lr, a = 0.4, torch.eye(d, dtype=torch.float64) - 0.4 * h
    x = torch.zeros(k, d, dtype=torch.float64)
    acc = torch.zeros(k, d, d, dtype=torch.float64)
    epochs, burn = 150, 30
    for e in range(epochs):
        perm = torch.rand(k, n, generator=g).argsort(1)  # (K, N)
        for j in range(n // b):
            xi = u[perm[:, j * b:(j + 1) * b]].mean(1)  # (K, d)
            x = x @ a.T - lr * xi
            if e >= burn:
                acc += x[:, :, None] * x[:, None, :]
    per_chain = acc / ((epochs - burn) * (n // b))  # (K, d, d)
    est, se = per_chain.mean(0), per_chain.std(0) / k**0.5
    exact = lyapunov_shuffled(h, c, lr, b, n)
    assert float(((est - exact) / se).abs().max()) < 4.5
    # and the with-replacement solution is far off
    assert float(((est - lyapunov_discrete(h, c, lr, b)) / se).abs().max()) > 10


def test_bad_input(spd):
    h, c = spd(2, 0), spd(2, 1)
    with pytest.raises(ValueError, match="batch_size"):
        lyapunov_shuffled(h, c, 0.1, 9, 8)
    with pytest.raises(ValueError, match="phase"):
        lyapunov_shuffled(h, c, 0.1, 2, 8, phase=5)
    with pytest.raises(ValueError, match="ηλ"):
        lyapunov_shuffled(h, c, 3.0 / float(torch.linalg.eigvalsh(h).max()), 2, 8)
