"""genlab.dynamics: SGD as a stochastic process near a minimum.

Conventions, shared by every function here:

* C is the covariance of ONE example's gradient, C = (1/N)Σ_i (g_i − ḡ)(g_i − ḡ)ᵀ
  (the loss of example i alone, whatever the loss's reduction);
* SGD is w ← w − η g_B, with g_B the mean gradient of B examples; drawn with
  replacement, g_B has covariance C/B; per-epoch shuffling gives less (no formula here:
  measure it with :func:`sgd_least_squares` ``replacement=False``);
* near a minimum with Hessian H the stationary covariance Σ of w − w* solves
  Σ = (I − ηH)Σ(I − ηH)ᵀ + (η²/B)C (:func:`lyapunov_discrete`), and for small ηH
  HΣ + ΣH = (η/B)C (:func:`lyapunov_continuous`); isotropic C = σ²I gives
  Σ = T·H⁻¹ with the Gibbs temperature T = ησ²/(2B);
* Langevin dynamics uses dx = −∇E dt + √(2T) D^½ dW (Euler–Maruyama with step h);
  SGD with isotropic noise is this with h = η and T = ησ²/(2B).

Noise at a real model's point: :func:`gradient_noise`, :func:`noise_covariance`,
:func:`temperature`. Lyapunov solutions: :func:`stationary_covariance`. Simulators:
:func:`sgd_quadratic` (Gaussian noise from :func:`noise_model`), :func:`sgd_least_squares`
(real minibatches), :func:`langevin` and :func:`escape_times` in a :class:`DoubleWell`
with :func:`boltzmann_occupation` and :func:`laplace_occupation` as references. Weight
diffusion: :class:`DiffusionTracker`, :func:`fit_diffusion`.
"""

from __future__ import annotations

from .diffusion import (
    DiffusionFit,
    DiffusionRecord,
    DiffusionTracker,
    Fit,
    fit_diffusion,
    fit_log,
    fit_power,
    log_spaced_steps,
)
from .langevin import Occupation, escape_times, langevin
from .lyapunov import lyapunov_continuous, lyapunov_discrete, stationary_covariance
from .noise import GradientNoise, Temperature, gradient_noise, noise_covariance, temperature
from .quadratic import (
    Chains,
    LeastSquares,
    least_squares,
    noise_model,
    sgd_least_squares,
    sgd_quadratic,
)
from .wells import DoubleWell, Minimum, boltzmann_occupation, laplace_occupation

__all__ = [
    "Chains",
    "DiffusionFit",
    "DiffusionRecord",
    "DiffusionTracker",
    "DoubleWell",
    "Fit",
    "GradientNoise",
    "LeastSquares",
    "Minimum",
    "Occupation",
    "Temperature",
    "boltzmann_occupation",
    "escape_times",
    "fit_diffusion",
    "fit_log",
    "fit_power",
    "gradient_noise",
    "langevin",
    "laplace_occupation",
    "least_squares",
    "log_spaced_steps",
    "lyapunov_continuous",
    "lyapunov_discrete",
    "noise_covariance",
    "noise_model",
    "sgd_least_squares",
    "sgd_quadratic",
    "stationary_covariance",
    "temperature",
]
