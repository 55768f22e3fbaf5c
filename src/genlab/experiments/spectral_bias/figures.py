"""Figures of the spectral-bias section, drawn from the stored run only (sized for slides)."""

from __future__ import annotations

import numpy as np

from ...runs import RunRecord

__all__ = ["figures"]



def _below(ax, ncol: int) -> None:
    """Legend under the axes, never over the data."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.17), ncol=ncol, frameon=False)


def _heat(ax, record: RunRecord, kind: str):
    d, a = record.data, record.arrays
    k, its = np.asarray(d["frequencies"]), a["iterations"]
    step = k[1] - k[0] if len(k) > 1 else 1
    img = ax.imshow(np.clip(a[f"{kind}_curves"], 0, 1), origin="lower", aspect="auto",
                    vmin=0, vmax=1, cmap="magma", interpolation="nearest",
                    extent=(k[0] - step / 2, k[-1] + step / 2, its[0], its[-1]))
    half = a[f"{kind}_half"]
    hit = ~np.isnan(half)
    ax.plot(k[hit], half[hit], "o", color="#4dd0e1", ms=7, mec="k",
            label="first reaches ½")
    amps = d["amplitudes"][kind]
    label = "A = 1" if kind == "equal" else f"A = {amps[0]:g} … {amps[-1]:g}"
    ax.set(xlabel="frequency k", xticks=k, title=f"{kind} amplitudes ({label})")
    ax.tick_params(axis="x", labelsize=9)
    return img


def _dynamics(record: RunRecord):
    import matplotlib.pyplot as plt

    a = record.arrays
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.4), gridspec_kw={"width_ratios": [1, 1, 0.9]})
    for ax, kind in zip(axes, ("equal", "rising")):
        img = _heat(ax, record, kind)
    axes[0].set_ylabel("training iteration")
    axes[1].sharey(axes[0])
    axes[1].tick_params(labelleft=False)
    fig.colorbar(img, ax=axes[:2], label="normalized amplitude |f̃(k)| / A (clipped at 1)",
                 shrink=0.9, pad=0.02)
    _below(axes[0], 1)
    norms = a["equal_layer_norms"]  # (S, L)
    for layer in range(norms.shape[1]):
        axes[2].plot(a["norm_steps"], norms[:, layer], "o-", ms=3, lw=2,
                     color=plt.cm.viridis(layer / max(norms.shape[1] - 1, 1)),
                     label=f"layer {layer + 1}")
    axes[2].set(xlabel="training iteration", ylabel="spectral norm ‖W_l‖₂",
                title="every layer's norm grows (equal A)")
    axes[2].legend(ncol=2, fontsize=9, loc="upper left", frameon=False)
    fig.suptitle("Low frequencies are learned first (Rahaman et al. 2019, Fig. 1)", y=1.0)
    return fig


def _fits(record: RunRecord):
    import matplotlib.pyplot as plt

    a = record.arrays
    its, outs, target = a["iterations"], a["equal_outputs"], a["equal_target"]
    z = np.arange(len(target)) / len(target)
    picks = [int(np.searchsorted(its, f * its[-1])) for f in (0.02, 0.08, 0.3, 1.0)]
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8), sharey=True)
    for ax, i in zip(axes, picks):
        ax.plot(z, target, color="0.6", lw=1.2, label="target")
        ax.plot(z, outs[i], color="C3", lw=1.8, label="network")
        ax.set(xlabel="z", title=f"iteration {int(its[i])}")
    axes[0].set_ylabel("f(z)")
    axes[0].legend(loc="lower left", fontsize=9, frameon=True)
    fig.suptitle("The fit gains detail from coarse to fine (equal amplitudes, draw 0)")
    fig.tight_layout()
    return fig


def _sweep(record: RunRecord):
    import matplotlib.pyplot as plt

    d = record.data
    k = np.asarray(d["frequencies"])
    fig, (a, b) = plt.subplots(1, 2, figsize=(14, 5.2))
    for i, row in enumerate(d["sweep"]):
        name = "no bound" if row["level"] is None else f"s = {row['level']:g}"
        color = "k" if row["level"] is None else f"C{(i - 1) % 10}"
        a.plot(k, row["final_amplitudes"], "o-", lw=2, color=color, label=name)
        b.semilogy(row["norm_steps"], row["bounds"], "o-", lw=2, ms=4, color=color, label=name)
    a.axhline(0.5, color="0.5", ls=":", lw=1.5)
    a.set(xlabel="frequency k", ylabel="|f̃(k)| / A after the budget", xticks=k,
          title=f"learned amplitude after {d['sweep_steps']} iterations")
    b.set(xlabel="training iteration", ylabel="Lipschitz bound ∏‖W_l‖₂",
          title="the bound caps ∏‖W_l‖₂")
    _below(a, len(d["sweep"]))
    _below(b, len(d["sweep"]))
    fig.suptitle(f"Bounding every layer's spectral norm ({d['constraint']}) caps the "
                 "frequencies learned")
    fig.tight_layout()
    return fig


def _noise(record: RunRecord):
    import matplotlib.pyplot as plt

    a, info = record.arrays, record.data["noise"]
    its, best = a["noise_iterations"], info["best"]
    fig, (left, r) = plt.subplots(1, 2, figsize=(14, 5.2))
    left.semilogy(its, a["noise_clean_mse"], lw=2.5, color="C2",
                  label="error to the clean target")
    left.semilogy(its, a["noise_train_mse"], lw=2, color="C0",
                  label="training error (noisy data)")
    left.axhline(info["noise_variance"], color="0.4", ls=":", label="noise variance")
    left.axvline(its[best], color="C2", ls="--", lw=1.2)
    left.annotate(f"best clean fit (iteration {its[best]})", (its[best], 0.93), xytext=(6, 0),
                  xycoords=("data", "axes fraction"), textcoords="offset points", color="C2")
    left.set(xlabel="training iteration", ylabel="mean squared error",
             title="the clean error falls, then rises")
    _below(left, 2)
    z = np.arange(len(a["noise_clean"])) / len(a["noise_clean"])
    r.plot(z, a["noise_noisy"], ".", color="0.55", ms=5, label="noisy data")
    r.plot(z, a["noise_clean"], color="k", lw=2, label="clean target")
    r.plot(z, a["noise_best_output"], color="C2", lw=2, label=f"fit at iteration {its[best]}")
    r.plot(z, a["noise_final_output"], color="C3", lw=1.5, label=f"fit at {its[-1]}")
    r.set(xlabel="z", ylabel="f(z)", title="early: the smooth part; late: the noise too")
    _below(r, 2)
    fig.suptitle("Noise, spread over all frequencies, is fitted last")
    fig.tight_layout()
    return fig


def _mnist(record: RunRecord):
    import matplotlib.pyplot as plt

    m = record.data["mnist"]
    fig, ax = plt.subplots(figsize=(8.5, 5.2))
    ax.plot(m["iterations"], m["e_low"], lw=2.5, color="C0", label="low-frequency part, e_low")
    ax.plot(m["iterations"], m["e_high"], lw=2.5, color="C3",
            label="high-frequency part, e_high")
    ax.plot(m["iterations"], 1 - np.asarray(m["train_acc"]), ":", lw=2, color="0.4",
            label="training error rate")
    ax.axhline(0.5, color="0.6", lw=1)
    ax.set(xlabel="training iteration (full batch)", ylabel="relative error",
           title=f"MNIST CNN, {m['n_train']} images: the low frequencies converge first\n(Xu "
                 f"et al. 2019, filtering method, δ = {m['delta_fraction']:g} × median ‖x−x′‖²)",
           ylim=(0, None))
    _below(ax, 2)
    fig.tight_layout()
    return fig


def figures(record: RunRecord) -> dict:
    """``spectrum_dynamics``, ``fits``, ``bound_sweep``, ``noise`` and ``mnist``."""
    return {"spectrum_dynamics": _dynamics(record), "fits": _fits(record),
            "bound_sweep": _sweep(record), "noise": _noise(record), "mnist": _mnist(record)}
