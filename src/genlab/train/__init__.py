"""Training: full-batch GD, minibatch SGD, online; seed ensembles; optimizers; progress."""

from .constraints import CONSTRAINTS, Constraint, constrain
from .ensemble import (Ensemble, choose_method, evaluate_ensemble, make_ensemble,
                       train_ensemble, train_seeds)
from .loop import evaluate, make_optimizer, make_scheduler, train
from .progress import track

__all__ = ["Ensemble", "choose_method", "evaluate", "evaluate_ensemble", "make_ensemble",
           "make_optimizer", "make_scheduler", "track", "train", "train_ensemble",
           "train_seeds"]
__all__ += ["CONSTRAINTS", "Constraint", "constrain"]
