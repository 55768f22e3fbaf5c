"""genlab.measures: diagnostics that work on any PyTorch model and loss.

Every measure is a function of ``(model, loss_fn, data, ...)`` where
``loss_fn(outputs, batch) -> scalar`` and ``data`` is one batch or an iterable of
batches. Measures never change the model's parameters, buffers or mode; the mode
they use is the explicit ``train_mode`` argument. Stochastic estimates take a
``torch.Generator`` and return a record with a standard error.
"""

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
from .hessian import GaussNewtonOperator, HessianOperator, ggn_vp, hvp
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
    "Eigen",
    "Estimate",
    "FunctionalLoss",
    "GaussNewtonOperator",
    "HessianOperator",
    "MatrixOperator",
    "SpectralDensity",
    "accuracy",
    "as_batches",
    "batch_size",
    "cross_entropy_loss",
    "default_inputs",
    "flatten",
    "ggn_vp",
    "hutchinson_trace",
    "hutchpp_trace",
    "hvp",
    "lanczos",
    "power_iteration",
    "select_params",
    "spectral_density",
    "top_eigen",
    "unflatten",
]
