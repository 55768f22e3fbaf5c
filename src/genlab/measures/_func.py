"""Turning (model, loss_fn, data) into a pure function of a parameter dict.

Every measure goes through :class:`FunctionalLoss`: it calls the model with
``torch.func.functional_call`` on detached parameters, never mutates the model's
parameters or buffers (batch-norm running statistics are updated, in train mode,
only on copies made inside the call), and sets the train/eval mode explicitly for
the duration of each call only, restoring every submodule's flag afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call
from torch.utils._pytree import tree_flatten, tree_map

__all__ = [
    "FunctionalLoss",
    "accuracy",
    "as_batches",
    "batch_size",
    "cross_entropy_loss",
    "default_inputs",
    "flatten",
    "select_params",
    "unflatten",
]

Batch = Any
LossFn = Callable[[Tensor, Batch], Tensor]
Params = dict[str, Tensor]


def cross_entropy_loss(outputs: Tensor, batch: Batch) -> Tensor:
    """Mean cross-entropy of logits ``outputs`` (B, C) against labels ``batch[1]`` (B,)."""
    return F.cross_entropy(outputs, batch[1])


def accuracy(outputs: Tensor, batch: Batch) -> Tensor:
    """Fraction of rows of ``outputs`` (B, C) whose argmax equals ``batch[1]`` (B,)."""
    return (outputs.argmax(dim=-1) == batch[1]).to(outputs.dtype).mean()


def default_inputs(batch: Batch) -> Any:
    """The model input of an ``(x, y)`` batch: ``batch[0]``."""
    return batch[0]


def _is_batch(data: Any) -> bool:
    if isinstance(data, (Tensor, dict)):
        return True
    if isinstance(data, (tuple, list)) and data:
        return all(isinstance(t, Tensor) for t in data)
    return False


def as_batches(data: Any) -> list[Batch]:
    """A list of batches from one batch or an iterable of batches.

    One batch is a tensor, a dict, or a tuple/list whose items are all tensors
    (e.g. ``(x, y)``); anything else (a list of batches, a DataLoader, a
    generator) is read once into a list so it can be walked many times.
    """
    batches = [data] if _is_batch(data) else list(data)
    if not batches:
        raise ValueError("data holds no batch; pass a batch or a non-empty iterable of batches")
    return batches


def batch_size(batch: Batch) -> int:
    """Leading dimension of the first tensor found in ``batch``."""
    leaves = [t for t in tree_flatten(batch)[0] if isinstance(t, Tensor)]
    if not leaves:
        raise ValueError("a batch must hold at least one tensor")
    return int(leaves[0].shape[0])


def select_params(model: nn.Module, names: str | Sequence[str] | None = None) -> Params:
    """Detached parameters of ``model``, all or a subset.

    Args:
        model: the network.
        names: ``None`` for every parameter, a name prefix (``"3."`` = layer 3),
            or a list of exact names / prefixes.

    Returns:
        An ordered dict name -> detached tensor (shares memory with the model).
    """
    every = {n: p.detach() for n, p in model.named_parameters()}
    if names is None:
        return every
    wanted = [names] if isinstance(names, str) else list(names)
    chosen = {n: p for n, p in every.items()
              if any(n == w or n.startswith(w if w.endswith(".") else w + ".") for w in wanted)}
    if not chosen:
        raise ValueError(f"no parameter matches {wanted}; names are {list(every)}")
    return chosen


def flatten(params: Params) -> Tensor:
    """Concatenate a parameter dict into one vector (n,)."""
    return torch.cat([p.reshape(-1) for p in params.values()])


def unflatten(vector: Tensor, like: Params) -> Params:
    """Split a vector (n,) into a dict shaped like ``like``."""
    out, i = {}, 0
    for name, p in like.items():
        out[name] = vector[i:i + p.numel()].view_as(p)
        i += p.numel()
    if i != vector.numel():
        raise ValueError(f"vector has {vector.numel()} entries, parameters have {i}")
    return out


@contextmanager
def _mode(model: nn.Module, train: bool) -> Iterator[None]:
    flags = [m.training for m in model.modules()]
    model.train(train)
    try:
        yield
    finally:
        for m, flag in zip(model.modules(), flags):
            m.training = flag


def _to_device(batch: Batch, device: torch.device) -> Batch:
    return tree_map(lambda t: t.to(device) if isinstance(t, Tensor) else t, batch)


class FunctionalLoss:
    """A model, a loss and data seen as a pure function of (a subset of) the parameters.

    Args:
        model: any ``nn.Module``; it is never modified.
        loss_fn: ``loss_fn(outputs, batch) -> scalar``, the mean loss over the batch.
        data: one batch or an iterable of batches (the whole training set); losses
            over several batches are averaged with weights proportional to batch size.
        params: which parameters vary (see :func:`select_params`); the others stay fixed.
        inputs: ``inputs(batch)`` gives the model input; a tuple is passed as
            positional arguments.
        train_mode: mode of the forward pass (batch-norm batch statistics, dropout).
    """

    def __init__(self, model: nn.Module, loss_fn: LossFn, data: Any, *,
                 params: str | Sequence[str] | None = None,
                 inputs: Callable[[Batch], Any] = default_inputs, train_mode: bool = False):
        self.model, self.loss_fn, self.inputs, self.train_mode = model, loss_fn, inputs, train_mode
        self.params = select_params(model, params)
        first = next(iter(self.params.values()))
        self.device, self.dtype = first.device, first.dtype
        self.batches = [_to_device(b, self.device) for b in as_batches(data)]
        sizes = torch.tensor([batch_size(b) for b in self.batches], dtype=torch.float64)
        self.weights = (sizes / sizes.sum()).tolist()
        self.dim = sum(p.numel() for p in self.params.values())

    def outputs(self, params: Params, batch: Batch) -> Tensor:
        """Model outputs at ``params`` (the varying subset) on ``batch``."""
        full = {n: p.detach() for n, p in self.model.named_parameters()}
        full.update(params)
        buffers = dict(self.model.named_buffers())
        if self.train_mode:  # running stats are updated in place: on private copies only
            buffers = {n: b.clone() for n, b in buffers.items()}
        x = self.inputs(batch)
        args = x if isinstance(x, tuple) else (x,)
        with _mode(self.model, self.train_mode):
            return functional_call(self.model, {**full, **buffers}, args)

    def loss(self, params: Params, batch: Batch) -> Tensor:
        """Scalar loss at ``params`` on one batch."""
        return self.loss_fn(self.outputs(params, batch), batch)

    def weighted(self) -> Iterable[tuple[float, Batch]]:
        """Pairs (weight, batch) whose weighted sum gives the data average."""
        return zip(self.weights, self.batches)

    @torch.no_grad()
    def value(self, params: Params | None = None) -> float:
        """Loss averaged over all batches at ``params`` (default: the model's own)."""
        params = self.params if params is None else params
        return float(sum(w * self.loss(params, b) for w, b in self.weighted()))

    def metric(self, fn: LossFn, params: Params | None = None) -> float:
        """Any ``fn(outputs, batch)`` (e.g. :func:`accuracy`) averaged over all batches."""
        params = self.params if params is None else params
        with torch.no_grad():
            return float(sum(w * fn(self.outputs(params, b), b) for w, b in self.weighted()))

    def value_and_grad(self, params: Params | None = None) -> tuple[float, Params]:
        """Data-averaged loss and its gradient with respect to the varying parameters."""
        params = self.params if params is None else params
        total, grads = 0.0, {n: torch.zeros_like(p) for n, p in params.items()}
        for w, b in self.weighted():
            g, value = torch.func.grad_and_value(self.loss)(params, b)
            total += w * float(value)
            for n in grads:
                grads[n].add_(g[n], alpha=w)
        return total, grads
