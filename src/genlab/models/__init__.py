"""Models of the lecture, each built from an explicit seed."""

from .cnn import MnistCNN, seeded
from .mlp import MLP

__all__ = ["MLP", "MnistCNN", "seeded"]
