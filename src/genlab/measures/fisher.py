"""The empirical Fisher (second moment of per-example gradients) as a linear operator.

F = (1/N) Σ_i g_i g_iᵀ with g_i = ∇ℓ_i the gradient of example i's loss, and its
centered form C = F − ḡḡᵀ, the per-example gradient covariance: the noise of SGD (a
minibatch of B examples drawn with replacement has gradient covariance C/B) and the
"C + ḡḡᵀ" of the Gauss–Newton view of the Hessian (Kunstner, Hennig & Balles 2019,
"Limitations of the empirical Fisher approximation for natural gradient descent",
arXiv:1905.12558). A product F v never forms a per-example gradient: one forward-mode
pass along v gives every g_i·v at once (the Jacobian-vector product of the vector of
per-example losses), and one backward pass with those numbers as weights gives
Σ_i (g_i·v) g_i.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import grad, jvp, vjp

from ._func import Batch, LossFn, Params, batch_size, default_inputs
from .hessian import _dot, _Operator
from .per_sample import per_example_losses

__all__ = ["EmpiricalFisherOperator", "fisher_vp"]

_METHODS = ("auto", "fwd", "rev")


class EmpiricalFisherOperator(_Operator):
    """F = (1/N) Σ_i g_i g_iᵀ, or with ``centered=True`` C = F − ḡḡᵀ, matrix-free.

    Args:
        model: any ``nn.Module`` (not modified).
        loss_fn: ``loss_fn(outputs, batch) -> scalar``; ℓ_i is its value on example i
            alone (see :func:`~genlab.measures.per_example_losses`), so the reduction
            (mean or sum) does not matter.
        data: one batch or an iterable of batches; N counts all their examples.
        params: parameter subset (name, prefix or list) or ``None`` for all.
        inputs: ``inputs(batch)`` -> model input (default ``batch[0]``).
        train_mode: forward-pass mode. In train mode with batch norm the examples of a
            batch are coupled and g_i is ∂ℓ_i/∂w through the batch statistics.
        centered: subtract ḡḡᵀ (ḡ the mean gradient over all of ``data``).
        method: how g_i·v is formed: ``"fwd"`` forward mode, ``"rev"`` a double
            backward through the pullback, ``"auto"`` forward with ``"rev"`` fallback.

    A product costs about one forward-mode pass plus one gradient. Attributes:
    ``dim`` (n), ``dtype``, ``device``, ``calls`` (products done).
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn, data: Any, *,
                 params: str | Sequence[str] | None = None,
                 inputs: Callable[[Batch], Any] = default_inputs, train_mode: bool = False,
                 centered: bool = False, method: str = "auto"):
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
        super().__init__(model, loss_fn, data, params=params, inputs=inputs,
                         train_mode=train_mode)
        self.centered, self.method = centered, method
        self._mean: Params | None = None

    def _losses(self, batch: Batch) -> Callable[[Params], Tensor]:
        return lambda p: per_example_losses(self.loss.loss_fn, self.loss.outputs(p, batch),
                                            batch)  # (B,)

    def _product(self, batch: Batch, v: Params) -> Params:
        f, n = self._losses(batch), batch_size(batch)
        _, pull = vjp(f, self.loss.params)
        weights = self._along(f, pull, v, n)  # (B,) g_i·v
        return pull(weights / n)[0]

    def _along(self, f: Callable[[Params], Tensor], pull: Callable, v: Params, n: int
               ) -> Tensor:
        """Every g_i·v (B,): forward mode, or as ∂/∂u ⟨Σ_i u_i g_i, v⟩ by a double backward."""
        if self.method != "rev":
            try:
                return jvp(f, (self.loss.params,), (v,))[1]
            except (RuntimeError, NotImplementedError):
                if self.method == "fwd":
                    raise
                self.method = "rev"  # this model lacks a forward-mode rule somewhere
        u = torch.zeros(n, dtype=self.dtype, device=self.device)
        return grad(lambda w: _dot(pull(w)[0], v))(u)

    def mean_gradient(self) -> Params:
        """ḡ = (1/N) Σ_i g_i over all of ``data`` (cached)."""
        if self._mean is None:
            out = {n: torch.zeros_like(p) for n, p in self.loss.params.items()}
            for w, batch in self.loss.weighted():
                g = grad(lambda p: self._losses(batch)(p).mean())(self.loss.params)
                for n in out:
                    out[n].add_(g[n], alpha=w)
            self._mean = out
        return self._mean

    def apply(self, v: Params) -> Params:
        """F v (or C v when centered) for a parameter-shaped dict ``v``."""
        out = super().apply(v)
        if not self.centered:
            return out
        m = self.mean_gradient()
        coef = _dot(m, v)
        return {n: out[n] - coef * m[n] for n in out}


def fisher_vp(model: nn.Module, loss_fn: LossFn, data: Any, v: Params | Tensor,
              **kwargs: Any) -> Params | Tensor:
    """Empirical-Fisher-vector product F v (``centered=True``: C v); see
    :class:`EmpiricalFisherOperator` for the keyword arguments.

    Returns:
        The product in the same form as ``v`` (dict or flat vector (n,)).
    """
    op = EmpiricalFisherOperator(model, loss_fn, data, **kwargs)
    return op.matvec(v) if isinstance(v, Tensor) else op.apply(v)
