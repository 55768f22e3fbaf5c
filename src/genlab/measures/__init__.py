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
from .filtering import filtered_errors, low_pass_operator, median_sq_distance, split_frequencies
from .fisher import EmpiricalFisherOperator, fisher_vp
from .frequency import (
    SineSum,
    SpectralCurves,
    amplitude_spectrum,
    amplitudes_at,
    highest_reached,
    iterations_to_reach,
    learning_curves,
    line_inputs,
    network_spectrum,
    sine_target,
    unit_grid,
)
from .eigen import Eigen, lanczos, top_eigen
from .hessian import GaussNewtonOperator, HessianOperator, ggn_vp, hvp
from .landscape import (
    Interpolation,
    filter_normalized_direction,
    interpolate,
    loss_slice_1d,
    loss_slice_2d,
)
from .per_sample import (
    GradientMoments,
    gradient_moments,
    per_example_losses,
    per_sample_grads,
    per_sample_grads_loop,
)
from .lipschitz import LipschitzBound, layer_spectral_norms, lipschitz_bound, operator_norm
from .linop import LinearOperatorLike, MatrixOperator, as_operator
from .rescale import HOMOGENEOUS, homogeneous_pairs, rescale_relu
from .sharpness import (
    Flatness,
    Sharpness,
    epsilon_sharpness,
    filter_normalized_sharpness,
    pac_bayes_sigma,
)
from .spectrum import (
    Estimate,
    SpectralDensity,
    hutchinson_trace,
    hutchpp_trace,
    power_iteration,
    spectral_density,
)
from .subspace import (
    ClassGradients,
    Outliers,
    class_mean_gradients,
    gradient_snr,
    outlier_count,
    principal_angles,
    random_subspace_overlap,
    span_fraction,
    subspace_overlap,
    vector_overlap,
)

__all__ = [
    "ClassGradients",
    "CriticalSamples",
    "Eigen",
    "EmpiricalFisherOperator",
    "Estimate",
    "Flatness",
    "FunctionalLoss",
    "GaussNewtonOperator",
    "GradientMoments",
    "HOMOGENEOUS",
    "HessianOperator",
    "Interpolation",
    "LinearOperatorLike",
    "LipschitzBound",
    "MatrixOperator",
    "Outliers",
    "Sharpness",
    "SineSum",
    "SpectralCurves",
    "SpectralDensity",
    "accuracy",
    "amplitude_spectrum",
    "amplitudes_at",
    "as_batches",
    "as_operator",
    "batch_size",
    "class_mean_gradients",
    "critical_samples",
    "cross_entropy_loss",
    "default_inputs",
    "dispersion_index",
    "epsilon_sharpness",
    "filter_normalized_direction",
    "filter_normalized_sharpness",
    "filtered_errors",
    "fisher_vp",
    "flatten",
    "ggn_vp",
    "gradient_moments",
    "gradient_snr",
    "highest_reached",
    "homogeneous_pairs",
    "hutchinson_trace",
    "hutchpp_trace",
    "hvp",
    "interpolate",
    "iterations_to_reach",
    "lanczos",
    "layer_spectral_norms",
    "learning_curves",
    "line_inputs",
    "lipschitz_bound",
    "loss_slice_1d",
    "loss_slice_2d",
    "low_pass_operator",
    "median_sq_distance",
    "network_spectrum",
    "operator_norm",
    "outlier_count",
    "pac_bayes_sigma",
    "per_example_losses",
    "per_sample_grads",
    "per_sample_grads_loop",
    "power_iteration",
    "principal_angles",
    "random_subspace_overlap",
    "rescale_relu",
    "select_params",
    "sine_target",
    "span_fraction",
    "spectral_density",
    "split_frequencies",
    "subspace_overlap",
    "top_eigen",
    "unflatten",
    "unit_grid",
    "vector_overlap",
]
