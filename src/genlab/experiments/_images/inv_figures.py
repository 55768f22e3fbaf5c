"""Figures of the inversion experiment, drawn from a stored run only."""

from __future__ import annotations

import numpy as np

from ...runs import RunRecord

__all__ = ["draw"]


def _img(a: np.ndarray) -> tuple[np.ndarray, str | None]:
    """(C, H, W) -> an imshow-able array and colormap."""
    return (a[0], "gray") if a.shape[0] == 1 else (a.transpose(1, 2, 0), None)


def _grid(record: RunRecord, tag: str):
    import matplotlib.pyplot as plt

    orig, recs = record.arrays["originals"], record.arrays[f"recs_{tag}"]  # (B,C,H,W), (L,B,C,H,W)
    layers = record.data["layers"]
    rows = {r["layer"]: r for r in record.data["rows"][tag]}
    n_img, n_lay = orig.shape[0], len(layers)
    fig, axes = plt.subplots(n_img, n_lay + 1, figsize=(1.15 * (n_lay + 1), 1.3 * n_img + 0.5),
                             squeeze=False)
    for i in range(n_img):
        a, cmap = _img(orig[i])
        axes[i, 0].imshow(np.clip(a, 0, 1), cmap=cmap, vmin=0, vmax=1)
        for j, layer in enumerate(layers):
            a, cmap = _img(recs[j, i])
            axes[i, j + 1].imshow(np.clip(a, 0, 1), cmap=cmap, vmin=0, vmax=1)
            if i == 0:
                axes[0, j + 1].set_title(f"{layer}\nSSIM {rows[layer]['ssim']:.2f}", fontsize=7)
    axes[0, 0].set_title("original", fontsize=7)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"reconstructions from each layer ({tag} weights)", fontsize=9)
    fig.tight_layout()
    return fig


def _curves(record: RunRecord):
    import matplotlib.pyplot as plt

    layers = record.data["layers"]
    x = np.arange(len(layers))
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    for key, ax, label in zip(("ssim", "psnr", "feature_rel_error"), axes,
                              ("SSIM", "PSNR (dB)", "‖Φ(x*) − Φ₀‖ / ‖Φ₀‖")):
        for tag, style in (("trained", "o-"), ("random", "s--")):
            ax.plot(x, [r[key] for r in record.data["rows"][tag]], style, ms=4, label=tag)
        ax.set_xticks(x, layers, rotation=70, fontsize=7)
        ax.set(ylabel=label)
        if key == "ssim":
            ax.axhline(record.config["ssim_threshold"], color="k", ls=":", lw=0.8,
                       label="threshold")
        if key == "feature_rel_error":
            ax.set_yscale("log")
        ax.legend(fontsize=8)
    fig.suptitle("reconstruction quality per layer (mean over images)")
    fig.tight_layout()
    return fig


def draw(record: RunRecord) -> dict:
    """Reconstruction grids (trained, random) and quality-per-layer curves."""
    return {"grid_trained": _grid(record, "trained"), "grid_random": _grid(record, "random"),
            "quality": _curves(record)}
