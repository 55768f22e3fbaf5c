"""Bookkeeping of the DIP section: task summaries, impedance targets, claims, storage."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from ...images import DipRecorder, ssim
from . import (DENOISE_PEAKS, DENOISE_RISES, EARLY_STOP, IMPEDANCE_ORDER, NATURAL_FASTER,
               SR_BEATS_BICUBIC)

__all__ = ["IMPEDANCE_ORDER_NAMES", "TaskResult", "claims", "impedance_targets", "store",
           "summarize"]

#: Targets of the paper's Fig. 2, in the order the claim expects their fit speed.
IMPEDANCE_ORDER_NAMES = ("natural", "noisy", "shuffled", "noise")


@dataclass
class TaskResult:
    """Images (C, H, W) and numbers of one restoration task, and its recorded fit."""

    name: str
    images: dict[str, Tensor]
    numbers: dict
    fit: DipRecorder


def summarize(name: str, clean: Tensor, observed: Tensor, rec: DipRecorder, final: Tensor,
              final_avg: Tensor, base: dict[str, Tensor],
              metric: Callable[[Tensor, Tensor], float]) -> TaskResult:
    """Score the DIP outputs (oracle best, final, final average, ES pick) and the baselines.

    ``metric(clean, image)`` is the task's quality (PSNR, or PSNR-Y for SR); SSIM is
    added for every image of the clean image's size.
    """
    images = {"observed": observed, **base, "dip_best": rec.best[2], "dip_final": final[0].cpu(),
              "dip_final_avg": final_avg[0].cpu()}
    pick = rec.early_stop_pick()
    if pick is not None:
        images["dip_es"] = pick[1]
    same = {k: v for k, v in images.items() if v.shape == clean.shape}
    es = rec.early_stop
    numbers = {"score": {k: metric(clean, v) for k, v in same.items()},
               "ssim": {k: ssim(clean, v) for k, v in same.items()},
               "best_iter": rec.best[0], "es_iter": pick[0] if pick else None,
               "es_stop": es.stop_iter if es is not None else None,
               "iterations": rec.steps[-1] if rec.steps else 0}
    return TaskResult(name, images, numbers, rec)


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


def _denoise_claims(t: TaskResult) -> list:
    s = t.numbers["score"]
    best, final, noisy = s["dip_best"], s["dip_final"], s["observed"]
    es = s.get("dip_es", math.nan)
    it = f"best at step {t.numbers['best_iter']} of {t.numbers['iterations']}"
    return [
        DENOISE_RISES(best - noisy, f"{it}; PSNR dB: {_fmt(t.numbers)}"),
        DENOISE_PEAKS(best - final, f"{it}; final {final:.2f} dB"),
        EARLY_STOP(best - es, f"ES-WMV pick at step {t.numbers['es_iter']} ({es:.2f} dB), rule "
                   f"stops at {t.numbers['es_stop']}; best {best:.2f} dB"),
    ]


def _impedance_claims(imp: dict, budget: int) -> list:
    steps = {k: (imp[k]["steps"] if imp[k]["steps"] is not None else math.inf)
             for k in IMPEDANCE_ORDER_NAMES}
    nat = min(steps["natural"], budget)  # natural not fitted either: ratio 1, nothing shown
    ratio = min(steps["noise"], budget) / max(nat, 1)
    order = [steps["natural"] < steps["noisy"], steps["noisy"] < steps["shuffled"],
             steps["shuffled"] <= steps["noise"]]
    text = ", ".join(f"{k} {'>' + str(budget) if math.isinf(v) else v}" for k, v in steps.items())
    bound = ("; noise not fitted within the budget, so the ratio is only a lower bound"
             if math.isinf(steps["noise"]) else "")
    return [NATURAL_FASTER(ratio, f"steps to the MSE target: {text}{bound}"),
            IMPEDANCE_ORDER(sum(order) / 3, f"steps to the MSE target: {text}")]


def claims(tasks: dict[str, TaskResult], imp: dict | None, budget: int) -> list:
    """The lecture's claims for the tasks that ran."""
    out = []
    if "denoise" in tasks:
        out += _denoise_claims(tasks["denoise"])
    if "sr" in tasks:
        s = tasks["sr"].numbers["score"]
        out.append(SR_BEATS_BICUBIC(s["dip_final_avg"] - s["bicubic"],
                                    f"PSNR-Y dB: {_fmt(tasks['sr'].numbers)}"))
    if imp is not None:
        out += _impedance_claims(imp, budget)
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
        arrays[f"{name}.curve"] = np.array([f.steps, f.loss, f.score, f.score_avg, f.wmv],
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
