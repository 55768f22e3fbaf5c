"""Part 4: an MLP on MNIST trained to the same loss at several (η, B); λ_max and accuracy.

All runs start from one initialization and stop when the cross-entropy on the whole
training set first falls below ``target_loss``; plain SGD draws shuffled epochs (as
practitioners train), full-batch GD takes one step per epoch.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ... import measures as M
from ...data import DataSpec
from ...models import MLP
from ...train import batches, check_finite, evaluate, step
from ..base import Context
from . import Config

__all__ = ["network"]


def _lambda_max(model: nn.Module, data: list, cfg: Config, ctx: Context) -> float:
    """Top Hessian eigenvalue of the training loss (Lanczos, the same start for every model)."""
    op = M.HessianOperator(model, M.cross_entropy_loss, data)
    return float(M.top_eigen(op, 1, tol=cfg.eig_tol, generator=ctx.generator("eig")).values[0])


def _fit(model: nn.Module, opt: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, *,
         batch_size: int | None, every: int, max_steps: int, target: float,
         generator: torch.Generator, trace: Callable[[int], None] | None = None) -> dict:
    """Train until the full training loss < ``target`` (checked every ``every`` steps) or
    ``max_steps``; ``trace(step)`` is called at every other check."""
    order = batches(len(x), batch_size, generator, device=x.device)
    steps, checks = 0, 0
    while True:
        loss = check_finite(evaluate(model, x, y, accuracy=False)["loss"], "training loss")
        if trace is not None and checks % 2 == 0:
            trace(steps)
        checks += 1
        if loss < target or steps >= max_steps:
            return {"steps": steps, "train_loss": loss, "reached": loss < target}
        model.train()
        for _ in range(every):
            idx = next(order)  # None: the full batch
            step(model, opt, F.cross_entropy, *((x, y) if idx is None else (x[idx], y[idx])))
        steps += every


def _settings(cfg: Config) -> list[tuple[float, int | None, float | None]]:
    """(η, B, ratio factor) of every run; B None is full-batch GD (factor None)."""
    sgd = [(cfg.optimizer.lr * f * b / cfg.base_batch, b, f) for f in cfg.ratio_factors
           for b in cfg.batches]
    return sgd + [(lr, None, None) for lr in cfg.gd_lrs]


def _train(cfg: Config, ctx: Context, model: nn.Module, x: torch.Tensor, y: torch.Tensor,
           lr: float, b: int | None, data: list) -> dict:
    """Train ``model`` at (η, B) to the target loss (B None: GD, with its λ_max trace)."""
    opt = cfg.optimizer.replace(lr=lr).build(model.parameters())
    trace: list[tuple[int, float]] = []
    gd, n = b is None, len(x)
    rec = _fit(model, opt, x, y, batch_size=b, target=cfg.target_loss,
               every=cfg.gd_check_every if gd else math.ceil(cfg.check_every * n / b),
               max_steps=cfg.gd_max_steps if gd else math.ceil(cfg.max_epochs * n / b),
               generator=ctx.generator("order", lr, b),
               trace=(lambda s: trace.append((s, _lambda_max(model, data, cfg, ctx))))
               if gd else None)
    return {**rec, "trace": trace}


def network(cfg: Config, ctx: Context) -> dict:
    """Every run's record: η, B, η/B, steps, epochs, losses, accuracies, λ_max (and for
    GD the λ_max trace over steps)."""
    spec = DataSpec(dataset="mnist", n_train=cfg.n_train, n_test=cfg.n_test,
                    subset_seed=ctx.seed_for("subset") % 2**31)
    ds = spec.load().to(ctx.device)
    x, y, n = ds.x_train, ds.y_train, len(ds.x_train)
    data = list(zip(x.split(1000), y.split(1000)))
    init = MLP(784, cfg.hidden, 10, seed=ctx.seed_for("init")).to(ctx.device)
    runs = []
    for lr, b, factor in ctx.track(_settings(cfg), "network runs"):
        model = copy.deepcopy(init)
        rec = _train(cfg, ctx, model, x, y, lr, b, data)
        name = f"gd_{lr:g}" if b is None else f"sgd_{lr:g}_{b}"
        ctx.save_state(name, model, data=spec, loss="cross_entropy", lr=lr, batch_size=b,
                       target_loss=cfg.target_loss)
        rec.update({"name": name, "lr": lr, "batch_size": b or n, "gd": b is None,
                    "ratio": lr / (b or n), "factor": factor,
                    "epochs": rec["steps"] * (b or n) / n,
                    "lambda_max": _lambda_max(model, data, cfg, ctx),
                    "test_acc": evaluate(model, ds.x_test, ds.y_test)["acc"],
                    "train_acc": evaluate(model, x, y)["acc"]})
        ctx.log({"part": "network", **{k: v for k, v in rec.items() if k != "trace"}})
        runs.append(rec)
    return {"runs": runs, "n_train": ds.n_train, "n_test": ds.n_test, "source": ds.source}
