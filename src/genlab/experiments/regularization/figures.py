"""Figures of the regularization section, drawn from the stored run."""

from __future__ import annotations

import numpy as np
import torch

from ...data import target_function
from ...runs import RunRecord
from ...models.polynomial import legendre_features as features
from ...models.polynomial import ridge_fit


def figures(record: RunRecord) -> dict:
    import matplotlib.pyplot as plt

    d = record.data
    degrees, decays = np.asarray(d["degrees"]), d["decays"]
    x, y = np.asarray(d["example"]["x"]), np.asarray(d["example"]["y"])
    grid = np.linspace(0, 1, 400)
    fig1, axs = plt.subplots(1, 3, figsize=(12, 3.4), sharey=True)
    for ax, deg in zip(axs, d["show_degrees"]):
        w = ridge_fit(features(x, deg), y, 0.0)
        ax.plot(grid, target_function("sin")(torch.from_numpy(grid)).numpy(), "g--", lw=1,
                label="sin 2πx")
        ax.plot(grid, features(grid, deg) @ w, "C3", label=f"degree {deg}")
        ax.plot(x, y, "ko", ms=4)
        ax.set(ylim=(-1.8, 1.8), xlabel="x", title=["underfit", "fit", "overfit"][
            d["show_degrees"].index(deg)])
        ax.legend(fontsize=8, loc="lower left")
    fig1.tight_layout()
    fig2, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    tr, te = np.asarray(d["train_median"]), np.asarray(d["test_median"])
    q25, q75 = np.asarray(d["test_q25"]), np.asarray(d["test_q75"])
    a1.semilogy(degrees, tr[0], "o-", label="train")
    a1.semilogy(degrees, te[0], "s-", label="test")
    a1.fill_between(degrees, q25[0], q75[0], alpha=.2, color="C1")
    a1.axhline(d["noise"] ** 2, color="k", ls=":", label="noise variance")
    a1.set(xlabel="degree", ylabel="MSE (median over draws, IQR shaded)", title="no decay")
    a1.legend()
    for i, lam in enumerate(decays):
        a2.semilogy(degrees, te[i], "o-", label=f"λ = {lam:g}")
    a2.axhline(d["noise"] ** 2, color="k", ls=":")
    a2.set(xlabel="degree", title="test MSE under weight decay")
    # the training error of an interpolating fit is ~1e-24: show the range where the U lives
    floor = d["noise"] ** 2
    a1.set_ylim(floor / 30, floor * 1e3)
    a1.annotate("train error → 0\n(interpolation)", (degrees[-1], floor / 30), ha="right",
                va="bottom", fontsize=9, color="C0")
    a2.legend()
    fig2.tight_layout()
    return {"fits": fig1, "error_vs_degree": fig2}
