"""Train one network until its training loss first falls below a target (or an epoch cap)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn

from ...train import OptimizerConfig, batches, check_finite, evaluate, step

__all__ = ["Fitted", "fit_to_loss"]

#: Within this factor of the target the checks come ``_FINE`` times more often, so every
#: run stops a small step past the target whatever its batch size (the loss falls by
#: about 20% per quarter epoch of small-batch training near 0.01).
_NEAR, _FINE = 1.5, 8


@dataclass
class Fitted:
    """What :func:`fit_to_loss` did: ``epochs`` (steps · batch size / n), ``steps``,
    the last evaluated ``train_loss`` and ``train_acc`` (of the returned weights), whether
    it ``reached`` the target, and the
    ``curve`` of (epoch, full training loss) at every check."""

    epochs: float
    steps: int
    train_loss: float
    train_acc: float
    reached: bool
    curve: list[tuple[float, float]] = field(default_factory=list)


def fit_to_loss(model: nn.Module, optimizer: OptimizerConfig, x: torch.Tensor, y: torch.Tensor,
                *, batch_size: int, target: float, max_epochs: float, check_every: float,
                generator: torch.Generator, log: Callable[[dict], None] | None = None) -> Fitted:
    """Minibatch training (shuffled epochs) that stops when the mean cross-entropy on the
    whole training set ``(x, y)`` first falls below ``target``.

    The loss is evaluated (eval mode) before training and every
    ``ceil(check_every · n / batch_size)`` steps, so both regimes are tested at about the
    same epochs, and 8× as often once it is within 1.5× of the target; training also
    stops once ``max_epochs`` epochs are done.

    Raises:
        Diverged: the training loss became NaN or infinite.
    """
    n = len(x)
    every = max(1, math.ceil(check_every * n / batch_size))
    opt, order = optimizer.build(model.parameters()), batches(n, batch_size, generator,
                                                              device=x.device)
    steps, curve = 0, []
    while True:
        ev = evaluate(model, x, y)
        loss = check_finite(ev["loss"], "training loss")
        epochs = steps * batch_size / n
        curve.append((epochs, loss))
        if log is not None:
            log({"epoch": epochs, "step": steps, "train_loss": loss})
        if loss < target or epochs >= max_epochs:
            return Fitted(epochs, steps, loss, ev["acc"], loss < target, curve)
        chunk = max(1, every // _FINE) if loss < _NEAR * target else every
        model.train()
        for _ in range(chunk):
            idx = next(order)  # None: the full batch
            step(model, opt, F.cross_entropy, *((x, y) if idx is None else (x[idx], y[idx])))
        steps += chunk
