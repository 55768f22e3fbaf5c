"""Figures of the flatness section, drawn from the stored run alone."""

from __future__ import annotations

import numpy as np

from ...runs import RunRecord

__all__ = ["figures"]

_REGIMES = {"small_batch": ("SB", "C0"), "large_batch": ("LB", "C1")}


def _training(d: dict):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.5, 4))
    for r in d["runs"]:
        short, color = _REGIMES[r["regime"]]
        curve = np.asarray(r["curve"])  # (checks, 2): epoch, loss
        ax.semilogy(curve[:, 0], curve[:, 1], color=color, lw=1.2,
                    label=f"{short} (batch {r['batch']})" if r["pair"] == 0 else None)
    ax.axhline(d["target_loss"], color="k", ls=":", label=f"target {d['target_loss']:g}")
    ax.set(xlabel="epoch", ylabel="cross-entropy on the whole training set",
           title="every run stops at the same training loss")
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


def _interpolation(d: dict):
    import matplotlib.pyplot as plt

    line = d["interpolation"]
    fig, ax = plt.subplots(figsize=(6.5, 4.6))
    acc = ax.twinx()
    for split, ls in (("train", "-"), ("test", "--")):
        ax.semilogy(line["t"], line[f"{split}_loss"], ls, color="C0", label=f"{split} loss")
        acc.plot(line["t"], 100 * np.asarray(line[f"{split}_accuracy"]), ls, color="C3",
                 label=f"{split} accuracy")
    ax.set_xticks([-1, 0, 1, 2], ["−1", "0\nSB", "1\nLB", "2"])
    ax.set(xlabel="t", ylabel="cross-entropy (log scale)",
           title="f((1 − t)·w_SB + t·w_LB)  (Keskar et al. Fig. 3)")
    ax.set_ylabel("cross-entropy (log scale)", color="C0")
    acc.set_ylabel("accuracy (%)", color="C3")
    fig.legend(loc="lower center", ncol=4, bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def _paired(d: dict):
    import matplotlib.pyplot as plt

    eps = d["epsilons"][0]
    panels = ((lambda r: r["eps_sharpness"][0], f"ε-sharpness (ε = {eps:g})", True),
              (lambda r: r["lambda_max"], "λ_max of the Hessian", True),
              (lambda r: 100 * r["test_acc"], "test accuracy (%)", False),
              (lambda r: r["epochs"], "epochs to the target loss", True))
    runs = {regime: sorted((r for r in d["runs"] if r["regime"] == regime),
                           key=lambda r: r["pair"]) for regime in _REGIMES}
    fig, axs = plt.subplots(1, len(panels), figsize=(13, 3.8))
    for ax, (value, title, from_zero) in zip(axs, panels):
        vals = np.array([[value(r) for r in runs[regime]] for regime in _REGIMES])  # (2, pairs)
        ax.plot([0, 1], vals, "-", color="0.6", lw=1)  # one line per pair
        for x, (short, color) in enumerate(_REGIMES.values()):
            ax.plot(np.full(vals.shape[1], x), vals[x], "o", color=color, ms=7)
            ax.plot([x - 0.2, x + 0.2], [vals[x].mean()] * 2, color=color, lw=3)
        ax.set_xticks([0, 1], [s for s, _ in _REGIMES.values()])
        ax.set_xlim(-0.5, 1.5)
        ax.set_title(title, fontsize=10)
        if vals.min() > 0 and vals.max() > 20 * vals.min():  # a log axis only where it spans
            ax.set_yscale("log")
        elif from_zero:  # ratios are what matter: do not magnify small differences
            ax.set_ylim(0, None)
    fig.suptitle("small-batch (SB) vs large-batch (LB) minima at equal training loss "
                 "(dots and grey lines: pairs; thick ticks: means)")
    fig.tight_layout()
    return fig


def _density(record: RunRecord):
    import matplotlib.pyplot as plt

    arr = record.arrays
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for regime, (short, color) in _REGIMES.items():
        grid, dens = arr[f"{regime}_grid"], arr[f"{regime}_density"]
        ax.semilogy(grid, np.maximum(dens, 1e-12), color=color, label=short)
    ax.set(xlabel="Hessian eigenvalue", ylabel="density (SLQ, Gaussian-smoothed)",
           ylim=(1e-8, None), title="Hessian spectral density (first pair)")
    ax.legend(loc="upper right")
    fig.tight_layout()
    return fig


def _rescaling(d: dict):
    import matplotlib.pyplot as plt

    rows = d["rescaling"]
    alphas = np.array([r["alpha"] for r in rows])
    ref = next(r for r in rows if r["alpha"] == 1.0)
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for key, label in (("lambda_max", "λ_max (naive)"), ("eps_sharpness", "ε-sharpness (naive)"),
                       ("fn_sharpness", "filter-normalized sharpness")):
        vals = np.array([r[key] for r in rows]) / ref[key]
        ax.loglog(alphas, np.abs(vals), "o-", label=label)
    ax.set(xlabel="α  (W1 → αW1, b1 → αb1, W2 → W2/α)", ylabel="value / value at α = 1",
           title="same function, different sharpness (Dinh et al. 2017)")
    ax.legend(loc="upper center")
    fig.tight_layout()
    return fig


def figures(record: RunRecord) -> dict:
    """name → matplotlib Figure: training to the target, the SB→LB line, SB vs LB,
    spectral densities and the rescaling."""
    d = record.data
    return {"training": _training(d), "interpolation": _interpolation(d), "sb_vs_lb": _paired(d),
            "spectral_density": _density(record), "rescaling": _rescaling(d)}
