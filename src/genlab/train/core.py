"""The training core every experiment calls: batches, one step, one epoch, evaluate, fit.

A training loop in genlab reads like nanoGPT's: draw a batch, take a step, evaluate
on a schedule. :func:`fit` is that loop for the common case (epochs, evaluation after
each one); an experiment that needs something else (every iterate of a line fit, a
stop at 99% training accuracy, an ensemble) writes its own ten lines from
:func:`batches`, :func:`step`, :func:`epoch` and :func:`evaluate`. The running loss
stays on the device (no host sync per step) and is checked for divergence once per
epoch, so the core costs about what a bare PyTorch loop costs
(``benchmarks/train_loop.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import Diverged
from .progress import track

__all__ = ["LossFn", "batches", "check_finite", "epoch", "evaluate", "evaluate_sets", "fit", "step"]

LossFn = Callable[[Tensor, Tensor], Tensor]


def batches(n: int, batch_size: int | None, generator: torch.Generator | None = None, *,
            device: str | torch.device = "cpu", replacement: bool = False
            ) -> Iterator[Tensor | None]:
    """Endless minibatch index tensors over ``n`` examples.

    Args:
        n: number of examples.
        batch_size: M; ``None`` (or, without replacement, ``>= n``) yields ``None``
            (the full batch) forever.
        generator: the batch-order random source.
        device: where the index tensors live.
        replacement: draw each batch independently with replacement (the SGD of the
            stochastic-process analyses) instead of shuffled epochs without replacement
            (the last batch of an epoch may be smaller).

    Yields:
        int64 index tensors (M,), or ``None`` for the full batch.
    """
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"batch_size must be ≥ 1, got {batch_size}")
    while True:
        if replacement and batch_size is not None:
            yield torch.randint(0, n, (batch_size,), generator=generator).to(device)
        elif batch_size is None or batch_size >= n:
            yield None
        else:
            yield from torch.randperm(n, generator=generator).to(device).split(batch_size)


def step(model: nn.Module, optimizer: torch.optim.Optimizer, loss_fn: LossFn, x: Tensor,
         y: Tensor) -> Tensor:
    """One optimizer step on the batch ``(x, y)``; returns the batch loss (detached, on device)."""
    loss = loss_fn(model(x), y)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.detach()


def check_finite(value: float, what: str) -> float:
    """``value`` if finite; else raise :class:`~genlab.errors.Diverged` naming ``what``."""
    if not math.isfinite(value):
        raise Diverged(f"{what} became {value} (learning rate too large?)")
    return value


def epoch(model: nn.Module, optimizer: torch.optim.Optimizer, x: Tensor, y: Tensor, *,
          batch_size: int | None, generator: torch.Generator | None = None,
          loss_fn: LossFn = F.cross_entropy, scheduler=None,
          after_step: Callable[[], None] | None = None) -> float:
    """One pass over ``(x, y)`` in shuffled minibatches, in train mode.

    Args:
        model, optimizer: what is trained and how (see :class:`OptimizerConfig`).
        x, y: the training set, on the model's device.
        batch_size: M; ``None`` or ``>= len(x)`` is one full-batch gradient step.
        generator: the batch-order random source.
        loss_fn: ``loss_fn(outputs, targets)``, a mean over the batch.
        scheduler: stepped after every optimizer step, if given.
        after_step: called after every step (e.g. a weight constraint).

    Returns:
        The mean training loss of the epoch's steps.

    Raises:
        Diverged: the loss became NaN or infinite.
    """
    model.train()
    n = len(x)
    order = batches(n, batch_size, generator, device=x.device)
    count = 1 if batch_size is None or batch_size >= n else math.ceil(n / batch_size)
    total = torch.zeros((), device=x.device)
    for _ in range(count):
        idx = next(order)
        total += step(model, optimizer, loss_fn, *((x, y) if idx is None else (x[idx], y[idx])))
        if scheduler is not None:
            scheduler.step()
        if after_step is not None:
            after_step()
    return check_finite(float(total) / count, "training loss")


@torch.no_grad()
def evaluate(model: nn.Module, x: Tensor, y: Tensor, *, loss_fn: LossFn = F.cross_entropy,
             batch_size: int = 512, accuracy: bool = True) -> dict[str, float]:
    """Mean loss (and accuracy) of ``model`` on ``(x, y)`` in eval mode; the mode is restored.

    ``batch_size`` only bounds memory: in eval mode the numbers do not depend on it
    (512 keeps activations cache-sized on a CPU).
    """
    was_training = model.training
    model.eval()
    total, correct, n = 0.0, 0, len(x)
    try:
        for i in range(0, n, batch_size):
            out, yb = model(x[i:i + batch_size]), y[i:i + batch_size]
            total += float(loss_fn(out, yb)) * len(yb)
            if accuracy:
                correct += int((out.argmax(1) == yb).sum())
    finally:
        model.train(was_training)
    record = {"loss": total / n}
    if accuracy:
        record["acc"] = correct / n
    return record


def evaluate_sets(model: nn.Module, sets: Mapping[str, tuple[Tensor, Tensor]],
                  loss_fn: LossFn = F.cross_entropy) -> dict[str, float]:
    """:func:`evaluate` on each named set: ``{"<set>_loss", "<set>_acc"}`` (accuracy for
    integer labels only). Raises :class:`Diverged` on a non-finite loss."""
    rec = {}
    for name, (xe, ye) in sets.items():
        accuracy = ye.dtype in (torch.int64, torch.int32)
        for k, v in evaluate(model, xe, ye, loss_fn=loss_fn, accuracy=accuracy).items():
            rec[f"{name}_{k}"] = check_finite(v, f"{name} {k}") if k == "loss" else v
    return rec


def fit(model: nn.Module, optimizer: torch.optim.Optimizer, x: Tensor, y: Tensor, *,
        epochs: int, batch_size: int | None, generator: torch.Generator | None = None,
        loss_fn: LossFn = F.cross_entropy, scheduler=None,
        eval_sets: Mapping[str, tuple[Tensor, Tensor]] | None = None,
        log: Callable[[dict], None] | None = None, progress: bool = False,
        description: str = "train") -> list[dict]:
    """Train for ``epochs`` epochs, evaluating ``eval_sets`` before and after each one.

    Args:
        model, optimizer, x, y, batch_size, generator, loss_fn, scheduler: see :func:`epoch`.
        epochs: number of passes.
        eval_sets: name → ``(x, y)``, evaluated at epoch 0 (before training) and after
            every epoch, e.g. ``{"train": ..., "test": ...}``.
        log: called with each record (e.g. ``ctx.log``).
        progress: show a progress bar with ETA.
        description: the bar's label.

    Returns:
        One record per evaluation: ``{"epoch", "train_loss_running", "<set>_loss",
        "<set>_acc"}`` (``train_loss_running``: the mean loss of the epoch's steps;
        NaN at epoch 0).
    """
    records = []
    for e in track(range(epochs + 1), description, total=epochs + 1, enabled=progress):
        running = math.nan if e == 0 else epoch(
            model, optimizer, x, y, batch_size=batch_size, generator=generator,
            loss_fn=loss_fn, scheduler=scheduler)
        rec = {"epoch": e, "train_loss_running": running,
               **evaluate_sets(model, eval_sets or {}, loss_fn)}
        records.append(rec)
        if log is not None:
            log(rec)
    return records
