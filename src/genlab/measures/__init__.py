"""genlab.measures: diagnostics that work on any PyTorch model and loss.

Every measure is a function of ``(model, loss_fn, data, ...)`` where
``loss_fn(outputs, batch) -> scalar`` and ``data`` is one batch or an iterable of
batches. Measures never change the model's parameters, buffers or mode; the mode
they use is the explicit ``train_mode`` argument. Stochastic estimates take a
``torch.Generator`` and return a record with a standard error.
"""

from __future__ import annotations

from ._func import (
    FunctionalLoss,
    accuracy,
    as_batches,
    batch_size,
    cross_entropy_loss,
    default_inputs,
    flatten,
    select_params,
    unflatten,
)
from .critical import CriticalSamples, critical_samples, dispersion_index
from .hessian import GaussNewtonOperator, HessianOperator, ggn_vp, hvp
from .landscape import (
    Interpolation,
    filter_normalized_direction,
    interpolate,
    loss_slice_1d,
    loss_slice_2d,
)
from .per_sample import GradientMoments, gradient_moments, per_sample_grads, per_sample_grads_loop
from .rescale import HOMOGENEOUS, homogeneous_pairs, rescale_relu
from .sharpness import (
    Flatness,
    Sharpness,
    epsilon_sharpness,
    filter_normalized_sharpness,
    pac_bayes_sigma,
)
from .spectrum import (
    Eigen,
    Estimate,
    MatrixOperator,
    SpectralDensity,
    hutchinson_trace,
    hutchpp_trace,
    lanczos,
    power_iteration,
    spectral_density,
    top_eigen,
)

__all__ = [
    "CriticalSamples",
    "Eigen",
    "Estimate",
    "Flatness",
    "FunctionalLoss",
    "GaussNewtonOperator",
    "GradientMoments",
    "HOMOGENEOUS",
    "HessianOperator",
    "Interpolation",
    "MatrixOperator",
    "Sharpness",
    "SpectralDensity",
    "accuracy",
    "as_batches",
    "batch_size",
    "critical_samples",
    "cross_entropy_loss",
    "default_inputs",
    "dispersion_index",
    "epsilon_sharpness",
    "filter_normalized_direction",
    "filter_normalized_sharpness",
    "flatten",
    "ggn_vp",
    "gradient_moments",
    "homogeneous_pairs",
    "hutchinson_trace",
    "hutchpp_trace",
    "hvp",
    "interpolate",
    "lanczos",
    "loss_slice_1d",
    "loss_slice_2d",
    "pac_bayes_sigma",
    "per_sample_grads",
    "per_sample_grads_loop",
    "power_iteration",
    "rescale_relu",
    "select_params",
    "spectral_density",
    "top_eigen",
    "unflatten",
]
