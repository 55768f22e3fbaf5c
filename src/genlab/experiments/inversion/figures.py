"""Figures of the inversion section, drawn from the stored run only."""

from __future__ import annotations

import numpy as np

from ...runs import RunRecord

_TAGS = {"trained": "trained net", "random": "random weights"}


def _img(a: np.ndarray) -> tuple[np.ndarray, str | None]:
    """(C, H, W) -> an imshow-able array and colormap."""
    a = np.clip(a, 0, 1)
    return (a[0], "gray") if a.shape[0] == 1 else (a.transpose(1, 2, 0), None)


def _show(ax, a: np.ndarray, title: str | None = None) -> None:
    img, cmap = _img(a)
    ax.imshow(img, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=10)


def _grid(record: RunRecord, tag: str):
    import matplotlib.pyplot as plt

    orig, recs = record.arrays[f"originals_{tag}"], record.arrays[f"recs_{tag}"]
    layers, rows = record.data["layers"], record.data["rows"][tag]
    n_img, n_lay = recs.shape[1], len(layers)
    fig, axes = plt.subplots(n_img, n_lay + 1, figsize=(1.3 * (n_lay + 1), 1.3 * n_img + 1.1),
                             squeeze=False, gridspec_kw={"wspace": 0.06, "hspace": 0.06})
    for i in range(n_img):
        _show(axes[i, 0], orig[i], "original" if i == 0 else None)
        for j, row in enumerate(rows):
            _show(axes[i, j + 1], recs[j, i], f"{layers[j]}\nid {row['identified']:.2f}"
                  if i == 0 else None)
    fig.suptitle(f"Reconstructions from each layer ({_TAGS[tag]}); id = fraction identified "
                 f"among {round(1 / record.data['chance'])} candidates", fontsize=11)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.85 / (1.3 * n_img + 1.1))
    return fig


def _curves(record: RunRecord):
    import matplotlib.pyplot as plt

    layers, rows = record.data["layers"], record.data["rows"]
    x = np.arange(len(layers))
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.6))
    a1.plot(x, [r["identified"] for r in rows["trained"]], "o-", label="trained: identified")
    a1.plot(x, [r["same_class"] for r in rows["trained"]], "^-", label="trained: same class")
    a1.plot(x, [r["identified"] for r in rows["random"]], "s--", label="random: identified")
    a1.axhline(record.data["chance"], color="grey", ls=":", label="chance (identified)")
    a1.axhline(0.5, color="k", lw=0.8, ls="--", label="keeps the input (0.5)")
    a1.set(ylabel="fraction of reconstructions", ylim=(-0.03, 1.03),
           title="what each layer keeps")
    for key, style in (("trained", "o-"), ("random", "s--")):
        a2.semilogy(x, [r["feature_error"] for r in rows[key]], style, label=_TAGS[key])
    a2.set(ylabel="‖Φ(x*) − Φ₀‖ / ‖Φ₀‖", title="feature error of the reconstruction")
    for ax in (a1, a2):
        ax.set_xticks(x, layers, rotation=45, ha="right")
        ax.grid(alpha=0.3)
    a1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    a2.legend(loc="upper center", bbox_to_anchor=(0.5, -0.22), ncol=2, frameon=False)
    fig.tight_layout()
    return fig


def _pre_images(record: RunRecord):
    import matplotlib.pyplot as plt

    dip, recs, tv = record.data["dip"], record.arrays["recs_dip"], record.arrays["recs_dip_tv"]
    orig = record.arrays["originals_random"]
    n = min(recs.shape[1], len(orig))
    cols = 1 + 2 * len(dip)
    fig, axes = plt.subplots(n, cols, figsize=(1.6 * cols, 1.6 * n + 1.0), squeeze=False,
                             gridspec_kw={"wspace": 0.06, "hspace": 0.06})
    for i in range(n):
        _show(axes[i, 0], orig[i], "original" if i == 0 else None)
        for j, d in enumerate(dip):
            _show(axes[i, 1 + 2 * j], tv[j, i],
                  f"{d['layer']}, TV\nSSIM {d['tv_ssim']:.2f}" if i == 0 else None)
            _show(axes[i, 2 + 2 * j], recs[j, i],
                  f"{d['layer']}, DIP\nSSIM {d['dip_ssim']:.2f}" if i == 0 else None)
    fig.suptitle("Natural pre-images: TV prior vs Deep Image Prior (mean SSIM)", fontsize=11)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=1 - 0.8 / (1.6 * n + 1.0))
    return fig


def figures(record: RunRecord) -> dict:
    """Reconstruction grids (trained, random), what each layer keeps, DIP vs TV pre-images."""
    figs = {"grid_trained": _grid(record, "trained"), "grid_random": _grid(record, "random"),
            "layers": _curves(record)}
    if record.data.get("dip"):
        figs["pre_images"] = _pre_images(record)
    return figs
