"""Figures of the flatness experiment, drawn from the stored run alone."""

from __future__ import annotations

import numpy as np

from ..runs import RunRecord

__all__ = ["figures"]

_NAMES = {"small_batch": "SB", "large_batch": "LB"}


def _interpolation(record: RunRecord):
    import matplotlib.pyplot as plt

    d = record.data["interpolation"]
    fig, ax = plt.subplots(figsize=(6, 4))
    for split, ls in (("train", "-"), ("test", "--")):
        ax.plot(d["t"], d[f"{split}_loss"], ls, color="C0", label=f"{split} loss")
    ax.set(xlabel="t  (0 = small-batch, 1 = large-batch)", ylabel="cross-entropy",
           yscale="log", title="f((1−t)·w_SB + t·w_LB)  (Keskar Fig. 3)")
    acc = ax.twinx()
    for split, ls in (("train", "-"), ("test", "--")):
        acc.plot(d["t"], d[f"{split}_accuracy"], ls, color="C3", label=f"{split} accuracy")
    acc.set_ylabel("accuracy", color="C3")
    fig.legend(loc="upper center", ncol=4, fontsize=7)
    fig.tight_layout()
    return fig


def _density(record: RunRecord):
    import matplotlib.pyplot as plt

    arr = record.arrays
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, short in _NAMES.items():
        grid, dens = arr[f"{name}_grid"], arr[f"{name}_density"]
        ax.semilogy(grid, np.maximum(dens, 1e-12), label=short)
    ax.set(xlabel="Hessian eigenvalue", ylabel="density (SLQ, Gaussian-smoothed)",
           ylim=(1e-8, None), title="Hessian spectral density")
    ax.legend()
    fig.tight_layout()
    return fig


def _rescaling(record: RunRecord):
    import matplotlib.pyplot as plt

    rows = record.data["rescaling"]
    alphas = np.array([r["alpha"] for r in rows])
    ref = next(r for r in rows if r["alpha"] == 1.0)
    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label in (("lambda_max", "λ_max (naive)"), ("eps_sharpness", "ε-sharpness (naive)"),
                       ("fn_sharpness", "filter-normalized sharpness")):
        vals = np.array([r[key] for r in rows]) / ref[key]
        ax.loglog(alphas, np.abs(vals), "o-", label=label)
    ax.set(xlabel="α  (W1 → αW1, W2 → W2/α)", ylabel="value / value at α = 1",
           title="same function, different sharpness (Dinh 2017)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _bars(record: RunRecord):
    import matplotlib.pyplot as plt

    res = record.data["measures"]
    keys = ("lambda_max", "trace", "eps_sharpness", "fn_sharpness")
    fig, axs = plt.subplots(1, len(keys) + 1, figsize=(13, 3.2))
    for ax, key in zip(axs, (*keys, "test_acc")):
        ax.bar(list(_NAMES.values()), [res[n][key] for n in _NAMES], color=["C0", "C1"])
        ax.set_title(key.replace("_", " "))
    fig.suptitle("small-batch (SB) vs large-batch (LB) minimum")
    fig.tight_layout()
    return fig


def figures(record: RunRecord) -> dict:
    """name → matplotlib Figure: interpolation, spectral density, rescaling, SB vs LB."""
    return {"interpolation": _interpolation(record), "spectral_density": _density(record),
            "rescaling": _rescaling(record), "sb_vs_lb": _bars(record)}
