"""Input reconstruction (genlab.images.reconstruct) against exact answers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from genlab.images import (Regularizer, alpha_norm, layer_features, leaky_relu_gradients,
                           reconstruct, reconstruct_dip, total_variation)
from genlab.models import VGG16, VGG16_LAYERS
from genlab.train import OptimizerConfig


class _Tripwire(nn.Module):
    def forward(self, x):
        raise AssertionError("the forward pass went past the hooked layer")


def test_layer_features_stops_at_the_layer_and_restores_the_mode():
    net = nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.5), _Tripwire()).train()
    x = torch.rand(5, 4)
    f = layer_features(net, "1")
    torch.testing.assert_close(f(x), net[0](x))  # eval mode: dropout is the identity
    assert net.training
    with pytest.raises(ValueError, match="no submodule"):
        layer_features(net, "7")


def test_layer_features_match_vgg_prefixes():
    net = VGG16(10, in_channels=1, input_size=32, width=1 / 16, hidden=16, avgpool=2,
                dropout=0.5, mean=(0.5,), std=(0.25,))
    x = torch.rand(3, 1, 32, 32)
    h = (x - 0.5) / 0.25
    torch.testing.assert_close(layer_features(net, VGG16_LAYERS["fc8"])(x), net.eval()(x))
    for layer, name in VGG16_LAYERS.items():
        if name.startswith("features."):
            want = net.features[:int(name.split(".")[1]) + 1](h)
            torch.testing.assert_close(layer_features(net, name)(x), want)
    assert layer_features(net, VGG16_LAYERS["pool5"])(x).shape == (3, 32, 1, 1)
    assert layer_features(net, VGG16_LAYERS["fc7"])(x).shape == (3, 16)


def _tv_matrix(h, w):
    """Rows: the forward differences of total_variation (β = 2) on an h×w image."""
    rows = []
    for i in range(h - 1):
        for j in range(w - 1):
            for di, dj in ((1, 0), (0, 1)):
                r = np.zeros(h * w)
                r[(i + di) * w + j + dj], r[i * w + j] = 1, -1
                rows.append(r)
    return np.array(rows)


def test_reconstruction_of_a_linear_map_is_the_least_squares_solution():
    g = torch.Generator().manual_seed(0)
    h = w = 4
    A = torch.randn(6, h * w, generator=g, dtype=torch.float64)  # Φ(x) = A x: 6 values of 16
    x0 = torch.rand(2, 1, h, w, generator=g, dtype=torch.float64)
    net = nn.Sequential(nn.Flatten(), nn.Linear(h * w, 6, bias=False, dtype=torch.float64))
    net[1].weight.data.copy_(A)
    lam = 0.5  # condition number ≈ 240: momentum SGD converges to 1e-12 in ~1,000 steps
    # exact minimizer of ‖Ax − Ax₀‖²/‖Ax₀‖² + λ·mean((∂x)²), per image, from the normal equations
    D, m = _tv_matrix(h, w), (h - 1) * (w - 1)
    An = A.numpy()
    want = []
    for img in x0.reshape(2, -1).numpy():
        n0 = np.sum((An @ img) ** 2)
        M = An.T @ An / n0 + lam * D.T @ D / m
        want.append(np.linalg.solve(M, An.T @ An @ img / n0))
    L = 2 * max(np.linalg.eigvalsh(An.T @ An / np.sum((An @ x) ** 2) + lam * D.T @ D / m)[-1]
                for x in x0.reshape(2, -1).numpy())
    rec = reconstruct(layer_features(net, "1"), x0, generator=g, steps=1200, clip=False,
                      optimizer=OptimizerConfig(name="momentum", lr=1 / L, momentum=0.9),
                      regularizer=Regularizer(lam, 2.0, 0.0))
    np.testing.assert_allclose(rec.images.reshape(2, -1).numpy(), np.array(want), atol=1e-9)
    assert all(p.grad is None for p in net.parameters())


def test_injective_features_recover_the_input():
    g = torch.Generator().manual_seed(1)
    net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, dtype=torch.float64))
    x0 = torch.rand(3, 1, 6, 6, generator=g, dtype=torch.float64)
    rec = reconstruct(layer_features(net, "0"), x0, generator=g, steps=400,
                      optimizer=OptimizerConfig(lr=0.05, schedule="cosine"),
                      regularizer=Regularizer(0.0, alpha_weight=0.0))
    assert float((rec.images - x0).abs().max()) < 1e-3
    assert float(rec.feature_error.max()) < 1e-3


def test_regularizers_by_hand():
    x = torch.rand(2, 3, 5, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    a = x.numpy()
    dh, dw = a[..., 1:, :-1] - a[..., :-1, :-1], a[..., :-1, 1:] - a[..., :-1, :-1]
    for beta in (1.0, 2.0):
        want = ((dh ** 2 + dw ** 2) ** (beta / 2)).reshape(2, -1).mean(1)
        np.testing.assert_allclose(total_variation(x, beta).numpy(), want, rtol=1e-12)
    want = (np.abs((a - 0.5) / 0.5) ** 6).reshape(2, -1).mean(1)
    np.testing.assert_allclose(alpha_norm(x, 6.0).numpy(), want, rtol=1e-12)
    reg = Regularizer(0.3, 2.0, 0.01, 6.0)(x)
    torch.testing.assert_close(reg, 0.3 * total_variation(x) + 0.01 * alpha_norm(x))


@pytest.mark.parametrize("dip", [False, True])
def test_reconstruct_leaves_the_model_unchanged(dip):
    net = VGG16(10, in_channels=1, input_size=32, width=1 / 16, hidden=16, avgpool=None,
                dropout=0.0).train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    imgs = torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(5))
    f = layer_features(net, VGG16_LAYERS["conv1_2"])
    run = reconstruct_dip if dip else reconstruct
    rec = run(f, imgs, steps=15, generator=torch.Generator().manual_seed(0))
    assert rec.images.shape == imgs.shape and 0 <= float(rec.images.min()) <= 1
    assert float(rec.images.max()) <= 1
    f0, f1 = f(imgs), f(rec.images)
    want = ((f1 - f0).flatten(1).norm(dim=1) / f0.flatten(1).norm(dim=1)).detach()
    torch.testing.assert_close(rec.feature_error, want)
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())
    assert all(p.grad is None and p.requires_grad for p in net.parameters()) and net.training
    again = run(f, imgs, steps=15, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again.images, rec.images)


def test_leaky_relu_gradients_change_backward_only():
    net = nn.Sequential(nn.Linear(3, 4), nn.ReLU(inplace=True), nn.Linear(4, 2))
    x = torch.tensor([[1.0, -2.0, 0.5], [-1.0, 0.3, 2.0]], requires_grad=True)  # (2, 3)
    plain = net(x)
    with leaky_relu_gradients(net, 0.3):
        leaky = net(x)
        g, = torch.autograd.grad(leaky.sum(), x)
    assert torch.equal(plain, leaky)
    # independent answer: the same net with an explicit leaky ReLU in the backward pass
    pre = net[0](x)  # (2, 4)
    slope = torch.where(pre > 0, 1.0, 0.3)
    expected = (net[2].weight.sum(0) * slope) @ net[0].weight  # (2, 3)
    assert torch.allclose(g, expected, atol=1e-6)
    assert net[1].inplace and not net[1]._forward_hooks  # restored
    with leaky_relu_gradients(net, 0.0):
        g0, = torch.autograd.grad(net(x).sum(), x)
    slope0 = (pre > 0).float()
    assert torch.allclose(g0, (net[2].weight.sum(0) * slope0) @ net[0].weight, atol=1e-6)
