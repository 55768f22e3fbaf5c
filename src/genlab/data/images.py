"""Single images for Deep Image Prior and inversion: loading, crops, resizing, corruptions.

Images are float32 tensors shaped (C, H, W) with values in [0, 1]; C is 3 (RGB) or
1 (gray). They come from the pictures bundled in scikit-image (``skimage.data``,
no network) or from any image file. The corruptions follow Ulyanov, Vedaldi &
Lempitsky, "Deep Image Prior" (CVPR 2018 / IJCV 2020): additive Gaussian noise
(σ = 25/255), a random 50% pixel mask, a text mask, and 4× downsampling with an
anti-aliasing Lanczos filter (the paper's downsampler).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["BUNDLED_IMAGES", "add_gaussian_noise", "center_crop", "downsample",
           "downsample_kernel", "load_image", "random_crop", "random_pixel_mask", "resize",
           "text_mask", "textured_crops"]

#: Pictures shipped inside scikit-image (``skimage.data.<name>()``), usable offline.
BUNDLED_IMAGES = ("astronaut", "camera", "coffee", "chelsea", "coins", "moon", "page", "text",
                  "rocket", "brick", "grass", "gravel", "hubble_deep_field",
                  "immunohistochemistry", "retina", "logo", "colorwheel", "horse", "cell")
MODES = ("rgb", "gray", "keep")


def _read(source: str | os.PathLike) -> np.ndarray:
    """The raw array of a bundled picture or an image file."""
    if isinstance(source, str) and source in BUNDLED_IMAGES:
        import skimage.data

        return np.asarray(getattr(skimage.data, source)())
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"no image file {str(path)!r} and no bundled image of that "
                                f"name; bundled: {', '.join(BUNDLED_IMAGES)}")
    import skimage.io

    try:
        return np.asarray(skimage.io.imread(path))
    except Exception as e:  # any decoder error: the file is not a readable image
        raise ValueError(f"cannot read image file {str(path)!r}: {type(e).__name__}: {e}") from None


def _to_float(array: np.ndarray, name: str) -> np.ndarray:
    """uint/bool/float (H, W[, C]) -> float32 (H, W, C) in [0, 1]; C in {1, 3}."""
    from skimage.util import img_as_float32

    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3 or array.shape[-1] not in (1, 2, 3, 4):
        raise ValueError(f"image {name!r} has shape {array.shape}; expected (H, W) gray or "
                         "(H, W, C) with C in 1 (gray), 2 (gray+alpha), 3 (RGB), 4 (RGBA)")
    if array.dtype.kind not in "buif":
        raise ValueError(f"image {name!r} has unsupported dtype {array.dtype}")
    if array.shape[-1] in (2, 4):
        array = array[..., :-1]  # drop alpha
    if array.dtype.kind == "f" and (array.min() < 0 or array.max() > 1):
        raise ValueError(f"float image {name!r} has values outside [0, 1]")
    return img_as_float32(array)


def load_image(source: str | os.PathLike, *, mode: str = "rgb", min_size: int = 16) -> Tensor:
    """Load a bundled scikit-image picture or an image file as a (C, H, W) float32 tensor.

    Args:
        source: a name from :data:`BUNDLED_IMAGES` (e.g. "astronaut") or a file path.
        mode: "rgb" (C = 3; gray is replicated), "gray" (C = 1, ITU-R 601 luma via
            ``skimage.color.rgb2gray``) or "keep" (C as stored, alpha dropped).
        min_size: smallest allowed height and width in pixels.

    Returns:
        The image, values in [0, 1].

    Raises:
        FileNotFoundError: no such file and no bundled picture of that name.
        ValueError: unreadable file, unsupported array layout, bad ``mode``, or an
            image smaller than ``min_size``.
    """
    if mode not in MODES:
        raise ValueError(f"unknown image mode {mode!r}; allowed: {', '.join(MODES)}")
    name = str(source)
    img = _to_float(_read(source), name)  # (H, W, C)
    if min(img.shape[:2]) < min_size:
        raise ValueError(f"image {name!r} is {img.shape[0]}×{img.shape[1]} pixels; "
                         f"need at least {min_size}×{min_size}")
    if mode == "rgb" and img.shape[-1] == 1:
        img = np.repeat(img, 3, axis=-1)
    elif mode == "gray" and img.shape[-1] == 3:
        from skimage.color import rgb2gray

        img = rgb2gray(img).astype(np.float32)[..., None]
    return torch.from_numpy(np.ascontiguousarray(img.transpose(2, 0, 1)))  # (C, H, W)


def _check_size(img: Tensor, size: int | tuple[int, int]) -> tuple[int, int]:
    h, w = (size, size) if isinstance(size, int) else tuple(size)
    if h < 1 or w < 1 or h > img.shape[-2] or w > img.shape[-1]:
        raise ValueError(f"crop size {h}×{w} must be between 1 and the image size "
                         f"{img.shape[-2]}×{img.shape[-1]}")
    return h, w


def center_crop(img: Tensor, size: int | tuple[int, int]) -> Tensor:
    """The central ``size`` (an int for a square, or (h, w)) window of a (..., H, W) image."""
    h, w = _check_size(img, size)
    top, left = (img.shape[-2] - h) // 2, (img.shape[-1] - w) // 2
    return img[..., top:top + h, left:left + w]


def random_crop(img: Tensor, size: int | tuple[int, int], generator: torch.Generator) -> Tensor:
    """A uniformly placed ``size`` window of a (..., H, W) image, placed by ``generator``."""
    h, w = _check_size(img, size)
    top = int(torch.randint(img.shape[-2] - h + 1, (1,), generator=generator))
    left = int(torch.randint(img.shape[-1] - w + 1, (1,), generator=generator))
    return img[..., top:top + h, left:left + w]


def textured_crops(sources: list[str | os.PathLike], n: int, size: int, *, scale: int,
                   generator: torch.Generator, mode: str = "rgb",
                   min_std: float = 0.05) -> Tensor:
    """``n`` random ``size``-pixel crops, cycling over the pictures ``sources``.

    Each picture is first resized so its shorter side is ``scale`` and centre-cropped to
    a square. A nearly flat crop (pixel std < ``min_std``, e.g. black sky) is drawn
    again, up to 20 times: it carries almost nothing to reconstruct or to recognize.

    Args:
        sources: bundled picture names or files (:func:`load_image`).
        n: number of crops; crop k comes from picture k mod len(sources).
        size: side of each crop in pixels (≤ ``scale``).
        scale: shorter side of the pictures before cropping.
        generator: random source of the crop positions.
        mode: "rgb" or "gray" (:func:`load_image`).
        min_std: the flatness bound.

    Returns:
        (n, C, size, size) float32 in [0, 1].
    """
    pictures = [center_crop(resize(load_image(s, mode=mode), scale), scale) for s in sources]
    crops = []
    for k in range(n):
        for _ in range(20):
            crop = random_crop(pictures[k % len(pictures)], size, generator)  # (C, size, size)
            if float(crop.std()) >= min_std:
                break
        crops.append(crop)
    return torch.stack(crops)


def resize(img: Tensor, size: int | tuple[int, int]) -> Tensor:
    """Resize a (C, H, W) or (B, C, H, W) image with anti-aliased bicubic interpolation.

    Args:
        img: the image, values in [0, 1].
        size: an int sets the shorter side (aspect ratio kept); (h, w) sets both.

    Returns:
        The resized image, clipped to [0, 1].
    """
    x = img[None] if img.dim() == 3 else img  # (B, C, H, W)
    if isinstance(size, int):
        scale = size / min(x.shape[-2:])
        size = (max(1, round(x.shape[-2] * scale)), max(1, round(x.shape[-1] * scale)))
    out = F.interpolate(x, size=tuple(size), mode="bicubic", antialias=True, align_corners=False)
    out = out.clamp(0, 1)
    return out[0] if img.dim() == 3 else out


def add_gaussian_noise(img: Tensor, sigma: float = 25 / 255, *, generator: torch.Generator,
                       clip: bool = True) -> Tensor:
    """``img`` plus i.i.d. N(0, σ²) noise per pixel and channel (DIP denoising input).

    Args:
        img: clean image, (C, H, W) in [0, 1].
        sigma: noise standard deviation in [0, 1] units (25/255 in the paper).
        generator: the noise's random source (on the image's device).
        clip: clip the result to [0, 1], as the DIP reference code does.
    """
    if sigma < 0:
        raise ValueError(f"noise sigma must be >= 0, got {sigma}")
    noise = torch.randn(img.shape, generator=generator, device=img.device, dtype=img.dtype)
    out = img + sigma * noise
    return out.clamp(0, 1) if clip else out


def random_pixel_mask(height: int, width: int, missing: float = 0.5, *,
                      generator: torch.Generator) -> Tensor:
    """A (1, H, W) float mask, 1 = known pixel, with each pixel missing w.p. ``missing``."""
    if not 0.0 <= missing < 1.0:
        raise ValueError(f"missing fraction must be in [0, 1), got {missing}")
    keep = torch.rand((1, height, width), generator=generator) >= missing
    return keep.float()


def text_mask(height: int, width: int, text: str = "Deep Image Prior", *,
              font_size: int | None = None, stroke: int = 0) -> Tensor:
    """A (1, H, W) mask, 1 = known, 0 under lines of ``text`` drawn over the whole image.

    The text is rendered offscreen with Pillow's built-in font, repeated on lines
    spaced by 1.5 font sizes and shifted per line, like the text-overlay
    inpainting task of the DIP paper.
    """
    from PIL import Image, ImageDraw, ImageFont

    size = font_size or max(8, height // 8)
    font = ImageFont.load_default(size=size)
    canvas = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    line = (text + "  ") * (1 + 4 * width // max(size, 1) // max(len(text), 1))
    for i, top in enumerate(range(size // 4, height, int(1.5 * size))):
        draw.text((-(i * size) % (3 * size) - 2 * size, top), line, fill=255, font=font,
                  stroke_width=stroke, stroke_fill=255)
    covered = torch.from_numpy(np.asarray(canvas) > 0)  # (H, W)
    return (~covered).float()[None]


def downsample_kernel(factor: int, kind: str = "lanczos", a: int = 3) -> Tensor:
    """1-D anti-aliasing kernel for downsampling by an integer ``factor``.

    "lanczos": Lanczos-``a`` window sinc(t/f)·sinc(t/(a f)) sampled at offsets t
    around the output pixel's centre, support a·f input pixels on each side (the
    DIP paper's SR downsampler). "box": the mean of each f×f block. Weights sum to 1.
    """
    if factor < 1:
        raise ValueError(f"downsampling factor must be >= 1, got {factor}")
    if kind == "box":
        return torch.full((factor,), 1.0 / factor, dtype=torch.float64)
    if kind != "lanczos":
        raise ValueError(f"unknown downsampling kernel {kind!r}; allowed: lanczos, box")
    length = 2 * a * factor + (factor % 2)  # length − factor is even: symmetric padding
    t = (torch.arange(length, dtype=torch.float64) - (length - 1) / 2) / factor
    w = torch.special.sinc(t) * torch.special.sinc(t / a)
    return w / w.sum()


def downsample(img: Tensor, factor: int = 4, kind: str = "lanczos") -> Tensor:
    """Anti-aliased, differentiable downsampling of a (C, H, W) or (B, C, H, W) image.

    A separable filter from :func:`downsample_kernel` applied with stride ``factor``
    and reflection padding; H and W must be multiples of ``factor``. Output pixel
    j is centred on input pixels j·f … j·f + f − 1 (the block it replaces).

    Returns:
        The (…, C, H/f, W/f) image (not clipped: Lanczos lobes can overshoot [0, 1]).
    """
    x = img[None] if img.dim() == 3 else img  # (B, C, H, W)
    if x.shape[-1] % factor or x.shape[-2] % factor:
        raise ValueError(f"image size {tuple(x.shape[-2:])} is not a multiple of the "
                         f"downsampling factor {factor}")
    k = downsample_kernel(factor, kind).to(x.device, x.dtype)
    pad = (len(k) - factor) // 2
    if pad >= min(x.shape[-2:]):
        raise ValueError(f"image {tuple(x.shape[-2:])} too small for a {kind} filter "
                         f"of {len(k)} taps")
    c = x.shape[1]
    x = F.pad(x, (pad, pad, pad, pad), mode="reflect") if pad else x
    x = F.conv2d(x, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), stride=(1, factor), groups=c)
    x = F.conv2d(x, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), stride=(factor, 1), groups=c)
    return x[0] if img.dim() == 3 else x  # (…, C, H/f, W/f)
