"""Run the inversion section: reconstruct inputs from each layer, identify them, compare priors."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from ...images import (Regularizer, identification_accuracy, layer_features, leaky_relu_gradients,
                       psnr, reconstruct, reconstruct_dip, ssim)
from ...models import VGG16
from ..base import Context, Result, Table
from . import CONV_KEEP, DIP_CLOSER, FC_CLASS, RANDOM_KEEP, TOP_LOSES, Config
from ._setup import Nets, prepare

#: Images per layer kept for the figures.
SHOWN = 4


def _predict(net: VGG16, x: Tensor) -> Tensor:
    with torch.no_grad():
        return net(x).argmax(1)  # (B,)


def _score(rec: Tensor, err: Tensor, features, candidates: Tensor, net: VGG16,
           source_class: Tensor | None) -> dict:
    """Identification among the candidates, in pixels and in feature space (the control:
    did the optimization reproduce Φ₀ better than the other candidates' features do?),
    class agreement with ``source_class`` (the sources' predicted classes, if given) and
    quality numbers."""
    n = len(rec)
    sources, own = candidates[:n], torch.arange(n)
    with torch.no_grad():
        f_rec, f_cand = features(rec).flatten(1), features(candidates).flatten(1)  # (n, D), (N, D)
    row = {"identified": identification_accuracy(rec, candidates, own),
           "feature_identified": identification_accuracy(f_rec, f_cand, own),
           "feature_error": float(err.mean()),
           "ssim": float(np.mean([ssim(a, b) for a, b in zip(sources, rec)])),
           "psnr": float(np.mean([psnr(a, b) for a, b in zip(sources, rec)]))}
    if source_class is not None:
        row["same_class"] = float((_predict(net, rec) == source_class).double().mean())
    return row


def _invert(cfg: Config, ctx: Context, net: VGG16, candidates: Tensor, tag: str,
            classify: bool) -> tuple[list[dict], np.ndarray]:
    """Pixel reconstructions of the first ``cfg.sources`` candidates from every layer:
    one row of scores per layer, and the reconstructions (L, B, C, H, W)."""
    reg = Regularizer(cfg.tv_weight, cfg.beta, cfg.alpha_weight, cfg.alpha)
    sources = candidates[:cfg.sources]
    source_class = _predict(net, sources) if classify else None  # the same for every layer
    rows, recs = [], []
    for layer in ctx.track(cfg.layers, f"inverting ({tag})", total=len(cfg.layers)):
        features = layer_features(net, net.layers[layer])
        with leaky_relu_gradients(net, cfg.relu_leak):
            rec = reconstruct(features, sources, generator=ctx.generator("start", tag, layer),
                              steps=cfg.steps, optimizer=cfg.pixel_optimizer, regularizer=reg)
        row = {"net": tag, "layer": layer, **_score(rec.images, rec.feature_error, features,
                                                    candidates, net, source_class)}
        ctx.log(row)
        rows.append(row)
        recs.append(rec.images.cpu().numpy())
    return rows, np.stack(recs).astype(np.float32)  # (L, B, C, H, W)


def _dip(cfg: Config, ctx: Context, net: VGG16, candidates: Tensor, tv: np.ndarray
         ) -> tuple[list[dict], np.ndarray]:
    """DIP pre-images of the first ``cfg.dip_images`` natural candidates, beside TV's."""
    images = candidates[:cfg.dip_images]
    rows, recs = [], []
    for layer in ctx.track(cfg.dip_layers, "DIP pre-images", total=len(cfg.dip_layers)):
        with leaky_relu_gradients(net, cfg.relu_leak):
            rec = reconstruct_dip(layer_features(net, net.layers[layer]), images,
                                  generator=ctx.generator("dip", layer), steps=cfg.dip_steps,
                                  optimizer=cfg.dip_optimizer, channels=cfg.dip_channels)
        tv_rec = torch.from_numpy(tv[cfg.layers.index(layer), :cfg.dip_images]).to(images)
        row = {"layer": layer, "dip_ssim": float(np.mean([ssim(a, b) for a, b in
                                                          zip(images, rec.images)])),
               "tv_ssim": float(np.mean([ssim(a, b) for a, b in zip(images, tv_rec)])),
               "dip_identified": identification_accuracy(rec.images, candidates,
                                                         torch.arange(len(images))),
               "dip_feature_error": float(rec.feature_error.mean())}
        ctx.log({"net": "dip", **row})
        rows.append(row)
        recs.append(rec.images.cpu().numpy())
    if not recs:
        return rows, np.zeros((0,), np.float32)
    return rows, np.stack(recs).astype(np.float32)  # (L_dip, n, C, H, W)


def _per_layer(rows: list[dict], key: str) -> str:
    return ", ".join(f"{r['layer']} {r[key]:.2f}" for r in rows)


def _claims(cfg: Config, trained: list[dict], random: list[dict], dip: list[dict]) -> list:
    conv = [r for r in trained if not r["layer"].startswith("fc")]
    conv_random = [r for r in random if not r["layer"].startswith("fc")]
    fc = [r for r in trained if r["layer"].startswith("fc")]
    top = [r for r in trained if r["layer"] == "fc8"]
    nan = math.nan
    first_lost = next((r["layer"] for r in trained if r["identified"] < CONV_KEEP.threshold),
                      "none")
    chance = f"chance {1 / cfg.candidates:.3f}"
    return [
        CONV_KEEP(min((r["identified"] for r in conv), default=nan),
                  f"identified per layer ({chance}): {_per_layer(trained, 'identified')}; "
                  f"first layer below {CONV_KEEP.threshold}: {first_lost}; identified by "
                  f"features (inversion control): {_per_layer(trained, 'feature_identified')}"),
        TOP_LOSES(top[0]["identified"] if top else nan,
                  f"fc8 same class {top[0]['same_class']:.2f}" if top else "fc8 not inverted"),
        FC_CLASS(float(np.mean([r["same_class"] for r in fc])) if fc else nan,
                 f"same class per layer: {_per_layer(trained, 'same_class')}" if fc
                 else "no fc layer inverted"),
        RANDOM_KEEP(min((r["identified"] for r in conv_random), default=nan),
                    f"identified per layer ({chance}): {_per_layer(random, 'identified')}; "
                    f"by features: {_per_layer(random, 'feature_identified')}; "
                    f"SSIM {_per_layer(random, 'ssim')}"),
        DIP_CLOSER(float(np.mean([r["dip_ssim"] - r["tv_ssim"] for r in dip])) if dip else nan,
                   "SSIM TV → DIP: " + ", ".join(f"{r['layer']} {r['tv_ssim']:.2f} → "
                                                 f"{r['dip_ssim']:.2f}" for r in dip)),
    ]


def _tables(trained: list[dict], random: list[dict], dip: list[dict], nets: Nets) -> dict:
    layers = Table(
        caption=f"What each layer keeps. Trained: {nets.source}; random: the same architecture "
        "with random weights on natural crops. 'identified': the reconstruction's nearest of "
        "the candidates is its own source (pixel correlation); 'identified by features': the "
        "same test on the layer's features, the control that the optimization reproduced Φ₀ "
        "better than the other candidates' features (when it is low, the inversion, not the "
        "layer, failed); 'same class': the trained net classifies the reconstruction as the "
        "original; feature error ‖Φ(x*) − Φ₀‖/‖Φ₀‖.",
        columns=["layer", "trained identified", "trained identified by features",
                 "trained same class", "trained feature error", "random identified",
                 "random identified by features", "random feature error", "random SSIM"],
        rows=[[t["layer"], t["identified"], t["feature_identified"], t.get("same_class"),
               t["feature_error"], r["identified"], r["feature_identified"], r["feature_error"],
               r["ssim"]] for t, r in zip(trained, random)])
    pre = Table(
        caption="Natural pre-images: TV prior (Mahendran & Vedaldi) vs Deep Image Prior "
        "(Ulyanov et al., Sec. 4), same features, same images.",
        columns=["layer", "SSIM TV", "SSIM DIP", "identified DIP", "feature error DIP"],
        rows=[[d["layer"], d["tv_ssim"], d["dip_ssim"], d["dip_identified"],
               d["dip_feature_error"]] for d in dip])
    return {"layers": layers, "pre_images": pre}


def run(cfg: Config, ctx: Context) -> Result:
    nets = prepare(cfg, ctx)
    trained, recs_trained = _invert(cfg, ctx, nets.trained, nets.trained_images, "trained", True)
    random, recs_random = _invert(cfg, ctx, nets.random, nets.random_images, "random", False)
    dip_net = nets.trained if cfg.weights else nets.random
    recs_tv = recs_trained if cfg.weights else recs_random
    dip, recs_dip = _dip(cfg, ctx, dip_net, nets.random_images, recs_tv)
    claims = _claims(cfg, trained, random, dip)
    summary = {"source": nets.source, **{k: v for k, v in nets.info.items() if k != "data"},
               **{f"{tag}_identified": {r["layer"]: round(r["identified"], 4) for r in rows}
                  for tag, rows in (("trained", trained), ("random", random))}}
    n_dip = cfg.dip_images
    arrays = {"originals_trained": nets.trained_images[:SHOWN].cpu().numpy(),
              "originals_random": nets.random_images[:SHOWN].cpu().numpy(),
              "recs_trained": recs_trained[:, :SHOWN], "recs_random": recs_random[:, :SHOWN],
              "recs_dip": recs_dip,
              "recs_dip_tv": np.stack([recs_tv[cfg.layers.index(d["layer"]), :n_dip]
                                       for d in dip]) if dip else np.zeros(0, np.float32)}
    return Result(claims=claims, summary=summary,
                  data={"rows": {"trained": trained, "random": random}, "dip": dip,
                        "layers": cfg.layers, "info": nets.info, "source": nets.source,
                        "chance": 1 / cfg.candidates},
                  arrays=arrays, tables=_tables(trained, random, dip, nets))
