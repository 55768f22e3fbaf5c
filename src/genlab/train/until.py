"""Train until a condition on the evaluated metrics holds: :func:`fit_until`, :func:`first_epoch`.

The loop of Zhang et al.'s randomization tests ("Understanding deep learning requires
rethinking generalization", ICLR 2017, arXiv:1611.03530): train epoch by epoch, evaluate
the training set after every epoch, and stop at the first epoch where it is fitted
(e.g. ``train_acc >= 0.99``), so the epoch count is the time to fit. The same loop
trains two models to a common training loss before comparing them. A per-epoch input
transform (e.g. a fresh random shift of every image, :func:`genlab.data.random_shift`)
gives augmentation redrawn every epoch; evaluation always uses the untransformed data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .core import LossFn, evaluate_sets, epoch
from .progress import track

__all__ = ["first_epoch", "fit_until"]


def fit_until(model: nn.Module, optimizer: torch.optim.Optimizer, x: Tensor, y: Tensor, *,
              stop: Callable[[dict], bool], max_epochs: int, batch_size: int | None,
              generator: torch.Generator | None = None, loss_fn: LossFn = F.cross_entropy,
              augment: Callable[[Tensor], Tensor] | None = None,
              eval_sets: Mapping[str, tuple[Tensor, Tensor]] | None = None,
              log: Callable[[dict], None] | None = None, progress: bool = False,
              description: str = "train") -> list[dict]:
    """Train epoch by epoch until ``stop(record)`` holds or ``max_epochs`` have run.

    The training set ``(x, y)`` is evaluated as ``"train"`` (eval mode, untransformed)
    at epoch 0 and after every epoch, together with ``eval_sets``; ``stop`` sees each
    record, including the one at epoch 0 (a model that already fits is not trained).

    Args:
        model, optimizer, x, y, batch_size, generator, loss_fn: as in :func:`epoch`.
        stop: called with each record; True ends training after that record.
        max_epochs: the budget of passes.
        augment: ``augment(x)`` gives the inputs of one epoch (drawn anew each epoch,
            e.g. ``lambda x: random_shift(x, 2, gen)``); None trains on ``x`` itself.
        eval_sets: more name → ``(x, y)`` evaluated with the training set, e.g. ``"test"``.
        log: called with each record (e.g. ``ctx.log``).
        progress: show a progress bar; description: its label.

    Returns:
        One record per evaluation, ``{"epoch", "train_loss_running", "train_loss",
        "train_acc", "<set>_loss", "<set>_acc"}`` as in :func:`fit`; the last one is
        the first to satisfy ``stop``, or the one after ``max_epochs``.
    """
    if max_epochs < 0:
        raise ValueError(f"max_epochs must be ≥ 0, got {max_epochs}")
    sets = {"train": (x, y), **(eval_sets or {})}
    records = []
    for e in track(range(max_epochs + 1), description, total=max_epochs + 1, enabled=progress):
        running = math.nan if e == 0 else epoch(
            model, optimizer, x if augment is None else augment(x), y, batch_size=batch_size,
            generator=generator, loss_fn=loss_fn)
        rec = {"epoch": e, "train_loss_running": running, **evaluate_sets(model, sets, loss_fn)}
        records.append(rec)
        if log is not None:
            log(rec)
        if stop(rec):
            break
    return records


def first_epoch(records: list[dict], stop: Callable[[dict], bool]) -> float:
    """The epoch of the first record satisfying ``stop``; NaN if none does (not reached)."""
    return next((float(r["epoch"]) for r in records if stop(r)), math.nan)
