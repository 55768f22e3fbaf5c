"""Hessian-vector and (generalized) Gauss–Newton-vector products of any model's loss.

The Hessian-vector product is forward-over-reverse, ``jvp(grad(f), (w,), (v,))``
(Pearlmutter 1994, "Fast exact multiplication by the Hessian"), reverse-over-reverse
``grad(⟨grad f, v⟩)``, or a backward pass through the gradient's graph kept from the
first product (the scheme of PyHessian, Yao et al. 2020, arXiv:1912.07145).
The generalized Gauss–Newton matrix is G = Jᵀ H_out J with J the Jacobian of the
outputs and H_out the Hessian of the loss in the outputs (Schraudolph 2002); for
the cross-entropy of a softmax it is positive semi-definite.

Forward mode and constant targets: the floating-point tensors of a batch (e.g. the
regression targets of ``F.mse_loss``) enter every forward-mode product as inputs with
an explicit zero tangent. Left without one, torch gives them an immutable "ZeroTensor"
tangent, which ``mse_loss``'s double-backward rule divides in place (``ZeroTensors are
immutable``) and which crashes ``torch.func.linearize``'s tracer (a segmentation fault,
torch 2.13).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor, nn
from torch.func import grad, jvp, linearize, vjp
from torch.utils._pytree import tree_flatten, tree_unflatten

from ._func import Batch, FunctionalLoss, LossFn, Params, default_inputs, flatten, unflatten
from .linop import _LinearOperator

__all__ = ["GaussNewtonOperator", "HessianOperator", "ggn_vp", "hvp"]

_METHODS = ("auto", "graph", "fwd", "rev", "linearize")
_FAILURES = (RuntimeError, NotImplementedError)


def _dot(a: Params, b: Params) -> Tensor:
    return sum((a[n] * b[n]).sum() for n in a)


def _float_leaves(batch: Batch) -> tuple[tuple[Tensor, ...], Callable[[Sequence[Tensor]], Batch]]:
    """The floating-point tensors of ``batch`` and a function putting new ones in their place."""
    leaves, spec = tree_flatten(batch)
    where = [i for i, t in enumerate(leaves) if isinstance(t, Tensor) and t.is_floating_point()]

    def rebuild(new: Sequence[Tensor]) -> Batch:
        out = list(leaves)
        for i, t in zip(where, new):
            out[i] = t
        return tree_unflatten(out, spec)

    return tuple(leaves[i] for i in where), rebuild


class _Operator(_LinearOperator):
    """Shared plumbing of the curvature operators: a symmetric linear map on flat
    parameter vectors (n,), averaged over the batches of ``data``.

    A subclass implements ``_product(batch, v) -> Params``, the matrix of one batch
    times a parameter-shaped dict ``v``; this class weights and sums the batches and
    gives ``apply`` (dicts), ``matvec`` / ``@`` (flat vectors, matrices column by
    column), ``shape``, ``to_scipy``, ``gradient`` and the product count ``calls``.
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn, data: Any, *,
                 params: str | Sequence[str] | None = None,
                 inputs: Callable[[Batch], Any] = default_inputs, train_mode: bool = False):
        self.loss = FunctionalLoss(model, loss_fn, data, params=params, inputs=inputs,
                                   train_mode=train_mode)
        self.dim, self.dtype, self.device = self.loss.dim, self.loss.dtype, self.loss.device
        self.calls = 0

    def _product(self, batch: Batch, v: Params) -> Params:
        raise NotImplementedError

    def _gradient_fn(self, batch: Batch) -> Callable[[Params, Sequence[Tensor]], Params]:
        """``(params, floats) -> ∇ loss``, the batch's float tensors as explicit inputs
        (see the module docstring: forward-mode products give them zero tangents)."""
        _, rebuild = _float_leaves(batch)

        def gradient(p: Params, floats: Sequence[Tensor]) -> Params:
            return grad(lambda q: self.loss.loss_fn(self.loss.outputs(q, batch),
                                                    rebuild(floats)))(p)

        return gradient

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

    def gradient(self) -> Tensor:
        """The data-averaged loss gradient (n,) at the operator's point.

        A good start for :func:`~genlab.measures.top_eigen` (``v0=op.gradient()``):
        the gradient lies mostly in the top eigenspace of the Hessian (Gur-Ari,
        Roberts & Dyer 2018, arXiv:1812.04754), so Lanczos needs fewer products.
        """
        return flatten(self.loss.value_and_grad()[1])


def _zeros(tensors: Sequence[Tensor]) -> tuple[Tensor, ...]:
    return tuple(torch.zeros_like(t) for t in tensors)


class HessianOperator(_Operator):
    """The Hessian of the data-averaged loss as a linear operator.

    Args:
        model: any ``nn.Module`` (not modified).
        loss_fn: ``loss_fn(outputs, batch) -> scalar``.
        data: one batch or an iterable of batches (averaged, weighted by batch size).
        params: parameter subset (name, prefix or list) or ``None`` for all.
        inputs: ``inputs(batch)`` -> model input (default ``batch[0]``).
        train_mode: forward-pass mode used (batch norm / dropout).
        method: how a product is computed:

            - ``"graph"``: the gradient's autograd graph is built once per batch
              (about one gradient's time) and kept; each product is one backward
              pass through it (1.7–2 gradients on the lecture CNN, one thread).
              Holds one double graph per batch in memory.
            - ``"fwd"``: forward-over-reverse, ``jvp(grad(f))`` (about 3 gradients).
            - ``"rev"``: reverse-over-reverse, ``grad(⟨grad f, v⟩)`` (3–4).
            - ``"linearize"``: forward-over-reverse through ``torch.func.linearize``,
              traced once per batch (10–15 products' time), then 1.3–1.8 gradients
              a product: for long runs (SLQ, many eigenpairs). Falls back to
              fwd → rev with a warning if the trace fails.
            - ``"auto"`` (default): ``"graph"`` for one batch, ``"fwd"`` for several
              (no graph kept per batch), each falling back to the next of
              graph → fwd → rev when an operation lacks the needed rule.

            Kept graphs and traces are rebuilt when the model's parameters change
            in place, so every product is at the current weights.

    Attributes: ``dim`` (n), ``shape`` (n, n), ``dtype``, ``device``, ``calls``
    (products done), ``method`` (the method in use after any fallback).
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn, data: Any, *,
                 params: str | Sequence[str] | None = None,
                 inputs: Callable[[Batch], Any] = default_inputs, train_mode: bool = False,
                 method: str = "auto"):
        if method not in _METHODS:
            raise ValueError(f"method must be one of {_METHODS}, got {method!r}")
        super().__init__(model, loss_fn, data, params=params, inputs=inputs,
                         train_mode=train_mode)
        if method == "auto":
            self._plan = (["graph"] if len(self.loss.batches) == 1 else []) + ["fwd", "rev"]
        else:
            self._plan = [method] + (["fwd", "rev"] if method == "linearize" else [])
        self.method = self._plan[0]
        self._cache: dict[int, tuple[tuple[int, ...], Any]] = {}

    def _product(self, batch: Batch, v: Params) -> Params:
        while True:
            try:
                return getattr(self, "_" + self.method)(batch, v)
            except _FAILURES as err:
                if len(self._plan) == 1:
                    raise
                if self.method == "linearize":
                    warnings.warn(f"method='linearize' failed ({type(err).__name__}: "
                                  f"{str(err)[:80]}); using {self._plan[1]!r}", stacklevel=4)
                self._plan.pop(0)
                self.method, self._cache = self._plan[0], {}

    def gradient(self) -> Tensor:
        """The data-averaged loss gradient (n,); free with ``method="graph"`` (read off
        the kept graphs, which the products need anyway), one gradient pass otherwise.
        See :meth:`_Operator.gradient`."""
        if self.method != "graph":
            return super().gradient()
        parts = []
        try:
            for w, batch in self.loss.weighted():
                leaves, grads = self._cached(batch, self._build_graph)
                parts.append(w * flatten({n: torch.zeros_like(p) if g is None else g.detach()
                                          for (n, p), g in zip(leaves.items(), grads)}))
        except _FAILURES:
            return super().gradient()
        return sum(parts[1:], parts[0])

    def _cached(self, batch: Batch, build: Callable[[Batch], Any]) -> Any:
        """``build(batch)``, kept until a parameter is changed in place."""
        versions = tuple(p._version for p in self.loss.params.values())
        hit = self._cache.get(id(batch))
        if hit is None or hit[0] != versions:
            hit = self._cache[id(batch)] = (versions, build(batch))
        return hit[1]

    def _fwd(self, batch: Batch, v: Params) -> Params:
        floats, _ = _float_leaves(batch)
        return jvp(self._gradient_fn(batch), (self.loss.params, floats), (v, _zeros(floats)))[1]

    def _rev(self, batch: Batch, v: Params) -> Params:
        return grad(lambda p: _dot(grad(self.loss.loss)(p, batch), v))(self.loss.params)

    def _linearize(self, batch: Batch, v: Params) -> Params:
        fn, zeros = self._cached(batch, self._trace)
        return fn(v, zeros)

    def _trace(self, batch: Batch) -> tuple[Callable[..., Params], tuple[Tensor, ...]]:
        floats, _ = _float_leaves(batch)
        return linearize(self._gradient_fn(batch), self.loss.params, floats)[1], _zeros(floats)

    def _graph(self, batch: Batch, v: Params) -> Params:
        leaves, grads = self._cached(batch, self._build_graph)
        live = [i for i, g in enumerate(grads) if g is not None and g.requires_grad]
        names = list(leaves)
        out = dict.fromkeys(names)
        if live:
            hv = torch.autograd.grad([grads[i] for i in live], list(leaves.values()),
                                     grad_outputs=[v[names[i]] for i in live],
                                     retain_graph=True, allow_unused=True)
            out = dict(zip(names, hv))
        return {n: torch.zeros_like(p) if out[n] is None else out[n] for n, p in leaves.items()}

    def _build_graph(self, batch: Batch) -> tuple[Params, tuple[Tensor | None, ...]]:
        leaves = {n: p.detach().requires_grad_() for n, p in self.loss.params.items()}
        with torch.enable_grad():
            grads = torch.autograd.grad(self.loss.loss(leaves, batch), list(leaves.values()),
                                        create_graph=True, allow_unused=True)
        return leaves, grads


class GaussNewtonOperator(_Operator):
    """The generalized Gauss–Newton matrix Jᵀ H_out J of the data-averaged loss.

    Same arguments as :class:`HessianOperator` (without ``method``). For the
    squared error ``0.5·mean‖f − y‖²`` it is the classical Gauss–Newton matrix.
    """

    def _product(self, batch: Batch, v: Params) -> Params:
        f_out = lambda p: self.loss.outputs(p, batch)  # noqa: E731
        outputs, jv = jvp(f_out, (self.loss.params,), (v,))  # (B, C), (B, C)
        floats, rebuild = _float_leaves(batch)

        def g_out(o: Tensor, fl: Sequence[Tensor]) -> Tensor:  # ∂ℓ/∂outputs: (B, C)
            return grad(lambda out: self.loss.loss_fn(out, rebuild(fl)))(o)

        h_jv = jvp(g_out, (outputs, floats), (jv, _zeros(floats)))[1]  # H_out J v: (B, C)
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
