"""One figure style for every figure genlab draws (the sections' and the sweeps'), and one
way to save a figure.

Sizes are chosen for a figure about 12 inches wide shown at page width (150 dpi PNG):
labels and ticks stay readable when the page is read on a laptop or projected. Colours
are matplotlib's default cycle ("C0" … "C9"), which the sections' texts refer to.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["FIGURE_STYLE", "figure_style", "save_figure"]

FIGURE_STYLE: dict = {
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "figure.titlesize": 13,
    "legend.fontsize": 9.5,
    "xtick.labelsize": 10,
    "ytick.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "lines.linewidth": 1.6,
    "legend.framealpha": 0.9,
    "savefig.dpi": 150,
}


@contextmanager
def figure_style() -> Iterator[None]:
    """Draw inside this block to use :data:`FIGURE_STYLE` (a section may still set its own
    values inside it, for one figure)."""
    import matplotlib.pyplot as plt

    with plt.rc_context(FIGURE_STYLE):
        yield


def save_figure(fig, path: Path) -> Path:
    """Write ``fig`` to ``path`` as a 150-dpi PNG (atomically: a killed run never leaves a
    half-written figure) and close it."""
    import matplotlib.pyplot as plt

    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=150, bbox_inches="tight")
    os.replace(tmp, path)
    plt.close(fig)
    return path
