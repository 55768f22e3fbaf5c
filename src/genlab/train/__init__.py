"""Training: one small core (batches, step, epoch, evaluate, fit), the optimizer chosen
once in a config, seed ensembles and progress bars.

:class:`OptimizerConfig` and the learning-rate rules import no torch, so an experiment's
config module (imported by ``genlab list``) can hold them; the rest is imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from .lr_rules import LR_RULES, LrPlan, LrRule, lr_plan
from .optim import OPTIMIZERS, SCHEDULES, OptimizerConfig

#: Public name -> the submodule that defines it (imported when the name is first used).
_LAZY = {
    **dict.fromkeys(("LossFn", "batches", "check_finite", "epoch", "evaluate", "fit", "step"),
                    "core"),
    **dict.fromkeys(("Ensemble", "evaluate_ensemble", "make_ensemble", "train_ensemble",
                     "train_seeds"), "ensemble"),
    **dict.fromkeys(("choose_method", "time_methods"), "_method"),
    **dict.fromkeys(("first_epoch", "fit_until"), "until"),
    **dict.fromkeys(("CONSTRAINTS", "Constraint", "constrain"), "constraints"),
    "track": "progress",
}

__all__ = ["CONSTRAINTS", "LR_RULES", "OPTIMIZERS", "SCHEDULES", "Constraint", "Ensemble",
           "LossFn", "LrPlan", "LrRule", "OptimizerConfig", "batches", "check_finite",
           "choose_method", "constrain", "epoch", "evaluate", "evaluate_ensemble",
           "first_epoch", "fit", "fit_until", "lr_plan", "make_ensemble", "step", "time_methods", "track", "train_ensemble",
           "train_seeds"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
