"""Eigenvalues, traces and spectral density against exact linear algebra."""

from __future__ import annotations

import pytest
import torch

from genlab.measures import (
    HessianOperator,
    cross_entropy_loss,
    hutchinson_trace,
    hutchpp_trace,
    lanczos,
    power_iteration,
    spectral_density,
    top_eigen,
)


@pytest.fixture
def hessian_case(make_mlp, make_data, exact_hessian):
    model, data = make_mlp(), make_data()
    H = exact_hessian(model, cross_entropy_loss, data)
    return HessianOperator(model, cross_entropy_loss, data), H


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_lanczos_top_k_match_eigvalsh(hessian_case):
    op, H = hessian_case
    exact = torch.linalg.eigvalsh(H).flip(0)[:3]  # largest first
    eig = top_eigen(op, k=3, generator=_gen(), tol=1e-10)
    torch.testing.assert_close(eig.values, exact, rtol=1e-6, atol=0.0)
    for lam, u in zip(eig.values, eig.vectors):  # true eigenvectors of H
        assert (H @ u - lam * u).norm() <= 1e-5 * lam.abs()
    assert eig.matvecs < op.dim + 3  # stopped at convergence, not after n steps


def test_power_iteration_top_k_match_eigvalsh(hessian_case):
    op, H = hessian_case
    ev = torch.linalg.eigvalsh(H)
    exact = ev[ev.abs().argsort(descending=True)][:2]  # largest magnitude first
    eig = power_iteration(op, k=2, generator=_gen(), tol=1e-13, max_iter=5000)
    torch.testing.assert_close(eig.values, exact, rtol=1e-6, atol=0.0)


def test_eigen_on_plain_matrix():
    g = _gen(1)
    Q = torch.linalg.qr(torch.randn(40, 40, generator=g, dtype=torch.float64)).Q
    lam = torch.cat([torch.tensor([10.0, 7.0, 5.0], dtype=torch.float64),
                     torch.linspace(-1, 1, 37, dtype=torch.float64)])
    A = Q @ torch.diag(lam) @ Q.T
    torch.testing.assert_close(top_eigen(A, k=3, tol=1e-12).values, lam[:3], rtol=1e-9, atol=0)
    torch.testing.assert_close(power_iteration(A, k=3, tol=1e-14).values, lam[:3],
                               rtol=1e-8, atol=0)


def test_lanczos_tridiagonal_is_projection(hessian_case):
    op, H = hessian_case
    alpha, beta, Q = lanczos(op, torch.randn(op.dim, generator=_gen(), dtype=H.dtype), 12)
    T = torch.diag(alpha) + torch.diag(beta, 1) + torch.diag(beta, -1)
    torch.testing.assert_close(Q @ Q.T, torch.eye(12, dtype=H.dtype), atol=1e-10, rtol=0)
    torch.testing.assert_close(Q @ H @ Q.T, T, atol=1e-10, rtol=0)


@pytest.mark.parametrize("estimator,budget", [(hutchinson_trace, 300), (hutchpp_trace, 150)])
def test_trace_within_three_standard_errors(hessian_case, estimator, budget):
    op, H = hessian_case
    est = estimator(op, budget, generator=_gen(5))
    exact = float(torch.trace(H))
    assert 0 < est.stderr < abs(exact)
    assert abs(est.value - exact) <= 3 * est.stderr
    again = estimator(op, budget, generator=_gen(5))
    assert (again.value, again.stderr) == (est.value, est.stderr)


def test_hutchpp_is_exact_for_low_rank():
    g = _gen(2)
    U = torch.randn(50, 4, generator=g, dtype=torch.float64)
    A = U @ U.T  # rank 4 < m/3 = 5: the sketch captures it all
    est = hutchpp_trace(A, 15, generator=g)
    assert est.value == pytest.approx(float(torch.trace(A)), rel=1e-10)


def test_slq_moments(hessian_case):
    op, H = hessian_case
    n = op.dim
    sd = spectral_density(op, num_vectors=30, num_steps=20, generator=_gen(3))
    torch.testing.assert_close(sd.weights.sum(dim=1), torch.ones(30, dtype=H.dtype))
    # each probe's quadrature reproduces its own quadratic forms zᵀHᵖz/n exactly ...
    gen = _gen(3)
    z = torch.stack([2.0 * torch.randint(0, 2, (n,), generator=gen) - 1 for _ in range(30)])
    z = z.to(H.dtype)  # (V, n), the same Rademacher probes
    for p in (1, 2, 3):
        quad = (sd.weights * sd.nodes**p).sum(dim=1)
        exact = torch.einsum("vi,ij,vj->v", z, torch.linalg.matrix_power(H, p), z) / n
        torch.testing.assert_close(quad, exact, rtol=1e-8, atol=1e-12)
    # ... so the moments are unbiased estimates of tr(H)/n and tr(H²)/n: within 3 s.e.
    for p in (1, 2):
        per_probe = (sd.weights * sd.nodes**p).sum(dim=1)  # (V,)
        assert sd.moment(p) == pytest.approx(float(per_probe.mean()))
        exact = float(torch.trace(torch.linalg.matrix_power(H, p))) / n
        assert abs(sd.moment(p) - exact) <= 3 * float(per_probe.std()) / 30**0.5
    dx = sd.grid[1] - sd.grid[0]
    assert float(sd.density.sum() * dx) == pytest.approx(1.0, abs=1e-3)


def test_slq_full_steps_recovers_spectrum():
    A = torch.diag(torch.tensor([-1.0, 0.5, 2.0, 3.0], dtype=torch.float64))
    sd = spectral_density(A, num_vectors=2, num_steps=4)
    torch.testing.assert_close(sd.nodes[0], torch.tensor([-1.0, 0.5, 2.0, 3.0],
                                                         dtype=torch.float64))
    torch.testing.assert_close(sd.weights[0], torch.full((4,), 0.25, dtype=torch.float64))
