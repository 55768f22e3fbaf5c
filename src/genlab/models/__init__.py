"""Models of the lecture, each built from an explicit seed."""

from .cnn import MnistCNN, seeded
from .ghost_bn import GhostBatchNorm1d, GhostBatchNorm2d, ghost_batch_norm
from .mlp import MLP
from .skip import SkipNet, noise_input
from .vgg import VGG16, VGG16_LAYERS

__all__ = ["MLP", "VGG16", "VGG16_LAYERS", "MnistCNN", "SkipNet", "noise_input", "seeded",
           "GhostBatchNorm1d", "GhostBatchNorm2d", "ghost_batch_norm"]
