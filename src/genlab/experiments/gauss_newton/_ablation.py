"""The ablation of Song, Ahn & Yun 2024 (arXiv:2405.16002): continue SGD from one
checkpoint three ways with the same minibatches: plain, with every update projected onto
the top-k Hessian eigenspace ("dominant", their Dom-SGD) and onto its orthogonal
complement ("bulk", Bulk-SGD).

For plain SGD the update is −η·g, so projecting the update is projecting the gradient;
the projection runs in an optimizer step pre-hook, so the loop is the core's ``step``.
The subspace is recomputed every ``refresh`` steps on the measurement examples by
Lanczos warm-started from the previous one (Song et al. recompute it at every step).
"""

from __future__ import annotations

import copy

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ... import measures as M
from ...train import batches, evaluate, step

__all__ = ["MODES", "ablation"]

MODES = ("sgd", "dominant", "bulk")


class _Projector:
    """Optimizer pre-hook: the gradients of ``model`` projected onto span(V) (dominant)
    or its complement (bulk); V (k, P) is the top-k eigenspace of H on ``batch``."""

    def __init__(self, model: nn.Module, batch, mode: str, k: int, tol: float,
                 max_steps: int, generator: torch.Generator):
        self.model, self.batch, self.mode, self.k = model, batch, mode, k
        self.tol, self.max_steps, self.generator = tol, max_steps, generator
        self.V: Tensor | None = None
        self.matvecs, self.refreshes, self.captured = 0, 0, []

    def refresh(self) -> None:
        op = M.HessianOperator(self.model, M.cross_entropy_loss, self.batch)
        e = M.top_eigen(op, self.k, tol=self.tol, max_steps=self.max_steps, v0=self.V,
                        generator=self.generator)
        self.V = torch.linalg.qr(e.vectors.T).Q.T  # (k, P) exactly orthonormal rows
        self.matvecs += e.matvecs
        self.refreshes += 1

    def costs(self) -> dict:
        """Mean share of ‖g_B‖² in the subspace, Hessian-vector products and refreshes."""
        return {"captured_mean": sum(self.captured) / max(len(self.captured), 1),
                "matvecs": self.matvecs, "refreshes": self.refreshes}

    def __call__(self, optimizer, args, kwargs) -> None:
        params = [p for p in self.model.parameters() if p.grad is not None]
        g = torch.cat([p.grad.reshape(-1) for p in params])  # (P,)
        inside = self.V.T @ (self.V @ g)  # (P,) the top-k component
        self.captured.append(float(inside.square().sum() / g.square().sum()))
        new = inside if self.mode == "dominant" else g - inside
        i = 0
        for p in params:
            p.grad.copy_(new[i:i + p.numel()].view_as(p))
            i += p.numel()


def _continue(start: nn.Module, mode: str, data: tuple[Tensor, Tensor], batch, cfg, ctx,
              k: int) -> dict:
    """One ablation run from ``start``: its loss curve on the training set and its costs."""
    model = copy.deepcopy(start)
    opt = cfg.optimizer.build(model.parameters())
    proj = None if mode == "sgd" else _Projector(model, batch, mode, k, cfg.eig_tol,
                                                 cfg.max_lanczos,
                                                 ctx.generator("ablation", "lanczos", mode))
    if proj is not None:
        opt.register_step_pre_hook(proj)
    x, y = data
    order = batches(len(x), cfg.batch_size, ctx.generator("ablation", "order"), device=x.device)
    every = max(1, cfg.ablation_steps // 40)
    curve = [(0, evaluate(model, x, y, accuracy=False)["loss"])]
    for s in range(1, cfg.ablation_steps + 1):
        if proj is not None and (s - 1) % cfg.ablation_refresh == 0:
            proj.refresh()
        idx = next(order)
        step(model, opt, F.cross_entropy, x[idx], y[idx])
        if s % every == 0 or s == cfg.ablation_steps:
            curve.append((s, evaluate(model, x, y, accuracy=False)["loss"]))
    return {"mode": mode, "steps": [c[0] for c in curve], "loss": [c[1] for c in curve],
            "final_loss": curve[-1][1], "start_loss": curve[0][1], "model": model,
            **(proj.costs() if proj else {"captured_mean": None, "matvecs": 0, "refreshes": 0})}


def ablation(start: nn.Module, data: tuple[Tensor, Tensor], test: tuple[Tensor, Tensor],
             batch, cfg, ctx, k: int) -> list[dict]:
    """The three runs (in :data:`MODES` order), each with ``progress`` = its loss decrease
    as a fraction of plain SGD's, and its test accuracy."""
    runs = [_continue(start, mode, data, batch, cfg, ctx, k) for mode in ctx.track(MODES,
                                                                                   "ablation")]
    base = runs[0]["start_loss"] - runs[0]["final_loss"]
    for r in runs:
        model = r.pop("model")
        r["test_acc"] = evaluate(model, *test)["acc"]
        r["progress"] = (r["start_loss"] - r["final_loss"]) / base if base > 0 else float("nan")
        ctx.log({"part": "ablation", **{k: v for k, v in r.items() if k not in ("steps", "loss")}})
    return runs
