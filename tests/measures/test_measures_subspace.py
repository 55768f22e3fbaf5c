"""Subspace measures against hand-computed projections, scipy's principal angles,
brute-force per-class gradients and synthetic spectra with known outliers."""

from __future__ import annotations

import math

import pytest
import scipy.linalg
import torch

from genlab.measures import (
    class_mean_gradients,
    cross_entropy_loss,
    gradient_moments,
    gradient_snr,
    outlier_count,
    per_sample_grads,
    principal_angles,
    random_subspace_overlap,
    span_fraction,
    subspace_overlap,
    top_eigen,
    vector_overlap,
)


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=_gen(seed), dtype=torch.float64)


def test_vector_overlap_is_the_projected_fraction():
    e = torch.eye(4, dtype=torch.float64)
    v = torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    assert vector_overlap(v, e[:2]) == pytest.approx((1 + 4) / 30)
    skew = torch.stack([e[0] + e[1], 2 * e[1]])  # same span, neither unit nor orthogonal
    assert vector_overlap(v, skew) == pytest.approx(5 / 30)
    assert vector_overlap(v, v) == pytest.approx(1.0)
    assert vector_overlap(e[3], e[:3]) == pytest.approx(0.0, abs=1e-15)
    with pytest.raises(ValueError, match="independent"):
        vector_overlap(v, torch.stack([e[0], 2 * e[0]]))
    with pytest.raises(ValueError, match="length"):
        vector_overlap(v[:3], e[:2])


def test_vector_overlap_with_eigenvectors_matches_eigendecomposition():
    A = _randn(30, 30, seed=1)
    A = A @ A.T
    _, U = torch.linalg.eigh(A)
    g = _randn(30, seed=2)
    top = top_eigen(A, k=4, tol=1e-12)
    exact = float(((U[:, -4:].T @ g) ** 2).sum() / (g @ g))
    assert vector_overlap(g, top.vectors) == pytest.approx(exact, rel=1e-8)


@pytest.mark.parametrize("ka,kb", [(3, 3), (2, 5), (5, 2)])
def test_principal_angles_match_scipy(ka, kb):
    a, b = _randn(ka, 12, seed=3), _randn(kb, 12, seed=4)
    expected = sorted(scipy.linalg.subspace_angles(a.T.numpy(), b.T.numpy()))
    torch.testing.assert_close(principal_angles(a, b),
                               torch.tensor(expected, dtype=torch.float64), atol=1e-12, rtol=0)
    cos2 = torch.cos(principal_angles(a, b)) ** 2
    assert subspace_overlap(a, b) == pytest.approx(float(cos2.mean()), rel=1e-12)


def test_small_principal_angles_are_accurate():
    a = _randn(3, 20, seed=5)
    b = a + 1e-9 * _randn(3, 20, seed=6)  # angles ~1e-9: arccos of cosines gives 0 or 1e-8
    expected = sorted(scipy.linalg.subspace_angles(a.T.numpy(), b.T.numpy()))
    got = principal_angles(a, b)
    assert (got > 0).all()
    torch.testing.assert_close(got, torch.tensor(expected, dtype=torch.float64), rtol=1e-4,
                               atol=1e-20)


def test_subspace_overlap_extremes_and_span_fraction():
    e = torch.eye(6, dtype=torch.float64)
    assert subspace_overlap(e[:3], e[[2, 0, 1]]) == pytest.approx(1.0)
    assert subspace_overlap(e[:3], e[3:]) == pytest.approx(0.0, abs=1e-15)
    assert subspace_overlap(e[:2], e[:4]) == pytest.approx(1.0)  # contained
    # span_fraction: how much of span(basis) the vectors cover
    assert span_fraction(e[:1], e[:4]) == pytest.approx(0.25)
    assert span_fraction(e[:4], e[:2]) == pytest.approx(1.0)
    tilted = (e[0] + e[4]) / math.sqrt(2)  # half inside span(e0, e1)
    assert span_fraction(tilted, e[:2]) == pytest.approx(0.25)
    with pytest.raises(ValueError, match="different spaces"):
        subspace_overlap(e[:2], torch.eye(5, dtype=torch.float64)[:2])


def test_random_subspace_baseline_is_k_over_n():
    k, n, trials = 3, 20, 2000
    v = _randn(n, seed=7)
    samples = torch.tensor([vector_overlap(v, _randn(k, n, seed=100 + t))
                            for t in range(trials)])
    se = float(samples.std()) / math.sqrt(trials)
    assert abs(float(samples.mean()) - random_subspace_overlap(k, n)) <= 3 * se
    with pytest.raises(ValueError):
        random_subspace_overlap(21, 20)


def test_outlier_count_on_synthetic_spectra():
    bulk = 2.0 * torch.linspace(1.0, 0.6, 15, dtype=torch.float64)  # slowly decaying bulk top
    outliers = torch.tensor([30.0, 24, 20, 17, 15, 13, 11, 10, 9], dtype=torch.float64)
    out = outlier_count(torch.cat([bulk, outliers]))  # any order
    assert out.count == 9 and out.ratio == pytest.approx(9 / 2)
    none = outlier_count(bulk)
    assert none.count == 0 and none.ratio < 1.5
    assert outlier_count(torch.cat([outliers, bulk, -bulk])).count == 9  # negatives ignored
    with pytest.raises(ValueError, match="two positive"):
        outlier_count([1.0, -1.0])


def test_outlier_count_from_lanczos_on_a_matrix_with_known_outliers():
    n = 200
    Q = torch.linalg.qr(_randn(n, n, seed=8)).Q
    W = _randn(n, 2 * n, seed=9) / math.sqrt(2 * n)
    bulk = torch.linalg.eigvalsh(W @ W.T)  # Marchenko–Pastur bulk in [0.09, 2.9]
    lam = torch.cat([torch.tensor([60.0, 45, 40, 33, 28, 25, 22], dtype=torch.float64),
                     bulk[:-7]])
    A = Q @ torch.diag(lam) @ Q.T
    eig = top_eigen(A, k=14, tol=1e-8)
    assert outlier_count(eig.values).count == 7


def test_gradient_snr_by_hand_and_from_moments(make_mlp, make_data):
    assert gradient_snr(torch.tensor([3.0, 4.0]), 10.0, 4) == pytest.approx(10.0)
    assert gradient_snr(25.0, 10.0, 1) == pytest.approx(2.5)
    assert gradient_snr(25.0, 0.0, 8) == math.inf
    with pytest.raises(ValueError):
        gradient_snr(25.0, -1.0, 8)
    model, data = make_mlp(), make_data()
    g = per_sample_grads(model, cross_entropy_loss, data)
    G = torch.cat([t.reshape(t.shape[0], -1) for t in g.values()], 1)  # (B, P)
    mean = G.mean(0)
    trace = float(((G - mean) ** 2).sum(1).mean())
    moments = gradient_moments(model, cross_entropy_loss, data)
    expected = float(mean @ mean) * 8 / trace
    assert gradient_snr(moments.mean, moments.trace_cov, 8) == pytest.approx(expected, rel=1e-9)


def test_class_mean_gradients_against_per_class_autograd(make_mlp, make_data):
    model, (x, y) = make_mlp(), make_data(n=30)
    batches = [(x[:11], y[:11]), (x[11:], y[11:])]
    out = class_mean_gradients(model, cross_entropy_loss, batches)
    assert out.classes.tolist() == sorted(set(y.tolist()))
    for c, row, count in zip(out.classes.tolist(), out.gradients, out.counts.tolist()):
        mask = y == c
        assert count == int(mask.sum())
        model.zero_grad()
        cross_entropy_loss(model(x[mask]), (x[mask], y[mask])).backward()
        expected = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
        torch.testing.assert_close(row, expected, rtol=1e-10, atol=1e-12)
    model.zero_grad(set_to_none=True)
    full = (out.counts.double()[:, None] * out.gradients).sum(0) / out.counts.sum()
    cross_entropy_loss(model(x), (x, y)).backward()
    expected = torch.cat([p.grad.reshape(-1) for p in model.parameters()])
    torch.testing.assert_close(full, expected, rtol=1e-10, atol=1e-12)
