"""Smoke run of the layer-wise inversion experiment (quick profile) and its config checks."""

from __future__ import annotations

import math

import pytest

from genlab.errors import GenlabError
from genlab.experiments import get, resolve_config, run_experiment



def test_quick_run_is_complete_and_claims_are_measured(tmp_path, check_claims):
    exp = get("inversion")
    cfg = resolve_config(exp, "quick", {"layers": '["conv1_2", "conv3_3", "fc8"]',
                                        "n_images": 2, "steps": 60, "train_epochs": 0.5})
    record = run_experiment(exp, cfg, tmp_path)
    assert record.status == "ok"
    for f in ("config.json", "metrics.jsonl", "result.json", "provenance.json", "data.json",
              "arrays.npz", "weights/trained.pt"):
        assert (record.dir / f).is_file()
    assert {p.stem for p in record.figures} == {"grid_trained", "grid_random", "quality"}
    claims = record.result["claims"]
    assert [c["name"] for c in claims] == ["most_layers_keep_input", "drop_only_near_top",
                                           "random_net_keeps_input"]
    check_claims(record)
    rows = record.data["rows"]["trained"]
    ok = [r["ssim"] >= cfg.ssim_threshold for r in rows]
    assert claims[0]["value"] == pytest.approx(sum(ok) / 3)
    assert record.arrays["recs_random"].shape == (3, 2, 1, 32, 32)
    assert all(math.isfinite(r["feature_rel_error"]) for r in rows)


def test_bad_config_and_missing_weights(tmp_path):
    exp = get("inversion")
    with pytest.raises(GenlabError, match="unknown layers"):
        resolve_config(exp, "quick", {"layers": '["conv1_1", "conv9_9"]'})
    cfg = resolve_config(exp, "quick", {"weights": str(tmp_path / "vgg16.pt")})
    with pytest.raises(GenlabError, match="no VGG16 weights file"):
        run_experiment(exp, cfg, tmp_path)


def test_leaky_relu_gradients_change_backward_only():
    import torch
    from torch import nn

    from genlab.experiments._images.invert import leaky_relu_gradients

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
    expected = ((net[2].weight.sum(0) * slope) @ net[0].weight)  # (2, 3)
    assert torch.allclose(g, expected, atol=1e-6)
    assert net[1].inplace and not net[1]._forward_hooks  # restored
    with leaky_relu_gradients(net, 0.0):
        g0, = torch.autograd.grad(net(x).sum(), x)
    slope0 = (pre > 0).float()
    assert torch.allclose(g0, (net[2].weight.sum(0) * slope0) @ net[0].weight, atol=1e-6)
