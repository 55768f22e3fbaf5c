"""Run the Gauss–Newton section: train the MLP (and the CNN) measuring curvature at
log-spaced steps, then the ablation from one MLP checkpoint."""

from __future__ import annotations

import copy
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ...data import DataSpec
from ...dynamics import log_spaced_steps
from ...models import MLP, MnistCNN
from ...train import batches, evaluate, step
from ..base import Context, Result
from . import Config
from ._ablation import ablation
from ._claims import claims
from ._curvature import Checkpoint, Settings, measure
from ._tables import tables

__all__ = ["checkpoint_steps", "run"]


def checkpoint_steps(steps: int, count: int, first: int = 0) -> list[int]:
    """``count`` log-spaced steps up to ``steps``: with ``first`` = 0, step 0 and
    ``count − 1`` log-spaced steps from 1, else ``count`` from ``first``
    (:func:`genlab.dynamics.log_spaced_steps`: rounded, duplicates dropped)."""
    if first == 0:
        return [0] + log_spaced_steps(steps, count - 1)
    return log_spaced_steps(steps, count, min(first, steps))


def _settings(cfg: Config, classes: int, density: bool, tol: float) -> Settings:
    return Settings(top=cfg.top, classes=classes, tol=tol, max_steps=cfg.max_lanczos,
                    outlier_ratio=cfg.outlier_ratio, batch_size=cfg.batch_size,
                    minibatches=cfg.minibatches, slq_vectors=cfg.slq_vectors if density else 0,
                    slq_steps=cfg.slq_steps)


def _train(name: str, model: nn.Module, cfg: Config, ctx: Context, data, test, batch,
           marks: list[int], settings: Settings, density_at: set[int],
           keep_at: int | None = None) -> tuple[list[dict], nn.Module | None]:
    """Plain SGD for max(marks) steps, measuring at every step in ``marks``; returns the
    checkpoint records and a copy of the model at step ``keep_at``."""
    x, y = data
    opt = cfg.optimizer.build(model.parameters())
    order = batches(len(x), cfg.batch_size, ctx.generator(name, "order"), device=x.device)
    records, previous, kept = [], None, None
    for s in ctx.track(range(max(marks) + 1), f"{name} training"):
        if s == keep_at:
            kept = copy.deepcopy(model)
        if s in marks:
            previous = _checkpoint(name, s, model, data, test, batch, settings, ctx, previous,
                                   s in density_at)
            records.append(previous.record)
        if s < max(marks):
            model.train()
            idx = next(order)
            step(model, opt, F.cross_entropy, x[idx], y[idx])
    return records, kept


def _checkpoint(name: str, s: int, model: nn.Module, data, test, batch, settings: Settings,
                ctx: Context, previous: Checkpoint | None, density: bool) -> Checkpoint:
    model.eval()
    t = time.perf_counter()
    cp = measure(model, batch, settings, ctx.generator(name, "measure", s), previous, density)
    train, held = evaluate(model, *data), evaluate(model, *test)
    cp.record.update({"model": name, "step": s, "seconds": time.perf_counter() - t,
                      "train_loss": train["loss"], "train_acc": train["acc"],
                      "test_loss": held["loss"], "test_acc": held["acc"],
                      "measure_loss": evaluate(model, *batch, accuracy=False)["loss"]})
    ctx.log({k: v for k, v in cp.record.items() if k != "density"})
    return cp


def _density_marks(marks: list[int], count: int) -> set[int]:
    """``count`` of the non-zero ``marks``, spread evenly from the first to the last."""
    nonzero = [m for m in marks if m > 0]
    if count == 0 or not nonzero:
        return set()
    idx = np.unique(np.round(np.linspace(0, len(nonzero) - 1, count)).astype(int))
    return {nonzero[i] for i in idx}


def run(cfg: Config, ctx: Context) -> Result:
    spec = DataSpec(dataset="mnist", n_train=cfg.n_train, n_test=cfg.n_test,
                    subset_seed=ctx.seed_for("subset") % 2**31)
    ds = spec.load().to(ctx.device)
    data, test = (ds.x_train, ds.y_train), (ds.x_test, ds.y_test)
    pick = torch.randperm(ds.n_train, generator=ctx.generator("measure"))[:cfg.n_measure]
    batch = (ds.x_train[pick.to(ctx.device)], ds.y_train[pick.to(ctx.device)])
    k = ds.num_classes

    marks = checkpoint_steps(cfg.steps, cfg.checkpoints)
    mlp = MLP(784, cfg.hidden, k, seed=ctx.seed_for("init", "mlp")).to(ctx.device)
    mlp_records, start = _train("mlp", mlp, cfg, ctx, data, test, batch, marks,
                                _settings(cfg, k, True, cfg.eig_tol),
                                _density_marks(marks, cfg.density_checkpoints),
                                keep_at=cfg.ablation_start)
    ctx.save_state("mlp", mlp, data=spec, loss="cross_entropy", steps=cfg.steps)
    abl = ablation(start, data, test, batch, cfg, ctx, k)

    cnn_records: list[dict] = []
    if cfg.cnn:
        cnn = MnistCNN(ctx.seed_for("init", "cnn"), num_classes=k).to(ctx.device)
        cnn_batch = (batch[0][:cfg.cnn_measure], batch[1][:cfg.cnn_measure])
        cnn_marks = checkpoint_steps(cfg.cnn_steps, cfg.cnn_checkpoints, cfg.cnn_first)
        cnn_records, _ = _train("cnn", cnn, cfg, ctx, data, test, cnn_batch, cnn_marks,
                                _settings(cfg, k, False, cfg.cnn_eig_tol), set())
        ctx.save_state("cnn", cnn, data=spec, loss="cross_entropy", steps=cfg.cnn_steps)

    parts = {"mlp": mlp_records, "cnn": cnn_records, "ablation": abl, "classes": k,
             "n_train": ds.n_train, "source": ds.source, "measure_indices": pick.tolist()}
    last = mlp_records[-1]
    summary = {"mlp_params": last["n_params"], "random_overlap": last["random_overlap"],
               "mlp_outliers": last["H"]["outliers"], "mlp_final_train_loss": last["train_loss"],
               "mlp_test_acc": last["test_acc"],
               **({"cnn_outliers": cnn_records[-1]["H"]["outliers"],
                   "cnn_test_acc": cnn_records[-1]["test_acc"]} if cnn_records else {}),
               **{f"ablation_progress_{r['mode']}": r["progress"] for r in abl}}
    return Result(claims=claims(cfg, parts), summary=summary, data=parts,
                  tables=tables(cfg, parts))
