"""A VGG16-layout network whose parameter names match the common VGG16 checkpoints.

Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015 (configuration D). 13 3×3 convs in five blocks
(64, 64 | 128, 128 | 256 × 3 | 512 × 3 | 512 × 3), each followed by ReLU, a 2×2
max-pool closing each block, then three fully connected layers (4096, 4096,
classes) with ReLU and dropout between them. Modules are numbered like the
widespread ``features.N`` / ``avgpool`` / ``classifier.N`` layout, so at
``width=1`` with 224×224 RGB input and ``avgpool=7`` a VGG16 ImageNet state dict
(138,357,544 parameters) loads with ``load_state_dict(torch.load(path,
weights_only=True))`` (:func:`load_vgg16_weights`). Narrower widths and small inputs
give the same layout for offline experiments (e.g. MNIST padded to 64×64). The input
normalization is part of the model (``mean``, ``std``), so a stored model takes images
in [0, 1] like the data it was trained on.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .cnn import seeded
from .spec import recorded

__all__ = ["IMAGENET_MEAN", "IMAGENET_STD", "VGG16", "VGG16_LAYERS", "load_vgg16_weights"]

#: Channel means and stds of the common VGG16 ImageNet checkpoints' preprocessing.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: Output channels of the 13 convs; "M" is a 2×2 max-pool.
_PLAN = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
         512, 512, 512, "M")


def _layer_names(batch_norm: bool = False) -> dict[str, str]:
    """Layer name → the dotted name of the module whose output it is (``features.15``).

    conv{b}_{i} is the ReLU output after the i-th conv of block b; pool{b} the
    block's max-pool; fc6, fc7 the ReLU outputs of the first two linear layers;
    fc8 the logits. With batch norm each conv is followed by a BatchNorm2d before its
    ReLU (torchvision's ``vgg16_bn`` numbering).
    """
    names, block, conv, idx, per_conv = {}, 1, 0, 0, 3 if batch_norm else 2
    for v in _PLAN:
        if v == "M":
            names[f"pool{block}"] = f"features.{idx}"
            block, conv, idx = block + 1, 0, idx + 1
        else:
            conv += 1
            names[f"conv{block}_{conv}"] = f"features.{idx + per_conv - 1}"
            idx += per_conv
    names.update(fc6="classifier.1", fc7="classifier.4", fc8="classifier.6")
    return names


#: Every layer of the plain VGG16, input to output (conv1_1 … pool5, fc6, fc7, fc8) → its
#: module's name, e.g. ``layer_features(vgg, VGG16_LAYERS["conv3_3"])``
#: (:func:`genlab.images.layer_features`); ``VGG16(...).layers`` holds the same for any model.
VGG16_LAYERS: dict[str, str] = _layer_names()


@recorded
class VGG16(nn.Module):
    """VGG16 (configuration D) with configurable width, input size and channels.

    Args:
        num_classes: outputs of the last layer (1000 for ImageNet).
        in_channels: image channels (3 RGB, 1 gray).
        input_size: image height = width; must be a multiple of 32.
        width: multiplier of every conv width (1.0 = 64…512); each is at least 1.
        hidden: width of fc6 and fc7 (default 4096 · width, at least 8).
        avgpool: output side of an adaptive average pool before the classifier (7 as
            in the common VGG16; None: flatten the last pool directly).
        dropout: dropout probability before fc7 and fc8 (0.5 in the paper).
        seed: weight-initialization seed (Kaiming-normal convs and linears; the common
            N(0, 0.01) linears make the logits ≈ 0 and stall narrow nets without BN).
        batch_norm: a BatchNorm2d after every conv, before its ReLU (VGG16-BN; trains
            much faster at small widths); changes the module numbering (:attr:`layers`).
        mean, std: per-channel input normalization ``(x − mean) / std`` applied first
            (e.g. :data:`IMAGENET_MEAN`, :data:`IMAGENET_STD`); None: none. Not part of
            the state dict.
    """

    def __init__(self, num_classes: int = 1000, *, in_channels: int = 3, input_size: int = 224,
                 width: float = 1.0, hidden: int | None = None, avgpool: int | None = 7,
                 dropout: float = 0.5, seed: int = 0, batch_norm: bool = False,
                 mean: Sequence[float] | None = None, std: Sequence[float] | None = None):
        super().__init__()
        if input_size < 32 or input_size % 32 or width <= 0:
            raise ValueError(f"VGG16 needs input_size a multiple of 32 (got {input_size}) "
                             f"and width > 0 (got {width})")
        hidden = hidden or max(8, round(4096 * width))
        with seeded(seed):
            layers: list[nn.Module] = []
            c_in = in_channels
            for v in _PLAN:
                if v == "M":
                    layers.append(nn.MaxPool2d(2, 2))
                else:
                    c = max(1, round(v * width))
                    norm = [nn.BatchNorm2d(c)] if batch_norm else []
                    layers += [nn.Conv2d(c_in, c, 3, padding=1), *norm, nn.ReLU(inplace=True)]
                    c_in = c
            self.features = nn.Sequential(*layers)  # (B, c, S/32, S/32)
            side = avgpool if avgpool else input_size // 32
            self.avgpool = nn.AdaptiveAvgPool2d(avgpool) if avgpool else nn.Identity()
            self.classifier = nn.Sequential(
                nn.Linear(c_in * side * side, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
                nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
                nn.Linear(hidden, num_classes))
            self._init()
        self.input_size, self.in_channels = input_size, in_channels
        #: layer name (conv1_1 … fc8) → the dotted name of its module in this model
        self.layers: dict[str, str] = _layer_names(batch_norm)
        self._normalization(in_channels, mean, std)

    def _normalization(self, channels: int, mean, std) -> None:
        if (mean is None) != (std is None) or (mean is not None and (
                len(mean) != channels or len(std) != channels or min(std) <= 0)):
            raise ValueError(f"mean and std must both be None or {channels} values each "
                             f"(std > 0); got mean={mean}, std={std}")
        shape = (1, channels, 1, 1)
        self.register_buffer("input_mean", None if mean is None else
                             torch.tensor(mean, dtype=torch.float32).view(shape), persistent=False)
        self.register_buffer("input_std", None if std is None else
                             torch.tensor(std, dtype=torch.float32).view(shape), persistent=False)

    def _init(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):  # not N(0, 0.01): three such layers starve a
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")  # narrow net of gradient
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        """Logits (B, num_classes) of images (B, in_channels, S, S)."""
        if self.input_mean is not None:
            x = (x - self.input_mean) / self.input_std
        h = self.avgpool(self.features(x))  # (B, c, s, s)
        return self.classifier(torch.flatten(h, 1))


def load_vgg16_weights(path: str | os.PathLike, model: VGG16) -> VGG16:
    """Load a VGG16 state dict file (``torch.save``'d) into ``model`` (strict).

    The file is read with ``weights_only=True`` (no code runs).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a state dict of this architecture.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no VGG16 weights file {str(path)!r}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
    except Exception as e:  # unpickling or key/shape mismatch
        first = str(e).strip().splitlines()[0][:300]
        raise ValueError(f"{str(path)!r} is not a VGG16 state dict "
                         f"(features.N / classifier.N): {first}") from None
    return model
