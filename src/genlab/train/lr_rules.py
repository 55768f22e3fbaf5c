"""Learning-rate rules for large batches: √B and linear scaling, warm-up, regime adaptation.

Going from a base batch B₀ with learning rate η₀ to a batch B:

- ``"none"``: η = η₀.
- ``"sqrt"``: η = η₀·√(B/B₀), which keeps the covariance of the weight updates
  unchanged (Hoffer, Hubara & Soudry 2017, "Train longer, generalize better: closing
  the generalization gap in large batch training of neural networks", NeurIPS,
  arXiv:1705.08741).
- ``"linear"``: η = η₀·B/B₀ with a gradual warm-up: the lr starts at η₀ and grows by
  the same amount each update until it reaches η after ``warmup_epochs`` (5 by
  default) (Goyal, Dollár, Girshick, Noordhuis, Wesolowski, Kyrola, Tulloch, Jia & He
  2017, "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour",
  arXiv:1706.02677).

**Regime adaptation** (Hoffer et al.): the number of epochs and the
epochs of the lr decays are multiplied by B/B₀, so the large batch makes as many
updates, with the same schedule per update, as the small one. The warm-up, a
separate rule measured in epochs, is not stretched.

An experiment calls :func:`lr_plan` once from its config and gets an
:class:`LrPlan`: the peak lr to build the optimizer with, the number of epochs, the
lr of every update (:meth:`LrPlan.lr_at`) and a ``LambdaLR`` that applies it
(:meth:`LrPlan.scheduler`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    import torch

__all__ = ["LR_RULES", "LrPlan", "LrRule", "lr_plan"]

LrRule = Literal["none", "sqrt", "linear"]  # for a pydantic config field
LR_RULES: tuple[str, ...] = get_args(LrRule)
GOYAL_WARMUP_EPOCHS = 5.0


@dataclass(frozen=True)
class LrPlan:
    """The learning-rate regime of one batch size under one rule (from :func:`lr_plan`).

    Attributes:
        rule: ``"none"``, ``"sqrt"`` or ``"linear"``.
        base_lr: η₀, the lr at the base batch size (where a warm-up starts).
        lr: η, the peak lr (build the optimizer with it).
        epochs: passes over the data (× B/B₀ under regime adaptation; may be fractional).
        milestones: epochs at which the lr is multiplied by ``gamma`` (ascending).
        gamma: the decay factor at each milestone.
        warmup_epochs: epochs of the linear ramp from ``base_lr`` to ``lr`` (0 = none).
    """

    rule: LrRule
    base_lr: float
    lr: float
    epochs: float
    milestones: tuple[float, ...]
    gamma: float
    warmup_epochs: float

    def steps(self, steps_per_epoch: int) -> int:
        """Number of updates: ``round(epochs · steps_per_epoch)``, as ``train`` counts them."""
        return max(1, round(self.epochs * _positive_int(steps_per_epoch, "steps_per_epoch")))

    def lr_at(self, step: int, steps_per_epoch: int) -> float:
        """The lr of update ``step`` (0 = the first update).

        Warm-up over ``w = round(warmup_epochs · steps_per_epoch)`` updates:
        ``base_lr + (lr − base_lr)·step/w`` for ``step < w``; then ``lr`` times ``gamma``
        for every milestone ``m`` with ``step ≥ round(m · steps_per_epoch)``.
        """
        spe = _positive_int(steps_per_epoch, "steps_per_epoch")
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        warmup = round(self.warmup_epochs * spe)
        if step < warmup:
            return self.base_lr + (self.lr - self.base_lr) * step / warmup
        decays = sum(step >= round(m * spe) for m in self.milestones)
        return self.lr * self.gamma ** decays

    def scheduler(self, optimizer: torch.optim.Optimizer,
                  steps_per_epoch: int) -> torch.optim.lr_scheduler.LambdaLR:
        """A per-update ``LambdaLR``: after ``t`` calls of ``.step()`` the lr is ``lr_at(t)``.

        Raises:
            ValueError: the optimizer's lr is not ``self.lr`` (build it with ``plan.lr``).
        """
        for group in optimizer.param_groups:
            if not math.isclose(group["lr"], self.lr, rel_tol=1e-12):
                raise ValueError(f"optimizer lr {group['lr']} is not the plan's lr {self.lr}; "
                                 "build the optimizer with plan.lr")
        _positive_int(steps_per_epoch, "steps_per_epoch")
        import torch

        return torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda t: self.lr_at(t, steps_per_epoch) / self.lr)


def lr_plan(rule: LrRule, *, base_lr: float, base_batch_size: int, batch_size: int, epochs: float,
            milestones: Sequence[float] = (), gamma: float = 0.1,
            warmup_epochs: float | None = None, regime_adaptation: bool = False) -> LrPlan:
    """The lr, schedule and number of epochs of batch size B under a scaling rule.

    Args:
        rule: ``"none"`` (η₀), ``"sqrt"`` (η₀·√(B/B₀), Hoffer et al.) or ``"linear"``
            (η₀·B/B₀ with warm-up, Goyal et al.).
        base_lr: η₀, the lr tuned at the base batch size.
        base_batch_size: B₀.
        batch_size: B.
        epochs: training epochs at the base batch size.
        milestones: epochs (at the base batch size) at which the lr is multiplied by
            ``gamma``; strictly ascending, within (0, epochs].
        gamma: decay factor, in (0, 1].
        warmup_epochs: epochs of the ramp from η₀ to η; ``None`` = the rule's default
            (5 for ``"linear"``, as Goyal et al.; 0 otherwise). At most ``epochs``.
        regime_adaptation: multiply ``epochs`` and ``milestones`` by B/B₀ (Hoffer et al.).

    Returns:
        An :class:`LrPlan`. With B = B₀ every rule gives η₀ and the same epochs.

    Raises:
        ValueError: an unknown rule or an out-of-range argument.
    """
    ratio = (_positive_int(batch_size, "batch_size")
             / _positive_int(base_batch_size, "base_batch_size"))
    scale = {"none": 1.0, "sqrt": math.sqrt(ratio), "linear": ratio}.get(rule)
    if scale is None:
        raise ValueError(f"unknown lr rule {rule!r}; allowed: {', '.join(LR_RULES)}")
    if warmup_epochs is None:
        warmup_epochs = GOYAL_WARMUP_EPOCHS if rule == "linear" else 0.0
    marks = tuple(float(m) for m in milestones)
    _check_regime(base_lr, epochs, marks, gamma, warmup_epochs)
    stretch = ratio if regime_adaptation else 1.0
    return LrPlan(rule=rule, base_lr=float(base_lr), lr=base_lr * scale, epochs=epochs * stretch,
                  milestones=tuple(m * stretch for m in marks), gamma=float(gamma),
                  warmup_epochs=float(warmup_epochs))


def _check_regime(base_lr: float, epochs: float, marks: tuple[float, ...], gamma: float,
                  warmup: float) -> None:
    if not base_lr > 0:
        raise ValueError(f"base_lr must be > 0, got {base_lr}")
    if not epochs > 0:
        raise ValueError(f"epochs must be > 0, got {epochs}")
    if any(not 0 < m <= epochs for m in marks) or any(a >= b for a, b in zip(marks, marks[1:])):
        raise ValueError(f"milestones must be strictly ascending within (0, {epochs}], got {marks}")
    if not 0 < gamma <= 1:
        raise ValueError(f"gamma must be in (0, 1], got {gamma}")
    if not 0 <= warmup <= epochs:
        raise ValueError(f"warmup_epochs must be in [0, {epochs}], got {warmup}")


def _positive_int(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    return int(value)
