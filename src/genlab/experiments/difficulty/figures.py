"""Figures of the difficulty section, drawn from the stored run only (sized for slides)."""

from __future__ import annotations

import numpy as np

from ...runs import RunRecord
from ._stats import reference_quantiles

__all__ = ["figures"]

_NAMES = {"real": "real MNIST", "randX": "random inputs (randX)",
          "randY": "random labels (randY)"}


def _below(ax, ncol: int, title: str | None = None) -> None:
    """Legend under the axes (never over the curves); integer epochs on the x axis."""
    from matplotlib.ticker import MaxNLocator

    ax.legend(title=title, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=ncol,
              frameon=False)
    if ax.get_xscale() == "linear":
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _per_example(record: RunRecord):
    import matplotlib.pyplot as plt

    runs = record.data["R"]
    conds = record.data["one_epoch"]
    fig, axes = plt.subplots(1, len(conds), figsize=(14, 4.6), sharey=True)
    for ax, (cond, info), color in zip(axes, conds.items(), ["C0", "C1", "C2"]):
        labels = record.arrays[f"labels_{cond}"]
        p_x = np.sort(record.arrays[f"correct_{cond}"].mean(0))  # (N,)
        acc = {int(k): v for k, v in info["class_acc"].items()}
        ax.plot(p_x, color=color, lw=2.5, label="measured")
        ax.plot(reference_quantiles(labels, acc, runs), "k:", lw=2,
                label="a coin per class: no easy or hard examples (binomial reference)")
        ax.set(title=f"{_NAMES.get(cond, cond)}\nD_within = {info['D_within']:.1f}",
               xlabel="examples, sorted by accuracy", ylim=(-0.03, 1.03))
    axes[0].set_ylabel(f"accuracy after 1 epoch\n(fraction of {runs} runs)")
    fig.suptitle("Some real examples are always learned first, others never; noise examples "
                 "are all alike (Arpit et al. 2017, Fig. 1)")
    fig.tight_layout()
    fig.legend(*axes[0].get_legend_handles_labels(), loc="upper center", ncol=2,
               bbox_to_anchor=(0.5, 0.0))
    return fig


def _csr(record: RunRecord):
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(13, 5.5))
    for name, r in record.data["runs"].items():
        if r["dropout"]:
            continue
        pts = [h for h in r["history"] if "csr" in h]
        a.errorbar([h["epoch"] for h in pts], [h["csr"] for h in pts],
                   yerr=[h["csr_se"] for h in pts], marker="o", ms=4, capsize=2, lw=2,
                   label=name)
    a.set(xlabel="epoch", ylabel="critical sample ratio", title="CSR while training")
    _below(a, title="training labels", ncol=3)
    sweep = record.data["csr_sweep"]
    for name in ("noise=0", "random labels"):
        b.plot(sweep["radii"], sweep[name], "o-", lw=2, label=name)
    b.set(xscale="log", xlabel="L∞ radius r of the ball", ylabel="critical sample ratio",
          title="CSR against the radius, after training")
    _below(b, ncol=2)
    fig.suptitle("Fitting random labels makes the function more complex near the data", y=1.02)
    fig.tight_layout()
    return fig


def _label_noise(record: RunRecord):
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(14, 6))
    runs = record.data["runs"]
    for i, (name, r) in enumerate(x for x in runs.items() if x[0].startswith("noise=")):
        h, c = r["history"], f"C{i}"
        ep = [e["epoch"] for e in h]
        a.plot(ep, [100 * e["val_acc"] for e in h], color=c, lw=2, label=name)
        if r["p"] > 0:
            a.plot(ep, [100 * e["noisy_acc"] for e in h], "--", color=c, lw=1.5)
    a.set(xlabel="epoch", ylabel="accuracy (%)", ylim=(0, 102),
          title="validation (solid) vs. noisy labels fitted (dashed)")
    _below(a, title="label noise", ncol=3)
    pairs = [("random labels", "train, random labels", "C3", "-"),
             ("dropout random labels", "train, random labels + dropout", "C3", ":"),
             ("noise=0", "validation, real labels", "C0", "-"),
             ("dropout noise=0", "validation, real labels + dropout", "C0", ":")]
    for name, label, color, ls in pairs:
        h = runs[name]["history"]
        key = "train_acc" if "random" in name else "val_acc"
        b.plot([e["epoch"] for e in h], [100 * e[key] for e in h], ls, color=color, lw=2.5,
               label=label)
    b.set(xlabel="epoch", ylabel="accuracy (%)", ylim=(0, 102),
          title=f"dropout {record.config['dropout']}: memorization vs. generalization")
    _below(b, ncol=1)
    fig.tight_layout()
    return fig


def figures(record: RunRecord) -> dict:
    """Per-example difficulty, CSR, label noise and dropout."""
    return {"per_example": _per_example(record), "csr": _csr(record),
            "label_noise": _label_noise(record)}
