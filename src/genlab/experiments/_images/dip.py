"""Fitting a Deep Image Prior network to one image, with a no-reference early-stopping rule.

Ulyanov, Vedaldi & Lempitsky, "Deep Image Prior" (CVPR 2018): minimize
‖m ⊙ (d(f_θ(z + jitter)) − x₀)‖² over the weights θ of an untrained network f from
a fixed code z, where d is the degradation (identity, or a downsampler for SR)
and m the mask of known pixels (inpainting). ES-WMV (Wang, Li, Zhuang & Sun,
"Early Stopping for Deep Image Prior", TMLR 2023) tracks the windowed variance of
recent outputs and picks the iterate where it is smallest.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import Tensor, nn

__all__ = ["EsWmv", "Fit", "fit_dip", "iterations_to_reach"]


class EsWmv:
    """Windowed moving variance of the outputs: VAR_t = mean_w ‖x_{t−w} − x̄‖² / N, w < W.

    ``update`` returns VAR_t once W outputs were seen. The rule's pick is the
    iterate at the smallest VAR; it "stops" once VAR has not improved for
    ``patience`` iterations (Wang et al.'s ES-WMV); the pick is frozen from then on,
    while VAR itself keeps being reported.
    """

    def __init__(self, window: int, patience: int):
        self.window, self.patience = window, patience
        self.recent: deque[Tensor] = deque(maxlen=window)
        self.best_var, self.best_iter, self.image = float("inf"), -1, None
        self.stop_iter: int | None = None

    def update(self, t: int, out: Tensor) -> float | None:
        self.recent.append(out.detach())
        if len(self.recent) < self.window:
            return None
        var = float(torch.stack(tuple(self.recent)).var(0, unbiased=False).mean())
        if self.stop_iter is None and var < self.best_var:
            self.best_var, self.best_iter, self.image = var, t, out.detach().clone()
        elif self.stop_iter is None and t - self.best_iter >= self.patience:
            self.stop_iter = t
        return var


@dataclass
class Fit:
    """What one DIP fit returns; images are (C, H, W) CPU tensors, curves are per evaluation."""

    iters: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    score: list[float] = field(default_factory=list)  # quality of the raw output
    score_ema: list[float] = field(default_factory=list)  # quality of the running average
    wmv: list[float] = field(default_factory=list)  # ES-WMV variance (nan before W outputs)
    snapshots: dict[int, Tensor] = field(default_factory=dict)
    best: tuple[int, float, Tensor] | None = None  # oracle (iteration, score, image)
    es: tuple[int, Tensor] | None = None  # ES-WMV (iteration, image)
    es_stop: int | None = None
    final: Tensor | None = None
    final_ema: Tensor | None = None


def fit_dip(net: nn.Module, z: Tensor, target: Tensor, *, iterations: int, lr: float,
            score: Callable[[Tensor], float] | None = None, mask: Tensor | None = None,
            degrade: Callable[[Tensor], Tensor] | None = None, jitter: float = 1 / 30,
            ema: float = 0.99, generator: torch.Generator | None = None,
            eval_every: int = 1, snapshots: tuple[int, ...] = (), es_window: int = 0,
            es_patience: int = 1000, log: Callable[[dict], None] | None = None,
            tag: str = "", track=lambda it, desc, total: it) -> Fit:
    """Fit ``net(z)`` to ``target`` with Adam and record quality over iterations.

    Args:
        net: the network (e.g. :class:`genlab.models.skip.SkipNet`), on z's device.
        z: the fixed code, (1, C_z, H, W).
        target: the corrupted observation, (1, C, h, w) on the same device.
        iterations: Adam steps.
        lr: Adam learning rate (0.01 in the paper).
        score: quality of an output image (1, C, H, W) against the clean image, e.g.
            PSNR; called every ``eval_every`` steps and on the snapshots.
        mask: (1, 1 or C, h, w) known-pixel mask (1 = known) for inpainting.
        degrade: maps the output to the observation space (a downsampler for SR).
        jitter: std of the fresh N(0, jitter²) noise added to z at every step.
        ema: weight of the exponential running average of outputs (0 = none).
        generator: random source of the jitter, on z's device.
        snapshots: iterations (1-based) whose raw outputs are kept.
        es_window: ES-WMV window W (0 = off); es_patience: its patience P.
        log: called with a metrics record at every evaluation.
        tag: task name added to the logged records.
        track: progress wrapper ``track(iterable, description, total)``.

    Returns:
        The :class:`Fit` record (oracle best and ES pick need ``score``).
    """
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    res, avg = Fit(), None
    es = EsWmv(es_window, es_patience) if es_window else None
    net.train()
    for t in track(range(1, iterations + 1), f"DIP {tag}", iterations):
        zt = (z + jitter * torch.randn(z.shape, generator=generator, device=z.device)
              if jitter else z)  # (1, C_z, H, W)
        out = net(zt)  # (1, C, H, W)
        pred = degrade(out) if degrade is not None else out
        err = (pred - target) ** 2 if mask is None else ((pred - target) * mask) ** 2
        loss = err.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        out = out.detach()
        avg = out if avg is None or not ema else ema * avg + (1 - ema) * out
        var = es.update(t, out) if es is not None else None
        if t in snapshots:
            res.snapshots[t] = out[0].cpu()
        if score is not None and (t % eval_every == 0 or t == iterations):
            _evaluate(res, t, float(loss.detach()), out, avg, var, score, log, tag)
    res.final, res.final_ema = out[0].cpu(), avg[0].cpu()
    if es is not None and es.image is not None:
        res.es, res.es_stop = (es.best_iter, es.image[0].cpu()), es.stop_iter
    return res


def _evaluate(res: Fit, t: int, loss: float, out: Tensor, avg: Tensor, var: float | None,
              score: Callable[[Tensor], float], log, tag: str) -> None:
    s, s_ema = score(out), score(avg)
    res.iters.append(t)
    res.loss.append(loss)
    res.score.append(s)
    res.score_ema.append(s_ema)
    res.wmv.append(float("nan") if var is None else var)
    if res.best is None or s > res.best[1]:
        res.best = (t, s, out[0].cpu())
    if log is not None:
        log({"task": tag, "iter": t, "loss": loss, "score": s, "score_ema": s_ema,
             "wmv": var})


def iterations_to_reach(net: nn.Module, z: Tensor, target: Tensor, *, threshold: float,
                        max_iterations: int, lr: float) -> tuple[int | None, np.ndarray]:
    """Adam steps until the MSE ‖net(z) − target‖²/N first falls to ``threshold``.

    The "impedance" measurement of the DIP paper (Fig. 2): no jitter, plain MSE.

    Returns:
        (steps needed or None if not reached within ``max_iterations``, the MSE
        after every step as a float array).
    """
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    losses = torch.empty(max_iterations, device=target.device)
    net.train()
    for t in range(max_iterations):
        loss = ((net(z) - target) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses[t] = loss.detach()
        if (t + 1) % 50 == 0 and bool((losses[:t + 1] <= threshold).any()):
            break
    curve = losses[:t + 1].cpu().numpy()
    hit = np.flatnonzero(curve <= threshold)
    return (int(hit[0]) if hit.size else None), curve  # curve[t]: MSE after t updates
