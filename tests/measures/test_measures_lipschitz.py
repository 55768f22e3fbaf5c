"""Spectral norms by power iteration against torch.linalg.matrix_norm, convolution
operator norms against the dense matrix of the convolution, and the Lipschitz bound
above empirical slopes and gradient norms."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from genlab.measures import LipschitzBound, layer_spectral_norms, lipschitz_bound, operator_norm
from genlab.models import MLP


def _exact(w: torch.Tensor) -> float:
    return torch.linalg.matrix_norm(w, ord=2).item()


@pytest.mark.parametrize("shape", [(7, 7), (30, 50), (50, 3), (1, 9)])
def test_operator_norm_matches_matrix_norm(shape):
    w = torch.randn(*shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    estimate = operator_norm(w, generator=torch.Generator().manual_seed(2), tol=1e-14,
                             max_iter=5000)
    assert estimate == pytest.approx(_exact(w), rel=1e-6)
    assert estimate <= _exact(w) * (1 + 1e-12)  # power iteration approaches from below


def test_operator_norm_of_a_known_matrix():
    w = torch.diag(torch.tensor([3.0, -5.0, 1.0], dtype=torch.float64))
    assert operator_norm(w) == pytest.approx(5.0, rel=1e-7)
    assert operator_norm(torch.zeros(3, 2)) == 0.0


def _dense(layer: nn.Module, shape: tuple[int, ...]) -> torch.Tensor:
    """The matrix (out, in) of x ↦ layer(x) − layer(0), one basis vector at a time."""
    n = torch.Size(shape).numel()
    basis = torch.eye(n, dtype=torch.float64).reshape(n, *shape)
    with torch.no_grad():
        out = layer(basis) - layer(torch.zeros(1, *shape, dtype=torch.float64))
    return out.reshape(n, -1).T


@pytest.mark.parametrize("conv", [
    lambda: nn.Conv2d(2, 3, 3, padding=1),
    lambda: nn.Conv2d(2, 4, 3, stride=2),
    lambda: nn.Conv2d(2, 2, 3, padding=1, padding_mode="circular"),
    lambda: nn.Conv1d(3, 2, 5, padding=2),
])
def test_convolution_operator_norm_matches_its_dense_matrix(conv):
    torch.manual_seed(0)
    layer = conv().double()
    shape = (layer.in_channels, 6) if isinstance(layer, nn.Conv1d) else (layer.in_channels, 6, 6)
    model = nn.Sequential(layer, nn.ReLU(), nn.Flatten())
    norms = layer_spectral_norms(model, torch.zeros(2, *shape, dtype=torch.float64), tol=1e-14,
                                 max_iter=5000)
    assert list(norms) == ["0"]
    assert norms["0"] == pytest.approx(_exact(_dense(layer, shape)), rel=1e-6)


def test_convolution_needs_an_example_input():
    with pytest.raises(ValueError, match="example_input"):
        layer_spectral_norms(nn.Sequential(nn.Conv2d(1, 1, 3)))


def _random_pairs(n, d, seed):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    return x, x + torch.randn(n, d, generator=g, dtype=torch.float64) * torch.rand(
        n, 1, generator=g, dtype=torch.float64)


def test_bound_is_the_product_of_matrix_norms_and_lies_above_slopes():
    model = MLP(4, [32, 32, 32], 2, seed=3).double()
    result = lipschitz_bound(model, tol=1e-12, max_iter=5000)
    assert isinstance(result, LipschitzBound)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    exact = torch.tensor([_exact(m.weight) for m in linears]).prod().item()
    assert list(result.norms) == ["1", "3", "5", "7"]
    assert result.bound == pytest.approx(exact, rel=1e-6)
    x, x2 = _random_pairs(2000, 4, seed=4)
    with torch.no_grad():
        slopes = (model(x) - model(x2)).norm(dim=1) / (x - x2).norm(dim=1)  # (n,)
    assert slopes.max() <= result.bound
    assert slopes.max() > 1e-3 * result.bound  # not vacuous: same order as the slopes
    head = MLP(4, [32, 32, 32], 1, seed=3).double()
    x.requires_grad_(True)
    grads = torch.autograd.grad(head(x).sum(), x)[0]  # (n, 4): per-row input gradients
    assert grads.norm(dim=1).max() <= lipschitz_bound(head).bound


def test_bound_is_tight_for_a_linear_model():
    model = nn.Sequential(nn.Linear(5, 3)).double()
    bound = lipschitz_bound(model, tol=1e-14).bound
    _, _, vh = torch.linalg.svd(model[0].weight.detach())
    with torch.no_grad():  # the slope along the top right singular vector is ‖W‖₂
        slope = (model(vh[:1]) - model(torch.zeros(1, 5, dtype=torch.float64))).norm()
    assert bound == pytest.approx(slope.item(), rel=1e-7)


def test_cnn_bound_lies_above_slopes():
    torch.manual_seed(5)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2),
                          nn.ReLU(), nn.Flatten(), nn.Linear(4 * 3 * 3, 2)).double()
    x = torch.randn(300, 1, 8, 8, dtype=torch.float64)
    x2 = x + 0.1 * torch.randn_like(x)
    bound = lipschitz_bound(model, x[:1]).bound
    with torch.no_grad():
        slopes = (model(x) - model(x2)).norm(dim=1) / (x - x2).flatten(1).norm(dim=1)
    assert slopes.max() <= bound


def test_unsupported_modules_are_refused():
    with pytest.raises(ValueError, match="BatchNorm1d"):
        lipschitz_bound(MLP(3, [4], 1, batch_norm=True))
    with pytest.raises(ValueError, match="GELU"):
        lipschitz_bound(MLP(3, [4], 1, activation=nn.GELU))


def test_spectral_norm_parametrization_is_read_without_updating_it():
    model = MLP(3, [8], 2, seed=0).train()
    torch.nn.utils.parametrizations.spectral_norm(model[1])
    state = {k: v.clone() for k, v in model.state_dict().items()}
    norms = layer_spectral_norms(model, tol=1e-12)
    assert all(torch.equal(v, state[k]) for k, v in model.state_dict().items())
    assert model.training and model[1].training
    model.eval()  # read W / σ̂ with the same, frozen power-iteration vectors
    assert norms["1"] == pytest.approx(_exact(model[1].weight.detach()), rel=1e-6)
