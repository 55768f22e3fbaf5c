"""Bookkeeping of the DIP experiment: task summaries, impedance targets, claims, storage."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ...measures.image_quality import ssim
from .dip import Fit

__all__ = ["TaskResult", "claims", "impedance_targets", "store", "summarize"]

#: Targets of the paper's Fig. 2, in the order the claim expects their fit speed.
IMPEDANCE_ORDER = ("natural", "noisy", "shuffled", "noise")


@dataclass
class TaskResult:
    """Images (C, H, W) and numbers of one restoration task."""

    name: str
    images: dict[str, Tensor]
    numbers: dict
    fit: Fit


def summarize(name: str, clean: Tensor, observed: Tensor, fit: Fit, base: dict[str, Tensor],
              metric: Callable[[Tensor, Tensor], float]) -> TaskResult:
    """Score the DIP outputs (oracle best, final, final average, ES pick) and the baselines.

    ``metric(clean, image)`` is the task's quality (PSNR, or PSNR-Y for SR); SSIM is
    added for every image of the clean image's size.
    """
    images = {"observed": observed, **base, "dip_best": fit.best[2], "dip_final": fit.final,
              "dip_final_avg": fit.final_ema}
    if fit.es is not None:
        images["dip_es"] = fit.es[1]
    same = {k: v for k, v in images.items() if v.shape == clean.shape}
    numbers = {"score": {k: metric(clean, v) for k, v in same.items()},
               "ssim": {k: ssim(clean, v) for k, v in same.items()},
               "best_iter": fit.best[0], "es_iter": fit.es[0] if fit.es else None,
               "es_stop": fit.es_stop, "iterations": fit.iters[-1] if fit.iters else 0}
    return TaskResult(name, images, numbers, fit)


def impedance_targets(clean: Tensor, sigma: float, generator: torch.Generator
                      ) -> dict[str, Tensor]:
    """The four targets of DIP Fig. 2: the image, image + N(0, σ²), shuffled pixels, U(0, 1)."""
    c, h, w = clean.shape
    perm = torch.randperm(h * w, generator=generator)
    shuffled = clean.reshape(c, h * w)[:, perm].reshape(c, h, w)  # pixels move, colours stay
    noisy = (clean + sigma * torch.randn(clean.shape, generator=generator)).clamp(0, 1)
    noise = torch.rand(clean.shape, generator=generator)
    return {"natural": clean, "noisy": noisy, "shuffled": shuffled, "noise": noise}


def _fmt(numbers: dict) -> str:
    return ", ".join(f"{k} {v:.2f}" for k, v in numbers["score"].items())


def _denoise_claims(t: TaskResult, check) -> list:
    s = t.numbers["score"]
    best, final, noisy = s["dip_best"], s["dip_final"], s["observed"]
    es = s.get("dip_es", math.nan)
    it = f"best at step {t.numbers['best_iter']} of {t.numbers['iterations']}"
    return [
        check("denoise_rises", "denoising: the DIP output's PSNR rises well above the noisy "
              "input's (gain of the best iterate, dB)", best - noisy, ">=", 3.0,
              f"{it}; PSNR dB: {_fmt(t.numbers)}"),
        check("denoise_peaks_then_falls", "denoising: PSNR peaks, then falls as the net fits "
              "the noise (best − final raw iterate, dB)", best - final, ">=", 1.0,
              f"{it}; final {final:.2f} dB"),
        check("early_stop_within_1db", "the no-reference ES-WMV pick is within 1 dB of the "
              "best iterate (best − ES pick, dB)", best - es, "<=", 1.0,
              f"ES-WMV pick at step {t.numbers['es_iter']} ({es:.2f} dB), rule stops at "
              f"{t.numbers['es_stop']}; best {best:.2f} dB"),
    ]


def _impedance_claims(imp: dict, budget: int, check) -> list:
    steps = {k: (imp[k]["steps"] if imp[k]["steps"] is not None else math.inf)
             for k in IMPEDANCE_ORDER}
    nat = min(steps["natural"], budget)  # natural not fitted either: ratio 1, nothing shown
    ratio = min(steps["noise"], budget) / max(nat, 1)
    order = [steps["natural"] < steps["noisy"], steps["noisy"] < steps["shuffled"],
             steps["shuffled"] <= steps["noise"]]
    text = ", ".join(f"{k} {'>' + str(budget) if math.isinf(v) else v}" for k, v in steps.items())
    bound = ("; noise not fitted within the budget, so the ratio is only a lower bound"
             if math.isinf(steps["noise"]) else "")
    return [
        check("natural_fits_faster", "the natural image is fitted several times faster than "
              "uniform noise (steps(noise) / steps(natural); a lower bound when noise is not "
              "fitted within the budget)", ratio, ">=", 3.0,
              f"steps to the MSE target: {text}{bound}"),
        check("impedance_order", "fit speed order natural < noisy < shuffled ≤ noise "
              "(fraction of the three relations that hold)", sum(order) / 3, ">=", 1.0,
              f"steps to the MSE target: {text}"),
    ]


def claims(tasks: dict[str, TaskResult], imp: dict | None, budget: int, check) -> list:
    """The lecture's claims for the tasks that ran."""
    out = []
    if "denoise" in tasks:
        out += _denoise_claims(tasks["denoise"], check)
    if "sr" in tasks:
        s = tasks["sr"].numbers["score"]
        out.append(check("sr_beats_bicubic", "4× super-resolution: DIP (final running average) "
                         "beats bicubic upsampling (PSNR-Y gain, dB)",
                         s["dip_final_avg"] - s["bicubic"], ">", 0.0,
                         f"PSNR-Y dB: {_fmt(tasks['sr'].numbers)}"))
    if imp is not None:
        out += _impedance_claims(imp, budget, check)
    return out


def _hwc(img: Tensor) -> np.ndarray:
    return img.detach().cpu().numpy().transpose(1, 2, 0).astype(np.float32)


def store(clean: Tensor, tasks: dict[str, TaskResult], imp: dict | None
          ) -> tuple[dict, dict[str, np.ndarray]]:
    """JSON records and arrays the figures are drawn from (images as (H, W, C) float32)."""
    arrays = {"clean": _hwc(clean)}
    data: dict = {"tasks": {}, "impedance": None}
    for name, t in tasks.items():
        f = t.fit
        arrays[f"{name}.curve"] = np.array([f.iters, f.loss, f.score, f.score_ema, f.wmv],
                                           dtype=np.float64)  # (5, n_evals)
        for key, img in t.images.items():
            arrays[f"{name}.{key}"] = _hwc(img)
        for step, img in f.snapshots.items():
            arrays[f"{name}.snap{step}"] = _hwc(img)
        data["tasks"][name] = {**t.numbers, "images": list(t.images),
                               "snapshots": sorted(f.snapshots)}
    if imp is not None:
        data["impedance"] = {k: v["steps"] for k, v in imp.items()}
        for k, v in imp.items():
            arrays[f"impedance.{k}"] = np.asarray(v["curve"], dtype=np.float64)
    return data, arrays
