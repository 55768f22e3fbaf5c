"""Fitting a Deep Image Prior network to one image, and a no-reference early-stopping rule.

Ulyanov, Vedaldi & Lempitsky, "Deep Image Prior", CVPR 2018 (arXiv:1711.10925):
minimize ‖m ⊙ (d(f_θ(z + jitter)) − x₀)‖² over the weights θ of an untrained network
f from a fixed code z, where d is the degradation (identity, or a downsampler for
super-resolution) and m the mask of known pixels (inpainting). The network fits a
natural image long before it fits noise, so the iterate, not the minimizer, is the
estimate. ES-WMV (Wang, Li, Zhuang & Sun, "Early Stopping for Deep Image Prior",
TMLR 2023, arXiv:2112.06074) picks it without the clean image: the iterate where the
windowed variance of recent outputs is smallest.

:func:`fit_dip` is the training core's ten-line loop (optimizer built once from an
:class:`~genlab.train.OptimizerConfig`, forward, loss, backward, step) with a
``callback(t, loss, out, avg)`` after every step; :class:`DipRecorder` is the callback
that keeps quality curves, the oracle-best iterate, snapshots and the ES-WMV pick.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

import numpy as np
import torch
from torch import Tensor, nn

from ..train import OptimizerConfig, track

__all__ = ["DIP_OPTIMIZER", "DipRecorder", "EsWmv", "fit_dip", "steps_to_fit"]

#: The paper's optimizer: Adam at learning rate 0.01.
DIP_OPTIMIZER = OptimizerConfig(name="adam", lr=0.01)

Callback = Callable[[int, Tensor, Tensor, Tensor], "bool | None"]


class EsWmv:
    """Windowed moving variance of the outputs: VAR_t = mean over pixels of the variance
    of the last W outputs (Wang et al. 2023, ES-WMV).

    :meth:`update` returns VAR_t once W outputs were seen. The rule's pick is the
    iterate at the smallest VAR; it stops once VAR has not improved for ``patience``
    steps; the pick is frozen from then on, while VAR itself keeps being reported.

    Args:
        window: W, outputs per variance (≥ 2).
        patience: P, steps without improvement before the rule stops.
    """

    def __init__(self, window: int, patience: int):
        if window < 2 or patience < 1:
            raise ValueError(f"ES-WMV needs window ≥ 2 and patience ≥ 1; got {window}, {patience}")
        self.window, self.patience = window, patience
        self.recent: deque[Tensor] = deque(maxlen=window)
        self.best_var, self.best_iter, self.image = float("inf"), -1, None
        self.stop_iter: int | None = None

    def update(self, t: int, out: Tensor) -> float | None:
        """Add output ``out`` of step ``t``; the windowed variance, or None before W outputs."""
        self.recent.append(out.detach())
        if len(self.recent) < self.window:
            return None
        var = float(torch.stack(tuple(self.recent)).var(0, unbiased=False).mean())
        if self.stop_iter is None and var < self.best_var:
            self.best_var, self.best_iter, self.image = var, t, out.detach().clone()
        elif self.stop_iter is None and t - self.best_iter >= self.patience:
            self.stop_iter = t
        return var


def _data_loss(out: Tensor, target: Tensor, mask: Tensor | None,
               degrade: Callable[[Tensor], Tensor] | None) -> Tensor:
    pred = degrade(out) if degrade is not None else out  # (1, C, h, w)
    err = pred - target if mask is None else (pred - target) * mask
    return (err ** 2).mean()


def fit_dip(net: nn.Module, z: Tensor, target: Tensor, *, steps: int,
            optimizer: OptimizerConfig = DIP_OPTIMIZER, mask: Tensor | None = None,
            degrade: Callable[[Tensor], Tensor] | None = None, jitter: float = 1 / 30,
            ema: float = 0.99, generator: torch.Generator | None = None,
            callback: Callback | None = None, progress: bool = False) -> tuple[Tensor, Tensor]:
    """Fit ``net(z)`` to the observation ``target`` for ``steps`` steps (net in train mode).

    Args:
        net: the generator (e.g. :class:`genlab.models.SkipNet`), on z's device.
        z: the fixed code, (1, C_z, H, W).
        target: the corrupted observation x₀, (1, C, h, w).
        steps: optimizer steps.
        optimizer: built once over ``net``'s parameters (the paper: Adam, lr 0.01).
        mask: (1, 1 or C, h, w) known-pixel mask (1 = known) for inpainting; unknown
            pixels do not enter the loss.
        degrade: maps the output to the observation space (a downsampler for SR).
        jitter: std of the fresh N(0, jitter²) noise added to z at every step (1/30 in
            the paper; 0 = none).
        ema: weight of the exponential running average of the outputs (0 = none).
        generator: random source of the jitter, on z's device.
        callback: ``callback(t, loss, out, avg)`` after step t (1-based) with the
            detached data loss before the step, the output (1, C, H, W) that loss was
            computed from, and the running average; returning True stops the fit.
        progress: show a progress bar.

    Returns:
        ``(out, avg)``: the last output and the running average, detached (1, C, H, W).
    """
    opt = optimizer.build(net.parameters())
    scheduler = optimizer.scheduler(opt, steps)
    net.train()
    out = avg = None
    for t in track(range(1, steps + 1), "DIP", total=steps, enabled=progress):
        noise = torch.randn(z.shape, generator=generator, device=z.device) if jitter else 0.0
        out = net(z + jitter * noise)  # (1, C, H, W)
        loss = _data_loss(out, target, mask, degrade)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if scheduler is not None:
            scheduler.step()
        out = out.detach()
        avg = out if avg is None or not ema else ema * avg + (1 - ema) * out
        if callback is not None and callback(t, loss.detach(), out, avg):
            break
    if out is None:
        raise ValueError(f"steps must be ≥ 1, got {steps}")
    return out, avg


class DipRecorder:
    """The bookkeeping callback of :func:`fit_dip`: quality curves, best iterate, ES-WMV.

    Every ``every`` steps it scores the output and the running average with ``score``
    (e.g. PSNR against the clean image, known only to the experimenter) and keeps the
    best-scoring output (the oracle an early-stopping rule is measured against). It
    feeds every output to ``early_stop`` and keeps the outputs of ``snapshots``.

    Args:
        score: quality of an output (1, C, H, W); None: no curves, no best iterate.
        every: steps between scores.
        snapshots: steps (1-based) whose outputs are kept.
        early_stop: an :class:`EsWmv` rule, or None.
        log: called with one record per score (e.g. ``ctx.log``).
        tag: the task name added to the records.

    Attributes:
        steps, loss, score, score_avg, wmv: one entry per score (``wmv`` NaN before
            the window is full).
        best: ``(step, score, image (C, H, W))`` of the best raw output, or None.
        snapshots: step → output (C, H, W), on the CPU.
    """

    def __init__(self, score: Callable[[Tensor], float] | None = None, *, every: int = 1,
                 snapshots: tuple[int, ...] = (), early_stop: EsWmv | None = None,
                 log: Callable[[dict], None] | None = None, tag: str = ""):
        self._score, self.every, self._want = score, max(1, every), set(snapshots)
        self.early_stop, self._log, self.tag = early_stop, log, tag
        self.steps: list[int] = []
        self.loss: list[float] = []
        self.score: list[float] = []
        self.score_avg: list[float] = []
        self.wmv: list[float] = []
        self.snapshots: dict[int, Tensor] = {}
        self.best: tuple[int, float, Tensor] | None = None

    def __call__(self, t: int, loss: Tensor, out: Tensor, avg: Tensor) -> bool:
        var = self.early_stop.update(t, out) if self.early_stop is not None else None
        if t in self._want:
            self.snapshots[t] = out[0].cpu()
        if self._score is not None and t % self.every == 0:
            s, s_avg = self._score(out), self._score(avg)
            for seq, v in ((self.steps, t), (self.loss, float(loss)), (self.score, s),
                           (self.score_avg, s_avg), (self.wmv, np.nan if var is None else var)):
                seq.append(v)
            if self.best is None or s > self.best[1]:
                self.best = (t, s, out[0].cpu())
            if self._log is not None:
                self._log({"task": self.tag, "iter": t, "loss": float(loss), "score": s,
                           "score_ema": s_avg, "wmv": var})
        return False

    def early_stop_pick(self) -> tuple[int, Tensor] | None:
        """``(step, image (C, H, W))`` picked by the ES-WMV rule, or None."""
        es = self.early_stop
        return None if es is None or es.image is None else (es.best_iter, es.image[0].cpu())


def steps_to_fit(net: nn.Module, z: Tensor, target: Tensor, *, threshold: float,
                 max_steps: int, optimizer: OptimizerConfig = DIP_OPTIMIZER,
                 check_every: int = 50) -> tuple[int | None, np.ndarray]:
    """Steps until the MSE ‖net(z) − target‖²/N first falls to ``threshold``.

    The "impedance" measurement of the DIP paper (Fig. 2): no jitter, plain MSE. The
    fit stops at the first multiple of ``check_every`` steps after the threshold is
    reached (checking every step would synchronize a GPU every step).

    Returns:
        ``(steps, curve)``: the number of updates after which the MSE first was at most
        ``threshold`` (None if not within ``max_steps``), and the MSE after 0, 1, 2, …
        updates as a float64 array.
    """
    losses: list[Tensor] = []

    def record(t: int, loss: Tensor, out: Tensor, avg: Tensor) -> bool:
        losses.append(loss)
        return t % check_every == 0 and bool((torch.stack(losses) <= threshold).any())

    fit_dip(net, z, target, steps=max_steps, optimizer=optimizer, jitter=0.0, ema=0.0,
            callback=record)
    curve = torch.stack(losses).double().cpu().numpy()
    hit = np.flatnonzero(curve <= threshold)
    return (int(hit[0]) if hit.size else None), curve
