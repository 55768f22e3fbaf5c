"""The encoder–decoder with skip connections of Deep Image Prior.

Ulyanov, Vedaldi & Lempitsky, "Deep Image Prior", CVPR 2018 (supplementary, Fig. 1
and Table 1). Level i of the encoder halves the resolution (a stride-2 conv and a
conv, each followed by batch norm and LeakyReLU); a 1×1 "skip" branch keeps a few
channels of the level's input; the decoder upsamples the deeper result ×2,
concatenates the skip, and applies batch norm, a k×k conv and a 1×1 conv (each
with BN and LeakyReLU). A 1×1 conv and a sigmoid give the image. With the paper's
settings (5 levels of 128 channels, 4 skip channels, 32 input channels, 3×3
convs) it has 2,217,831 parameters for a 3-channel output. Inputs are
:func:`noise_input` codes z; the network is fitted to a single image.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from .cnn import seeded
from .spec import recorded

__all__ = ["SkipNet", "noise_input"]

UPSAMPLING = ("bilinear", "nearest", "bicubic")
PADDING = ("reflect", "zeros")


def _conv_bn_act(c_in: int, c_out: int, k: int, stride: int = 1, *,
                 padding: str = "reflect") -> list[nn.Module]:
    return [nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, padding_mode=padding),
            nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2)]


@recorded
class SkipNet(nn.Module):
    """DIP's skip network; output (B, out_channels, H, W) in (0, 1) via a sigmoid.

    H and W must be multiples of 2**levels.

    Args:
        in_channels: channels of the noise code z (32 in the paper).
        out_channels: image channels (3 RGB, 1 gray).
        channels: channels per level, a sequence (one per level) or an int
            repeated ``levels`` times (128 × 5 in the paper).
        levels: number of levels when ``channels`` is an int.
        skip_channels: channels of each skip branch (4 in the paper; 0 = no skips).
        kernel_size: size of the encoder/decoder convs (3).
        upsample: "bilinear" (paper), "nearest" or "bicubic".
        padding: "reflect" (paper) or "zeros".
        seed: weight-initialization seed.
    """

    def __init__(self, in_channels: int = 32, out_channels: int = 3, *,
                 channels: int | Sequence[int] = 128, levels: int = 5, skip_channels: int = 4,
                 kernel_size: int = 3, upsample: str = "bilinear", padding: str = "reflect",
                 seed: int = 0):
        super().__init__()
        chans = [int(channels)] * levels if isinstance(channels, int) else list(channels)
        if not chans or min(chans) < 1 or skip_channels < 0 or kernel_size % 2 == 0:
            raise ValueError("SkipNet needs >= 1 level of >= 1 channels, skip_channels >= 0 "
                             f"and an odd kernel_size; got channels={chans}, "
                             f"skip_channels={skip_channels}, kernel_size={kernel_size}")
        if upsample not in UPSAMPLING:
            raise ValueError(f"unknown upsampling {upsample!r}; allowed: {', '.join(UPSAMPLING)}")
        if padding not in PADDING:
            raise ValueError(f"unknown padding {padding!r}; allowed: {', '.join(PADDING)}")
        pad = "zeros" if padding == "zeros" else "reflect"
        k, s = kernel_size, skip_channels
        self.levels, self.upsample_mode = len(chans), upsample
        ins = [in_channels] + chans[:-1]
        with seeded(seed):
            self.down = nn.ModuleList(
                nn.Sequential(*_conv_bn_act(c_in, c, k, 2, padding=pad),
                              *_conv_bn_act(c, c, k, padding=pad))
                for c_in, c in zip(ins, chans))
            self.skip = nn.ModuleList(
                nn.Sequential(*_conv_bn_act(c_in, s, 1)) if s else nn.Identity()
                for c_in in ins)
            deeper = chans[1:] + chans[-1:]  # channels arriving from below each level
            self.up = nn.ModuleList(
                nn.Sequential(nn.BatchNorm2d(s + d), *_conv_bn_act(s + d, c, k, padding=pad),
                              *_conv_bn_act(c, c, 1))
                for c, d in zip(chans, deeper))
            self.head = nn.Conv2d(chans[0], out_channels, 1)

    def forward(self, z: Tensor) -> Tensor:
        """Map the code z (B, in_channels, H, W) to an image (B, out_channels, H, W)."""
        step = 2 ** self.levels
        if z.shape[-1] % step or z.shape[-2] % step:
            raise ValueError(f"SkipNet input {tuple(z.shape[-2:])} must be a multiple of "
                             f"2**levels = {step} in height and width")
        skips, h = [], z
        for down, skip in zip(self.down, self.skip):
            skips.append(skip(h))  # (B, s, H_i, W_i), or h itself when s = 0 (unused)
            h = down(h)  # (B, c_i, H_i/2, W_i/2)
        for i in reversed(range(self.levels)):
            h = nn.functional.interpolate(h, scale_factor=2.0, mode=self.upsample_mode,
                                          **({} if self.upsample_mode == "nearest"
                                             else {"align_corners": False}))
            if not isinstance(self.skip[i], nn.Identity):
                h = torch.cat([skips[i], h], dim=1)  # (B, s + c_i, H_i, W_i)
            h = self.up[i](h)  # (B, c_i, H_i, W_i)
        return torch.sigmoid(self.head(h))


def noise_input(channels: int, height: int, width: int, *, generator: torch.Generator,
                kind: str = "uniform", scale: float = 0.1) -> Tensor:
    """The fixed code z of DIP: (1, channels, H, W) noise, U(0, scale) or N(0, scale²).

    The paper's reference code uses U(0, 1/10) (``kind="uniform"``, ``scale=0.1``).
    """
    shape = (1, channels, height, width)
    if kind == "uniform":
        return torch.rand(shape, generator=generator) * scale
    if kind == "normal":
        return torch.randn(shape, generator=generator) * scale
    raise ValueError(f"unknown noise kind {kind!r}; allowed: uniform, normal")
