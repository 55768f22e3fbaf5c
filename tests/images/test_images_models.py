"""The DIP skip network and the VGG16-layout network (genlab.models.skip / .vgg)."""

from __future__ import annotations

import pytest
import torch

from genlab.models import VGG16, SkipNet, build_model, load_vgg16_weights, model_spec, noise_input


def _skip_params_by_hand(c_z, out, c, s, levels, k=3):
    """Parameter count of the DIP skip net, level by level (conv weights + biases, BN γ β)."""
    total = 0
    for i in range(levels):
        c_in = c_z if i == 0 else c
        total += c_in * k * k * c + c + 2 * c + c * k * k * c + c + 2 * c  # down: 2 conv+BN
        total += c_in * s + s + 2 * s  # skip: 1×1 conv + BN
        total += 2 * (s + c) + (s + c) * k * k * c + c + 2 * c + c * c + c + 2 * c  # up
    return total + c * out + out  # 1×1 head


def test_skip_net_paper_size():
    net = SkipNet(32, 3, channels=128, levels=5, skip_channels=4)
    n = sum(p.numel() for p in net.parameters())
    assert n == _skip_params_by_hand(32, 3, 128, 4, 5) == 2_217_831


def test_skip_net_output_and_seed():
    z = noise_input(4, 16, 16, generator=torch.Generator().manual_seed(0))
    assert z.shape == (1, 4, 16, 16) and 0 <= float(z.min()) and float(z.max()) <= 0.1
    a = SkipNet(4, 1, channels=[6, 8], skip_channels=2, seed=3)
    b = SkipNet(4, 1, channels=[6, 8], skip_channels=2, seed=3)
    with torch.no_grad():
        ya, yb = a(z), b(z)
    assert ya.shape == (1, 1, 16, 16) and torch.equal(ya, yb)
    assert 0 < float(ya.min()) and float(ya.max()) < 1
    for up in ("nearest", "bicubic"):
        assert SkipNet(4, 3, channels=4, levels=2, skip_channels=0, upsample=up)(z).shape == \
            (1, 3, 16, 16)
    with pytest.raises(ValueError, match="multiple"):
        a(torch.zeros(1, 4, 18, 18))
    with pytest.raises(ValueError, match="upsampling"):
        SkipNet(upsample="linear")


#: The common torchvision VGG16 state dict: (key, shape) of every tensor.
_VGG16_KEYS = [(f"features.{i}", co, ci) for i, co, ci in [
    (0, 64, 3), (2, 64, 64), (5, 128, 64), (7, 128, 128), (10, 256, 128), (12, 256, 256),
    (14, 256, 256), (17, 512, 256), (19, 512, 512), (21, 512, 512), (24, 512, 512),
    (26, 512, 512), (28, 512, 512)]]


def test_vgg16_matches_imagenet_layout():
    with torch.device("meta"):
        net = VGG16()
    shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    want = {}
    for name, co, ci in _VGG16_KEYS:
        want[f"{name}.weight"], want[f"{name}.bias"] = (co, ci, 3, 3), (co,)
    for i, (o, n_in) in zip((0, 3, 6), ((4096, 25088), (4096, 4096), (1000, 4096))):
        want[f"classifier.{i}.weight"], want[f"classifier.{i}.bias"] = (o, n_in), (o,)
    assert shapes == want
    assert sum(p.numel() for p in net.parameters()) == 138_357_544  # VGG16's known size


def test_vgg16_state_dict_file_roundtrip(tmp_path):
    small = dict(num_classes=10, in_channels=1, input_size=32, width=1 / 16, hidden=16,
                 avgpool=None, dropout=0.0)
    src, dst = VGG16(**small, seed=1), VGG16(**small, seed=2)
    torch.save(src.state_dict(), tmp_path / "w.pt")
    load_vgg16_weights(tmp_path / "w.pt", dst)
    x = torch.rand(2, 1, 32, 32)
    torch.testing.assert_close(dst.eval()(x), src.eval()(x))
    torch.save({"conv.weight": torch.zeros(1)}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="not a VGG16 state dict"):
        load_vgg16_weights(tmp_path / "bad.pt", dst)
    with pytest.raises(FileNotFoundError):
        load_vgg16_weights(tmp_path / "none.pt", dst)


def test_vgg16_normalization_is_part_of_the_model_and_rebuilds():
    net = VGG16(10, in_channels=1, input_size=32, width=1 / 16, hidden=16, avgpool=None,
                dropout=0.0, mean=(0.5,), std=(0.5,), seed=4).eval()
    plain = VGG16(10, in_channels=1, input_size=32, width=1 / 16, hidden=16, avgpool=None,
                  dropout=0.0, seed=4).eval()
    x = torch.rand(2, 1, 32, 32)
    torch.testing.assert_close(net(x), plain((x - 0.5) / 0.5))
    assert set(net.state_dict()) == set(plain.state_dict())  # not stored with the weights
    again = build_model(model_spec(net))
    again.load_state_dict(net.state_dict())
    torch.testing.assert_close(again.eval()(x), net(x))
    with pytest.raises(ValueError, match="mean and std"):
        VGG16(in_channels=3, mean=(0.5,), std=(0.5,))
