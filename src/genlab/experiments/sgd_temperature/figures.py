"""Figures of the SGD-temperature section, drawn from the stored run only."""

from __future__ import annotations

import numpy as np

from ...runs import RunRecord

__all__ = ["figures"]

_KINDS = {"continuous": {"color": "C0", "ls": "--", "label": "continuous Lyapunov"},
          "discrete": {"color": "C3", "ls": ":", "label": "discrete Lyapunov"},
          "exact": {"color": "C2", "ls": "-.", "label": "exact (multiplicative noise)"}}


def _ellipse(cov, scale: float = 2.0) -> np.ndarray:
    """Points (2, 200) of the level set xᵀΣ⁻¹x = scale² (the 2σ ellipse)."""
    lam, vec = np.linalg.eigh(np.asarray(cov))
    t = np.linspace(0, 2 * np.pi, 200)
    return scale * vec @ (np.sqrt(np.maximum(lam, 0))[:, None] * np.stack([np.cos(t), np.sin(t)]))


def _covariance(d: dict, arrays: dict):
    import matplotlib.pyplot as plt

    runs = sorted(d["lyapunov"], key=lambda r: r["eta_lambda"])
    shown = [runs[0], runs[-1]]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.8))
    for ax, r in zip(axes, shown):
        pts = arrays.get(f"final_{r['eta_lambda']:g}_{r['batch_size']}_1")
        if pts is not None:
            ax.plot(pts[:, 0], pts[:, 1], ".", color="0.6", ms=2.5, label="chains' last iterates")
        ax.plot(*_ellipse(r["covariance"]), "k-", lw=2.2, label="measured covariance")
        for kind, style in _KINDS.items():
            ax.plot(*_ellipse(r["predictions"][kind]), lw=1.6, **style)
        ax.set(xlabel="a − a*", ylabel="b − b*", title=f"ηλ_max = {r['eta_lambda']:g}, "
               f"B = {r['batch_size']} (2σ ellipses)")
        ax.axis("equal")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=9, frameon=False)
    fig.suptitle("Stationary covariance of SGD on the line fit")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def _errors(d: dict):
    import matplotlib.pyplot as plt

    runs = sorted(d["lyapunov"], key=lambda r: r["eta_lambda"])
    x = np.array([r["eta_lambda"] for r in runs])
    se = np.array([r["stderr_rel"] for r in runs])
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    for kind, style in _KINDS.items():
        err = np.array([r["errors"][kind] for r in runs])
        ax.plot(x, err, marker="o", **style)
    ax.fill_between(x, 0, 2 * se, color="0.85", label="2 × Monte-Carlo s.e.")
    ax.set(xlabel="ηλ_max", ylabel="relative error ‖Σ_measured − Σ_theory‖ / ‖Σ_theory‖",
           title=f"Which Lyapunov solution fits (B = {runs[0]['batch_size']}, with replacement)",
           ylim=(0, None))
    ax.legend(fontsize=9, loc="upper left")
    fig.tight_layout()
    return fig


def _temperature(d: dict):
    import matplotlib.pyplot as plt

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.8))
    runs = d["runs"]
    rep = [r for r in runs if r["replacement"]]
    k = np.mean([r["traces"]["continuous"] / r["ratio"] for r in rep])
    grid = np.geomspace(min(r["ratio"] for r in runs) / 1.5, max(r["ratio"] for r in runs) * 1.5)
    a1.plot(grid, k * grid, "k--", lw=1, label="continuous: tr Σ ∝ η/B")
    color = {b: f"C{i}" for i, b in enumerate(sorted({r["batch_size"] for r in runs}))}
    for b, c in color.items():
        for replacement, mfc, tag in ((True, None, "with replacement"), (False, "none", "shuffled")):
            sel = [r for r in runs if r["batch_size"] == b and r["replacement"] == replacement]
            if sel:
                a1.errorbar([r["ratio"] for r in sel], [r["trace"] for r in sel],
                            yerr=[2 * r["trace_stderr"] for r in sel], fmt="o", color=c,
                            mfc=mfc, label=f"B = {b}, {tag}")
    a1.set(xscale="log", yscale="log", xlabel="η/B", ylabel="tr Σ (stationary)",
           title="η/B sets the temperature")
    a1.legend(fontsize=8, ncol=2, loc="lower right")
    for i, b in enumerate(sorted({r["batch_size"] for r in d["rescaling"]})):
        sel = sorted((r for r in d["rescaling"] if r["batch_size"] == b),
                     key=lambda r: r["eta_lambda"])
        x = [r["eta_lambda"] for r in sel]
        a2.errorbar(x, [r["measured"] for r in sel], yerr=[2 * r["measured_stderr"] for r in sel],
                    fmt="o", color=color[b], label=f"measured, B = {b} → {4 * b}")
        a2.plot(x, [r["exact"] for r in sel], ls="-.", color=color[b], label=f"exact, B = {b}")
        a2.plot(x, [r["discrete"] for r in sel], ":", color="k", lw=1,
                label="discrete Lyapunov" if i == 0 else None)
    a2.axhspan(0.9, 1.1, color="0.9", label="±10%")
    a2.set(xlabel="base ηλ_max", ylabel="tr Σ(4η, 4B) / tr Σ(η, B)",
           title="(η, B) → (4η, 4B): where the rule breaks")
    a2.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig


def _plain_ticks(ax, values) -> None:
    """Log-scaled x axis with a few plain decimal tick labels instead of 2×10⁻¹ … ."""
    from matplotlib.ticker import FixedLocator, NullFormatter, ScalarFormatter

    lo, hi = min(values), max(values)
    ticks = [v for v in (0.05, 0.1, 0.2, 0.4, 0.8, 1.6) if lo <= v <= hi]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _basins(d: dict, arrays: dict):
    import matplotlib.pyplot as plt

    occ, esc = d["occupation"], d["escape"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    titles = {"equal": "equal depth", "deep_narrow": "wide minimum higher"}
    for ax, (name, curve) in zip(axes, occ["curves"].items()):
        t = curve["temperature"]
        ax.plot(t, curve["boltzmann"], "k-", label="Boltzmann (exact)")
        ax.plot(t, curve["laplace"], "C1--", label="Laplace estimate")
        rows = [r for r in occ["rows"] if r["well"] == name]
        ax.errorbar([r["temperature"] for r in rows], [r["measured"] for r in rows],
                    yerr=[2 * r["stderr"] for r in rows], fmt="o", color="C0", ms=6,
                    label="Langevin chains (±2 s.e.)")
        ax.axhline(0.5, color="0.6", lw=0.8)
        cross = occ["wells"][name]["crossover"]
        if cross is not None:
            ax.axvline(cross, color="0.6", ls=":", label=f"crossover T* = {cross:.3f}")
        ax.set(xscale="log", xlabel="temperature T", ylabel="time in the wide basin",
               title=titles.get(name, name), ylim=(0, 1))
        _plain_ticks(ax, t)
        ax.legend(fontsize=8, loc="lower right")
    ax = axes[2]
    for name, style in (("isotropic", "C0-"), ("hessian", "C3-")):
        t = arrays[f"escape_{name}"]
        t = np.sort(np.where(np.isnan(t), np.inf, t))
        alive = 1 - np.arange(1, len(t) + 1) / len(t)
        label = "isotropic noise" if name == "isotropic" else "noise ∝ H (same trace)"
        ax.step(t[np.isfinite(t)], alive[np.isfinite(t)], style, where="post",
                label=f"{label}: median {esc[name]['median']:.3g}")
    ax.set(yscale="log", xlabel="time", ylabel="fraction still in the sharp basin",
           title=f"escape from a sharp basin, T = {esc['temperature']:g}")
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


def _network(d: dict):
    import matplotlib.pyplot as plt

    runs = d["network"]["runs"]
    sgd, gd = [r for r in runs if not r["gd"]], [r for r in runs if r["gd"]]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    bs = sorted({r["batch_size"] for r in sgd})
    for key, ax, label in (("lambda_max", axes[0], "λ_max of the Hessian"),
                           ("test_acc", axes[1], "test accuracy")):
        for i, b in enumerate(bs):
            sel = [r for r in sgd if r["batch_size"] == b]
            ax.plot([r["ratio"] for r in sel], [r[key] for r in sel], "o", color=f"C{i}",
                    ms=7, label=f"SGD, B = {b}")
        for f in sorted({r["factor"] for r in sgd}):
            sel = [r for r in sgd if r["factor"] == f]
            ax.plot([sel[0]["ratio"]], [np.mean([r[key] for r in sel])], "k_", ms=22, mew=2)
        ax.set(xscale="log", xlabel="η/B", ylabel=label)
        ax.legend(fontsize=8, loc="best")
    axes[0].set(title="sharpness at equal training loss (bars: group means)")
    axes[1].set(title="test accuracy at equal training loss")
    ax = axes[2]
    for i, r in enumerate(gd):
        tr = np.array(r["trace"])
        if len(tr):
            ax.plot(tr[:, 0], tr[:, 1], "o-", color=f"C{i + 3}", label=f"GD, η = {r['lr']:g}")
        ax.axhline(2 / r["lr"], color=f"C{i + 3}", ls="--", lw=1)
    ax.set(xlabel="GD step", ylabel="λ_max", title="full-batch GD; dashed: 2/η")
    if gd:
        ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    return fig


def figures(record: RunRecord) -> dict:
    """``covariance``: the measured covariance ellipse over the Lyapunov ellipses;
    ``lyapunov_error``: error against ηλ_max; ``temperature``: tr Σ against η/B and the
    4× rescaling; ``basins``: occupation against T with Boltzmann and Laplace, and
    escape times; ``network``: λ_max and test accuracy against η/B, GD's λ_max against 2/η."""
    d, arrays = record.data, record.arrays
    return {"covariance": _covariance(d, arrays), "lyapunov_error": _errors(d),
            "temperature": _temperature(d), "basins": _basins(d, arrays),
            "network": _network(d)}
