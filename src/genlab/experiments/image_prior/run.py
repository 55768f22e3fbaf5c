"""Run the DIP section: denoise, inpaint, super-resolve one image; measure the impedance."""

from __future__ import annotations

import torch

from ...data import (add_gaussian_noise, center_crop, downsample, load_image, random_pixel_mask,
                     resize, text_mask)
from ...images import (DipRecorder, EsWmv, bicubic_upsample, denoise_baselines, fit_dip,
                       inpaint_biharmonic, psnr, psnr_y, steps_to_fit)
from ...models import SkipNet, noise_input
from ..base import Context, Result, Table
from . import Config
from ._tasks import TaskResult, claims, impedance_targets, store, summarize


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


def _fit(cfg: Config, ctx: Context, name: str, target: torch.Tensor, steps: int,
         rec: DipRecorder, *, jitter: float | None = None, **kw):
    """One DIP fit of ``target`` (C, h, w) recorded by ``rec``: (final output, final average)."""
    net, z = _net(cfg, ctx, name)
    return fit_dip(net, z, target.to(ctx.device)[None], steps=steps, optimizer=cfg.optimizer,
                   jitter=cfg.jitter if jitter is None else jitter, ema=cfg.ema,
                   generator=ctx.generator("jitter", name, device=ctx.device), callback=rec,
                   progress=ctx.progress, **kw)


def _recorder(cfg: Config, ctx: Context, name: str, score, **kw) -> DipRecorder:
    return DipRecorder(score, every=cfg.eval_every, log=ctx.log, tag=name, **kw)


def _denoise(cfg: Config, ctx: Context, clean: torch.Tensor) -> TaskResult:
    sigma = cfg.noise_sigma / 255
    noisy = add_gaussian_noise(clean, sigma, generator=ctx.generator("noise"))
    rec = _recorder(cfg, ctx, "denoise", lambda o: psnr(clean, o[0]),
                    snapshots=tuple(cfg.snapshots),
                    early_stop=EsWmv(cfg.es_window, cfg.es_patience))
    out, avg = _fit(cfg, ctx, "denoise", noisy, cfg.denoise_iters, rec, jitter=cfg.denoise_jitter)
    return summarize("denoise", clean, noisy, rec, out, avg, denoise_baselines(noisy, sigma), psnr)


def _inpaint(cfg: Config, ctx: Context, clean: torch.Tensor, kind: str) -> TaskResult:
    size = cfg.size
    mask = (random_pixel_mask(size, size, cfg.missing, generator=ctx.generator("mask"))
            if kind == "inpaint" else text_mask(size, size))  # (1, H, W)
    observed = clean * mask
    rec = _recorder(cfg, ctx, kind, lambda o: psnr(clean, o[0]))
    out, avg = _fit(cfg, ctx, kind, observed, cfg.inpaint_iters, rec,
                    mask=mask.to(ctx.device)[None])
    base = {"biharmonic": inpaint_biharmonic(observed, mask)}
    return summarize(kind, clean, observed, rec, out, avg, base, psnr)


def _super_resolve(cfg: Config, ctx: Context, clean: torch.Tensor) -> TaskResult:
    f = cfg.sr_factor
    low = downsample(clean, f).clamp(0, 1)  # (3, S/f, S/f)
    metric = lambda a, b: psnr_y(a, b, border=f)  # noqa: E731
    rec = _recorder(cfg, ctx, "sr", lambda o: metric(clean, o[0]))
    out, avg = _fit(cfg, ctx, "sr", low, cfg.sr_iters, rec, degrade=lambda o: downsample(o, f))
    return summarize("sr", clean, low, rec, out, avg, {"bicubic": bicubic_upsample(low, f)},
                     metric)


def _impedance(cfg: Config, ctx: Context, clean: torch.Tensor) -> dict:
    side = cfg.impedance_size or cfg.size
    if side != cfg.size:  # else ``clean`` (3, S, S) is already the image at this size
        clean = center_crop(resize(load_image(cfg.image), side), side)  # (3, s, s)
    targets = impedance_targets(clean, cfg.noise_sigma / 255, ctx.generator("targets"))
    out = {}
    for name, target in ctx.track(targets.items(), "impedance", total=len(targets)):
        net, z = _net(cfg, ctx, "impedance", side)  # the same init and code for every target
        steps, curve = steps_to_fit(net, z, target.to(ctx.device)[None],
                                    threshold=cfg.impedance_mse,
                                    max_steps=cfg.impedance_iters, optimizer=cfg.optimizer)
        ctx.log({"task": "impedance", "target": name, "steps": steps,
                 "final_mse": float(curve[-1])})
        out[name] = {"steps": steps, "curve": curve}
    return out


def run(cfg: Config, ctx: Context) -> Result:
    clean = center_crop(resize(load_image(cfg.image), cfg.size), cfg.size)  # (3, S, S)
    tasks: dict[str, TaskResult] = {}
    if "denoise" in cfg.tasks:
        tasks["denoise"] = _denoise(cfg, ctx, clean)
    for kind in ("inpaint", "text"):
        if kind in cfg.tasks:
            tasks[kind] = _inpaint(cfg, ctx, clean, kind)
    if "sr" in cfg.tasks:
        tasks["sr"] = _super_resolve(cfg, ctx, clean)
    imp = _impedance(cfg, ctx, clean) if "impedance" in cfg.tasks else None
    summary = {name: t.numbers for name, t in tasks.items()}
    if imp is not None:
        summary["impedance_steps"] = {k: v["steps"] for k, v in imp.items()}
    data, arrays = store(clean, tasks, imp)
    return Result(claims=claims(tasks, imp, cfg.impedance_iters), summary=summary, data=data,
                  arrays=arrays, tables=_tables(tasks))


def _tables(tasks: dict[str, TaskResult]) -> dict[str, Table]:
    rows = [[name, key, t.numbers["score"][key], t.numbers["ssim"][key]]
            for name, t in tasks.items() for key in t.numbers["score"]]
    return {"restorations": Table(
        caption="Every restoration against the clean image: the input, the scikit-image "
        "baselines and DIP's iterates (dip_best: the oracle's pick; dip_es: the no-reference "
        "ES-WMV pick; dip_final(_avg): the last output and the running average). PSNR in dB "
        "(PSNR-Y for SR).", columns=["task", "image", "PSNR (dB)", "SSIM"], rows=rows)}
