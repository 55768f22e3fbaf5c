"""Image quality against a reference: PSNR, SSIM, PSNR on the luma channel, identification.

:func:`psnr`, :func:`ssim` and :func:`psnr_y` are thin wrappers over
``skimage.metrics`` that accept (C, H, W) torch tensors or numpy arrays in [0, 1].
:func:`psnr_y` is the super-resolution evaluation of the Deep Image Prior paper
(Ulyanov, Vedaldi & Lempitsky 2018, arXiv:1711.10925) and of most SR work: PSNR on
the ITU-R BT.601 Y channel (``skimage.color.rgb2ycbcr``, Y in [16, 235]) with a
border of ``scale`` pixels cropped.

:func:`identification_accuracy` asks how much of the *specific* input an estimate
keeps: is the estimate closer to its own source than to every other candidate? A
reconstruction that keeps only the class of a digit, or the texture of a photo,
picks a wrong candidate; chance is 1 / (number of candidates).
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["correlations", "identification_accuracy", "nearest_candidates", "psnr", "psnr_y",
           "ssim", "to_hwc"]


def to_hwc(img) -> np.ndarray:
    """A (C, H, W) tensor / array, or an (H, W) one, as a float64 (H, W, C) numpy array."""
    if isinstance(img, torch.Tensor):
        img = img.detach().to("cpu", torch.float64).numpy()
    a = np.asarray(img, dtype=np.float64)
    if a.ndim == 2:
        return a[..., None]
    if a.ndim != 3:
        raise ValueError(f"expected an image shaped (C, H, W) or (H, W), got {a.shape}")
    return np.moveaxis(a, 0, -1)


def _pair(clean, test) -> tuple[np.ndarray, np.ndarray]:
    a, b = to_hwc(clean), to_hwc(test)
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape} (H, W, C)")
    return a, b


def psnr(clean, test, *, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio 10·log10(range² / MSE) in dB (``skimage.metrics``).

    Args:
        clean: reference image, (C, H, W) or (H, W).
        test: the estimate, same shape; not clipped here.
        data_range: the value range (1 for [0, 1] images).

    Returns:
        PSNR in dB (``inf`` for identical images).
    """
    from skimage.metrics import peak_signal_noise_ratio

    a, b = _pair(clean, test)
    with np.errstate(divide="ignore"):  # identical images: inf, not a warning
        return float(peak_signal_noise_ratio(a, b, data_range=data_range))


def ssim(clean, test, *, data_range: float = 1.0) -> float:
    """Structural similarity (Wang et al. 2004) via ``skimage.metrics.structural_similarity``.

    uniform 7×7 windows (skimage's default), averaged over channels; images
    smaller than 7 pixels use the largest odd window that fits.

    Returns:
        Mean SSIM in [-1, 1]; 1 for identical images.
    """
    from skimage.metrics import structural_similarity

    a, b = _pair(clean, test)
    win = min(7, min(a.shape[:2]) - (1 - min(a.shape[:2]) % 2))
    if win < 3:
        raise ValueError(f"image {a.shape[:2]} too small for SSIM (need at least 3×3)")
    return float(structural_similarity(a, b, data_range=data_range, channel_axis=-1,
                                       win_size=win))


def psnr_y(clean, test, *, border: int = 4) -> float:
    """PSNR in dB on the BT.601 luma (Y, range 16–235) with ``border`` pixels cropped per side.

    Args:
        clean: RGB reference, (3, H, W) in [0, 1] (a 1-channel image is used as is, ×255).
        test: the estimate, same shape; clipped to [0, 1] first, like a saved image.
        border: pixels removed on each side (the SR scale factor, by convention).
    """
    from skimage.color import rgb2ycbcr

    a, b = _pair(clean, test)
    b = np.clip(b, 0.0, 1.0)
    if a.shape[-1] == 3:
        a, b = rgb2ycbcr(a)[..., 0], rgb2ycbcr(b)[..., 0]  # (H, W) in [16, 235]
    else:
        a, b = a[..., 0] * 255.0, b[..., 0] * 255.0
    if border:
        if 2 * border >= min(a.shape):
            raise ValueError(f"border {border} leaves nothing of a {a.shape} image")
        a, b = a[border:-border, border:-border], b[border:-border, border:-border]
    return psnr(a, b, data_range=255.0)


def correlations(images: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """Pearson correlation of every image with every candidate, over pixels and channels.

    Each image is centred (its own mean removed) and scaled to unit norm, so the
    score ignores brightness and contrast: a faint or offset reconstruction still
    matches its source. A constant image has correlation 0 with everything.

    Args:
        images: (B, C, H, W) or (B, D).
        candidates: (N, C, H, W) or (N, D), the same number of values per item.

    Returns:
        (B, N) float64 correlations in [-1, 1].
    """
    a, b = images.detach().flatten(1).double(), candidates.detach().flatten(1).double()
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"images have {a.shape[1]} values each, candidates {b.shape[1]}; "
                         "they must match")
    a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)  # (B, D), (N, D)
    a = a / a.norm(dim=1, keepdim=True).clamp_min(1e-12)
    b = b / b.norm(dim=1, keepdim=True).clamp_min(1e-12)
    return a @ b.T  # (B, N)


def nearest_candidates(images: torch.Tensor, candidates: torch.Tensor) -> torch.Tensor:
    """Index of the most correlated candidate of each image (:func:`correlations`), (B,) int64."""
    return correlations(images, candidates).argmax(1)


def identification_accuracy(images: torch.Tensor, candidates: torch.Tensor,
                            sources: torch.Tensor | list[int]) -> float:
    """Fraction of images whose nearest candidate (highest correlation) is their own source.

    Args:
        images: estimates (B, C, H, W), e.g. reconstructions from a layer's features.
        candidates: (N, C, H, W), the originals of the estimates among N − B others.
        sources: (B,) index into ``candidates`` of each image's own source.

    Returns:
        The accuracy in [0, 1]; chance is 1/N. With the originals themselves as
        ``images`` it is 1 (unless two candidates are identical up to brightness
        and contrast).
    """
    sources = torch.as_tensor(sources, dtype=torch.int64)
    if sources.shape != (len(images),) or bool((sources < 0).any()) \
            or bool((sources >= len(candidates)).any()):
        raise ValueError(f"sources must be {len(images)} indices into the {len(candidates)} "
                         f"candidates; got shape {tuple(sources.shape)}")
    return float((nearest_candidates(images, candidates).cpu() == sources).double().mean())
