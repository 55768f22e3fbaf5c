"""Full-batch fits on the grid: a plain loop of :func:`genlab.train.step`, the output
recorded every ``log_every`` iterations (its spectrum is taken afterwards, in one
batched FFT) and the layers' spectral norms measured a few times."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

from ...measures import SpectralCurves, amplitude_spectrum, learning_curves, lipschitz_bound
from ...train import check_finite, step
from ..base import Context
from . import Config

__all__ = ["GridFit", "fit_grid", "mean_curves"]


@dataclass
class GridFit:
    """One fit: ``outputs`` (T, N) at ``iterations`` (T,), the training MSE there, and the
    Lipschitz bound with its per-layer norms at ``norm_steps``."""

    iterations: np.ndarray
    outputs: np.ndarray
    train_mse: np.ndarray
    norm_steps: list[int] = field(default_factory=list)
    bounds: list[float] = field(default_factory=list)
    layer_norms: list[list[float]] = field(default_factory=list)

    def curves(self, frequencies, amplitudes) -> SpectralCurves:
        """Normalized amplitude |f̃(k_i)| / A_i of the output at each logged iteration."""
        spectra = amplitude_spectrum(torch.from_numpy(self.outputs).double())  # (T, F)
        return learning_curves(self.iterations, spectra, frequencies, amplitudes)

    def bound_at(self, t: int) -> float:
        """The Lipschitz bound measured at iteration ``t``."""
        return self.bounds[self.norm_steps.index(t)]


def _mse(out: Tensor, y: Tensor) -> Tensor:
    return torch.mean((out - y) ** 2)


def fit_grid(model: nn.Module, z: Tensor, y: Tensor, cfg: Config, ctx: Context, *, steps: int,
             name: str, after=None, norm_at: set[int] = frozenset()) -> GridFit:
    """Fit ``model`` to ``y`` (N,) on the grid ``z`` (N, 1) for ``steps`` full-batch steps.

    ``z`` lives on the model's device; ``y`` anywhere (it is moved there, in z's dtype).

    Args:
        after: called after every step (a weight constraint), or None.
        norm_at: extra iterations at which to measure the spectral norms (besides
            ``cfg.norm_logs`` evenly spaced ones and iteration 0).

    Returns:
        :class:`GridFit`; the output is recorded at every multiple of ``cfg.log_every``
        and at ``steps``.
    """
    opt = cfg.optimizer.build(model.parameters())
    target = y.reshape(-1, 1).to(z)  # (N, 1)
    norm_at = set(np.linspace(0, steps, cfg.norm_logs + 1).round().astype(int)) | set(norm_at)
    its, outs, mses, norm_steps, bounds, layers = [], [], [], [], [], []
    for t in ctx.track(range(steps + 1), name, total=steps + 1):
        record = {}
        if t % cfg.log_every == 0 or t == steps:
            with torch.no_grad():
                out = model(z)  # (N, 1)
            record["train_mse"] = check_finite(float(_mse(out, target)), f"MSE of {name}")
            its.append(t), mses.append(record["train_mse"])
            outs.append(out.reshape(-1).float().cpu())
        if t in norm_at:
            lip = lipschitz_bound(model, tol=1e-5)
            norm_steps.append(t), bounds.append(lip.bound), layers.append(list(lip.norms.values()))
            record["lipschitz_bound"] = lip.bound
        if record:
            ctx.log({"fit": name, "step": t, **record})
        if t == steps:
            break
        step(model, opt, _mse, z, target)
        if after is not None:
            after()
    return GridFit(np.asarray(its), torch.stack(outs).numpy(), np.asarray(mses),  # (T,), (T, N)
                   norm_steps, bounds, layers)


def mean_curves(fits: list[GridFit], frequencies, amplitudes, until: int | None = None
                ) -> SpectralCurves:
    """Normalized amplitudes averaged over fits (phase draws), optionally up to iteration
    ``until``; the fits must share their logged iterations."""
    curves = [f.curves(frequencies, amplitudes) for f in fits]
    keep = curves[0].iterations <= (until if until is not None else np.inf)
    amps = torch.stack([c.amplitudes[keep] for c in curves]).mean(0)  # (T', K)
    return SpectralCurves(curves[0].iterations[keep], curves[0].frequencies, amps)
