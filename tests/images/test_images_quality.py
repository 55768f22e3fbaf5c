"""Image quality (genlab.images.quality): PSNR / SSIM against hand-computed values, identification."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from genlab.images import (correlations, identification_accuracy, nearest_candidates, psnr,
                           psnr_y, ssim)


def _pair(seed=0, shape=(3, 24, 20)):
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(shape, generator=g, dtype=torch.float64)
    return a, (a + 0.05 * torch.randn(shape, generator=g, dtype=torch.float64)).clamp(0, 1)


def test_psnr_matches_formula():
    a, b = _pair()
    mse = float(((a - b) ** 2).mean())
    assert psnr(a, b) == pytest.approx(10 * math.log10(1 / mse), rel=1e-12)
    assert psnr(a.numpy(), b.numpy()) == pytest.approx(psnr(a, b))
    assert psnr(a, a) == math.inf


def test_ssim_identity_symmetry_and_skimage():
    from skimage.metrics import structural_similarity

    a, b = _pair(1, (1, 32, 32))
    assert ssim(a, a) == pytest.approx(1.0)
    assert ssim(a, b) == pytest.approx(ssim(b, a))
    want = structural_similarity(a[0].numpy(), b[0].numpy(), data_range=1.0)
    assert ssim(a, b) == pytest.approx(want, rel=1e-12)
    assert ssim(a, b) < 1.0


def test_psnr_y_matches_bt601_by_hand():
    a, b = _pair(2, (3, 20, 20))
    coef = np.array([65.481, 128.553, 24.966])
    ya = 16 + np.tensordot(coef, a.numpy(), axes=1)  # (H, W), BT.601 on [0, 1] inputs
    yb = 16 + np.tensordot(coef, b.numpy(), axes=1)
    crop = (slice(3, -3), slice(3, -3))
    mse = np.mean((ya[crop] - yb[crop]) ** 2)
    assert psnr_y(a, b, border=3) == pytest.approx(10 * math.log10(255 ** 2 / mse), rel=1e-9)


def test_errors():
    a, _ = _pair()
    with pytest.raises(ValueError, match="shape"):
        psnr(a, a[:, :10])
    with pytest.raises(ValueError, match="border"):
        psnr_y(a, a, border=12)


def test_correlations_match_numpy_corrcoef():
    g = torch.Generator().manual_seed(3)
    a, b = torch.rand(4, 2, 5, 5, generator=g), torch.rand(6, 2, 5, 5, generator=g)
    full = np.corrcoef(np.concatenate([a.flatten(1).numpy(), b.flatten(1).numpy()]))
    np.testing.assert_allclose(correlations(a, b).numpy(), full[:4, 4:], rtol=1e-6, atol=1e-9)


def test_identification_ignores_brightness_and_contrast():
    g = torch.Generator().manual_seed(4)
    cands = torch.rand(64, 1, 8, 8, generator=g)  # (N, C, H, W)
    sources = torch.tensor([5, 17, 63, 0])
    faint = 0.2 + 0.1 * cands[sources]  # an affine copy correlates exactly 1 with its source
    assert torch.equal(nearest_candidates(faint, cands), sources)
    assert identification_accuracy(faint, cands, sources) == 1.0
    assert identification_accuracy(faint, cands, [5, 17, 62, 1]) == 0.5
    negative = 1 - cands[sources]  # anti-correlated with its source: never picks it
    assert identification_accuracy(negative, cands, sources) == 0.0


def test_identification_by_hand():
    cands = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # (3, 3)
    est = torch.tensor([[0.1, 0.9, 0.2], [0.3, 0.2, 0.9]])  # closest to 0 and to 2
    assert nearest_candidates(est, cands).tolist() == [0, 2]
    assert identification_accuracy(est, cands, [0, 1]) == 0.5
    with pytest.raises(ValueError, match="sources"):
        identification_accuracy(est, cands, [0, 3])
    with pytest.raises(ValueError, match="values each"):
        correlations(est, cands[:, :2])
