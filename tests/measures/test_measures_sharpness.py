"""Sharpness, flatness and landscape views against hand-computable cases."""

from __future__ import annotations

import copy
import itertools

import pytest
import torch
from torch import nn

from genlab.measures import (
    accuracy,
    cross_entropy_loss,
    epsilon_sharpness,
    filter_normalized_direction,
    interpolate,
    loss_slice_1d,
    loss_slice_2d,
    pac_bayes_sigma,
)


def _mse(out, batch):
    return ((out - batch[1]) ** 2).mean()


@pytest.fixture
def least_squares():
    """nn.Linear(2, 1) at the exact least-squares minimum: L(w + y) = L(w) + ½yᵀHy."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 2, generator=g, dtype=torch.float64)
    y = x @ torch.tensor([[1.5], [-2.0]], dtype=torch.float64) + 0.3
    y = y + 0.5 * torch.randn(40, 1, generator=g, dtype=torch.float64)
    X = torch.cat([x, torch.ones(40, 1, dtype=torch.float64)], 1)  # (40, 3)
    sol = torch.linalg.lstsq(X, y).solution  # (3, 1)
    model = nn.Linear(2, 1).double()
    with torch.no_grad():
        model.weight.copy_(sol[:2].T)
        model.bias.copy_(sol[2])
    H = 2 * X.T @ X / 40  # Hessian of the mean squared error, order (w1, w2, b)
    return model, (x, y), H


def _loss_at(model, data, shift):
    m = copy.deepcopy(model)
    with torch.no_grad():
        m.weight += shift[:2].view(1, 2)
        m.bias += shift[2:]
    return float(_mse(m(data[0]), data))


@pytest.mark.parametrize("method", ["lbfgsb", "pgd"])
def test_epsilon_sharpness_full_space_matches_vertex_search(least_squares, method):
    model, data, _ = least_squares
    w = torch.cat([model.weight.detach().view(-1), model.bias.detach()])
    eps = 0.1
    bound = eps * (w.abs() + 1)
    # a convex loss attains its maximum over a box at a vertex: brute force all 8
    best = max(_loss_at(model, data, torch.tensor(s, dtype=torch.float64) * bound)
               for s in itertools.product([-1.0, 1.0], repeat=3))
    loss0 = _loss_at(model, data, torch.zeros(3, dtype=torch.float64))
    vertices = sorted(_loss_at(model, data, torch.tensor(s, dtype=torch.float64) * bound)
                      for s in itertools.product([-1.0, 1.0], repeat=3))
    gen = torch.Generator().manual_seed(1)
    one = epsilon_sharpness(model, _mse, data, epsilon=eps, max_iter=50, method=method,
                            generator=gen)
    assert loss0 < one.max_loss <= best * (1 + 1e-12)  # a certified lower bound ...
    assert min(abs(one.max_loss - v) for v in vertices) <= 1e-9 * best  # ... at a vertex
    # the maximization is non-convex: several starts reach the global vertex
    sh = epsilon_sharpness(model, _mse, data, epsilon=eps, max_iter=50, method=method,
                           generator=gen, restarts=6)
    assert sh.loss == pytest.approx(loss0, rel=1e-12)
    assert sh.max_loss == pytest.approx(best, rel=1e-9)
    assert sh.value == pytest.approx(100 * (best - loss0) / (1 + loss0), rel=1e-6)


def test_epsilon_sharpness_random_subspace_one_dim(least_squares):
    model, data, _ = least_squares
    w = torch.cat([model.weight.detach().view(-1), model.bias.detach()])
    sh = epsilon_sharpness(model, _mse, data, epsilon=0.05, subspace_dim=1, max_iter=50,
                           generator=torch.Generator().manual_seed(4))
    A = torch.randn(3, 1, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    b = 0.05 * (float((torch.linalg.pinv(A) @ w).abs()) + 1)
    best = max(_loss_at(model, data, A[:, 0] * s * b) for s in (-1.0, 1.0))  # convex in y
    assert sh.dim == 1
    assert sh.max_loss == pytest.approx(best, rel=1e-6)


def test_pac_bayes_sigma_matches_quadratic_formula(least_squares):
    model, data, H = least_squares
    # at a minimum E[L(w + σz)] − L(w) = σ²·tr(H)/2, so σ′ = √(2·target / tr H)
    target = 0.05
    fl = pac_bayes_sigma(model, _mse, data, target=target, num_samples=200,
                         generator=torch.Generator().manual_seed(2))
    exact = (2 * target / float(torch.trace(H))) ** 0.5
    assert 0 < fl.stderr < 0.2 * fl.sigma
    assert abs(fl.sigma - exact) <= 3 * fl.stderr
    assert fl.increase == pytest.approx(target, rel=1e-4)  # bisection converged
    assert fl.measure == pytest.approx(1 / fl.sigma**2)


def test_pac_bayes_magnitude_aware_scales_noise_by_weights(least_squares):
    model, data, _ = least_squares
    w = torch.cat([model.weight.detach().view(-1), model.bias.detach()])
    X = torch.cat([data[0], torch.ones(40, 1, dtype=torch.float64)], 1)
    Hw = 2 * (X * w).T @ (X * w) / 40  # Hessian in the multiplicative coordinates w ⊙ (1 + s)
    fl = pac_bayes_sigma(model, _mse, data, target=0.05, magnitude_aware=True, eps=0.0,
                         num_samples=200, generator=torch.Generator().manual_seed(3))
    exact = (2 * 0.05 / float(torch.trace(Hw))) ** 0.5
    assert abs(fl.sigma - exact) <= 3 * fl.stderr


def test_filter_normalized_direction_norms():
    model = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(12, 2))
    d = filter_normalized_direction(model, generator=torch.Generator().manual_seed(0))
    for name, w in model.named_parameters():
        if w.ndim == 1:
            assert torch.count_nonzero(d[name]) == 0, name
        else:
            dims = tuple(range(1, w.ndim))
            norm = torch.linalg.vector_norm
            torch.testing.assert_close(norm(d[name], dim=dims), norm(w.detach(), dim=dims))


def test_slices_and_interpolation_match_direct_evaluation(make_mlp, make_data):
    model, other, data = make_mlp(1), make_mlp(2), make_data()
    d1 = filter_normalized_direction(model, generator=torch.Generator().manual_seed(0))
    d2 = filter_normalized_direction(model, generator=torch.Generator().manual_seed(1))

    def direct(shift):  # the same loss from a modified deep copy
        m = copy.deepcopy(model)
        with torch.no_grad():
            for n, p in m.named_parameters():
                p += shift(n)
        return float(cross_entropy_loss(m(data[0]), data))

    ts = torch.tensor([-0.5, 0.0, 0.3])
    line = loss_slice_1d(model, cross_entropy_loss, data, d1, ts)
    for t, value in zip(ts, line):
        assert float(value) == pytest.approx(direct(lambda n: t * d1[n]), rel=1e-12)
    grid = loss_slice_2d(model, cross_entropy_loss, data, (d1, d2), ts, ts[:2])
    assert grid.shape == (3, 2)
    assert float(grid[0, 0]) == pytest.approx(direct(lambda n: -0.5 * (d1[n] + d2[n])),
                                              rel=1e-12)
    torch.testing.assert_close(grid[:, 1], line)  # y = 0 column is the 1D slice

    inter = interpolate(model, other, cross_entropy_loss, data, torch.tensor([0.0, 0.25, 1.0]),
                        metrics={"accuracy": accuracy})
    mixed = copy.deepcopy(model)
    with torch.no_grad():
        for p, q in zip(mixed.parameters(), other.parameters()):
            p.mul_(0.75).add_(0.25 * q)
    for i, m in enumerate((model, mixed, other)):
        out = m(data[0])
        assert float(inter.loss[i]) == pytest.approx(float(cross_entropy_loss(out, data)))
        assert float(inter.metrics["accuracy"][i]) == pytest.approx(float(accuracy(out, data)))
