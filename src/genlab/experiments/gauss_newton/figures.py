"""Figures of the Gauss–Newton section, drawn from the stored run only."""

from __future__ import annotations

import numpy as np

from ...runs import RunRecord

__all__ = ["figures"]

_OPS = {"H": {"color": "C0", "label": "Hessian H"}, "G": {"color": "C2", "label": "Gauss–Newton G"},
        "F": {"color": "C3", "label": "empirical Fisher F"}}


def _viridis():
    import matplotlib

    return matplotlib.colormaps["viridis"]


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
    cmap = _viridis()
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


def _operators_panel(ax, rec: dict) -> None:
    idx = np.arange(1, len(rec["H"]["values"]) + 1)
    for name, style in _OPS.items():
        vals = np.asarray(rec[name]["values"])
        ax.semilogy(idx, vals, "o-" if name == "H" else "s--", ms=3.5, lw=1, mfc="none",
                    **{**style, "label": f"{style['label']} ({rec[name]['outliers']} outliers)"})
    ax.set(xlabel="index i", ylabel="λ_i", title=f"MLP, step {rec['step']}: H, G and F",
           xticks=[1, 5, 10, 15, 20])
    ax.legend(fontsize=9)


def _spectrum(d: dict):
    import matplotlib.pyplot as plt

    dens = [r for r in d["mlp"] if "density" in r][:3]
    fig, axes = plt.subplots(2, 3, figsize=(15, 9))
    for ax, r in zip(axes[0], dens):
        _density_panel(ax, r)
    for ax in axes[0][len(dens):]:
        ax.axis("off")
    axes[0][0].set_ylabel("density (log)")
    _top_panel(axes[1][0], _spread([r for r in d["mlp"] if r["step"] > 0], 5),
               "MLP: top-20 of H (dots: outliers)")
    if d["cnn"]:
        _top_panel(axes[1][1], d["cnn"], "CNN: top-20 of H (dots: outliers)")
    else:
        axes[1][1].axis("off")
    _operators_panel(axes[1][2], d["mlp"][-1])
    fig.suptitle("Hessian spectrum during training: a bulk near zero and a few outliers")
    fig.tight_layout()
    return fig


def _overlap_steps(ax, mlp: list[dict], k: int) -> None:
    x = _steps(mlp)
    for name, style in _OPS.items():
        ax.semilogx(x, [r[name]["overlap"] for r in mlp], "o-", ms=4,
                    **{**style, "label": f"ḡ in top-{k}({name})"})
    mb = np.array([[r["minibatch"]["H"]["mean"], r["minibatch"]["H"]["stderr"]] for r in mlp])
    ax.errorbar(x, mb[:, 0], yerr=2 * mb[:, 1], fmt="s--", color="C0", mfc="none", ms=5,
                label=f"minibatch g_B in top-{k}(H) (±2 s.e.)")
    ax.semilogx(x[1:], [r["persistence"] for r in mlp[1:]], ":", color="k", marker="^", ms=4,
                label=f"persistence of top-{k}(H)")
    ax.set(xlabel="step + 1", ylabel="fraction of ‖g‖²", ylim=(0, 1.02),
           title=f"overlap with the top-{k} eigenspace (random: {mlp[-1]['random_overlap']:.1e})")
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2)


def _overlap_k(ax, mlp: list[dict], k: int) -> None:
    cmap = _viridis()
    shown = [r for r in mlp if r["step"] > 0]
    for i, r in enumerate(shown):
        cap = np.asarray(r["H"]["captured"])
        ax.plot(np.arange(1, len(cap) + 1), cap, color=cmap(i / max(len(shown) - 1, 1)),
                label=f"step {r['step']}")
    ks = np.arange(1, len(mlp[-1]["H"]["captured"]) + 1)
    ax.plot(ks, ks / mlp[-1]["n_params"], "k--", lw=1, label="random subspace k/n")
    ax.axvline(k, color="0.6", lw=0.8)
    ax.set(xlabel="k (top eigenvectors of H)", ylabel="‖P_k ḡ‖²/‖ḡ‖²", yscale="log",
           ylim=(1e-5, 1.5), title="full-batch gradient captured by the top-k space")
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3)


def _overlap(d: dict):
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 5.6))
    _overlap_steps(a1, d["mlp"], d["classes"])
    _overlap_k(a2, d["mlp"], d["classes"])
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


_ABLATION = {"sgd": {"color": "k", "label": "SGD"},
             "dominant": {"color": "C3", "label": "dominant only (top-k space)"},
             "bulk": {"color": "C0", "ls": "--", "label": "bulk only (top-k space removed)"}}


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
