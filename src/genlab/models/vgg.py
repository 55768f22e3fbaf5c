"""A VGG16-layout network whose parameter names match the common VGG16 checkpoints.

Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition", ICLR 2015 (configuration D). 13 3×3 convs in five blocks
(64, 64 | 128, 128 | 256 × 3 | 512 × 3 | 512 × 3), each followed by ReLU, a 2×2
max-pool closing each block, then three fully connected layers (4096, 4096,
classes) with ReLU and dropout between them. Modules are numbered like the
widespread ``features.N`` / ``avgpool`` / ``classifier.N`` layout, so at
``width=1`` with 224×224 RGB input and ``avgpool=7`` a VGG16 ImageNet state dict
(138,357,544 parameters) loads with ``load_state_dict(torch.load(path,
weights_only=True))``. Narrower widths and small inputs give the same layout for
offline experiments (e.g. MNIST padded to 32×32).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .cnn import seeded
from .spec import recorded

__all__ = ["VGG16", "VGG16_LAYERS"]

#: Output channels of the 13 convs; "M" is a 2×2 max-pool.
_PLAN = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
         512, 512, 512, "M")


def _layer_names() -> dict[str, tuple[str, int]]:
    """Layer name → (part, index of the module whose output it is).

    conv{b}_{i} is the ReLU output after the i-th conv of block b; pool{b} the
    block's max-pool; fc6, fc7 the ReLU outputs of the first two linear layers;
    fc8 the logits.
    """
    names, block, conv, idx = {}, 1, 0, 0
    for v in _PLAN:
        if v == "M":
            names[f"pool{block}"] = ("features", idx)
            block, conv, idx = block + 1, 0, idx + 1
        else:
            conv += 1
            names[f"conv{block}_{conv}"] = ("features", idx + 1)
            idx += 2
    names.update(fc6=("classifier", 1), fc7=("classifier", 4), fc8=("classifier", 6))
    return names


#: Every invertible layer, input to output: conv1_1 … pool5, fc6, fc7, fc8.
VGG16_LAYERS: dict[str, tuple[str, int]] = _layer_names()


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
        seed: weight-initialization seed (Kaiming-normal convs, N(0, 0.01) linears).
    """

    def __init__(self, num_classes: int = 1000, *, in_channels: int = 3, input_size: int = 224,
                 width: float = 1.0, hidden: int | None = None, avgpool: int | None = 7,
                 dropout: float = 0.5, seed: int = 0):
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
                    layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.ReLU(inplace=True)]
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

    def _init(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x: Tensor) -> Tensor:
        """Logits (B, num_classes) of images (B, in_channels, S, S)."""
        h = self.avgpool(self.features(x))  # (B, c, s, s)
        return self.classifier(torch.flatten(h, 1))

    def activations(self, x: Tensor, layer: str) -> Tensor:
        """The output of ``layer`` (a name of :data:`VGG16_LAYERS`) for input x.

        Only the modules up to that layer are run. ReLUs act in place on fresh
        conv/linear outputs, so autograd through them is safe.
        """
        if layer not in VGG16_LAYERS:
            raise ValueError(f"unknown VGG16 layer {layer!r}; allowed: {', '.join(VGG16_LAYERS)}")
        part, idx = VGG16_LAYERS[layer]
        if part == "features":
            return self.features[:idx + 1](x)
        h = torch.flatten(self.avgpool(self.features(x)), 1)  # (B, c·s·s)
        return self.classifier[:idx + 1](h)
