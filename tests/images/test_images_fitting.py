"""DIP fitting, ES-WMV, impedance, the inversion objective and the skimage baselines."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genlab.experiments._images import baselines, dip_tasks
from genlab.experiments._images.dip import EsWmv, fit_dip, iterations_to_reach
from genlab.experiments.base import check
from genlab.experiments._images.invert import (InversionSettings, alpha_norm, reconstruct,
                                               total_variation)
from genlab.measures.image_quality import psnr
from genlab.models.skip import SkipNet, noise_input
from genlab.models.vgg import VGG16


def test_es_wmv_variance_and_stop():
    rng = np.random.default_rng(0)
    outs = [torch.tensor(rng.random((1, 2, 3, 3))) for _ in range(6)]
    es = EsWmv(window=3, patience=2)
    vals = [es.update(t, o) for t, o in enumerate(outs)]
    assert vals[:2] == [None, None]
    for t in range(2, 6):
        window = np.stack([o.numpy() for o in outs[t - 2:t + 1]])
        assert vals[t] == pytest.approx(window.var(axis=0).mean(), rel=1e-12)
    es = EsWmv(window=2, patience=2)
    for t, v in enumerate([0.0, 1.0, 1.0, 1.0, 1.0, 0.0]):  # variance falls, then rises
        es.update(t, torch.full((1, 1, 2, 2), v))
    assert es.best_iter == 2 and es.stop_iter == 4  # pick frozen after the stop


def _tiny(seed=0):
    net = SkipNet(4, 3, channels=4, levels=2, skip_channels=2, seed=seed)
    z = noise_input(4, 16, 16, generator=torch.Generator().manual_seed(seed))
    return net, z


def test_fit_dip_reduces_loss_and_is_deterministic():
    target = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(9))
    runs = []
    for _ in range(2):
        net, z = _tiny()
        runs.append(fit_dip(net, z, target, iterations=40, lr=0.01,
                            score=lambda o: psnr(target[0], o[0]),
                            generator=torch.Generator().manual_seed(1), es_window=5,
                            es_patience=100, snapshots=(10,)))
    a, b = runs
    assert a.loss[-1] < a.loss[0] and len(a.iters) == 40
    assert torch.equal(a.final, b.final) and a.score == b.score
    assert a.best[1] == max(a.score) and 10 in a.snapshots and a.es is not None


def test_fit_dip_ignores_masked_pixels():
    g = torch.Generator().manual_seed(2)
    t1 = torch.rand(1, 3, 16, 16, generator=g)
    mask = (torch.rand(1, 1, 16, 16, generator=g) > 0.5).float()
    t2 = t1 * mask + (1 - mask) * torch.rand(1, 3, 16, 16, generator=g)  # differs where unknown
    outs = []
    for t in (t1, t2):
        net, z = _tiny()
        outs.append(fit_dip(net, z, t, iterations=5, lr=0.01, mask=mask, jitter=0.0).final)
    torch.testing.assert_close(outs[0], outs[1])


def test_iterations_to_reach():
    net, z = _tiny()
    target = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(3))
    steps, curve = iterations_to_reach(net, z, target, threshold=10.0, max_iterations=60, lr=0.01)
    assert steps == 0 and len(curve) == 50  # checked every 50 steps
    net, z = _tiny()
    steps, curve = iterations_to_reach(net, z, target, threshold=0.0, max_iterations=20, lr=0.01)
    assert steps is None and len(curve) == 20 and np.isfinite(curve).all()


def test_impedance_claims_by_hand():
    imp = {k: {"steps": s} for k, s in
           {"natural": 40, "noisy": 130, "shuffled": 170, "noise": 430}.items()}
    ratio, order = dip_tasks.claims({}, imp, 600, check)
    assert ratio.value == pytest.approx(430 / 40) and order.value == 1.0
    assert "lower bound" not in ratio.detail
    imp["noise"]["steps"], imp["shuffled"]["steps"] = None, 100  # noise not fitted in 600
    ratio, order = dip_tasks.claims({}, imp, 600, check)
    assert ratio.value == pytest.approx(600 / 40) and "lower bound" in ratio.detail
    assert order.value == pytest.approx(2 / 3) and not order.passed  # noisy > shuffled
    assert "noise >600" in order.detail


def test_regularizers_by_hand():
    x = torch.rand(2, 3, 5, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    a = x.numpy()
    dh, dw = a[..., 1:, :-1] - a[..., :-1, :-1], a[..., :-1, 1:] - a[..., :-1, :-1]
    for beta in (1.0, 2.0):
        want = ((dh ** 2 + dw ** 2) ** (beta / 2)).reshape(2, -1).mean(1)
        np.testing.assert_allclose(total_variation(x, beta).numpy(), want, rtol=1e-12)
    want = (np.abs((a - 0.5) / 0.5) ** 6).reshape(2, -1).mean(1)
    np.testing.assert_allclose(alpha_norm(x, 6.0).numpy(), want, rtol=1e-12)


@pytest.mark.parametrize("param", ["pixels", "dip"])
def test_reconstruct_leaves_model_unchanged(param):
    net = VGG16(10, in_channels=1, input_size=32, width=1 / 16, hidden=16, avgpool=None,
                dropout=0.0).eval()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    imgs = torch.rand(2, 1, 32, 32, generator=torch.Generator().manual_seed(5))
    s = InversionSettings(steps=15, parametrization=param)
    rec, err = reconstruct(net, "conv1_2", imgs, s, generator=torch.Generator().manual_seed(0))
    assert rec.shape == imgs.shape and 0 <= float(rec.min()) and float(rec.max()) <= 1
    f0, f1 = net.activations(imgs, "conv1_2"), net.activations(rec, "conv1_2")
    want = ((f1 - f0).flatten(1).norm(dim=1) / f0.flatten(1).norm(dim=1)).detach()
    torch.testing.assert_close(err, want)
    assert all(torch.equal(v, before[k]) for k, v in net.state_dict().items())
    assert all(p.requires_grad for p in net.parameters())


def test_baselines():
    g = torch.Generator().manual_seed(6)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 32), torch.linspace(0, 1, 32), indexing="ij")
    clean = torch.stack([xx, yy, 0.5 * (xx + yy)])  # smooth (3, 32, 32)
    noisy = (clean + 0.1 * torch.randn(clean.shape, generator=g)).clamp(0, 1)
    for name, out in baselines.denoise_baselines(noisy, 0.1).items():
        assert out.shape == clean.shape and psnr(clean, out) > psnr(clean, noisy) + 3, name
    mask = (torch.rand(1, 32, 32, generator=g) > 0.5).float()
    filled = baselines.inpaint_biharmonic(clean * mask, mask)
    assert psnr(clean, filled) > 35  # a linear ramp is biharmonic: filled almost exactly
    up = baselines.bicubic_upsample(torch.full((3, 8, 8), 0.25), 4)
    torch.testing.assert_close(up, torch.full((3, 32, 32), 0.25))
