"""Figures of the batch_gap section, drawn from the stored run."""

from __future__ import annotations

import numpy as np

from ...dynamics import Fit
from ...runs import RunRecord
from ...train import LrPlan
from ._tables import HOFFER_RESNET44

_COLOR = {"SB": "C0", "LB": "C3", "+LR": "C1", "+GBN": "C2", "+RA": "C4"}
_STYLE = {"SB": "-", "LB": "-", "+LR": "--", "+GBN": "-.", "+RA": ":"}


def _test_error(variants: list[dict]):
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.2), gridspec_kw={"width_ratios": [3, 2]})
    names = [v["name"] for v in variants]
    pos = np.arange(len(names))
    errs = [np.asarray(v["test_err"]) for v in variants]
    means = [e.mean() for e in errs]
    spread = [e.std(ddof=1) if len(e) > 1 else 0.0 for e in errs]
    ax.bar(pos, means, yerr=spread, capsize=5, color=[_COLOR[n] for n in names], alpha=0.75)
    for i, e in enumerate(errs):
        ax.plot(pos[i] + 0.22 + np.linspace(-0.1, 0.1, len(e)), e, "ko", ms=4)
    ax.axhline(means[0], color="k", ls=":", lw=1, label="SB mean")
    top = max(e.max() for e in errs)
    ax.set(xticks=pos, xticklabels=names, ylabel="test error (%)", ylim=(0, top * 1.25),
           title=f"measured: MLP on MNIST (mean ± std; dots: the {len(errs[0])} paired seed(s))")
    ax.legend(loc="upper right", fontsize=9)
    paper = [100 - HOFFER_RESNET44[n] for n in names]
    ax2.bar(pos, paper, color=[_COLOR[n] for n in names], alpha=0.75)
    ax2.axhline(paper[0], color="k", ls=":", lw=1)
    ax2.set(xticks=pos, xticklabels=names, ylabel="validation error (%)",
            ylim=(0, max(paper) * 1.25), title="Hoffer et al. 2017, Table 1:\nResNet44, CIFAR-10")
    fig.tight_layout()
    return fig


def _fit_curve(fit: dict, kind: str) -> tuple[np.ndarray, np.ndarray]:
    t = np.geomspace(fit["t_min"], fit["t_max"], 50)
    f = Fit(kind, fit[kind]["a"], fit[kind]["b"], fit[kind]["r2"])
    return t, f(t)


def _diffusion(variants: list[dict], labels: dict[str, str]):
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    for v in variants:
        c = _COLOR[v["name"]]
        ax.plot(v["steps"], v["distance"], color=c, ls=_STYLE[v["name"]], lw=1.8,
                label=f"{v['name']} (R² log {v['fit']['log']['r2']:.3f}, "
                      f"power {v['fit']['power']['r2']:.3f})")
        ax.plot(*_fit_curve(v["fit"], "log"), color="k", lw=0.8, alpha=0.7)
        ax.axvline(v["end_hot"], color=c, lw=0.6, alpha=0.5)
    ax.plot([], [], color="k", lw=0.8, label="log fit a + b·ln t (fitted window)")
    top = max(max(v["distance"]) for v in variants)
    ax.set(xscale="log", xlabel="updates t (log scale)", ylabel="‖w_t − w₀‖ (mean over seeds)",
           ylim=(0, top * 1.45), title="distance from initialization; thin verticals: first lr decay")
    ax.legend(fontsize=8, loc="upper left")
    sb = next(v for v in variants if v["name"] == "SB")
    ra = next(v for v in variants if v["name"] == "+RA")
    for i, (name, label) in enumerate(labels.items()):
        c = f"C{i % 10}"
        ax2.plot(sb["steps"], sb["layers"][name], color=c, lw=1.5, label=label)
        ax2.plot(ra["steps"], ra["layers"][name], color=c, lw=1.0, ls=":")
    ax2.plot([], [], color="k", lw=1.0, ls=":", label="+RA (same layer)")
    ax2.axvline(sb["end_hot"], color="k", lw=0.6, alpha=0.5)
    top = max(max(max(v["layers"][n]) for n in labels) for v in (sb, ra))
    ax2.set(xscale="log", xlabel="updates t (log scale)", ylabel="‖w_t − w₀‖ of the layer",
            ylim=(0, top * 1.4), title="per layer: SB (solid) and +RA (dotted)")
    ax2.legend(fontsize=8, loc="upper left", ncol=2)
    fig.tight_layout()
    return fig


def _lr(variants: list[dict]):
    import matplotlib.pyplot as plt

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(12, 4.2))
    for v in variants:
        plan, spe = LrPlan(**v["plan"]), v["steps_per_epoch"]
        t = np.arange(v["updates"])
        lr = np.array([plan.lr_at(int(s), spe) for s in t])
        style = dict(color=_COLOR[v["name"]], ls=_STYLE[v["name"]], lw=1.8,
                     label=f"{v['name']} (B = {v['batch']}, η = {plan.lr:.3g})")
        ax.plot((t + 1) / spe, lr, **style)
        ax2.plot(t + 1, lr, **style)
    ax.set(xscale="log", yscale="log", xlabel="epochs (log scale)", ylabel="learning rate η",
           title="lr against epochs (LB = SB; +GBN = +LR)")
    ax2.set(xscale="log", yscale="log", xlabel="updates (log scale)",
            title="lr against updates: +RA follows SB's regime")
    ax.legend(fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig


def figures(record: RunRecord) -> dict:
    """``test_error``: the variants beside Hoffer's Table 1; ``diffusion``: ‖w_t − w₀‖ against
    log t with the log fits, whole model and per layer; ``lr_schedules``: the lr regimes."""
    d = record.data
    return {"test_error": _test_error(d["variants"]),
            "diffusion": _diffusion(d["variants"], d["layer_labels"]),
            "lr_schedules": _lr(d["variants"])}
