"""Spectral norms of a network's layers and the Lipschitz upper bound ∏_l ‖W_l‖₂.

For a chain f = W_L ∘ σ ∘ W_{L−1} ∘ … ∘ σ ∘ W_1 of affine layers and activations σ
that are 1-Lipschitz (ReLU, leaky ReLU with slope ≤ 1, tanh; biases do not matter),
‖f(x) − f(x')‖₂ ≤ ∏_l ‖W_l‖₂ · ‖x − x'‖₂, and the same product bounds the norm of
the input Jacobian. This is the bound whose growth during training Rahaman et al.
(2019), "On the Spectral Bias of Neural Networks", arXiv:1806.08734, relate to the
highest frequency a ReLU network can express, and that spectral normalization
(Miyato et al. 2018, "Spectral Normalization for Generative Adversarial Networks",
arXiv:1802.05957) controls. A convolution's factor is the operator norm of the
convolution on inputs of the given size, not the norm of its reshaped kernel
(Sedghi et al. 2019, "The Singular Values of Convolutional Layers", arXiv:1805.10408).

Power iteration estimates ‖W‖₂ from below (the Rayleigh quotient of WᵀW never exceeds
σ_max²), so with a loose ``tol`` the product can fall slightly under the true bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.func import vjp

from ._func import _mode
from .spectrum import power_iteration

__all__ = ["LipschitzBound", "layer_spectral_norms", "lipschitz_bound", "operator_norm"]

_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_UNSUPPORTED = (nn.modules.batchnorm._BatchNorm, nn.GELU, nn.SiLU)


class _GramOperator:
    """v ↦ Aᵀ(A v) on flat vectors for a linear map A given with its adjoint."""

    def __init__(self, apply, adjoint, shape: tuple[int, ...], like: Tensor):
        self.apply, self.adjoint, self.shape = apply, adjoint, shape
        self.dim, self.dtype, self.device = math.prod(shape), like.dtype, like.device

    def matvec(self, v: Tensor) -> Tensor:
        return self.adjoint(self.apply(v.reshape(self.shape))).reshape(-1)  # (n,)


def _norm(op: _GramOperator, generator, tol: float, max_iter: int) -> float:
    eig = power_iteration(op, 1, generator=generator, tol=tol, max_iter=max_iter)
    return math.sqrt(max(float(eig.values[0]), 0.0))


def operator_norm(weight: Tensor, *, generator: torch.Generator | None = None,
                  tol: float = 1e-8, max_iter: int = 1000) -> float:
    """The largest singular value ‖W‖₂ of a matrix by power iteration on WᵀW.

    Args:
        weight: (m, n) matrix (e.g. ``linear.weight``).
        generator: random start vector source (default: seed 0).
        tol: stop when σ² changes by less than ``tol`` relative between iterations.
        max_iter: iteration cap.

    Returns:
        σ_max ≥ 0 (a lower estimate that converges to ``matrix_norm(W, ord=2)``).
    """
    if weight.ndim != 2:
        raise ValueError(f"expected a matrix, got shape {tuple(weight.shape)}")
    w = weight.detach()
    if not w.any():
        return 0.0
    op = _GramOperator(lambda v: w @ v, lambda u: w.T @ u, (w.shape[1],), w)
    return _norm(op, generator, tol, max_iter)


def _conv_norm(layer: nn.Module, input_shape: tuple[int, ...], generator, tol: float,
               max_iter: int) -> float:
    """Operator norm of the linear part x ↦ layer(x) − layer(0) on (1, *input_shape)."""
    shape = (1, *input_shape)
    if not layer.weight.any():
        return 0.0
    zero = torch.zeros(shape, dtype=layer.weight.dtype, device=layer.weight.device)
    with torch.no_grad():
        offset = layer(zero)  # the bias, broadcast; removing it leaves a linear map
    _, adjoint = vjp(lambda x: layer(x) - offset, zero)  # the map is linear: any point works

    def apply(v: Tensor) -> Tensor:
        with torch.no_grad():
            return layer(v) - offset

    op = _GramOperator(apply, lambda u: adjoint(u)[0].detach(), shape, zero)
    return _norm(op, generator, tol, max_iter)


def _input_shapes(model: nn.Module, example: Tensor) -> dict[nn.Module, tuple[int, ...]]:
    """Per-sample input shape of every convolution, from one forward pass of ``example``."""
    shapes: dict[nn.Module, tuple[int, ...]] = {}

    def record(module, args, out) -> None:
        shapes.setdefault(module, tuple(args[0].shape[1:]))

    hooks = [m.register_forward_hook(record) for m in model.modules() if isinstance(m, _CONV)]
    try:
        with torch.no_grad():
            model(example)
    finally:
        for h in hooks:
            h.remove()
    return shapes


def layer_spectral_norms(model: nn.Module, example_input: Tensor | None = None, *,
                         generator: torch.Generator | None = None, tol: float = 1e-8,
                         max_iter: int = 1000) -> dict[str, float]:
    """‖W_l‖₂ of every ``nn.Linear`` and convolution, in module order.

    Weights are read, and ``example_input`` run, in eval mode (each submodule's mode
    is restored), so parametrized weights (e.g. ``spectral_norm``) are read without
    updating their power-iteration buffers.

    Args:
        model: any module; only Linear and Conv{1,2,3}d layers are measured.
        example_input: a batch (B, ...) fixing each convolution's input size; required
            when the model has convolutions, unused otherwise.
        generator: random start vectors (default: seed 0); tol, max_iter: as
            :func:`operator_norm`.

    Returns:
        module name → spectral norm (the convolution's operator norm).
    """
    convs = [m for m in model.modules() if isinstance(m, _CONV)]
    if convs and example_input is None:
        raise ValueError("the model has convolutions: pass example_input for their input size")
    generator = generator or torch.Generator().manual_seed(0)
    with _mode(model, False):
        shapes = _input_shapes(model, example_input) if convs else {}
        norms = {}
        for name, m in model.named_modules():
            if isinstance(m, nn.Linear):
                norms[name] = operator_norm(m.weight, generator=generator, tol=tol,
                                            max_iter=max_iter)
            elif isinstance(m, _CONV) and m in shapes:
                norms[name] = _conv_norm(m, shapes[m], generator, tol, max_iter)
    return norms


@dataclass
class LipschitzBound:
    """``bound`` = ∏ ``norms.values()``, the layers' spectral norms by module name."""

    bound: float
    norms: dict[str, float]


def lipschitz_bound(model: nn.Module, example_input: Tensor | None = None, *,
                    generator: torch.Generator | None = None, tol: float = 1e-8,
                    max_iter: int = 1000) -> LipschitzBound:
    """The Lipschitz upper bound ∏_l ‖W_l‖₂ of a feed-forward network (ℓ2 norms).

    Valid for a chain of Linear / convolutional layers separated by 1-Lipschitz
    modules (ReLU, LeakyReLU with slope ≤ 1, Tanh, Flatten, Dropout in eval mode,
    non-overlapping max pooling). It does not hold for residual connections,
    attention or normalization layers (batch norm rescales by 1/σ_batch); models
    holding batch norm, GELU or SiLU (not 1-Lipschitz) are refused.

    Args / Returns: as :func:`layer_spectral_norms`; ``bound`` is 1.0 for a model
    with no layers measured.
    """
    bad = sorted({type(m).__name__ for m in model.modules() if isinstance(m, _UNSUPPORTED)})
    if bad:
        raise ValueError(f"Lipschitz bound assumes 1-Lipschitz modules between layers; got {bad}")
    norms = layer_spectral_norms(model, example_input, generator=generator, tol=tol,
                                 max_iter=max_iter)
    return LipschitzBound(math.prod(norms.values()), norms)
