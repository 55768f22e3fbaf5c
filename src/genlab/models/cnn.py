"""The lecture's MNIST CNN (the network of Zhang et al.'s memorization slide)."""

from __future__ import annotations

from contextlib import contextmanager

import torch
from torch import nn

from .spec import recorded

__all__ = ["MnistCNN", "seeded"]


@contextmanager
def seeded(seed: int):
    """Context under which module construction is reproducible.

    The global RNG is forked, so building a model never changes the caller's
    random state; the model's init depends on ``seed`` alone.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


@recorded
class MnistCNN(nn.Sequential):
    """Conv(1→8, 5×5, same) → ReLU → MaxPool 2×2 → Flatten → Linear(1568→512) → ReLU → Linear(512→10).

    808,666 parameters for 28×28 single-channel input. ``dropout`` (a probability)
    adds dropout before each linear layer, for the explicit-regularization
    variants of the memorization experiment; at 0 the network is the lecture's.

    Args:
        seed: seed of the weight initialization.
        channels: conv channels (8 in the lecture).
        hidden: width of the hidden linear layer (512 in the lecture).
        num_classes: output width.
        in_channels: image channels (1 for MNIST, 3 for CIFAR-10).
        image_size: input height = width (28 for MNIST, 32 for CIFAR-10).
        dropout: dropout probability before each linear layer.
    """

    def __init__(self, seed: int = 0, *, channels: int = 8, hidden: int = 512,
                 num_classes: int = 10, in_channels: int = 1, image_size: int = 28,
                 dropout: float = 0.0):
        flat = channels * (image_size // 2) ** 2
        with seeded(seed):
            layers: list[nn.Module] = [
                nn.Conv2d(in_channels, channels, 5, padding=2),  # (B, C, H, W)
                nn.ReLU(),
                nn.MaxPool2d(2),  # (B, C, H/2, W/2)
                nn.Flatten(),  # (B, C·H·W/4)
            ]
            if dropout:
                layers.append(nn.Dropout(dropout))
            layers += [nn.Linear(flat, hidden), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            layers.append(nn.Linear(hidden, num_classes))
            super().__init__(*layers)
