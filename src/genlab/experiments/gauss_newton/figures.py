"""Figures of the Gauss–Newton section, drawn from the stored run only."""

from __future__ import annotations

import numpy as np

from ...runs import RunRecord

__all__ = ["figures"]

_OPS = {"H": dict(color="C0", label="Hessian H"), "G": dict(color="C2", label="Gauss–Newton G"),
        "F": dict(color="C3", label="empirical Fisher F")}


def _steps(records: list[dict]) -> np.ndarray:
    """Steps + 1, so that step 0 has a place on a log axis."""
    return np.array([r["step"] for r in records]) + 1


def _density_panel(ax, rec: dict) -> None:
    d = rec["density"]
    grid, dens = np.asarray(d["grid"]), np.asarray(d["density"])
    ax.semilogy(grid, np.maximum(dens, 1e-6), color="0.4", lw=1.2, label="SLQ density")
    vals, c = np.asarray(rec["H"]["values"]), rec["H"]["outliers"]
    for i, v in enumerate(vals):
        ax.axvline(v, ymin=0.82, ymax=0.97, color="C3" if i < c else "C0", lw=1.4)
    ax.plot([], [], color="C3", lw=1.4, label=f"top-20: {c} outliers")
    ax.plot([], [], color="C0", lw=1.4, label="top-20: bulk edge")
    ax.set(xlabel="eigenvalue of H", title=f"MLP, step {rec['step']}", ylim=(1e-6, 1e4))
    ax.legend(fontsize=9, loc="center right")


def _top_panel(ax, records: list[dict], title: str) -> None:
    cmap = __import__("matplotlib").colormaps["viridis"]
    for i, r in enumerate(records):
        vals, c = np.asarray(r["H"]["values"]), r["H"]["outliers"]
        color = cmap(i / max(len(records) - 1, 1))
        idx = np.arange(1, len(vals) + 1)
        ax.semilogy(idx, vals, "-", color=color, lw=1, label=f"step {r['step']} ({c} outliers)")
        ax.semilogy(idx[:c], vals[:c], "o", color=color, ms=4)
    ax.set(xlabel="index i", ylabel="λ_i(H)", title=title, xticks=[1, 5, 10, 15, 20])
    ax.legend(fontsize=9)


def _spread(records: list[dict], count: int) -> list[dict]:
    """Up to ``count`` of ``records``, evenly spread, the first and the last included."""
    idx = np.unique(np.round(np.linspace(0, len(records) - 1, min(count, len(records)))))
    return [records[int(i)] for i in idx]


def _spectrum(d: dict):
    import matplotlib.pyplot as plt

    dens = [r for r in d["mlp"] if "density" in r]
    extra = 2 if d["cnn"] else 1
    fig, axes = plt.subplots(1, len(dens) + extra, figsize=(4.6 * (len(dens) + extra), 4.4))
    for ax, r in zip(axes, dens):
        _density_panel(ax, r)
    axes[0].set_ylabel("density (log)")
    _top_panel(axes[len(dens)], _spread([r for r in d["mlp"] if r["step"] > 0], 5),
               "MLP: top-20 of H (dots: outliers)")
    if d["cnn"]:
        _top_panel(axes[-1], d["cnn"], "CNN: top-20 of H (dots: outliers)")
    fig.suptitle("Hessian spectrum during training: a bulk near zero and a few outliers")
    fig.tight_layout()
    return fig


def _overlap(d: dict):
    import matplotlib.pyplot as plt

    mlp, k = d["mlp"], d["classes"]
    x = _steps(mlp)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 5.6))
    for name, style in _OPS.items():
        a1.semilogx(x, [r[name]["overlap"] for r in mlp], "o-", ms=4,
                    **{**style, "label": f"ḡ in top-{k}({name})"})
    mb = np.array([[r["minibatch"]["H"]["mean"], r["minibatch"]["H"]["stderr"]] for r in mlp])
    a1.errorbar(x, mb[:, 0], yerr=2 * mb[:, 1], fmt="s--", color="C0", mfc="none", ms=5,
                label=f"minibatch g_B in top-{k}(H) (±2 s.e.)")
    a1.semilogx(x[1:], [r["persistence"] for r in mlp[1:]], ":", color="k", marker="^", ms=4,
                label=f"persistence of top-{k}(H)")
    a1.set(xlabel="step + 1", ylabel="fraction of ‖g‖²", ylim=(0, 1.02),
           title=f"overlap with the top-{k} eigenspace (random: {mlp[-1]['random_overlap']:.1e})")
    a1.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)
    cmap = plt.colormaps["viridis"]
    shown = [r for r in mlp if r["step"] > 0]
    for i, r in enumerate(shown):
        cap = np.asarray(r["H"]["captured"])
        a2.plot(np.arange(1, len(cap) + 1), cap, color=cmap(i / max(len(shown) - 1, 1)),
                label=f"step {r['step']}")
    n = mlp[-1]["n_params"]
    a2.plot(np.arange(1, 21), np.arange(1, 21) / n, "k--", lw=1, label="random subspace k/n")
    a2.axvline(k, color="0.6", lw=0.8)
    a2.set(xlabel="k (top eigenvectors of H)", ylabel="‖P_k ḡ‖²/‖ḡ‖²", yscale="log",
           ylim=(1e-5, 1.5), title="full-batch gradient captured by the top-k space")
    a2.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3)
    fig.tight_layout()
    return fig


def _snr(d: dict):
    import matplotlib.pyplot as plt

    mlp, b = d["mlp"], d["batch_size"]
    x = _steps(mlp)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.4))
    a1.loglog(x, [r["grad_norm_sq"] for r in mlp], "o-", label="drift ‖ḡ‖²")
    a1.loglog(x, [r["trace_cov"] / b for r in mlp], "s-", label=f"noise tr C / B (B = {b})")
    a1.set(xlabel="step + 1", ylabel="squared norm", title="mean gradient and minibatch noise")
    a1.legend(fontsize=9)
    a2.loglog(x, [r["snr"] for r in mlp], "o-", color="C2", label="SNR = ‖ḡ‖² / (tr C / B)")
    a2.axhline(1.0, color="k", ls="--", lw=1, label="SNR = 1")
    ax2 = a2.twinx()
    ax2.semilogx(x, [r["train_loss"] for r in mlp], color="0.6", lw=1, label="training loss")
    ax2.set_ylabel("training loss", color="0.4")
    a2.set(xlabel="step + 1", ylabel="SNR", title="drift, then diffusion")
    lines = a2.get_legend_handles_labels()
    more = ax2.get_legend_handles_labels()
    a2.legend(lines[0] + more[0], lines[1] + more[1], fontsize=9, loc="lower left")
    fig.tight_layout()
    return fig


_ABLATION = {"sgd": dict(color="k", label="SGD"),
             "dominant": dict(color="C3", label="dominant only (top-k space)"),
             "bulk": dict(color="C0", ls="--", label="bulk only (top-k space removed)")}


def _ablation(d: dict):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    for r in d["ablation"]:
        ax.semilogy(r["steps"], r["loss"], lw=1.8, **_ABLATION[r["mode"]])
    ax.set(xlabel=f"steps after step {d['ablation_start']}", ylabel="training loss (log)",
           title="SGD restricted to, or deprived of, the top Hessian eigenspace")
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def figures(record: RunRecord) -> dict:
    """``spectrum``: density and top-20 with outliers; ``overlap``: gradients in the top-k
    space over steps and against k; ``snr``: drift and diffusion; ``ablation``: loss of SGD,
    dominant-only and bulk-only updates."""
    d = {**record.data, "batch_size": record.config["batch_size"],
         "ablation_start": record.config["ablation_start"]}
    return {"spectrum": _spectrum(d), "overlap": _overlap(d), "snr": _snr(d),
            "ablation": _ablation(d)}
