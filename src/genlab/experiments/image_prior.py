"""Lecture section 3: Deep Image Prior — an untrained network restores one image.

Claim (Ulyanov, Vedaldi & Lempitsky, "Deep Image Prior", CVPR 2018): the structure
of a convolutional generator alone is a strong image prior. Fitting a randomly
initialized encoder–decoder f_θ(z) to a single corrupted image restores it,
because the network fits natural images much faster than noise ("high impedance
to noise", the paper's Fig. 2): the natural image is fitted several times faster
than the same image with noise, its pixels shuffled, or uniform noise (order
natural < noisy < shuffled ≤ noise). In denoising the PSNR against the clean image
rises well above the noisy input's, peaks, then falls as the net fits the noise, so
early stopping matters; a no-reference rule (ES-WMV, Wang et al., TMLR 2023)
lands within 1 dB of the best iterate. In 4× super-resolution DIP beats bicubic
upsampling. Baselines from scikit-image are measured on the same inputs.

CPU-scale settings (``quick``, ``default``): the nets are far narrower than the
paper's, so two choices make the phenomena appear within minutes. The input
jitter of the denoising fit is off (the paper uses 1/30): with it, a 16-channel
net at 128×128 is still improving after 1500 steps, so the fall after the peak
would not be seen. The other fits keep the jitter: without it the SR fit
memorizes the small low-resolution input and falls below bicubic. The impedance
targets are smaller than the working image (``impedance_size``) so that the net
can fit uniform noise within the budget, and the target MSE is 0.008, just below
the noise variance (25/255)² ≈ 0.0096: the noisy target must have part of its
noise fitted, while a lower target makes the step count mostly measure how well
the small net memorizes Gaussian noise (then "noisy" is slower than "shuffled",
unlike the paper's Fig. 2). ``full`` keeps the paper's jitter and a 0.002 target.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, model_validator

from ..data.images import (add_gaussian_noise, center_crop, downsample, load_image,
                           random_pixel_mask, resize, text_mask)
from ..measures.image_quality import psnr, psnr_y
from ..models.skip import SkipNet, noise_input
from ..runs import RunRecord
from ._images import baselines, dip_figures, dip_tasks
from ._images.dip import fit_dip, iterations_to_reach
from .base import Context, Experiment, ExperimentConfig, Result, check

__all__ = ["EXPERIMENT", "Config", "figures", "run"]

Task = Literal["denoise", "inpaint", "text", "sr", "impedance"]


class Config(ExperimentConfig):
    image: str = Field("astronaut", description="skimage.data picture name or image file path")
    size: int = Field(128, ge=16, description="side in pixels of the square working image "
                      "(shorter side resized to it, then center-cropped)")
    levels: int = Field(5, ge=1, le=8, description="encoder/decoder levels of the skip net")
    channels: int = Field(16, ge=1, description="channels per level (128 in the paper)")
    skip_channels: int = Field(4, ge=0, description="channels of each skip connection")
    noise_channels: int = Field(32, ge=1, description="channels of the input code z")
    upsample: Literal["bilinear", "nearest", "bicubic"] = Field(
        "bilinear", description="decoder upsampling mode")
    lr: float = Field(0.01, gt=0, description="Adam learning rate")
    jitter: float = Field(1 / 30, ge=0, description="std of the noise added to z every step")
    denoise_jitter: float | None = Field(None, ge=0, description="jitter of the denoising fit "
                                         "(None = jitter)")
    ema: float = Field(0.99, ge=0, lt=1, description="weight of the running average of outputs")
    noise_sigma: float = Field(25.0, gt=0, description="denoising noise std, 0–255 gray levels")
    missing: float = Field(0.5, gt=0, lt=1, description="fraction of pixels removed (inpaint)")
    sr_factor: int = Field(4, ge=2, description="super-resolution scale factor")
    tasks: list[Task] = Field(["denoise", "inpaint", "text", "sr", "impedance"], min_length=1,
                              description="tasks to run")
    denoise_iters: int = Field(1500, ge=1, description="Adam steps of the denoising fit")
    inpaint_iters: int = Field(600, ge=1, description="Adam steps of each inpainting fit")
    sr_iters: int = Field(800, ge=1, description="Adam steps of the super-resolution fit")
    impedance_size: int | None = Field(None, ge=16, description="side in pixels of the "
                                       "impedance targets (None = size); small enough that "
                                       "the net can fit noise within the budget")
    impedance_iters: int = Field(800, ge=1, description="step budget of each impedance fit")
    impedance_mse: float = Field(0.008, gt=0, description="MSE the impedance fits must reach "
                                 "(below the noise variance (σ/255)² ≈ 0.0096, so the noisy "
                                 "target needs part of its noise fitted)")
    es_window: int = Field(100, ge=2, description="ES-WMV window W (outputs)")
    es_patience: int = Field(500, ge=1, description="ES-WMV patience P (steps)")
    eval_every: int = Field(1, ge=1, description="steps between PSNR evaluations")
    snapshots: list[int] = Field([100, 500, 700, 1000, 1500],
                                 description="steps whose denoising outputs are shown")

    @model_validator(mode="after")
    def _sizes(self) -> Config:
        step = 2 ** self.levels  # batch norm needs >= 2×2 pixels at the deepest level
        if self.size % step or self.size % self.sr_factor or self.size < 2 * step:
            raise ValueError(f"size {self.size} must be a multiple of 2**levels = {step} and "
                             f"of sr_factor = {self.sr_factor}, and at least {2 * step}")
        side = self.impedance_size
        if side is not None and (side % step or side < 2 * step):
            raise ValueError(f"impedance_size {side} must be a multiple of 2**levels = {step} "
                             f"and at least {2 * step}")
        return self


PROFILES = {
    # Chosen so the phenomena appear within the CPU budget (see the module docstring): no
    # jitter in denoising, so the net fits the noise (PSNR peaks, then falls) in time;
    # impedance targets small enough that the net fits uniform noise within the budget.
    "quick": {"size": 64, "levels": 3, "channels": 16, "noise_channels": 16,
              "denoise_jitter": 0.0, "denoise_iters": 800, "inpaint_iters": 250,
              "sr_iters": 250, "impedance_size": 48, "impedance_iters": 600,
              "es_window": 30, "es_patience": 150, "eval_every": 2,
              "snapshots": [50, 200, 400, 800]},
    "default": {"denoise_jitter": 0.0, "denoise_iters": 3000, "inpaint_iters": 400,
                "sr_iters": 600, "impedance_size": 64, "impedance_iters": 2000,
                "eval_every": 2, "snapshots": [100, 500, 1000, 2000, 3000]},
    "full": {"size": 512, "channels": 128, "denoise_iters": 3000, "es_patience": 1000,
             "inpaint_iters": 5000, "sr_iters": 2000, "impedance_iters": 8000,
             "impedance_mse": 0.002, "eval_every": 10,
             "snapshots": [100, 500, 700, 1000, 1800, 3000]},
}


def _net(cfg: Config, ctx: Context, name: str, size: int | None = None
         ) -> tuple[SkipNet, torch.Tensor]:
    """A freshly initialized skip net and its code z (side ``size``, default cfg.size), both
    seeded by ``name``, on the device."""
    net = SkipNet(cfg.noise_channels, 3, channels=cfg.channels, levels=cfg.levels,
                  skip_channels=cfg.skip_channels, upsample=cfg.upsample,
                  seed=ctx.seed_for("net", name)).to(ctx.device)
    side = size or cfg.size
    z = noise_input(cfg.noise_channels, side, side, generator=ctx.generator("z", name))
    return net, z.to(ctx.device)


def _fit(cfg: Config, ctx: Context, name: str, target, iters: int, score,
         jitter: float | None = None, **kw):
    net, z = _net(cfg, ctx, name)
    return fit_dip(net, z, target.to(ctx.device)[None], iterations=iters, lr=cfg.lr,
                         jitter=cfg.jitter if jitter is None else jitter, ema=cfg.ema, score=score,
                         generator=ctx.generator("jitter", name, device=ctx.device),
                         eval_every=cfg.eval_every, log=ctx.log, tag=name,
                         track=ctx.track, **kw)


def _denoise(cfg: Config, ctx: Context, clean: torch.Tensor) -> dip_tasks.TaskResult:
    sigma = cfg.noise_sigma / 255
    noisy = add_gaussian_noise(clean, sigma, generator=ctx.generator("noise"))
    fit = _fit(cfg, ctx, "denoise", noisy, cfg.denoise_iters, lambda o: psnr(clean, o[0]),
               jitter=cfg.denoise_jitter,
               snapshots=tuple(cfg.snapshots), es_window=cfg.es_window,
               es_patience=cfg.es_patience)
    return dip_tasks.summarize("denoise", clean, noisy, fit, baselines.denoise_baselines(
        noisy, sigma), psnr)


def _inpaint(cfg: Config, ctx: Context, clean: torch.Tensor, kind: str) -> dip_tasks.TaskResult:
    size = cfg.size
    mask = (random_pixel_mask(size, size, cfg.missing, generator=ctx.generator("mask"))
            if kind == "inpaint" else text_mask(size, size))  # (1, H, W)
    observed = clean * mask
    fit = _fit(cfg, ctx, kind, observed, cfg.inpaint_iters, lambda o: psnr(clean, o[0]),
               mask=mask.to(ctx.device)[None])
    base = {"biharmonic": baselines.inpaint_biharmonic(observed, mask)}
    return dip_tasks.summarize(kind, clean, observed, fit, base, psnr)


def _super_resolve(cfg: Config, ctx: Context, clean: torch.Tensor) -> dip_tasks.TaskResult:
    f = cfg.sr_factor
    low = downsample(clean, f).clamp(0, 1)  # (3, S/f, S/f)
    score = (lambda o: psnr_y(clean, o[0], border=f))
    fit = _fit(cfg, ctx, "sr", low, cfg.sr_iters, score, degrade=lambda o: downsample(o, f))
    base = {"bicubic": baselines.bicubic_upsample(low, f)}
    return dip_tasks.summarize("sr", clean, low, fit, base,
                               lambda a, b: psnr_y(a, b, border=f))


def _impedance(cfg: Config, ctx: Context) -> dict:
    side = cfg.impedance_size or cfg.size
    clean = center_crop(resize(load_image(cfg.image), side), side)  # (3, s, s)
    targets = dip_tasks.impedance_targets(clean, cfg.noise_sigma / 255, ctx.generator("targets"))
    out = {}
    for name, target in ctx.track(targets.items(), "impedance", total=len(targets)):
        net, z = _net(cfg, ctx, "impedance", side)  # the same init and code for every target
        steps, curve = iterations_to_reach(
            net, z, target.to(ctx.device)[None], threshold=cfg.impedance_mse,
            max_iterations=cfg.impedance_iters, lr=cfg.lr)
        ctx.log({"task": "impedance", "target": name, "steps": steps,
                 "final_mse": float(curve[-1])})
        out[name] = {"steps": steps, "curve": curve}
    return out


def run(cfg: Config, ctx: Context) -> Result:
    clean = center_crop(resize(load_image(cfg.image), cfg.size), cfg.size)  # (3, S, S)
    tasks: dict[str, dip_tasks.TaskResult] = {}
    if "denoise" in cfg.tasks:
        tasks["denoise"] = _denoise(cfg, ctx, clean)
    for kind in ("inpaint", "text"):
        if kind in cfg.tasks:
            tasks[kind] = _inpaint(cfg, ctx, clean, kind)
    if "sr" in cfg.tasks:
        tasks["sr"] = _super_resolve(cfg, ctx, clean)
    imp = _impedance(cfg, ctx) if "impedance" in cfg.tasks else None
    claims = dip_tasks.claims(tasks, imp, cfg.impedance_iters, check)
    summary = {name: t.numbers for name, t in tasks.items()}
    if imp is not None:
        summary["impedance_steps"] = {k: v["steps"] for k, v in imp.items()}
    data, arrays = dip_tasks.store(clean, tasks, imp)
    return Result(claims=claims, summary=summary, data=data, arrays=arrays)


def figures(record: RunRecord) -> dict:
    return dip_figures.draw(record)


EXPERIMENT = Experiment(
    name="image_prior", title="Deep Image Prior: an untrained network restores an image",
    section="3",
    claim="a random skip network fits a natural image before noise: it denoises (with early "
          "stopping), inpaints and super-resolves one image without any training data",
    config=Config, profiles=PROFILES, run=run, figures=figures)
