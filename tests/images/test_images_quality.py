"""PSNR / SSIM wrappers (genlab.measures.image_quality) against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from genlab.measures.image_quality import psnr, psnr_y, ssim


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
