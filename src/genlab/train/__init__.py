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
    **dict.fromkeys(("Ensemble", "choose_method", "evaluate_ensemble", "make_ensemble",
                     "train_ensemble", "train_seeds"), "ensemble"),
    "track": "progress",
}

__all__ = ["OPTIMIZERS", "SCHEDULES", "Ensemble", "LossFn", "OptimizerConfig", "batches",
           "check_finite", "choose_method", "epoch", "evaluate", "evaluate_ensemble", "fit",
           "LR_RULES", "LrPlan", "LrRule", "lr_plan", "make_ensemble", "step", "track",
           "train_ensemble", "train_seeds"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
