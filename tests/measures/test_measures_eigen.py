"""Lanczos stopping rules, float64 working precision and warm starts, against exact
eigenvalues (eigvalsh of a float64 matrix, a diagonal operator, a float64 twin)."""

from __future__ import annotations

import copy

import pytest
import torch

from genlab.measures import HessianOperator, MatrixOperator, cross_entropy_loss, top_eigen
from genlab.models import MLP


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _spectrum_matrix(n: int = 300, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """A = Q diag(λ) Qᵀ: five outliers over a bulk in [0, 1], like a Hessian."""
    g = _gen(seed)
    Q = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64)).Q
    lam = torch.cat([torch.tensor([9.0, 7.5, 6.0, 4.0, 3.0], dtype=torch.float64),
                     torch.rand(n - 5, generator=g, dtype=torch.float64)])
    return Q @ torch.diag(lam) @ Q.T, lam.sort(descending=True).values


class _Diagonal:
    """A diagonal operator: products exact to one rounding per entry, at any n."""

    def __init__(self, d: torch.Tensor):
        self.d, self.shape, self.dtype, self.device = d, (len(d), len(d)), d.dtype, d.device

    def matvec(self, v: torch.Tensor) -> torch.Tensor:
        return self.d * v


@pytest.mark.parametrize("criterion", ["gap", "residual"])
@pytest.mark.parametrize("tol", [1e-2, 1e-4, 1e-7])
def test_requested_tolerance_is_met(criterion, tol):
    A, lam = _spectrum_matrix()
    for seed in range(3):
        eig = top_eigen(A, k=3, tol=tol, criterion=criterion, generator=_gen(seed))
        assert eig.converged
        assert ((eig.values - lam[:3]).abs() <= tol * lam[:3]).all(), (seed, eig.values)


def test_gap_test_stops_earlier_than_residual_test():
    A, _ = _spectrum_matrix()
    for tol in (1e-3, 1e-6):
        gap = top_eigen(A, k=2, tol=tol, criterion="gap")
        res = top_eigen(A, k=2, tol=tol, criterion="residual")
        assert gap.matvecs < res.matvecs
    with pytest.raises(ValueError, match="criterion"):
        top_eigen(A, criterion="newton")


def test_residuals_are_those_of_the_returned_pairs():
    A, _ = _spectrum_matrix()
    eig = top_eigen(A, k=3, tol=1e-4)
    true = torch.stack([(A @ u - lam * u).norm() for lam, u in zip(eig.values, eig.vectors)])
    torch.testing.assert_close(eig.residuals, true, rtol=1e-6, atol=1e-12)
    assert eig.converged


def test_float32_operator_reaches_float32_accuracy_at_large_n():
    """Dot products of length 3e5 in float32 carried a ~1e-5 error floor; float64
    working vectors give the accuracy of the float32 products themselves."""
    n = 300_000
    d = torch.cat([torch.tensor([10.0, 6.0]), 5 * torch.rand(n - 2, generator=_gen())])
    eig = top_eigen(_Diagonal(d.float()), k=1, tol=1e-10, criterion="residual")
    assert abs(float(eig.values[0]) - 10.0) <= 1e-7 * 10.0  # 3e-8; float32 Lanczos: 6e-6
    assert eig.vectors.dtype == torch.float32


def test_float32_hessian_matches_float64_twin():
    model = MLP(40, [32, 32], 5, seed=0)
    g = _gen(2)
    x, y = torch.randn(64, 40, generator=g), torch.randint(0, 5, (64,), generator=g)
    twin = copy.deepcopy(model).double()
    exact = top_eigen(HessianOperator(twin, cross_entropy_loss, (x.double(), y)), k=1,
                      tol=1e-13, criterion="residual").values[0]
    eig = top_eigen(HessianOperator(model, cross_entropy_loss, (x, y)), k=1, tol=1e-10,
                    criterion="residual")
    assert abs(float(eig.values[0] - exact)) <= 1e-7 * float(exact)  # measured 1.8e-8


def test_warm_start_at_a_nearby_operator_needs_fewer_products():
    A, _ = _spectrum_matrix()
    E = torch.randn(A.shape, generator=_gen(7), dtype=torch.float64)
    B = A + 1e-3 * (E + E.T)  # a nearby checkpoint
    exact = torch.linalg.eigvalsh(B).flip(0)[:4]
    before = top_eigen(A, k=4, tol=1e-8)
    cold = top_eigen(B, k=4, tol=1e-8)
    warm = top_eigen(B, k=4, tol=1e-8, v0=before.vectors)
    for eig in (cold, warm):
        torch.testing.assert_close(eig.values, exact, rtol=1e-7, atol=0)
    assert warm.matvecs < cold.matvecs


def test_start_in_an_invariant_subspace_restarts_and_finds_the_top():
    A, lam = _spectrum_matrix(n=60)
    _, U = torch.linalg.eigh(A)
    v0 = U[:, 0]  # the bottom eigenvector: Lanczos breaks down after one step
    eig = top_eigen(MatrixOperator(A), k=3, tol=1e-9, v0=v0)
    torch.testing.assert_close(eig.values, lam[:3], rtol=1e-8, atol=0)


def test_gradient_start_on_a_hessian(make_mlp, make_data, exact_hessian):
    model, data = make_mlp(), make_data()
    H = exact_hessian(model, cross_entropy_loss, data)
    op = HessianOperator(model, cross_entropy_loss, data)
    eig = top_eigen(op, k=2, tol=1e-9, v0=op.gradient())
    torch.testing.assert_close(eig.values, torch.linalg.eigvalsh(H).flip(0)[:2], rtol=1e-7,
                               atol=0)


def test_bad_warm_start_and_budget():
    A, _ = _spectrum_matrix(n=50)
    with pytest.raises(ValueError, match="v0"):
        top_eigen(A, v0=torch.ones(49, dtype=torch.float64))
    with pytest.raises(ValueError, match="v0"):
        top_eigen(A, v0=torch.zeros(50, dtype=torch.float64))
    short = top_eigen(A, k=2, tol=1e-12, max_steps=4)
    assert not short.converged and short.matvecs == 4


def test_long_runs_keep_no_ghost_copies():
    """Without reorthogonalization, converged eigenvalues reappear as spurious copies
    after many steps; the selective scheme must keep the top five distinct."""
    A, lam = _spectrum_matrix()
    eig = top_eigen(A, k=5, tol=1e-15, criterion="residual", max_steps=150)
    torch.testing.assert_close(eig.values, lam[:5], rtol=1e-10, atol=0)
    gram = eig.vectors @ eig.vectors.T
    torch.testing.assert_close(gram, torch.eye(5, dtype=gram.dtype), atol=1e-8, rtol=0)
