"""SGD simulators: stationary moments against exact solutions within Monte-Carlo error.

Each chain's time average is independent of the other chains', so the standard errors
are honest despite autocorrelation within a chain. The bound, fixed before running:
every entry within Z standard errors (Z = 4.5: for ~15 entries a false alarm has
probability ~1e-4), and the Lyapunov solution that should NOT fit is rejected.
"""

from __future__ import annotations

import math

import pytest
import torch

from genlab.dynamics import (
    least_squares,
    lyapunov_continuous,
    lyapunov_discrete,
    noise_model,
    sgd_least_squares,
    sgd_quadratic,
)

Z = 4.5


def _z(estimate, stderr, exact):
    return float(((estimate - exact) / stderr).abs().max())


@pytest.mark.parametrize("kind", ["isotropic", "hessian", "anisotropic"])
def test_quadratic_matches_discrete_lyapunov(spd, kind):
    h = spd(4, 0)
    lam = torch.linalg.eigvalsh(h)
    c = noise_model(kind, h, trace=3.0, matrix=spd(4, 1) if kind == "anisotropic" else None)
    lr, b = 0.8 / float(lam.max()), 5
    burn = math.ceil(10 / (lr * float(lam.min())))
    run = sgd_quadratic(h, c, lr, b, chains=2000, steps=burn + 1000, burn_in=burn,
                        record_every=2, generator=torch.Generator().manual_seed(1))
    assert run.records == 500 and run.final.shape == (2000, 4)
    assert _z(run.covariance, run.covariance_stderr, lyapunov_discrete(h, c, lr, b)) < Z
    assert _z(run.mean, run.mean_stderr, torch.zeros(4, dtype=torch.float64)) < Z
    # at ηλ_max = 0.8 the continuous solution is off by far more than the MC error
    assert _z(run.covariance, run.covariance_stderr, lyapunov_continuous(h, c, lr, b)) > 10


def test_noise_models(spd):
    h, m = spd(3, 2), spd(3, 3)
    iso, hes, ani = (noise_model(k, h, 6.0, m if k == "anisotropic" else None)
                     for k in ("isotropic", "hessian", "anisotropic"))
    torch.testing.assert_close(iso, 2.0 * torch.eye(3, dtype=torch.float64))
    torch.testing.assert_close(hes, h * 6.0 / torch.trace(h))
    torch.testing.assert_close(ani, m * 6.0 / torch.trace(m))
    with pytest.raises(ValueError, match="kind must be"):
        noise_model("diagonal", h, 1.0)
    with pytest.raises(ValueError, match="only with"):
        noise_model("isotropic", h, 1.0, m)


def _problem(n=200, seed=0):
    g = torch.Generator().manual_seed(seed)
    f64 = dict(dtype=torch.float64)
    x = torch.randn(n, 3, generator=g, **f64) * torch.tensor([2.0, 1.0, 0.5], **f64)
    y = x @ torch.tensor([1.0, -1.0, 0.5], **f64) + 0.5 * torch.randn(n, generator=g, **f64)
    return least_squares(x, y)


def test_least_squares_closed_forms():
    p = _problem()
    g = p.x * (p.x @ p.optimum - p.y)[:, None]  # (N, d)
    torch.testing.assert_close(g.mean(0), torch.zeros(3, dtype=torch.float64), atol=1e-12,
                               rtol=0)
    torch.testing.assert_close(p.hessian, p.x.T @ p.x / 200)
    torch.testing.assert_close(p.noise, g.T @ g / 200)


def test_minibatches_with_replacement_match_exact_stationary_covariance():
    """Real minibatches: the exact answer includes the multiplicative noise C(w) − C(w*),
    which the Lyapunov equation with C(w*) misses (here by ~16% of the trace)."""
    p = _problem()
    lam = torch.linalg.eigvalsh(p.hessian)
    lr, b = 0.5 / float(lam.max()), 4
    burn = math.ceil(10 / (lr * float(lam.min())))
    run = sgd_least_squares(p, lr, b, chains=1000, steps=burn + 600, burn_in=burn,
                            record_every=2, generator=torch.Generator().manual_seed(2))
    exact = p.stationary_covariance(lr, b)
    assert _z(run.covariance, run.covariance_stderr, exact) < Z
    assert _z(run.covariance, run.covariance_stderr,
              lyapunov_discrete(p.hessian, p.noise, lr, b)) > 10


def test_full_batch_without_replacement_is_gradient_descent():
    """B = N without replacement uses every example each step: plain GD, no noise."""
    p = _problem(n=40)
    start = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    run = sgd_least_squares(p, 0.1, 40, chains=3, steps=25, replacement=False, start=start,
                            generator=torch.Generator().manual_seed(0))
    gd = start @ torch.linalg.matrix_power(torch.eye(3, dtype=torch.float64)
                                           - 0.1 * p.hessian, 25)
    torch.testing.assert_close(run.final, gd.expand(3, 3), rtol=1e-10, atol=1e-12)


def test_bad_arguments(spd):
    h = spd(2, 0)
    with pytest.raises(ValueError, match="need lr > 0"):
        sgd_quadratic(h, h, 0.0, 1, chains=1, steps=1)
    with pytest.raises(ValueError, match="no step was recorded"):
        sgd_quadratic(h, h, 0.1, 1, chains=1, steps=3, burn_in=3)
    with pytest.raises(ValueError, match="exceeds"):
        sgd_least_squares(_problem(n=10), 0.1, 11, chains=1, steps=1, replacement=False)


def test_same_generator_same_chains(spd):
    h = spd(3, 0)
    runs = [sgd_quadratic(h, h, 0.1, 2, chains=5, steps=20, generator=torch.Generator()
                          .manual_seed(7)) for _ in range(2)]
    assert torch.equal(runs[0].final, runs[1].final)
    assert torch.equal(runs[0].covariance, runs[1].covariance)
