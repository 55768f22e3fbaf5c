"""Training: one small core (batches, step, epoch, evaluate, fit), the optimizer chosen
once in a config, seed ensembles and progress bars."""

from ._method import choose_method, time_methods
from .core import LossFn, batches, check_finite, epoch, evaluate, fit, step
from .ensemble import Ensemble, evaluate_ensemble, make_ensemble, train_ensemble, train_seeds
from .optim import OPTIMIZERS, SCHEDULES, OptimizerConfig
from .progress import track

__all__ = ["OPTIMIZERS", "SCHEDULES", "Ensemble", "LossFn", "OptimizerConfig", "batches",
           "check_finite", "choose_method", "epoch", "evaluate", "evaluate_ensemble", "fit",
           "make_ensemble", "step", "time_methods", "track", "train_ensemble", "train_seeds"]
