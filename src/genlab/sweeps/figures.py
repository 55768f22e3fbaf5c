"""Figures of a sweep: each claim's value against a grid key, mean ± std over seeds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..runs import figure_style, save_figure

__all__ = ["claim_figure", "save_figures"]


def _numeric(values: list[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def claim_figure(groups: list[dict], key: str):
    """One panel per claim of one experiment: value (mean ± std) against grid key ``key``,
    one line per combination of the other grid keys; the threshold dashed."""
    import matplotlib.pyplot as plt

    names = [c["name"] for c in groups[0]["claims"]]
    cols = min(3, len(names))
    rows = -(-len(names) // cols)
    fig, axs = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    lines: dict[str, list[tuple[Any, dict]]] = {}
    for g in groups:
        rest = ", ".join(f"{k}={v}" for k, v in g["grid"].items() if k != key)
        lines.setdefault(rest, []).append((g["grid"][key], {c["name"]: c for c in g["claims"]}))
    xs_all = [x for pts in lines.values() for x, _ in pts]
    numeric = _numeric(xs_all)
    for ax, name in zip(axs.flat, names):
        for label, pts in lines.items():
            pts = sorted(pts, key=lambda p: p[0]) if numeric else pts
            xs = [p[0] if numeric else str(p[0]) for p in pts]
            mean = [p[1][name]["mean"] if name in p[1] else float("nan") for p in pts]
            std = [p[1][name]["std"] if name in p[1] else 0.0 for p in pts]
            ax.errorbar(xs, mean, yerr=std, fmt="o-", capsize=3, label=label or None)
        first = groups[0]["claims"][names.index(name)]
        ax.axhline(first["threshold"], color="k", ls="--", lw=1, label=f"threshold {first['op']}")
        ax.set(xlabel=key, title=name)
        if numeric and min(xs_all) > 0 and max(xs_all) / min(xs_all) >= 20:
            ax.set_xscale("log")
        ax.legend(fontsize=8)
    for ax in list(axs.flat)[len(names):]:
        ax.axis("off")
    fig.suptitle(f"{groups[0]['experiment']}: claims against {key} (mean ± std over seeds)")
    fig.tight_layout()
    return fig


def save_figures(sweep_dir: Path, aggregate: dict) -> list[Path]:
    """Draw :func:`claim_figure` for each experiment and grid key into ``figures/``."""
    keys = list(aggregate["spec"].get("grid", {}))
    saved = []
    by_exp: dict[str, list[dict]] = {}
    for g in aggregate["groups"]:
        by_exp.setdefault(g["experiment"], []).append(g)
    (sweep_dir / "figures").mkdir(exist_ok=True)
    for exp, groups in by_exp.items():
        for key in keys:
            if not groups[0]["claims"] or not all(key in g["grid"] for g in groups):
                continue
            with figure_style():
                fig = claim_figure(groups, key)
            saved.append(save_figure(fig, sweep_dir / "figures" / f"{exp}_{key}.png"))
    return saved
