"""Weight diffusion ‖w_t − w_0‖ during training, and its log-t and power-law fits.

Hoffer, Hubara & Soudry 2017 ("Train longer, generalize better: closing the
generalization gap in large batch training of neural networks", arXiv:1705.08741)
observe that the distance travelled from the initialization grows like log t, an
"ultra-slow diffusion", where a random walk in a fixed landscape would give t^½.
:class:`DiffusionTracker` records the distance of the whole model and of each layer at
chosen steps; :func:`fit_diffusion` fits d = a + b·ln t and d = a·t^b over a chosen later
part of training, each by least squares on d itself, so that their R² compare.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import scipy.optimize
import torch
from torch import nn

__all__ = ["DiffusionFit", "DiffusionRecord", "DiffusionTracker", "Fit", "fit_diffusion",
           "fit_log", "fit_power", "log_spaced_steps"]


def log_spaced_steps(last: int, num: int, first: int = 1) -> list[int]:
    """About ``num`` distinct integer steps from ``first`` to ``last``, evenly spaced in log t."""
    if not 1 <= first <= last or num < 1:
        raise ValueError(f"need 1 ≤ first ≤ last and num ≥ 1, got {first}, {last}, {num}")
    return sorted({int(round(s)) for s in np.geomspace(first, last, num)})


@dataclass
class DiffusionRecord:
    """‖w_t − w_0‖ at ``step``: ``distance`` (whole model) and per layer (``layers``)."""

    step: int
    distance: float
    layers: dict[str, float] = field(default_factory=dict)


class DiffusionTracker:
    """Records ‖w_t − w_0‖ of a model, whole and per layer, against w_0 at construction.

    A layer is a module owning parameters (``"3.weight"`` and ``"3.bias"`` form ``"3"``).
    One call costs one pass over the parameters and one host synchronization.

    Args:
        model: the network being trained (read, never modified).
        steps: the steps at which a call records (e.g. :func:`log_spaced_steps`);
            None: every call records.

    Usage: ``tracker = DiffusionTracker(model, steps=log_spaced_steps(10_000, 60))``,
    then ``tracker(step)`` after each optimizer step; ``tracker.records``,
    ``tracker.series()`` and ``fit_diffusion(*tracker.series(), t_min=...)``.
    """

    def __init__(self, model: nn.Module, *, steps: Iterable[int] | None = None):
        named = list(model.named_parameters())
        if not named:
            raise ValueError("the model has no parameters")
        self._params = [p for _, p in named]
        self._initial = [p.detach().clone() for p in self._params]
        owners = [n.rsplit(".", 1)[0] if "." in n else n for n, _ in named]
        self.layers = list(dict.fromkeys(owners))
        self._group = torch.tensor([self.layers.index(o) for o in owners],
                                   device=self._params[0].device)
        self.schedule = None if steps is None else set(steps)
        self.records: list[DiffusionRecord] = []

    def __call__(self, step: int) -> DiffusionRecord | None:
        """Record at ``step`` if it is scheduled; returns the record or None."""
        if self.schedule is not None and step not in self.schedule:
            return None
        return self.record(step)

    @torch.no_grad()
    def record(self, step: int) -> DiffusionRecord:
        """Record now, whatever the schedule."""
        diffs = torch._foreach_sub([p.detach() for p in self._params], self._initial)
        sq = torch.stack(torch._foreach_norm(diffs)).double() ** 2  # (n_params,)
        layers = torch.zeros(len(self.layers), dtype=torch.float64, device=sq.device)
        layers.index_add_(0, self._group, sq)
        values = torch.cat([sq.sum()[None], layers]).sqrt().tolist()
        rec = DiffusionRecord(step, values[0], dict(zip(self.layers, values[1:])))
        self.records.append(rec)
        return rec

    def series(self, layer: str | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(steps, distances) of the records, of the whole model or of one ``layer``."""
        if layer is not None and layer not in self.layers:
            raise ValueError(f"no layer {layer!r}; layers are {self.layers}")
        d = [r.distance if layer is None else r.layers[layer] for r in self.records]
        return np.array([r.step for r in self.records], dtype=float), np.array(d)


@dataclass
class Fit:
    """A fitted curve: ``kind`` "log" (d = a + b·ln t) or "power" (d = a·t^b), and R²
    = 1 − Σ(d − d̂)²/Σ(d − mean d)² on the fitted points."""

    kind: str
    a: float
    b: float
    r2: float

    def __call__(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=float)
        return self.a + self.b * np.log(t) if self.kind == "log" else self.a * t**self.b


def _r2(d: np.ndarray, fit: np.ndarray) -> float:
    total = float(((d - d.mean()) ** 2).sum())
    return 1.0 - float(((d - fit) ** 2).sum()) / total if total > 0 else float("nan")


def _points(t, d) -> tuple[np.ndarray, np.ndarray]:
    t, d = np.asarray(t, dtype=float), np.asarray(d, dtype=float)
    if t.shape != d.shape or t.ndim != 1 or t.size < 3 or (t <= 0).any():
        raise ValueError("fits need ≥ 3 points with t > 0 and one d per t")
    return t, d


def fit_log(t, d) -> Fit:
    """Least-squares d = a + b·ln t."""
    t, d = _points(t, d)
    b, a = np.polyfit(np.log(t), d, 1)
    fit = Fit("log", float(a), float(b), 0.0)
    fit.r2 = _r2(d, fit(t))
    return fit


def fit_power(t, d) -> Fit:
    """Least-squares d = a·t^b on d (started from the log-log line fit; needs d > 0)."""
    t, d = _points(t, d)
    if (d <= 0).any():
        raise ValueError("a power law needs d > 0")
    b0, log_a0 = np.polyfit(np.log(t), np.log(d), 1)
    (a, b), _ = scipy.optimize.curve_fit(lambda x, a, b: a * x**b, t, d,
                                         p0=(np.exp(log_a0), b0), maxfev=10_000)
    fit = Fit("power", float(a), float(b), 0.0)
    fit.r2 = _r2(d, fit(t))
    return fit


@dataclass
class DiffusionFit:
    """Both fits over the window [``t_min``, ``t_max``] of ``n`` points; ``best`` names
    the one with the higher R²."""

    log: Fit
    power: Fit
    n: int
    t_min: float
    t_max: float

    @property
    def best(self) -> str:
        return "log" if self.log.r2 >= self.power.r2 else "power"


def fit_diffusion(t, d, *, t_min: float | None = None, t_max: float | None = None
                  ) -> DiffusionFit:
    """Fit d(t) = a + b·ln t and d(t) = a·t^b on the points with t_min ≤ t ≤ t_max.

    Args:
        t: steps (or epochs) (n,), positive.
        d: distances ‖w_t − w_0‖ (n,).
        t_min, t_max: the window (default: all points), e.g. the later part of training.
    """
    t, d = np.asarray(t, dtype=float), np.asarray(d, dtype=float)
    keep = (t >= (t_min if t_min is not None else -np.inf)) & (
        t <= (t_max if t_max is not None else np.inf))
    t, d = t[keep], d[keep]
    log, power = fit_log(t, d), fit_power(t, d)
    return DiffusionFit(log, power, int(t.size), float(t.min()), float(t.max()))
