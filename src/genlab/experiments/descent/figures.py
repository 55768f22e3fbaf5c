"""Figures of the descent section, drawn from the stored run."""

from __future__ import annotations

import numpy as np

from ...runs import RunRecord

#: Drawing order and style: the noisiest path first and thinnest, so the others stay visible.
_STYLE = {"online M=1": dict(color="C3", lw=0.6, alpha=0.7),
          "minibatch M=8": dict(color="C1", lw=1.2),
          "GD": dict(color="C0", lw=2.0)}
#: Examples per step of each path (GD: all n).
_BATCH = {"online M=1": 1, "minibatch M=8": 8}


def _loss(m: dict, a, b):
    """E(a, b) from the data's moments; works elementwise on arrays."""
    return (a * a * m["xx"] + 2 * a * b * m["x"] + b * b - 2 * a * m["xy"] - 2 * b * m["y"]
            + m["yy"])


def _trajectories(d: dict, n: int):
    """Left: the paths on E's contours; right: the excess loss against epochs (examples
    seen / n, log scale), so SGD's few epochs and GD's many share one axis and the
    minibatch curve is not hidden under the online one."""
    import matplotlib.pyplot as plt

    m, opt = d["moments"], np.asarray(d["optimum"])
    paths = {k: np.asarray(d["paths"][k]) for k in _STYLE}
    pts = np.concatenate(list(paths.values()))
    lo, hi = pts.min(0) - 0.5, pts.max(0) + 0.5
    a, b = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    ax.contour(a, b, _loss(m, a, b), levels=np.geomspace(0.3, 40, 20), cmap="Greys", alpha=.7)
    for name, p in paths.items():
        ax.plot(p[:, 0], p[:, 1], ".-", ms=2, label=name, **_STYLE[name])
        epochs = np.arange(len(p)) * d["stride"][name] * _BATCH.get(name, n) / n
        excess = _loss(m, p[:, 0], p[:, 1]) - _loss(m, *opt) + 1e-16
        ax2.loglog(epochs[1:], excess[1:], label=name, **_STYLE[name])
    ax.plot(*opt, "k*", ms=14, label="least squares")
    ax.set(xlabel="slope a", ylabel="intercept b", title="E(a, b) and the three methods")
    ax.legend()
    ax2.set(xlabel="epochs (examples seen / n)", ylabel="E(θ_t) − E(θ*)",
            title="excess loss per pass over the data")
    ax2.legend()
    fig.tight_layout()
    return fig


def _law(ax, rows: list[dict], key: str, sign: float, style: dict, label: str) -> None:
    v = np.array([r[key] for r in rows], float)
    s = np.array([r["spread"] for r in rows])
    ax.errorbar(v, s, yerr=2 * np.array([r["spread_se"] for r in rows]), label=label, **style)


def _spread(d: dict):
    import matplotlib.pyplot as plt

    sw, fits = d["sweeps"], d["fits"]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.2))
    _law(a1, sw["lr"], "lr", 1, dict(fmt="o", color="C0"),
         f"with replacement (exponent {fits['lr']['exponent']:.2f})")
    _law(a1, sw["large_lr"], "lr", 1, dict(fmt="s", color="C2"), "larger η")
    _law(a1, sw["lr_shuffled"], "lr", 1, dict(fmt="^", color="C3", mfc="none"),
         f"per-epoch shuffling (exponent {fits['lr_shuffled']['exponent']:.2f})")
    _law(a2, sw["batch"], "batch_size", -1, dict(fmt="o", color="C0"),
         f"with replacement (exponent {fits['batch']['exponent']:.2f})")
    _law(a2, sw["batch_shuffled"], "batch_size", -1, dict(fmt="^", color="C3", mfc="none"),
         f"per-epoch shuffling (exponent {fits['batch_shuffled']['exponent']:.2f})")
    for ax, rows, key, sign in ((a1, sw["lr"], "lr", 0.5), (a2, sw["batch"], "batch_size", -0.5)):
        v = np.array([r[key] for r in rows], float)
        grid = np.geomspace(v.min(), v.max() * (8 if key == "lr" else 1), 50)
        ax.plot(grid, rows[0]["spread"] * (grid / v[0]) ** sign, "k--", lw=1,
                label="theory: ∝ η^½" if key == "lr" else "theory: ∝ M^−½")
        ax.set(xscale="log", yscale="log", ylabel="RMS ‖θ_t − θ*‖ (stationary)")
        ax.legend(fontsize=9)
    a1.set(xlabel="learning rate η (M = 4)", title="spread vs η")
    a2.set(xlabel="batch size M", title="spread vs M")
    fig.suptitle("SGD's stationary spread around the minimum (±2 s.e.)")
    fig.tight_layout()
    return fig


def figures(record: RunRecord) -> dict:
    """``trajectories``: the three methods on E(a, b); ``spread``: the √(η/M) law and where
    it breaks."""
    return {"trajectories": _trajectories(record.data, record.config["n"]),
            "spread": _spread(record.data)}
