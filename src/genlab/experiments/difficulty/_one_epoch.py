"""Per-example accuracy after one epoch, over R independent runs (Arpit et al. 2017, §3.1)."""

from __future__ import annotations

import hashlib

import numpy as np
import torch
from torch import Tensor

from ...data import DataSpec
from ...measures.critical import dispersion_index
from ...models import MLP
from ...train import train_seeds
from ..base import Context
from . import Config
from ._stats import class_accuracies, dispersion_within

__all__ = ["CONDITIONS", "condition_spec", "digest", "mlp_maker", "one_epoch"]

#: Arpit's conditions: real data, random inputs (randX), random labels (randY).
CONDITIONS = ("real", "randX", "randY")


def condition_spec(base: DataSpec, cond: str, ctx: Context) -> DataSpec:
    """The data of condition ``cond``: randX replaces every input by Gaussian noise with the
    data's per-channel mean and variance (labels kept), randY redraws every label
    uniformly (inputs kept); each corruption has its own seed."""
    if cond == "randX":
        return base.replace(inputs="gaussian", corruption_seed=ctx.seed_for("randX"))
    if cond == "randY":
        return base.replace(label_noise=1.0, corruption_seed=ctx.seed_for("randY"))
    return base


def digest(x: Tensor, y: Tensor) -> str:
    """A short SHA-256 of a training set's inputs and labels (what a model was fitted to)."""
    h = hashlib.sha256(x.detach().cpu().contiguous().numpy().tobytes())
    h.update(y.detach().cpu().numpy().astype(np.int64).tobytes())
    return h.hexdigest()[:16]


def mlp_maker(cfg: Config, n_in: int, n_out: int, dropout: float = 0.0):
    """seed → the experiment's MLP, freshly initialized."""
    return lambda seed: MLP(n_in, list(cfg.hidden), n_out, seed=seed, dropout=dropout)


def one_epoch(cfg: Config, spec: DataSpec, cond: str, method: str, ctx: Context) -> dict:
    """Train R MLPs for one epoch on the whole training set of ``spec``; score the first
    ``n_examples`` training examples with every run.

    Each run has its own init (seed ``("init", r)``, shared across conditions) and data
    order (``("order", cond, r)``).

    Returns:
        ``{"correct": (R, n) bool, "labels": (n,), "D": single-p̄ index, "D_within",
        "class_acc": {class: p̂_c}, "mean_acc", "member": run 0 as a module, "digest"}``.
    """
    ds = spec.load()
    x, y = ds.x_train.to(ctx.device), ds.y_train.to(ctx.device)
    seeds = [ctx.seed_for("init", r) for r in range(cfg.runs)]
    gens = [ctx.generator("order", cond, r) for r in range(cfg.runs)]
    make = mlp_maker(cfg, x[0].numel(), ds.num_classes)
    ens, _ = train_seeds(make, seeds, x, y, generators=gens, optimizer=cfg.optimizer,
                         method=method, epochs=1, batch_size=cfg.batch_size)
    xs, ys = x[:cfg.n_examples], y[:cfg.n_examples]
    with torch.no_grad():
        correct = torch.cat([ens(xb).argmax(-1) == yb for xb, yb in
                             zip(xs.split(1024), ys.split(1024))], dim=1).cpu()  # (R, n)
    labels = ys.cpu().numpy()
    return {"correct": correct, "labels": labels, "D": dispersion_index(correct),
            "D_within": dispersion_within(correct.numpy(), labels),
            "class_acc": class_accuracies(correct.numpy(), labels),
            "mean_acc": float(correct.double().mean()), "member": ens.member(0),
            "digest": digest(x, y)}
