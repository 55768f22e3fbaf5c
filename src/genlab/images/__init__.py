"""genlab.images: Deep Image Prior fitting, image baselines and quality, input reconstruction.

* :func:`fit_dip`, :class:`DipRecorder`, :class:`EsWmv`, :func:`steps_to_fit`: fit an
  untrained generator to one corrupted image (Ulyanov, Vedaldi & Lempitsky 2018,
  arXiv:1711.10925) with the no-reference ES-WMV early stop (Wang et al. 2023).
* :func:`denoise_baselines`, :func:`inpaint_biharmonic`, :func:`bicubic_upsample`: the
  classical restorations of scikit-image, the baselines beside DIP.
* :func:`psnr`, :func:`ssim`, :func:`psnr_y` (scikit-image's metrics), and
  :func:`identification_accuracy`: does an estimate pick its own source among candidates?
* :func:`layer_features`, :func:`reconstruct`, :func:`reconstruct_dip`: reconstruct an
  input from any model's features (Mahendran & Vedaldi 2015, arXiv:1412.0035), with
  hand-made priors or a Deep Image Prior.

Images are float tensors in [0, 1], (C, H, W) for one image and (B, C, H, W) for a batch.
The loaders and corruptions are in :mod:`genlab.data` (``load_image``, ``add_gaussian_noise``, …).
"""

from __future__ import annotations

from .baselines import bicubic_upsample, denoise_baselines, inpaint_biharmonic
from .dip import DIP_OPTIMIZER, DipRecorder, EsWmv, fit_dip, steps_to_fit
from .quality import (correlations, identification_accuracy, nearest_candidates, psnr, psnr_y,
                      ssim, to_hwc)
from .reconstruct import (PIXEL_OPTIMIZER, Reconstruction, Regularizer, alpha_norm,
                          layer_features, leaky_relu_gradients, reconstruct, reconstruct_dip,
                          total_variation)

__all__ = [
    "DIP_OPTIMIZER",
    "DipRecorder",
    "EsWmv",
    "PIXEL_OPTIMIZER",
    "Reconstruction",
    "Regularizer",
    "alpha_norm",
    "bicubic_upsample",
    "correlations",
    "denoise_baselines",
    "fit_dip",
    "identification_accuracy",
    "inpaint_biharmonic",
    "layer_features",
    "leaky_relu_gradients",
    "nearest_candidates",
    "psnr",
    "psnr_y",
    "reconstruct",
    "reconstruct_dip",
    "ssim",
    "steps_to_fit",
    "to_hwc",
    "total_variation",
]
