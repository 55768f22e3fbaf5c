"""The ReLU rescaling symmetry (Dinh, Pascanu, Bengio & Bengio 2017, "Sharp minima
can generalize for deep nets").

For layers y = W2 φ(W1 x + b1) + b2 with φ positively homogeneous (ReLU, leaky
ReLU, max-pooling, flattening: φ(αz) = αφ(z) for α > 0), the map
W1 → αW1, b1 → αb1, W2 → W2/α leaves the function unchanged while the Hessian
blocks of W1 and W2 scale by 1/α² and α²: any naive sharpness can be made
arbitrarily large or small without changing the network.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

__all__ = ["HOMOGENEOUS", "homogeneous_pairs", "rescale_relu"]

#: Modules φ with φ(αz) = αφ(z) for α > 0 (dropout counts: identity in eval mode).
HOMOGENEOUS: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.LeakyReLU, nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d,
    nn.Flatten, nn.Identity, nn.Dropout,
)
_LAYERS = (nn.Linear, nn.Conv1d, nn.Conv2d)


def homogeneous_pairs(model: nn.Sequential) -> list[tuple[str, str]]:
    """Consecutive (first, second) linear/conv layers of a Sequential separated only
    by positively homogeneous modules: the pairs :func:`rescale_relu` may rescale.

    Args:
        model: an ``nn.Sequential`` (e.g. :class:`genlab.models.MnistCNN`, ``MLP``).

    Returns:
        Pairs of child names, e.g. ``[("0", "4"), ("4", "6")]`` for the MnistCNN.
    """
    pairs, previous = [], None
    for name, module in model.named_children():
        if isinstance(module, _LAYERS):
            if previous is not None:
                pairs.append((previous, name))
            previous = name
        elif not isinstance(module, HOMOGENEOUS):
            previous = None  # e.g. batch norm or tanh breaks the symmetry
    return pairs


def rescale_relu(model: nn.Module, first: str, second: str, alpha: float) -> nn.Module:
    """A rescaled copy: W1 → αW1, b1 → αb1 in layer ``first``, W2 → W2/α in ``second``.

    The function is unchanged when only positively homogeneous modules lie between
    the two layers (see :func:`homogeneous_pairs`); this is not checked here.

    Args:
        model: the network (not modified; a deep copy is returned).
        first, second: module names (as in ``model.named_modules()``).
        alpha: the scale α > 0.

    Returns:
        The rescaled deep copy.
    """
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha}")
    out = copy.deepcopy(model)
    modules = dict(out.named_modules())
    for name in (first, second):
        if not isinstance(modules.get(name), _LAYERS):
            layers = [n for n, m in modules.items() if isinstance(m, _LAYERS)]
            raise ValueError(f"{name!r} is not a Linear/Conv layer of the model; "
                             f"allowed: {', '.join(layers)}")
    with torch.no_grad():
        modules[first].weight.mul_(alpha)
        if modules[first].bias is not None:
            modules[first].bias.mul_(alpha)
        modules[second].weight.div_(alpha)
    return out
