"""DIP fitting (genlab.images.dip): the loop against hand-computed SGD steps, ES-WMV, impedance."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from genlab.images import DipRecorder, EsWmv, fit_dip, psnr, steps_to_fit
from genlab.models import SkipNet, noise_input
from genlab.train import OptimizerConfig


class _Image(nn.Module):
    """A "generator" that ignores its code: the output is a free (1, C, H, W) parameter."""

    def __init__(self, init: torch.Tensor):
        super().__init__()
        self.x = nn.Parameter(init.clone())

    def forward(self, z):
        return self.x + 0 * z.sum()


def test_fit_dip_takes_exact_sgd_steps_with_mask_and_degradation():
    g = torch.Generator().manual_seed(0)
    x0 = torch.rand(1, 2, 4, 4, dtype=torch.float64, generator=g)
    target = torch.rand(1, 2, 2, 2, dtype=torch.float64, generator=g)
    mask = (torch.rand(1, 1, 2, 2, generator=g) > 0.5).double()
    pool = lambda o: nn.functional.avg_pool2d(o, 2)
    net, lr, steps = _Image(x0), 0.3, 3
    out, avg = fit_dip(net, torch.zeros(1, 1, 4, 4, dtype=torch.float64), target, steps=steps,
                       optimizer=OptimizerConfig(name="sgd", lr=lr), mask=mask, degrade=pool,
                       jitter=0.0, ema=0.5)
    x, n, avg_ref = x0.numpy().copy(), target.numel(), None
    for _ in range(steps):  # the gradient of mean((m ⊙ (pool(x) − t))²), by hand
        pooled = x.reshape(1, 2, 2, 2, 2, 2).mean(axis=(3, 5))
        r = 2 * mask.numpy() ** 2 * (pooled - target.numpy()) / n  # (1, 2, 2, 2)
        out_ref = x.copy()
        avg_ref = out_ref if avg_ref is None else 0.5 * avg_ref + 0.5 * out_ref
        x = x - lr * np.repeat(np.repeat(r, 2, axis=2), 2, axis=3) / 4
    np.testing.assert_allclose(net.x.detach().numpy(), x, rtol=1e-12)
    np.testing.assert_allclose(out.numpy(), out_ref, rtol=1e-12)  # the output before the last step
    np.testing.assert_allclose(avg.numpy(), avg_ref, rtol=1e-12)


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
    with pytest.raises(ValueError, match="window"):
        EsWmv(1, 5)


def _tiny(seed=0):
    net = SkipNet(4, 3, channels=4, levels=2, skip_channels=2, seed=seed)
    z = noise_input(4, 16, 16, generator=torch.Generator().manual_seed(seed))
    return net, z


def test_recorder_is_deterministic_and_keeps_the_best():
    target = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(9))
    runs = []
    for _ in range(2):
        net, z = _tiny()
        rec = DipRecorder(lambda o: psnr(target[0], o[0]), snapshots=(10,),
                          early_stop=EsWmv(5, 100))
        out, _ = fit_dip(net, z, target, steps=40, generator=torch.Generator().manual_seed(1),
                         callback=rec)
        runs.append((rec, out))
    (a, out_a), (b, out_b) = runs
    assert a.loss[-1] < a.loss[0] and a.steps == list(range(1, 41))
    assert torch.equal(out_a, out_b) and a.score == b.score
    assert a.best[1] == max(a.score) and 10 in a.snapshots
    assert a.early_stop_pick() is not None and np.isnan(a.wmv[:4]).all()
    assert a.score[-1] == pytest.approx(psnr(target[0], out_a[0]))


def test_steps_to_fit():
    net, z = _tiny()
    target = torch.rand(1, 3, 16, 16, generator=torch.Generator().manual_seed(3))
    steps, curve = steps_to_fit(net, z, target, threshold=10.0, max_steps=60)
    assert steps == 0 and len(curve) == 50  # checked every 50 steps
    net, z = _tiny()
    steps, curve = steps_to_fit(net, z, target, threshold=0.0, max_steps=20)
    assert steps is None and len(curve) == 20 and np.isfinite(curve).all()
    net, z = _tiny()
    with torch.no_grad():
        first = float(((net.train()(z) - target) ** 2).mean())
    assert curve[0] == pytest.approx(first, rel=1e-6)  # curve[0]: the MSE before any update
