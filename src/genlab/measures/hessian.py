"""Hessian-vector and (generalized) Gauss–Newton-vector products of any model's loss.

The Hessian-vector product is forward-over-reverse, ``jvp(grad(f), (w,), (v,))``
(Pearlmutter 1994, "Fast exact multiplication by the Hessian"), with a
reverse-over-reverse fallback for operations that lack a forward-mode rule.
The generalized Gauss–Newton matrix is G = Jᵀ H_out J with J the Jacobian of the
outputs and H_out the Hessian of the loss in the outputs (Schraudolph 2002); for
the cross-entropy of a softmax it is positive semi-definite.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import grad, jvp, linearize, vjp

from ._func import Batch, FunctionalLoss, LossFn, Params, default_inputs, flatten, unflatten

__all__ = ["GaussNewtonOperator", "HessianOperator", "ggn_vp", "hvp"]

_METHODS = ("auto", "fwd", "rev", "linearize")


def _dot(a: Params, b: Params) -> Tensor:
    return sum((a[n] * b[n]).sum() for n in a)


def _hvp_fwd(f: Callable[[Params], Tensor], params: Params, v: Params) -> Params:
    return jvp(grad(f), (params,), (v,))[1]


def _hvp_rev(f: Callable[[Params], Tensor], params: Params, v: Params) -> Params:
    return grad(lambda p: _dot(grad(f)(p), v))(params)


class _Operator:
    """Shared plumbing: a symmetric linear map on flat vectors (n,) of parameters."""

    def __init__(self, model: nn.Module, loss_fn: LossFn, data: Any, *,
                 params: str | Sequence[str] | None = None,
                 inputs: Callable[[Batch], Any] = default_inputs, train_mode: bool = False):
        self.loss = FunctionalLoss(model, loss_fn, data, params=params, inputs=inputs,
                                   train_mode=train_mode)
        self.dim, self.dtype, self.device = self.loss.dim, self.loss.dtype, self.loss.device
        self.calls = 0

    def _product(self, batch: Batch, v: Params) -> Params:
        raise NotImplementedError

    def apply(self, v: Params) -> Params:
        """The data-averaged product with a parameter-shaped dict ``v``."""
        self.calls += 1
        if len(self.loss.batches) == 1:
            return self._product(self.loss.batches[0], v)
        out = {n: torch.zeros_like(p) for n, p in self.loss.params.items()}
        for w, batch in self.loss.weighted():
            prod = self._product(batch, v)
            for n in out:
                out[n].add_(prod[n], alpha=w)
        return out

    def matvec(self, v: Tensor) -> Tensor:
        """The product with a flat vector ``v`` (n,) -> (n,)."""
        v = v.to(device=self.device, dtype=self.dtype)
        return flatten(self.apply(unflatten(v, self.loss.params)))

    def __matmul__(self, v: Tensor) -> Tensor:
        return self.matvec(v)


class HessianOperator(_Operator):
    """The Hessian of the data-averaged loss as a linear operator.

    Args:
        model: any ``nn.Module`` (not modified).
        loss_fn: ``loss_fn(outputs, batch) -> scalar``.
        data: one batch or an iterable of batches (averaged, weighted by batch size).
        params: parameter subset (name, prefix or list) or ``None`` for all.
        inputs: ``inputs(batch)`` -> model input (default ``batch[0]``).
        train_mode: forward-pass mode used (batch norm / dropout).
        method: ``"fwd"`` forward-over-reverse, ``"rev"`` reverse-over-reverse,
            ``"auto"``: forward-over-reverse, falling back to reverse on error, or
            ``"linearize"``: forward-over-reverse through ``torch.func.linearize``,
            which traces each batch once (about 4 products' time) and keeps its
            activations, after which a product costs about 2 gradients instead of
            3: for iterative solvers (Lanczos, SLQ) when memory allows. The traced
            products use the weights as they were at the first product.

    Attributes: ``dim`` (n), ``dtype``, ``device``, ``calls`` (products done).
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn, data: Any, *,
                 params: str | Sequence[str] | None = None,
                 inputs: Callable[[Batch], Any] = default_inputs, train_mode: bool = False,
                 method: str = "auto"):
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
        super().__init__(model, loss_fn, data, params=params, inputs=inputs,
                         train_mode=train_mode)
        self.method = method
        self._linearized: dict[int, Callable[[Params], Params]] = {}

    def _product(self, batch: Batch, v: Params) -> Params:
        f = lambda p: self.loss.loss(p, batch)  # noqa: E731
        if self.method == "linearize":
            if id(batch) not in self._linearized:
                self._linearized[id(batch)] = linearize(grad(f), self.loss.params)[1]
            return self._linearized[id(batch)](v)
        if self.method == "rev":
            return _hvp_rev(f, self.loss.params, v)
        try:
            return _hvp_fwd(f, self.loss.params, v)
        except (RuntimeError, NotImplementedError):
            if self.method == "fwd":
                raise
            self.method = "rev"  # remember: this model has no forward-mode rule somewhere
            return _hvp_rev(f, self.loss.params, v)


class GaussNewtonOperator(_Operator):
    """The generalized Gauss–Newton matrix Jᵀ H_out J of the data-averaged loss.

    Same arguments as :class:`HessianOperator` (without ``method``). For the
    squared error ``0.5·mean‖f − y‖²`` it is the classical Gauss–Newton matrix.
    """

    def _product(self, batch: Batch, v: Params) -> Params:
        f_out = lambda p: self.loss.outputs(p, batch)  # noqa: E731
        outputs, jv = jvp(f_out, (self.loss.params,), (v,))  # (B, C), (B, C)
        g_out = grad(lambda o: self.loss.loss_fn(o, batch))
        h_jv = jvp(g_out, (outputs,), (jv,))[1]  # H_out J v: (B, C)
        _, pullback = vjp(f_out, self.loss.params)
        return pullback(h_jv)[0]


def hvp(model: nn.Module, loss_fn: LossFn, data: Any, v: Params | Tensor, **kwargs: Any
        ) -> Params | Tensor:
    """Hessian-vector product H v of the loss averaged over ``data``.

    Args:
        model, loss_fn, data: see :class:`HessianOperator`.
        v: a dict shaped like the (selected) parameters, or a flat vector (n,).
        **kwargs: ``params``, ``inputs``, ``train_mode``, ``method``.

    Returns:
        H v in the same form as ``v`` (dict or flat vector).
    """
    op = HessianOperator(model, loss_fn, data, **kwargs)
    return op.matvec(v) if isinstance(v, Tensor) else op.apply(v)


def ggn_vp(model: nn.Module, loss_fn: LossFn, data: Any, v: Params | Tensor, **kwargs: Any
           ) -> Params | Tensor:
    """Generalized Gauss–Newton-vector product G v = Jᵀ H_out J v (see :func:`hvp`)."""
    op = GaussNewtonOperator(model, loss_fn, data, **kwargs)
    return op.matvec(v) if isinstance(v, Tensor) else op.apply(v)
