"""Multilayer perceptrons of given widths."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from .cnn import seeded
from .spec import recorded

__all__ = ["MLP"]


@recorded
class MLP(nn.Sequential):
    """Flatten → [Linear → (BatchNorm) → act → (Dropout)] × len(hidden) → Linear.

    Args:
        in_features: input size after flattening (784 for MNIST).
        hidden: widths of the hidden layers; empty gives a linear model.
        out_features: output size (number of classes, or 1 for regression).
        seed: seed of the weight initialization.
        batch_norm: add ``BatchNorm1d`` after each hidden linear layer.
        dropout: dropout probability after each hidden activation (0 = none).
        activation: module class of the nonlinearity (``nn.ReLU`` by default).
    """

    def __init__(self, in_features: int, hidden: Sequence[int], out_features: int, *,
                 seed: int = 0, batch_norm: bool = False, dropout: float = 0.0,
                 activation: type[nn.Module] = nn.ReLU):
        with seeded(seed):
            layers: list[nn.Module] = [nn.Flatten()]
            width = in_features
            for h in hidden:
                layers.append(nn.Linear(width, h))
                if batch_norm:
                    layers.append(nn.BatchNorm1d(h))
                layers.append(activation())
                if dropout:
                    layers.append(nn.Dropout(dropout))
                width = h
            layers.append(nn.Linear(width, out_features))
            super().__init__(*layers)
