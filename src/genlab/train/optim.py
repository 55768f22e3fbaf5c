"""The optimizer, chosen once in an experiment's config and built where it is needed.

An experiment's config holds an :class:`OptimizerConfig`; code that trains a model
receives it (or its bound :meth:`OptimizerConfig.build`) as a factory, in the spirit of
optax's transforms, instead of an optimizer name and a learning rate threaded through
every call. The module imports torch only when an optimizer is built, so experiment
configs can hold an :class:`OptimizerConfig` without importing torch.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    import torch

__all__ = ["OPTIMIZERS", "SCHEDULES", "OptimizerConfig"]

OPTIMIZERS = ("sgd", "momentum", "adam")
SCHEDULES = ("constant", "cosine", "step")


class OptimizerConfig(BaseModel):
    """Which optimizer, at which learning rate, with which per-step schedule.

    ``OptimizerConfig(name="adam", lr=1e-3).build(model.parameters())`` gives a fused
    Adam; ``.replace(lr=0.1)`` a validated copy with one field changed; ``--set
    optimizer.lr=0.1`` on the command line changes it in any experiment that has one.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: Literal["sgd", "momentum", "adam"] = Field(
        "adam", description="sgd (plain), momentum (heavy-ball SGD) or adam (fused on CPU/CUDA)")
    lr: float = Field(1e-3, gt=0, description="learning rate η")
    momentum: float = Field(0.9, ge=0, lt=1, description="momentum coefficient of 'momentum'")
    weight_decay: float = Field(0.0, ge=0, description="coupled L2 coefficient (PyTorch's "
                                "weight_decay)")
    schedule: Literal["constant", "cosine", "step"] = Field(
        "constant", description="per-step lr schedule: constant, cosine to 0, or ÷10 at 50% "
        "and 75% of the steps")
    clip_grad_norm: float | None = Field(None, gt=0, description="clip the gradient's global "
                                         "L2 norm to this value before each step (None: no "
                                         "clipping)")

    def replace(self, **changes) -> OptimizerConfig:
        """A validated copy with ``changes`` applied (e.g. ``lr=0.1``)."""
        return OptimizerConfig(**{**self.model_dump(), **changes})

    def build(self, params: Iterable[torch.Tensor]) -> torch.optim.Optimizer:
        """The optimizer over ``params``; with ``clip_grad_norm`` it clips the gradients'
        global norm (``torch.nn.utils.clip_grad_norm_``) in a step pre-hook, so every
        caller of ``step()`` gets the same update rule."""
        import torch

        params = list(params)
        if self.name == "adam":
            opt = torch.optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay,
                                   fused=True)
        else:
            momentum = self.momentum if self.name == "momentum" else 0.0
            opt = torch.optim.SGD(params, lr=self.lr, momentum=momentum,
                                  weight_decay=self.weight_decay)
        if self.clip_grad_norm is not None:
            limit = self.clip_grad_norm

            def clip(optimizer, args, kwargs) -> None:
                torch.nn.utils.clip_grad_norm_(params, limit)

            opt.register_step_pre_hook(clip)
        return opt

    def scheduler(self, optimizer: torch.optim.Optimizer, total_steps: int):
        """The per-step lr scheduler of ``schedule`` over ``total_steps`` (None if constant)."""
        import torch

        if self.schedule == "cosine":
            return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(total_steps, 1))
        if self.schedule == "step":
            marks = [int(total_steps * 0.5), int(total_steps * 0.75)]
            return torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=marks, gamma=0.1)
        return None
