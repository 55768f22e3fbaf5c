"""Training: one small core (batches, step, epoch, evaluate, fit), the optimizer chosen
once in a config, training until a condition holds, seed ensembles and progress bars.

:class:`OptimizerConfig` is imported eagerly and without torch, so an experiment's
config module can hold one; everything else is imported on first use (PEP 562), which
keeps ``genlab list`` from importing torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .optim import OPTIMIZERS, SCHEDULES, OptimizerConfig

if TYPE_CHECKING:
    from .core import LossFn, batches, check_finite, epoch, evaluate, fit, step
    from .ensemble import (Ensemble, choose_method, evaluate_ensemble, make_ensemble,
                           train_ensemble, train_seeds)
    from .progress import track
    from .until import first_epoch, fit_until

__all__ = ["OPTIMIZERS", "SCHEDULES", "Ensemble", "LossFn", "OptimizerConfig", "batches",
           "check_finite", "choose_method", "epoch", "evaluate", "evaluate_ensemble",
           "first_epoch", "fit", "fit_until", "make_ensemble", "step", "track",
           "train_ensemble", "train_seeds"]

_LAZY = {
    **dict.fromkeys(("LossFn", "batches", "check_finite", "epoch", "evaluate", "fit", "step"),
                    "core"),
    **dict.fromkeys(("Ensemble", "choose_method", "evaluate_ensemble", "make_ensemble",
                     "train_ensemble", "train_seeds"), "ensemble"),
    "track": "progress",
    **dict.fromkeys(("first_epoch", "fit_until"), "until"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
