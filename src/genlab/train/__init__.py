"""Training: full-batch GD, minibatch SGD, online; seed ensembles; optimizers; progress."""

from .ensemble import (Ensemble, choose_method, evaluate_ensemble, make_ensemble,
                       train_ensemble, train_seeds)
from .loop import evaluate, make_optimizer, make_scheduler, train
from .lr_rules import LR_RULES, LrPlan, LrRule, lr_plan
from .progress import track

__all__ = ["Ensemble", "choose_method", "evaluate", "evaluate_ensemble", "make_ensemble",
           "make_optimizer", "make_scheduler", "track", "train", "train_ensemble",
           "train_seeds", "LR_RULES", "LrPlan", "LrRule", "lr_plan"]
