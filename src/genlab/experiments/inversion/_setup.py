"""The nets and images of the inversion section: an MNIST-trained (or the user's) VGG16,
a random-weight control, and the identification candidates."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from torch import Tensor

from ...data import DataSpec, textured_crops
from ...errors import GenlabError
from ...models import IMAGENET_MEAN, IMAGENET_STD, VGG16, load_vgg16_weights
from ...train import fit
from ..base import Context

__all__ = ["Nets", "prepare"]


@dataclass
class Nets:
    """The trained net and its candidates (N, C, S, S), the random control and its
    candidates, both nets in eval mode on the device; ``info`` describes the training."""

    trained: VGG16
    trained_images: Tensor
    random: VGG16
    random_images: Tensor
    source: str
    info: dict = field(default_factory=dict)


def _vgg(cfg, seed: int) -> VGG16:
    return VGG16(10, in_channels=1, input_size=cfg.image_size, width=cfg.width,
                 hidden=cfg.hidden, avgpool=None, dropout=0.0, seed=seed,
                 batch_norm=cfg.batch_norm, mean=(0.5,), std=(0.5,))


def _train_on_mnist(cfg, ctx: Context) -> tuple[VGG16, Tensor, dict]:
    spec = DataSpec(dataset="mnist", n_train=cfg.n_train, n_test=cfg.n_test,
                    subset_seed=ctx.seed_for("subset") % 2**31, image_size=cfg.image_size)
    ds, dev = spec.load(), ctx.device
    x, y, xt, yt = (t.to(dev) for t in (ds.x_train, ds.y_train, ds.x_test, ds.y_test))
    net = _vgg(cfg, ctx.seed_for("init")).to(dev)
    opt = cfg.optimizer.build(net.parameters())
    steps = cfg.epochs * math.ceil(len(x) / cfg.batch_size)
    records = fit(net, opt, x, y, epochs=cfg.epochs, batch_size=cfg.batch_size,
                  generator=ctx.generator("batches"), scheduler=cfg.optimizer.scheduler(opt, steps),
                  eval_sets={"test": (xt, yt)}, log=ctx.log, progress=ctx.progress,
                  description="training VGG16 on MNIST")
    ctx.save_state("trained", net, data=spec, loss="cross_entropy")
    info = {"test_accuracy": records[-1]["test_acc"], "train_loss": records[-1]["train_loss_running"],
            "data": spec.model_dump()}
    return net.eval(), xt[:cfg.candidates], info


def _user_vgg16(cfg, ctx: Context) -> VGG16:
    net = VGG16(seed=0, mean=IMAGENET_MEAN, std=IMAGENET_STD)
    try:
        load_vgg16_weights(cfg.weights, net)
    except (FileNotFoundError, ValueError) as e:
        raise GenlabError(str(e)) from None
    return net.to(ctx.device).eval()


def prepare(cfg, ctx: Context) -> Nets:
    """The section's nets and candidates, per ``cfg.weights`` (None: train on MNIST)."""
    crops = textured_crops(cfg.natural_images, cfg.candidates, cfg.image_size,
                           scale=cfg.natural_scale, generator=ctx.generator("crops"),
                           mode="rgb" if cfg.weights else "gray")
    crops = crops.to(ctx.device)
    if cfg.weights:
        trained = _user_vgg16(cfg, ctx)
        random = VGG16(seed=ctx.seed_for("random-init"), mean=IMAGENET_MEAN, std=IMAGENET_STD)
        return Nets(trained, crops, random.to(ctx.device).eval(), crops,
                    f"VGG16 from {cfg.weights} on natural crops")
    trained, digits, info = _train_on_mnist(cfg, ctx)
    random = _vgg(cfg, ctx.seed_for("random-init")).to(ctx.device).eval()
    bn = "-BN" if cfg.batch_norm else ""
    return Nets(trained, digits, random, crops,
                f"VGG16{bn} layout (width {cfg.width}) trained on MNIST padded to "
                f"{cfg.image_size}×{cfg.image_size}", info)
