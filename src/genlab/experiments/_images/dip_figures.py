"""Figures of the DIP experiment, drawn from a stored run only."""

from __future__ import annotations

import numpy as np

from ...runs import RunRecord

__all__ = ["draw"]

_LABELS = {"observed": "input", "dip_best": "DIP best", "dip_final": "DIP final",
           "dip_final_avg": "DIP final (avg)", "dip_es": "DIP ES-WMV pick"}
_TITLES = {"denoise": "denoising", "inpaint": "inpainting (random pixels)",
           "text": "inpainting (text)", "sr": "4× super-resolution"}


def _show(ax, img: np.ndarray, title: str) -> None:
    ax.imshow(np.clip(img, 0, 1), interpolation="nearest")
    ax.set_title(title, fontsize=8)
    ax.axis("off")


def _restorations(record: RunRecord):
    import matplotlib.pyplot as plt

    tasks, arr = record.data["tasks"], record.arrays
    cols = 1 + max(len(t["images"]) for t in tasks.values())
    fig, axes = plt.subplots(len(tasks), cols, figsize=(1.7 * cols, 1.9 * len(tasks)),
                             squeeze=False)
    for row, (name, t) in zip(axes, tasks.items()):
        _show(row[0], arr["clean"], f"{_TITLES.get(name, name)}\nclean")
        for ax, key in zip(row[1:], t["images"]):
            score = t["score"].get(key)
            label = _LABELS.get(key, key.replace("_", " "))
            _show(ax, arr[f"{name}.{key}"], label + (f"\n{score:.2f} dB" if score else ""))
        for ax in row[1 + len(t["images"]):]:
            ax.axis("off")
    fig.suptitle("Deep Image Prior vs scikit-image baselines (PSNR; PSNR-Y for SR)")
    fig.tight_layout()
    return fig


def _curves(record: RunRecord):
    import matplotlib.pyplot as plt

    tasks, arr = record.data["tasks"], record.arrays
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 3.4), squeeze=False)
    for ax, (name, t) in zip(axes[0], tasks.items()):
        it, _, score, score_avg, wmv = arr[f"{name}.curve"]
        ax.plot(it, score, lw=0.8, label="DIP output")
        ax.plot(it, score_avg, lw=0.8, label="running average")
        for k, v in t["score"].items():
            if not k.startswith("dip"):
                ax.axhline(v, ls="--", lw=0.7, color="grey")
                ax.annotate(_LABELS.get(k, k), (it[-1], v), fontsize=7, ha="right", va="bottom")
        ax.plot(t["best_iter"], t["score"]["dip_best"], "k*", label="best (oracle)")
        if t.get("es_iter") is not None:
            ax.plot(t["es_iter"], t["score"]["dip_es"], "rv", label="ES-WMV pick")
            twin = ax.twinx()
            twin.semilogy(it, wmv, color="C3", lw=0.6, alpha=0.5)
            twin.set_ylabel("windowed variance", color="C3", fontsize=8)
        ax.set(xlabel="step", ylabel="PSNR-Y (dB)" if name == "sr" else "PSNR (dB)",
               title=_TITLES.get(name, name))
        ax.legend(fontsize=7, loc="lower center")
    fig.tight_layout()
    return fig


def _snapshots(record: RunRecord):
    import matplotlib.pyplot as plt

    t, arr = record.data["tasks"]["denoise"], record.arrays
    steps = t["snapshots"]
    it, _, score, *_ = arr["denoise.curve"]
    fig, axes = plt.subplots(1, len(steps) + 2, figsize=(1.9 * (len(steps) + 2), 2.2))
    _show(axes[0], arr["clean"], "clean")
    _show(axes[1], arr["denoise.observed"], f"noisy\n{t['score']['observed']:.2f} dB")
    for ax, s in zip(axes[2:], steps):
        i = int(np.searchsorted(it, s))
        db = f"\n{score[i]:.2f} dB" if i < len(it) and it[i] == s else ""
        _show(ax, arr[f"denoise.snap{s}"], f"step {s}{db}")
    fig.suptitle("DIP denoising: the image comes first, the noise later")
    fig.tight_layout()
    return fig


def _impedance(record: RunRecord):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.6))
    for k, steps in record.data["impedance"].items():
        curve = record.arrays[f"impedance.{k}"]
        ax.loglog(np.arange(1, len(curve) + 1), curve, label=f"{k} ({steps or '—'} steps)")
    ax.axhline(record.config["impedance_mse"], color="k", ls=":", lw=0.8, label="target MSE")
    ax.set(xlabel="step", ylabel="MSE", title="fit speed (DIP Fig. 2)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def draw(record: RunRecord) -> dict:
    """The run's figures: restorations, quality curves, denoising snapshots, impedance."""
    figs = {}
    if record.data.get("tasks"):
        figs["restorations"] = _restorations(record)
        figs["curves"] = _curves(record)
        if "denoise" in record.data["tasks"] and record.data["tasks"]["denoise"]["snapshots"]:
            figs["snapshots"] = _snapshots(record)
    if record.data.get("impedance"):
        figs["impedance"] = _impedance(record)
    return figs
