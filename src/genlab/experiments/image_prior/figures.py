"""Figures of the DIP section, drawn from the stored run only (sized for slides)."""

from __future__ import annotations

import numpy as np

from ...runs import RunRecord

_LABELS = {"observed": "input", "dip_best": "DIP best (oracle)", "dip_final": "DIP final",
           "dip_final_avg": "DIP final average", "dip_es": "DIP ES-WMV pick",
           "tv": "TV", "wavelet": "wavelet", "nl_means": "NL-means", "biharmonic": "biharmonic",
           "bicubic": "bicubic"}
_TITLES = {"denoise": "denoising (σ = 25)", "inpaint": "inpainting (50% of pixels)",
           "text": "inpainting (text)", "sr": "4× super-resolution"}
#: The estimate each task's claim uses (no reference needed to pick it).
_ESTIMATE = {"denoise": "dip_es", "inpaint": "dip_final_avg", "text": "dip_final_avg",
             "sr": "dip_final_avg"}
_PANEL = 2.4  # inches per image


def _show(ax, img: np.ndarray, title: str) -> None:
    ax.imshow(np.clip(img, 0, 1), interpolation="nearest")
    ax.set_title(title, fontsize=11)
    ax.axis("off")


def _db(t: dict, key: str) -> str:
    v = t["score"].get(key)
    return f"\n{v:.2f} dB" if v is not None else ""


def _gallery(record: RunRecord):
    """Per task: clean, input, the best baseline, DIP's estimate, DIP's oracle best."""
    import matplotlib.pyplot as plt

    tasks, arr = record.data["tasks"], record.arrays
    fig, axes = plt.subplots(len(tasks), 5, figsize=(5 * _PANEL, (_PANEL + 0.55) * len(tasks)),
                             squeeze=False)
    for row, (name, t) in zip(axes, tasks.items()):
        base = [k for k in t["images"] if k in t["score"] and not k.startswith("dip")
                and k != "observed"]
        best_base = max(base, key=lambda k: t["score"][k]) if base else None
        estimate = _ESTIMATE[name] if _ESTIMATE[name] in t["images"] else "dip_final_avg"
        _show(row[0], arr["clean"], f"{_TITLES.get(name, name)}\nclean")
        _show(row[1], arr[f"{name}.observed"], "input" + _db(t, "observed"))
        for ax, key in zip(row[2:], (best_base, estimate, "dip_best")):
            if key is None:
                ax.axis("off")
                continue
            _show(ax, arr[f"{name}.{key}"], _LABELS.get(key, key) + _db(t, key))
    fig.suptitle("Deep Image Prior vs the best scikit-image baseline (PSNR; PSNR-Y for SR; "
                 "all numbers in the table)", fontsize=12)
    fig.tight_layout()
    return fig


def _curve_panel(ax, name: str, t: dict, curve: np.ndarray) -> None:
    it, _, score, score_avg, wmv = curve
    ax.plot(it, score, lw=1.2, label="DIP output")
    ax.plot(it, score_avg, lw=1.2, label="running average")
    for i, (k, v) in enumerate((k, v) for k, v in t["score"].items() if not k.startswith("dip")):
        ax.axhline(v, ls="--", lw=1.0, color=f"C{i + 3}", label=_LABELS.get(k, k))
    ax.plot(t["best_iter"], t["score"]["dip_best"], "k*", ms=12, label="best (oracle)")
    if t.get("es_iter") is not None:
        ax.plot(t["es_iter"], t["score"]["dip_es"], "v", color="C3", ms=10, label="ES-WMV pick")
        twin = ax.twinx()
        twin.semilogy(it, wmv, color="grey", lw=0.8, alpha=0.6)
        twin.set_ylabel("windowed variance (grey)")
    ax.set(xlabel="step", ylabel="PSNR-Y (dB)" if name == "sr" else "PSNR (dB)",
           title=_TITLES.get(name, name))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, frameon=False)


def _curves(record: RunRecord):
    """Quality over the fit, one panel per task (2 per row), legends under each panel."""
    import matplotlib.pyplot as plt

    tasks, arr = record.data["tasks"], record.arrays
    cols = min(2, len(tasks))
    rows = -(-len(tasks) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(6.8 * cols, 5.0 * rows), squeeze=False)
    for ax, (name, t) in zip(axes.ravel(), tasks.items()):
        _curve_panel(ax, name, t, arr[f"{name}.curve"])
    for ax in axes.ravel()[len(tasks):]:
        ax.axis("off")
    fig.tight_layout()
    return fig


def _snapshots(record: RunRecord):
    import matplotlib.pyplot as plt

    t, arr = record.data["tasks"]["denoise"], record.arrays
    steps = t["snapshots"]
    it, _, score, *_ = arr["denoise.curve"]
    fig, axes = plt.subplots(1, len(steps) + 2, figsize=(2.2 * (len(steps) + 2), 3.0))
    _show(axes[0], arr["clean"], "clean")
    _show(axes[1], arr["denoise.observed"], "noisy" + _db(t, "observed"))
    for ax, s in zip(axes[2:], steps):
        i = int(np.searchsorted(it, s))
        db = f"\n{score[i]:.2f} dB" if i < len(it) and it[i] == s else ""
        _show(ax, arr[f"denoise.snap{s}"], f"step {s}{db}")
    fig.suptitle("DIP denoising: the image comes first, the noise later", fontsize=12)
    fig.tight_layout()
    return fig


def _impedance(record: RunRecord):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8.5, 4.8))
    for k, steps in record.data["impedance"].items():
        curve = record.arrays[f"impedance.{k}"]
        ax.loglog(np.arange(1, len(curve) + 1), curve, lw=1.5,
                  label=f"{k} ({steps if steps is not None else 'not reached'})")
    ax.axhline(record.config["impedance_mse"], color="k", ls=":", lw=1.0, label="target MSE")
    ax.set(xlabel="step", ylabel="MSE", title="fit speed (DIP Fig. 2): steps to the target")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    fig.tight_layout()
    return fig


def figures(record: RunRecord) -> dict:
    """The run's figures: gallery, quality curves, denoising snapshots, impedance."""
    figs = {}
    if record.data.get("tasks"):
        figs["restorations"] = _gallery(record)
        figs["curves"] = _curves(record)
        if "denoise" in record.data["tasks"] and record.data["tasks"]["denoise"]["snapshots"]:
            figs["snapshots"] = _snapshots(record)
    if record.data.get("impedance"):
        figs["impedance"] = _impedance(record)
    return figs
