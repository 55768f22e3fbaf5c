"""Lecture intro: what each layer of a VGG16 network keeps of its input.

Claim (the lecture's VGG16 reconstruction slide, after Mahendran & Vedaldi,
"Understanding Deep Image Representations by Inverting Them", CVPR 2015): the
input can be reconstructed from the activations of most layers of a trained
network; reconstruction quality stays high through most layers and drops steeply
only near the top, so depth re-arranges information more than it discards it.
Reconstruction is by optimization from a random start (normalized feature loss
plus total-variation and α-norm regularizers). A randomly initialized copy is
the control: He, Wang & Hopcroft (NeurIPS 2016) found random-weight conv nets
invertible too, i.e. the architecture alone keeps most of the input.

Offline default: a VGG16-layout net at width 0.25 (16…128 channels) trained
briefly on the embedded MNIST digits padded to 32×32 (Adam 5e-4 with cosine
decay, 8 epochs: ≈ 93% test accuracy; at lr 1e-3 or batch 32 this
batch-norm-free net stalls or dies at some seeds). The width is chosen so that
each pool keeps about as many values per input value as VGG16 on 224×224 RGB
(pool1…pool5: 4, 2, 1, 0.5, 0.125 × the 1,024 pixels, against VGG16's 5.3,
2.7, 1.3, 0.67, 0.17); at width 0.125 (the ``quick`` profile) the net is half
as wide and discards input from pool2 on. Reconstruction uses Adam with cosine
decay, λ_V = 2 for TV² (it removes background noise the rectified features
cannot see; that noise alone drives SSIM on MNIST's black background to ≈ 0.5
at 1% feature error), and a leaky-ReLU backward pass (forward unchanged)
against dead-unit plateaus. Measured at ``default``: SSIM ≥ 0.5 only through
conv2_2; from conv4_3 on the reconstructions keep only a blurred stroke
layout, so the claims do not hold at this scale (see the run's claim details).
With ``--set weights=PATH`` (a VGG16 ImageNet state dict) the full-width net
inverts 224×224 scikit-image pictures instead.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field, field_validator

from ..measures.image_quality import psnr, ssim
from ..models.vgg import VGG16_LAYERS
from ..runs import RunRecord
from ._images import inv_figures, inv_setup
from ._images.invert import InversionSettings, reconstruct
from .base import Context, Experiment, ExperimentConfig, Result, check

__all__ = ["EXPERIMENT", "SLIDE_LAYERS", "Config", "figures", "run"]

#: Default layers: the last conv of each block, every pool and the fc layers.
SLIDE_LAYERS = ("conv1_2", "pool1", "conv2_2", "pool2", "conv3_3", "pool3", "conv4_3", "pool4",
                "conv5_3", "pool5", "fc6", "fc7", "fc8")


class Config(ExperimentConfig):
    width: float = Field(0.25, gt=0, le=1, description="VGG16 width multiplier (1 = 64…512 "
                         "channels); ignored with weights")
    hidden: int = Field(256, ge=8, description="width of fc6/fc7; ignored with weights")
    train_epochs: float = Field(8.0, gt=0, description="epochs of Adam on the embedded MNIST")
    train_lr: float = Field(5e-4, gt=0, description="peak Adam learning rate of the training "
                            "(cosine decay to 0)")
    batch_size: int = Field(64, ge=1, description="training batch size")
    weights: str | None = Field(None, description="path of a VGG16 ImageNet state dict "
                                "(torch.save'd; loaded with weights_only=True); None: train "
                                "on MNIST")
    images: list[str] = Field(["astronaut", "coffee", "chelsea"], min_length=1,
                              description="pictures inverted with weights (skimage names "
                              "or files)")
    n_images: int = Field(3, ge=1, le=10, description="MNIST test digits inverted "
                          "(one per class 0, 1, …)")
    layers: list[str] = Field(list(SLIDE_LAYERS), min_length=2,
                              description="layers to invert, input to output")
    steps: int = Field(300, ge=1, description="Adam steps per reconstruction (cosine decay)")
    lr: float = Field(0.1, gt=0, description="Adam learning rate of the image pixels")
    tv_weight: float = Field(2.0, ge=0, description="weight λ_V of the TV^β regularizer")
    beta: float = Field(2.0, ge=1, description="exponent β of the TV regularizer")
    alpha_weight: float = Field(1e-3, ge=0, description="weight λ_α of the α-norm regularizer")
    alpha: float = Field(6.0, ge=1, description="exponent α of the α-norm")
    relu_leak: float = Field(0.3, ge=0, lt=1, description="backward-only slope of the "
                             "ReLUs for x < 0 during reconstruction (forward unchanged)")
    parametrization: str = Field("pixels", description="pixels, or dip (image = skip net "
                                 "output, Ulyanov et al. 2018)")
    ssim_threshold: float = Field(0.5, gt=0, lt=1, description="SSIM above which a "
                                  "reconstruction counts as keeping the input")

    @field_validator("layers")
    @classmethod
    def _layers_ok(cls, v: list[str]) -> list[str]:
        bad = [x for x in v if x not in VGG16_LAYERS]
        if bad:
            raise ValueError(f"unknown layers {bad}; allowed: {', '.join(VGG16_LAYERS)}")
        order = list(VGG16_LAYERS)
        return sorted(dict.fromkeys(v), key=order.index)

    @field_validator("parametrization")
    @classmethod
    def _param_ok(cls, v: str) -> str:
        if v not in ("pixels", "dip"):
            raise ValueError("must be pixels or dip")
        return v


PROFILES = {
    "quick": {"width": 0.125, "train_lr": 1e-3, "train_epochs": 2.0, "n_images": 3,
              "steps": 150,
              "layers": ["conv1_2", "conv2_2", "conv3_3", "conv4_3", "conv5_3", "fc6", "fc7",
                         "fc8"]},
    "default": {},
    "full": {"width": 1.0, "hidden": 4096, "train_epochs": 20.0, "n_images": 10,
             "steps": 2000, "layers": list(VGG16_LAYERS)},
}


def _invert_all(cfg: Config, ctx: Context, net, images, normalize, tag: str) -> dict:
    s = InversionSettings(steps=cfg.steps, lr=cfg.lr, tv_weight=cfg.tv_weight, beta=cfg.beta,
                          alpha_weight=cfg.alpha_weight, alpha=cfg.alpha,
                          parametrization=cfg.parametrization, relu_leak=cfg.relu_leak)
    rows, recs = [], []
    for layer in ctx.track(cfg.layers, f"inverting ({tag})", total=len(cfg.layers)):
        rec, err = reconstruct(net, layer, images, s, generator=ctx.generator("start", tag, layer),
                               normalize=normalize)
        p = [psnr(a, b) for a, b in zip(images, rec)]
        q = [ssim(a, b) for a, b in zip(images, rec)]
        row = {"net": tag, "layer": layer, "feature_rel_error": float(err.mean()),
               "psnr": float(np.mean(p)), "ssim": float(np.mean(q)),
               "ssim_per_image": q, "psnr_per_image": p}
        ctx.log(row)
        rows.append(row)
        recs.append(rec.cpu().numpy())
    return {"rows": rows, "recs": np.stack(recs)}  # recs: (L, B, C, H, W)


def _quality_claims(cfg: Config, rows: dict[str, list[dict]]) -> list:
    thr, n = cfg.ssim_threshold, len(cfg.layers)
    ok = {k: [r["ssim"] >= thr for r in v] for k, v in rows.items()}
    first = {k: (v.index(False) if False in v else n) for k, v in ok.items()}
    table = {k: ", ".join(f"{r['layer']} {r['ssim']:.2f} ({r['feature_rel_error']:.2f})"
                          for r in v) for k, v in rows.items()}
    where = {k: (cfg.layers[i] if i < n else "none") for k, i in first.items()}
    return [
        check("most_layers_keep_input", f"trained net: most layers keep the input (fraction of "
              f"the {n} layers with mean SSIM ≥ {thr})", np.mean(ok["trained"]), ">=", 0.5,
              f"SSIM (feature rel. error) per layer: {table['trained']}"),
        check("drop_only_near_top", "trained net: reconstruction first fails only in the top "
              "third (index of the first layer below the SSIM threshold / number of layers)",
              first["trained"] / n, ">=", 2 / 3,
              f"first layer below SSIM {thr}: {where['trained']}"),
        check("random_net_keeps_input", "random-weight control keeps the input through most "
              f"layers too (fraction with SSIM ≥ {thr}; He et al. 2016)",
              np.mean(ok["random"]), ">=", 0.5,
              f"SSIM (feature rel. error) per layer: {table['random']}; first below: "
              f"{where['random']}"),
    ]


def run(cfg: Config, ctx: Context) -> Result:
    setup = inv_setup.prepare(cfg, ctx)  # trained + random nets, images, normalization
    if cfg.weights is None:
        ctx.save_state("trained", setup.trained)
    results = {tag: _invert_all(cfg, ctx, net, setup.images, setup.normalize, tag)
               for tag, net in (("trained", setup.trained), ("random", setup.random))}
    rows = {k: v["rows"] for k, v in results.items()}
    claims = _quality_claims(cfg, rows)
    summary = {"source": setup.source, **setup.info,
               **{f"{k}_ssim": {r["layer"]: round(r["ssim"], 4) for r in v}
                  for k, v in rows.items()},
               **{f"{k}_feature_rel_error": {r["layer"]: round(r["feature_rel_error"], 4)
                                             for r in v} for k, v in rows.items()}}
    arrays = {"originals": setup.images.cpu().numpy(),
              **{f"recs_{k}": v["recs"].astype(np.float32) for k, v in results.items()}}
    return Result(claims=claims, summary=summary, data={"rows": rows, "layers": cfg.layers,
                                                       "info": setup.info}, arrays=arrays)


def figures(record: RunRecord) -> dict:
    return inv_figures.draw(record)


EXPERIMENT = Experiment(
    name="inversion", title="What each layer keeps: reconstructing the input from VGG16 layers",
    section="intro",
    claim="the input can be reconstructed from most layers of a trained VGG16-layout net; "
          "reconstruction only fails in the last layers",
    config=Config, profiles=PROFILES, run=run, figures=figures)
