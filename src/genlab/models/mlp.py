"""Multilayer perceptrons of given widths."""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from .cnn import seeded
from .ghost_bn import GhostBatchNorm1d
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
        ghost_batch_size: with ``batch_norm``, Ghost Batch Normalization over ghost
            batches of this size (:class:`~genlab.models.GhostBatchNorm1d`; Hoffer et al.
            2017); identical to batch norm in eval mode.
    """

    def __init__(self, in_features: int, hidden: Sequence[int], out_features: int, *,
                 seed: int = 0, batch_norm: bool = False, dropout: float = 0.0,
                 activation: type[nn.Module] = nn.ReLU, ghost_batch_size: int | None = None):
        if ghost_batch_size is not None and not batch_norm:
            raise ValueError("ghost_batch_size needs batch_norm=True")
        with seeded(seed):
            layers: list[nn.Module] = [nn.Flatten()]
            width = in_features
            for h in hidden:
                layers.append(nn.Linear(width, h))
                if batch_norm:
                    layers.append(nn.BatchNorm1d(h) if ghost_batch_size is None else
                                  GhostBatchNorm1d(h, ghost_batch_size=ghost_batch_size))
                layers.append(activation())
                if dropout:
                    layers.append(nn.Dropout(dropout))
                width = h
            layers.append(nn.Linear(width, out_features))
            super().__init__(*layers)
