"""SGD's gradient noise at a point of a real model, and the temperature it sets.

C = (1/N)Σ_i (g_i − ḡ)(g_i − ḡ)ᵀ is the covariance of one example's gradient g_i over
the N examples of ``data`` (the loss of example i alone, whatever the loss's
reduction); a minibatch of B examples drawn with replacement has gradient covariance
C/B, so SGD with step η takes steps of covariance η²C/B. Measured here: the full C
for small models, its trace, diagonal and top eigenpairs for any (matrix-free, never
a (B, P) matrix), and the temperatures η/B and η·tr C/B (Jastrzębski et al. 2017,
"Three factors influencing minima in SGD", arXiv:1711.04623; Smith & Le 2018, "A
Bayesian perspective on generalization and stochastic gradient descent",
arXiv:1710.06451).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from genlab.measures import (
    Eigen,
    EmpiricalFisherOperator,
    default_inputs,
    gradient_moments,
    top_eigen,
)

LossFn = Callable[[Tensor, Any], Tensor]

__all__ = ["GradientNoise", "Temperature", "gradient_noise", "noise_covariance", "temperature"]


@dataclass
class Temperature:
    """Temperatures of SGD with step ``lr`` = η and batch ``batch_size`` = B.

    ``ratio`` η/B (what sets the noise scale when C is fixed); ``trace`` η·tr C/B (the
    lecture's T = ησ²/B summed over directions, tr C = Pσ² for isotropic noise);
    ``gibbs`` η·tr C/(2BP): the T of exp(−L/T) that SGD samples near a minimum
    when C is isotropic (continuous Lyapunov solution Σ = T·H⁻¹). The last two are
    None without tr C."""

    lr: float
    batch_size: int
    ratio: float
    trace: float | None = None
    gibbs: float | None = None


def temperature(lr: float, batch_size: int, trace_cov: float | None = None,
                dim: int | None = None) -> Temperature:
    """The temperatures of SGD (see :class:`Temperature`).

    Args:
        lr: step size η > 0.
        batch_size: B ≥ 1 (drawn with replacement).
        trace_cov: tr C of the per-example gradient covariance, if measured.
        dim: P, the number of parameters (for ``gibbs``).
    """
    if lr <= 0 or batch_size < 1:
        raise ValueError(f"need lr > 0 and batch_size ≥ 1, got {lr} and {batch_size}")
    if trace_cov is None:
        return Temperature(lr, batch_size, lr / batch_size)
    trace = lr * trace_cov / batch_size
    return Temperature(lr, batch_size, lr / batch_size, trace,
                       None if dim is None else trace / (2 * dim))


@dataclass
class GradientNoise:
    """The per-example gradient covariance C at a point, summarized.

    ``trace`` tr C; ``diagonal`` (P,) diag C; ``mean`` (P,) ḡ (float64); ``n`` examples;
    ``eigen`` the top eigenpairs of C (values decreasing, ``vectors`` (k, P)), or None."""

    trace: float
    diagonal: Tensor
    mean: Tensor
    n: int
    eigen: Eigen | None = None

    def temperature(self, lr: float, batch_size: int) -> Temperature:
        """SGD's temperatures with this noise (see :func:`temperature`)."""
        return temperature(lr, batch_size, self.trace, self.diagonal.numel())


def gradient_noise(model: nn.Module, loss_fn: LossFn, data: Any, *, k: int = 0,
                   params: str | Sequence[str] | None = None,
                   inputs: Callable[[Any], Any] = default_inputs,
                   generator: torch.Generator | None = None, tol: float = 1e-4,
                   max_steps: int = 100) -> GradientNoise:
    """tr C and diag C layer by layer (:func:`~genlab.measures.gradient_moments`), and
    with ``k`` > 0 C's top eigenpairs by Lanczos on the centered empirical Fisher
    (:class:`~genlab.measures.EmpiricalFisherOperator`), all without per-example
    gradients of the whole model in memory. Eval mode, as per-example gradients need.

    Args:
        model, loss_fn, data: as for every measure (``data`` may be many batches).
        k: number of top eigenpairs (0: none).
        params, inputs: parameter subset and input selector.
        generator: start vector of Lanczos (default seed 0).
        tol, max_steps: Lanczos's relative residual tolerance and step limit.

    Returns:
        :class:`GradientNoise`.
    """
    mom = gradient_moments(model, loss_fn, data, params=params, inputs=inputs)
    eigen = None
    if k > 0:
        op = EmpiricalFisherOperator(model, loss_fn, data, params=params, inputs=inputs,
                                     centered=True)
        eigen = top_eigen(op, k, generator=generator, tol=tol, max_steps=max_steps)
    return GradientNoise(mom.trace_cov, mom.variance, mom.mean, mom.n, eigen)


def noise_covariance(model: nn.Module, loss_fn: LossFn, data: Any, *,
                     params: str | Sequence[str] | None = None,
                     inputs: Callable[[Any], Any] = default_inputs) -> Tensor:
    """The full per-example gradient covariance C (P, P), float64, for small models.

    Per-example gradients are formed a chunk of examples at a time; memory is P² floats.
    """
    return gradient_moments(model, loss_fn, data, params=params, inputs=inputs,
                            covariance=True).covariance
