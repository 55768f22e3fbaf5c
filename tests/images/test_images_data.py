"""Image loading, crops, resizing and the DIP corruptions (genlab.data.images)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genlab.data.images import (add_gaussian_noise, center_crop, downsample, downsample_kernel,
                                load_image, random_crop, random_pixel_mask, resize, text_mask,
                                textured_crops)


def test_bundled_image_rgb_and_gray():
    x = load_image("astronaut")
    assert x.shape == (3, 512, 512) and x.dtype == torch.float32
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    g = load_image("astronaut", mode="gray")
    assert g.shape == (1, 512, 512)
    cam = load_image("camera")  # gray picture replicated to RGB
    assert torch.equal(cam[0], cam[1]) and torch.equal(cam[1], cam[2])


def test_file_roundtrip_is_exact(tmp_path):
    import skimage.io

    rng = np.random.default_rng(0)
    arr = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
    skimage.io.imsave(tmp_path / "img.png", arr, check_contrast=False)
    x = load_image(tmp_path / "img.png")
    np.testing.assert_allclose(x.numpy().transpose(1, 2, 0), arr / 255.0, atol=1e-7)
    assert load_image(str(tmp_path / "img.png"), mode="keep").shape == (3, 40, 50)


def test_load_errors(tmp_path):
    import skimage.io

    with pytest.raises(FileNotFoundError, match="bundled"):
        load_image(tmp_path / "missing.png")
    (tmp_path / "junk.png").write_bytes(b"not an image at all")
    with pytest.raises(ValueError, match="cannot read"):
        load_image(tmp_path / "junk.png")
    skimage.io.imsave(tmp_path / "tiny.png", np.zeros((8, 8), np.uint8), check_contrast=False)
    with pytest.raises(ValueError, match="at least"):
        load_image(tmp_path / "tiny.png")
    with pytest.raises(ValueError, match="mode"):
        load_image("camera", mode="cmyk")
    skimage.io.imsave(tmp_path / "stack.tif", np.zeros((3, 20, 20, 3), np.uint8),
                      check_contrast=False)
    with pytest.raises(ValueError, match="shape"):
        load_image(tmp_path / "stack.tif")


def test_crops():
    x = torch.arange(2 * 6 * 8, dtype=torch.float32).reshape(2, 6, 8)
    assert torch.equal(center_crop(x, (2, 4)), x[:, 2:4, 2:6])
    g = lambda: torch.Generator().manual_seed(3)
    a, b = random_crop(x, 3, g()), random_crop(x, 3, g())
    assert torch.equal(a, b) and a.shape == (2, 3, 3)
    top, left = divmod(int(a[0, 0, 0]), 8)
    assert torch.equal(a, x[:, top:top + 3, left:left + 3])
    with pytest.raises(ValueError, match="crop size"):
        center_crop(x, 7)


def test_resize_shorter_side_and_constant():
    x = torch.full((3, 40, 60), 0.3)
    y = resize(x, 20)
    assert y.shape == (3, 20, 30)
    torch.testing.assert_close(y, torch.full_like(y, 0.3))


def test_gaussian_noise_statistics_and_seed():
    x = torch.full((3, 128, 128), 0.5)
    g = lambda: torch.Generator().manual_seed(1)
    a = add_gaussian_noise(x, 25 / 255, generator=g(), clip=False)
    assert torch.equal(a, add_gaussian_noise(x, 25 / 255, generator=g(), clip=False))
    assert abs(float((a - x).std()) - 25 / 255) < 0.02 * 25 / 255  # n = 49,152 samples
    c = add_gaussian_noise(torch.zeros(3, 16, 16), 0.5, generator=g())
    assert float(c.min()) >= 0.0 and float(c.max()) <= 1.0


def test_pixel_mask_fraction():
    m = random_pixel_mask(256, 256, 0.5, generator=torch.Generator().manual_seed(0))
    assert m.shape == (1, 256, 256) and set(m.unique().tolist()) <= {0.0, 1.0}
    assert abs(float(m.mean()) - 0.5) < 0.01  # 65,536 Bernoulli(0.5): std 0.002
    with pytest.raises(ValueError):
        random_pixel_mask(4, 4, 1.0, generator=torch.Generator())


def test_text_mask_is_binary_and_partial():
    m = text_mask(64, 96)
    assert m.shape == (1, 64, 96) and set(m.unique().tolist()) == {0.0, 1.0}
    assert 0.05 < 1 - float(m.mean()) < 0.5
    assert torch.equal(m, text_mask(64, 96))


def test_box_downsample_is_block_mean():
    x = torch.rand(2, 3, 12, 16, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    want = x.numpy().reshape(2, 3, 3, 4, 4, 4).mean(axis=(3, 5))
    np.testing.assert_allclose(downsample(x, 4, "box").numpy(), want, rtol=1e-12)


def test_lanczos_kernel_matches_numpy_sinc():
    f, a = 4, 3
    k = downsample_kernel(f, "lanczos", a).numpy()
    t = (np.arange(2 * a * f) - (2 * a * f - 1) / 2) / f
    w = np.sinc(t) * np.sinc(t / a)
    np.testing.assert_allclose(k, w / w.sum(), rtol=1e-12)
    np.testing.assert_allclose(k, k[::-1])


def test_lanczos_downsample_antialiases_and_keeps_constants():
    const = torch.full((1, 3, 64, 64), 0.7, dtype=torch.float64)
    torch.testing.assert_close(downsample(const, 4), torch.full((1, 3, 16, 16), 0.7,
                                                               dtype=torch.float64))
    cols = torch.arange(64, dtype=torch.float64)
    stripes = (0.5 + 0.5 * torch.cos(2 * torch.pi * 0.3 * cols)).expand(1, 1, 64, 64)
    low = downsample(stripes, 4)[..., 4:-4, 4:-4]  # 0.3 cycles/px: far above the new Nyquist
    naive = stripes[..., ::4, ::4]
    assert float((low - 0.5).abs().max()) < 0.05 < float((naive - 0.5).abs().max())
    x = torch.rand(1, 1, 16, 16, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: downsample(v, 2), (x,))
    with pytest.raises(ValueError, match="multiple"):
        downsample(torch.zeros(3, 10, 10), 4)


def test_textured_crops_are_seeded_and_not_flat():
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    a = textured_crops(["astronaut", "moon"], 6, 32, scale=64, generator=g(), mode="gray")
    b = textured_crops(["astronaut", "moon"], 6, 32, scale=64, generator=g(), mode="gray")
    assert a.shape == (6, 1, 32, 32) and torch.equal(a, b)
    assert float(a.flatten(1).std(1).min()) >= 0.05  # moon's black sky is redrawn
    assert 0 <= float(a.min()) and float(a.max()) <= 1
    pic = center_crop(resize(load_image("astronaut", mode="gray"), 64), 64)
    windows = pic.unfold(1, 32, 1).unfold(2, 32, 1)  # (1, 33, 33, 32, 32): every crop
    assert (windows == a[0][:, None, None]).flatten(-2).all(-1).any()  # crop 0 is one of them
