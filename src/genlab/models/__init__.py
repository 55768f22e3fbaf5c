"""Models of the lecture, each built from an explicit seed and recording its constructor
arguments (:func:`model_spec`), so stored weights rebuild exactly (:func:`build_model`)."""

from .cnn import MnistCNN, seeded
from .ghost_bn import GhostBatchNorm1d, GhostBatchNorm2d, ghost_batch_norm
from .mlp import MLP
from .polynomial import legendre_features, ridge_fit
from .skip import SkipNet, noise_input
from .spec import build_model, model_spec, recorded
from .vgg import IMAGENET_MEAN, IMAGENET_STD, VGG16, VGG16_LAYERS, load_vgg16_weights

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "MLP", "VGG16", "VGG16_LAYERS", "GhostBatchNorm1d",
           "GhostBatchNorm2d", "MnistCNN", "SkipNet", "build_model", "ghost_batch_norm",
           "legendre_features", "load_vgg16_weights", "model_spec", "noise_input", "recorded",
           "ridge_fit", "seeded"]
