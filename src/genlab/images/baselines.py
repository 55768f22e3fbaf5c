"""Classical restorations from scikit-image, the baselines beside Deep Image Prior.

Denoising: total variation (Chambolle 2004), wavelet BayesShrink (Chang, Yu &
Vetterli 2000) and non-local means (Buades, Coll & Morel 2005); inpainting:
biharmonic (Damelin & Hoang 2018); super-resolution: bicubic interpolation.
Every function takes and returns (C, H, W) float tensors in [0, 1] on the CPU.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import torch
from torch import Tensor

__all__ = ["bicubic_upsample", "denoise_baselines", "inpaint_biharmonic"]


def _hwc(img: Tensor) -> np.ndarray:
    return img.detach().cpu().double().numpy().transpose(1, 2, 0)  # (H, W, C)


def _chw(a: np.ndarray) -> Tensor:
    if a.ndim == 2:
        a = a[..., None]
    return torch.from_numpy(np.clip(a, 0, 1).transpose(2, 0, 1).astype(np.float32).copy())


def denoise_baselines(noisy: Tensor, sigma: float) -> dict[str, Tensor]:
    """TV, wavelet and NL-means denoisings of ``noisy`` given the noise std ``sigma``.

    Parameters are fixed rules, not tuned on the clean image: TV weight = σ;
    wavelet BayesShrink with σ (only when PyWavelets is installed); NL-means with
    h = 0.8σ, 5×5 patches, 13×13 search.
    """
    from skimage.restoration import denoise_nl_means, denoise_tv_chambolle, denoise_wavelet

    x = _hwc(noisy)
    out = {"tv": _chw(denoise_tv_chambolle(x, weight=sigma, channel_axis=-1))}
    if importlib.util.find_spec("pywt") is not None:  # PyWavelets is optional in skimage
        out["wavelet"] = _chw(denoise_wavelet(x, sigma=sigma, channel_axis=-1,
                                              method="BayesShrink", mode="soft",
                                              rescale_sigma=True))
    out["nl_means"] = _chw(denoise_nl_means(x, h=0.8 * sigma, sigma=sigma, patch_size=5,
                                            patch_distance=6, fast_mode=True, channel_axis=-1))
    return out


def inpaint_biharmonic(img: Tensor, mask: Tensor) -> Tensor:
    """Fill the unknown pixels (``mask == 0``; mask (1, H, W)) by biharmonic inpainting."""
    from skimage.restoration import inpaint_biharmonic as _biharmonic

    holes = mask[0].cpu().numpy() < 0.5  # (H, W) True where unknown
    return _chw(_biharmonic(_hwc(img), holes, channel_axis=-1))


def bicubic_upsample(low: Tensor, factor: int) -> Tensor:
    """Bicubic (order-3 spline) upsampling of a (C, h, w) image by ``factor``, anti-aliasing off."""
    from skimage.transform import rescale

    return _chw(rescale(_hwc(low), factor, order=3, channel_axis=-1, anti_aliasing=False,
                        mode="reflect"))
