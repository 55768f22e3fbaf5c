"""The training engine: full-batch GD, minibatch SGD of any size M, online (M = 1).

The inner loop is a bare PyTorch loop over index slices of in-memory tensors; the
engine only adds a running loss kept on the device, evaluations on a schedule and a
divergence check there (no per-step host sync), so it costs about what the bare
loop costs (``benchmarks/train_loop.py``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import Diverged
from .progress import track

__all__ = ["evaluate", "make_optimizer", "make_scheduler", "train"]

LossFn = Callable[[Tensor, Tensor], Tensor]
OPTIMIZERS = ("sgd", "momentum", "adam")
SCHEDULES = ("constant", "cosine", "step")


def make_optimizer(params, name: str = "adam", lr: float = 1e-3, *, momentum: float = 0.9,
                   weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """SGD, SGD with (heavy-ball) momentum, or Adam (fused on CPU and CUDA).

    ``weight_decay`` is the coupled L2 penalty coefficient (PyTorch's convention).
    """
    params = list(params)
    if lr <= 0:
        raise ValueError(f"learning rate must be > 0, got {lr}")
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=momentum, weight_decay=weight_decay)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=True)
    raise ValueError(f"unknown optimizer {name!r}; allowed: {', '.join(OPTIMIZERS)}")


def make_scheduler(optimizer: torch.optim.Optimizer, name: str, total_steps: int):
    """A per-step learning-rate schedule: constant, cosine to 0, or ÷10 at 50% and 75%."""
    if name == "constant":
        return None
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(total_steps, 1))
    if name == "step":
        marks = [int(total_steps * 0.5), int(total_steps * 0.75)]
        return torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=marks, gamma=0.1)
    raise ValueError(f"unknown schedule {name!r}; allowed: {', '.join(SCHEDULES)}")


@torch.no_grad()
def evaluate(model: nn.Module, x: Tensor, y: Tensor, *, loss_fn: LossFn = F.cross_entropy,
             batch_size: int = 2048, accuracy: bool = True) -> dict[str, float]:
    """Mean loss (and accuracy) of ``model`` on ``(x, y)`` in eval mode; the mode is restored."""
    was_training = model.training
    model.eval()
    total, correct, n = 0.0, 0, len(x)
    try:
        for i in range(0, n, batch_size):
            out = model(x[i:i + batch_size])
            yb = y[i:i + batch_size]
            total += float(loss_fn(out, yb)) * len(yb)
            if accuracy:
                correct += int((out.argmax(1) == yb).sum())
    finally:
        model.train(was_training)
    record = {"loss": total / n}
    if accuracy:
        record["acc"] = correct / n
    return record


def _batch_stream(n: int, batch_size: int, generator: torch.Generator | None, device):
    """Endless index tensors: shuffled minibatches epoch after epoch; ``None`` = full batch."""
    while True:
        if batch_size >= n:
            yield None
        else:
            yield from torch.randperm(n, generator=generator).to(device).split(batch_size)


def train(model: nn.Module, x: Tensor, y: Tensor, *, optimizer: torch.optim.Optimizer,
          epochs: float = 1, steps: int | None = None, batch_size: int | None = None, loss_fn: LossFn = F.cross_entropy,
          generator: torch.Generator | None = None, scheduler=None,
          eval_sets: Mapping[str, tuple[Tensor, Tensor]] | None = None,
          eval_every: int | None = None, accuracy: bool = True,
          log: Callable[[dict], None] | None = None,
          on_step: Callable[[int, Tensor], None] | None = None,
          stop: Callable[[dict], bool] | None = None, progress: bool = False,
          description: str = "train") -> list[dict]:
    """Train ``model`` on ``(x, y)`` and return the evaluation records.

    Args:
        model: the network; left in train mode.
        x, y: the training set, already on the model's device.
        optimizer: from :func:`make_optimizer` or any torch optimizer.
        epochs: passes over the data (fractional allowed: ``0.5`` is half an epoch).
        steps: number of optimizer steps; overrides ``epochs`` when given.
        batch_size: M; ``None`` or ``>= len(x)`` is full-batch gradient descent, 1 is online.
        loss_fn: ``loss_fn(outputs, targets)``, a mean over the batch.
        generator: the batch-order random source.
        scheduler: per-step lr scheduler (``scheduler.step()`` after each step).
        eval_sets: name → ``(x, y)`` evaluated at each evaluation (e.g. ``train``, ``test``).
        eval_every: evaluate every this many steps; ``None`` = once per epoch. Step 0
            (before training) is always evaluated.
        accuracy: also report classification accuracy.
        log: called with each record (e.g. ``ctx.log``).
        on_step: called as ``on_step(step, loss)`` after every step (loss on device).
        stop: called with each record; returning True ends training early.
        progress: show a progress bar with ETA.
        description: the progress bar's label.

    Returns:
        Records ``{"step", "epoch", "lr", "train_loss_running", "<set>_loss", "<set>_acc"}``.

    Raises:
        Diverged: the loss became NaN or infinite.
    """
    n = len(x)
    batch_size = n if batch_size is None else min(batch_size, n)
    steps_per_epoch = math.ceil(n / batch_size)
    total = steps if steps is not None else max(1, round(epochs * steps_per_epoch))
    eval_every = eval_every or steps_per_epoch
    records: list[dict] = []
    running = torch.zeros((), device=x.device)
    since = 0

    def checkpoint(step: int) -> bool:
        nonlocal running, since
        mean = float(running) / since if since else float("nan")
        if since and not math.isfinite(mean):
            raise Diverged(f"loss became {mean} at step {step} (lr too large?)")
        rec = {"step": step, "epoch": step / steps_per_epoch,
               "lr": optimizer.param_groups[0]["lr"], "train_loss_running": mean}
        for name, (xe, ye) in (eval_sets or {}).items():
            for k, v in evaluate(model, xe, ye, loss_fn=loss_fn, accuracy=accuracy).items():
                rec[f"{name}_{k}"] = v
                if not math.isfinite(v):
                    raise Diverged(f"{name} {k} became {v} at step {step} (lr too large?)")
        running, since = torch.zeros((), device=x.device), 0
        records.append(rec)
        if log is not None:
            log(rec)
        return stop is not None and stop(rec)

    model.train()
    if checkpoint(0):
        return records
    batches = _batch_stream(n, batch_size, generator, x.device)
    for step in track(range(1, total + 1), description, total=total, enabled=progress):
        idx = next(batches)
        xb, yb = (x, y) if idx is None else (x[idx], y[idx])
        loss = loss_fn(model(xb), yb)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        running += loss.detach()
        since += 1
        if on_step is not None:
            on_step(step, loss)
        if (step % eval_every == 0 or step == total) and checkpoint(step):
            break
    return records
