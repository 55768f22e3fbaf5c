"""The networks and images of the inversion experiment: MNIST-trained or ImageNet VGG16."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from ...data.images import center_crop, load_image, resize
from ...errors import GenlabError
from ...models.vgg import VGG16
from ...train import evaluate, make_optimizer, make_scheduler, train

__all__ = ["Setup", "load_vgg16_weights", "prepare"]

#: ImageNet channel means and stds of the common VGG16 checkpoints' preprocessing.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass
class Setup:
    """Trained and random nets (eval mode, on the device), images (B, C, S, S), normalization."""

    trained: VGG16
    random: VGG16
    images: Tensor
    normalize: Callable[[Tensor], Tensor]
    source: str
    info: dict = field(default_factory=dict)


def load_vgg16_weights(path: str | os.PathLike, model: VGG16) -> VGG16:
    """Load a VGG16 state dict file into ``model`` (strict), with one-line errors.

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


def _mnist_digits(n: int) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Embedded MNIST padded to 32×32: train x, y, test x, y, and one test digit per class < n."""
    from ...data.mnist import mnist

    d = mnist()
    pad = lambda x: F.pad(x, (2, 2, 2, 2))  # (N, 1, 28, 28) -> (N, 1, 32, 32)
    xt, yt = pad(d.x_test), d.y_test
    pick = torch.stack([torch.nonzero(yt == k)[0, 0] for k in range(n)])
    return pad(d.x_train), d.y_train, xt, yt, xt[pick]


def _mnist_setup(cfg, ctx) -> Setup:
    x, y, xt, yt, images = _mnist_digits(cfg.n_images)
    dev = ctx.device
    make = lambda seed: VGG16(10, in_channels=1, input_size=32, width=cfg.width,
                              hidden=cfg.hidden, avgpool=None, dropout=0.0, seed=seed).to(dev)
    trained, random = make(ctx.seed_for("init")), make(ctx.seed_for("random-init"))
    normalize = lambda v: (v - 0.5) / 0.5
    opt = make_optimizer(trained.parameters(), "adam", cfg.train_lr)
    steps = max(1, round(cfg.train_epochs * -(-len(x) // cfg.batch_size)))
    wrapped = _Normalized(trained, normalize)
    train(wrapped, x.to(dev), y.to(dev), optimizer=opt, steps=steps,
          scheduler=make_scheduler(opt, "cosine", steps),
          batch_size=cfg.batch_size, generator=ctx.generator("batches"),
          eval_every=10**9, log=ctx.log, progress=ctx.progress, description="training VGG16")
    trained.eval()
    random.eval()
    info = {name: evaluate(_Normalized(net, normalize), xt.to(dev), yt.to(dev))["acc"]
            for name, net in (("trained_test_accuracy", trained),
                              ("random_test_accuracy", random))}
    info["parameters"] = sum(p.numel() for p in trained.parameters())
    return Setup(trained, random, images.to(dev), normalize, "mnist (embedded, 32×32)", info)


class _Normalized(torch.nn.Module):
    """``net(normalize(x))`` as a module, for the training loop and evaluation."""

    def __init__(self, net: VGG16, normalize):
        super().__init__()
        self.net, self.normalize = net, normalize

    def forward(self, x: Tensor) -> Tensor:
        return self.net(self.normalize(x))


def _imagenet_setup(cfg, ctx) -> Setup:
    dev = ctx.device
    try:
        trained = load_vgg16_weights(cfg.weights, VGG16(seed=0))
    except (FileNotFoundError, ValueError) as e:
        raise GenlabError(str(e)) from None
    random = VGG16(seed=ctx.seed_for("random-init"))
    imgs = torch.stack([center_crop(resize(load_image(n), 224), 224) for n in cfg.images])
    mean = torch.tensor(IMAGENET_MEAN, device=dev).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=dev).view(1, 3, 1, 1)
    return Setup(trained.to(dev).eval(), random.to(dev).eval(), imgs.to(dev),
                 lambda v: (v - mean) / std, f"ImageNet VGG16 from {cfg.weights}",
                 {"parameters": sum(p.numel() for p in trained.parameters())})


def prepare(cfg, ctx) -> Setup:
    """The experiment's networks and images, per ``cfg.weights`` (None: train on MNIST)."""
    return _imagenet_setup(cfg, ctx) if cfg.weights else _mnist_setup(cfg, ctx)
