"""The scikit-image baselines beside DIP (genlab.images.baselines)."""

from __future__ import annotations

import torch

from genlab.images import bicubic_upsample, denoise_baselines, inpaint_biharmonic, psnr


def test_baselines():
    g = torch.Generator().manual_seed(6)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 32), torch.linspace(0, 1, 32), indexing="ij")
    clean = torch.stack([xx, yy, 0.5 * (xx + yy)])  # smooth (3, 32, 32)
    noisy = (clean + 0.1 * torch.randn(clean.shape, generator=g)).clamp(0, 1)
    for name, out in denoise_baselines(noisy, 0.1).items():
        assert out.shape == clean.shape and psnr(clean, out) > psnr(clean, noisy) + 3, name
    mask = (torch.rand(1, 32, 32, generator=g) > 0.5).float()
    filled = inpaint_biharmonic(clean * mask, mask)
    assert psnr(clean, filled) > 35  # a linear ramp is biharmonic: filled almost exactly
    up = bicubic_upsample(torch.full((3, 8, 8), 0.25), 4)
    torch.testing.assert_close(up, torch.full((3, 32, 32), 0.25))
