"""Figures of the difficulty experiment, drawn from the stored run only."""

from __future__ import annotations

import numpy as np
from scipy.stats import binom

from ..runs import RunRecord

__all__ = ["draw"]


def _per_example(record: RunRecord):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    runs = record.data["R"]
    for (cond, info), color in zip(record.data["one_epoch"].items(), ["C0", "C1", "C2"]):
        p_x = np.sort(record.arrays[f"correct_{cond}"].mean(0))  # (N,)
        n = len(p_x)
        ref = binom.ppf((np.arange(n) + 0.5) / n, runs, info["mean_acc"]) / runs
        ax.plot(np.arange(n), p_x, color=color,
                label=f"{cond} (D = {info['dispersion']:.1f})")
        ax.plot(np.arange(n), ref, ":", color=color)
    ax.set(xlabel="examples, sorted", ylabel=f"accuracy after 1 epoch (over {runs} runs)",
           title="per-example difficulty (Arpit Fig. 1); dotted: binomial reference")
    ax.legend()
    return fig


def _csr(record: RunRecord):
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for name, r in record.data["runs"].items():
        if r["dropout"]:
            continue
        pts = [h for h in r["history"] if "csr" in h]
        a.errorbar([h["epoch"] for h in pts], [h["csr"] for h in pts],
                   yerr=[h["csr_se"] for h in pts], marker="o", ms=3, capsize=2, label=name)
    a.set(xlabel="epoch", ylabel="critical sample ratio", title="CSR over training (Arpit Fig. 7)")
    a.legend(fontsize=8)
    sweep = record.data["csr_sweep"]
    for name in ("noise=0", "random labels"):
        b.plot(sweep["radii"], sweep[name], "o-", label=name)
    b.set(xscale="log", xlabel="L∞ radius r", ylabel="critical sample ratio",
          title="CSR vs radius (end of training)")
    b.legend()
    fig.tight_layout()
    return fig


def _label_noise(record: RunRecord):
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for i, (name, r) in enumerate(record.data["runs"].items()):
        h, c = r["history"], f"C{i}"
        ep = [e["epoch"] for e in h]
        if not r["dropout"] and name != "random labels":
            a.plot(ep, [e["val_acc"] for e in h], color=c, label=f"{name}: validation")
            if r["p"] > 0:
                a.plot(ep, [e["noisy_acc"] for e in h], "--", color=c, alpha=.7)
        if name.endswith("random labels"):
            b.plot(ep, [e["train_acc"] for e in h], color=c, label=f"{name}: train")
        if name.endswith("noise=0"):
            b.plot(ep, [e["val_acc"] for e in h], ":", color=c, label=f"{name}: validation")
    a.set(xlabel="epoch", ylabel="accuracy",
          title="patterns first: validation (solid), noisy labels fitted (dashed)")
    a.legend(fontsize=7)
    b.set(xlabel="epoch", ylabel="accuracy", title="dropout vs memorization")
    b.legend(fontsize=7)
    fig.tight_layout()
    return fig


def draw(record: RunRecord) -> dict:
    """The three figures: per-example difficulty, CSR, label noise and dropout."""
    return {"per_example": _per_example(record), "csr": _csr(record),
            "label_noise": _label_noise(record)}
