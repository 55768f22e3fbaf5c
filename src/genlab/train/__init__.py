"""Training: full-batch GD, minibatch SGD, online; optimizers and schedules; progress."""

from .loop import evaluate, make_optimizer, make_scheduler, train
from .progress import track

__all__ = ["evaluate", "make_optimizer", "make_scheduler", "track", "train"]
