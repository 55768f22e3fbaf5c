"""Figures of the memorization section (Zhang et al. 2017, Fig. 1 and §3), from the stored run."""

from __future__ import annotations

import numpy as np

from ...runs import RunRecord

#: Legends sit outside the axes (right of the panels) so they never cover a curve.
_OUTSIDE = dict(loc="outside right upper", fontsize=10, frameon=False)


def _curve(run: dict, key: str) -> tuple[np.ndarray, np.ndarray]:
    h = run["history"]
    return np.array([e["epoch"] for e in h]), np.array([float(e[key]) for e in h])


def _learning_curves(runs: dict, ps: list[float], inputs: list[str]):
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.3), layout="constrained")
    colors = plt.cm.viridis(np.linspace(0, 0.9, len(ps)))
    named = [(f"p={p:g}", f"labels, p = {p:g}", dict(color=c)) for p, c in zip(ps, colors)]
    named += [(k, k.replace("_", " "), dict(color=f"C{i + 1}", ls="--"))
              for i, k in enumerate(inputs)]
    for name, label, style in named:
        a.plot(*_curve(runs[name], "train_loss"), label=label, lw=1.6, **style)
        b.plot(*_curve(runs[name], "train_acc"), lw=1.6, **style)
    a.set(xlabel="epoch", ylabel="training loss", yscale="log",
          title="learning curves (Zhang Fig. 1a)")
    b.set(xlabel="epoch", ylabel="training accuracy", ylim=(0, 1.02),
          title="every variant is fitted")
    fig.legend(**_OUTSIDE)
    return fig


def _corruption(runs: dict, ps: list[float], fit_accuracy: float):
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    unfitted = [p for p in ps if np.isnan(float(runs[f"p={p:g}"]["time_to_fit"]))]
    for p in ps:  # never fitted: an open triangle at the budget, a lower bound
        r = runs[f"p={p:g}"]
        style = dict(marker="^", mfc="white", ms=9) if p in unfitted else dict(marker="o", ms=7)
        a.plot(p, _fit_or_budget(r), ls="none", color="C0", **style)
    a.plot(ps, [_fit_or_budget(runs[f"p={p:g}"]) for p in ps], "-", color="C0", lw=1)
    a.set(xlabel="label corruption p", ylabel=f"epochs to {fit_accuracy:.0%} train acc.",
          title="time to fit (Zhang Fig. 1b)", ylim=(0, None))
    if unfitted:
        a.text(0.98, 0.03, "open △: not fitted within the budget", transform=a.transAxes,
               ha="right", va="bottom", fontsize=10, color="0.3")
    err = [1 - runs[f"p={p:g}"]["final"]["test_acc"] for p in ps]
    b.plot(ps, err, "o-", color="C3")
    b.axhline(0.9, color="k", ls=":")
    b.text(0.0, 0.88, "chance (90% error)", va="top", fontsize=10)
    b.set(xlabel="label corruption p", ylabel="test error", ylim=(0, 1),
          title="test error after fitting (Zhang Fig. 1c)")
    return fig


def _fit_or_budget(run: dict) -> float:
    fit = float(run["time_to_fit"])
    return run["budget"] if np.isnan(fit) else fit


def _regularization(runs: dict):
    import matplotlib.pyplot as plt

    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained",
                               width_ratios=(1.3, 1))
    random = [("p=1", "no regularizer", "C0"), ("weight_decay p=1", "weight decay", "C1"),
              ("dropout p=1", "dropout", "C2"), ("augmentation p=1", "augmentation", "C3"),
              ("mlp p=1", "MLP, no regularizer", "C7")]
    for name, label, color in random:
        a.plot(*_curve(runs[name], "train_acc"), color=color, lw=1.6, label=label)
    a.axhline(0.1, color="k", ls=":", lw=1)
    a.set(xlabel="epoch", ylabel="training accuracy on random labels", ylim=(0, 1.02),
          title="regularizers do not stop random-label fitting")
    fig.legend(loc="outside lower center", ncols=len(random), fontsize=10, frameon=False)
    true = [("p=0", "none"), ("weight_decay p=0", "weight decay"), ("dropout p=0", "dropout"),
            ("augmentation p=0", "augmentation"), ("all p=0", "all three"),
            ("mlp p=0", "MLP (none)")]
    acc = [100 * runs[k]["final"]["test_acc"] for k, _ in true]
    bars = b.barh([lbl for _, lbl in true], acc, color=["C0", "C1", "C2", "C3", "C4", "C7"])
    b.bar_label(bars, fmt="%.1f", padding=3, fontsize=10)
    lo = min(acc)
    b.set(xlabel="test accuracy on true labels (%)", xlim=(max(0, lo - 10), 101),
          title="…and are not needed to generalize")
    b.invert_yaxis()
    return fig


def figures(record: RunRecord) -> dict:
    """``learning_curves`` (Fig. 1a), ``corruption`` (Fig. 1b–c) and ``regularization``
    (random-label fits under each regularizer; true-label test accuracy with and without)."""
    d = record.data
    runs = d["runs"]
    return {"learning_curves": _learning_curves(runs, d["corruption"], d["inputs"]),
            "corruption": _corruption(runs, d["corruption"], d["fit_accuracy"]),
            "regularization": _regularization(runs)}
