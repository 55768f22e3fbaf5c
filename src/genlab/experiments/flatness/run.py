"""Run the flatness section: SB/LB pairs trained to the same training loss, their
sharpness, the line between them, and Dinh's rescaling of the small-batch minimum."""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils import parameters_to_vector

from ...data import DataSpec
from ...models import MLP, MnistCNN
from ...train import evaluate
from ..base import Context, Result
from . import Config
from ._claims import claims
from ._fit import fit_to_loss
from ._measure import curvature, details, interpolation, rescaling
from ._tables import tables

__all__ = ["run"]

REGIMES = ("small_batch", "large_batch")


def _build(cfg: Config, seed: int) -> nn.Module:
    return MnistCNN(seed) if cfg.model == "cnn" else MLP(784, cfg.hidden, 10, seed=seed)


def _split(x: torch.Tensor, y: torch.Tensor, size: int) -> list:
    return list(zip(x.split(size), y.split(size)))


def _train(cfg: Config, ctx: Context, init: nn.Module, ds, spec: DataSpec, regime: str,
           pair: int) -> tuple[nn.Module, dict]:
    """One run from ``init`` to the target loss; its record (training and test numbers)."""
    w0 = parameters_to_vector(init.parameters()).detach().to(ctx.device)  # (P,)
    model = copy.deepcopy(init).to(ctx.device)
    batch = cfg.small_batch if regime == "small_batch" else cfg.large_batch
    fitted = fit_to_loss(model, cfg.optimizer, ds.x_train, ds.y_train, batch_size=batch,
                         target=cfg.target_loss, max_epochs=cfg.max_epochs,
                         check_every=cfg.check_every,
                         generator=ctx.generator("order", regime, pair),
                         log=lambda r: ctx.log({"run": regime, "pair": pair, **r}))
    ctx.save_state(f"{regime}_{pair}", model, data=spec, loss="cross_entropy",
                   batch_size=batch, target_loss=cfg.target_loss)
    model.eval()
    moved = parameters_to_vector(model.parameters()).detach() - w0  # (P,)
    test = evaluate(model, ds.x_test, ds.y_test)  # the training set: evaluated by the fit
    return model, {"regime": regime, "pair": pair, "batch": batch, "epochs": fitted.epochs,
                   "steps": fitted.steps, "reached": fitted.reached,
                   "train_loss": fitted.train_loss, "train_acc": fitted.train_acc,
                   "test_loss": test["loss"], "test_acc": test["acc"],
                   "distance": float(moved.norm()), "curve": fitted.curve}


def run(cfg: Config, ctx: Context) -> Result:
    spec = DataSpec(dataset="mnist", source=cfg.data_dir, n_train=cfg.n_train,
                    n_test=cfg.n_test, subset_seed=ctx.seed_for("subset") % 2**31)
    ds = spec.load().to(ctx.device)
    n = cfg.n_measure or len(ds.x_train)
    train_batches = _split(ds.x_train[:n], ds.y_train[:n], cfg.measure_batch)
    gen = lambda name: ctx.generator("measure", name)  # noqa: E731  same draws for every model
    runs, first, arrays = [], {}, {}
    for pair in ctx.track(range(cfg.seeds), "SB/LB pairs", total=cfg.seeds):
        init = _build(cfg, ctx.seed_for("init", pair))
        for regime in REGIMES:
            model, rec = _train(cfg, ctx, init, ds, spec, regime, pair)
            rec.update(curvature(cfg, model, train_batches, gen))
            if pair == 0:
                extra, arr = details(cfg, model, train_batches, gen, regime)
                rec.update(extra)
                arrays.update(arr)
                first[regime] = model
            ctx.log({"run": regime, "pair": pair, "measures": {k: v for k, v in rec.items()
                                                               if k != "curve"}})
            runs.append(rec)
    test_batches = _split(ds.x_test, ds.y_test, cfg.measure_batch)
    line = interpolation(cfg, first["small_batch"], first["large_batch"],
                         {"train": train_batches, "test": test_batches})
    rows = rescaling(cfg, first["small_batch"], train_batches, ds.x_test, gen, ctx.log)
    data = {"runs": runs, "interpolation": line, "rescaling": rows,
            "epsilons": cfg.epsilons, "target_loss": cfg.target_loss}
    summary = _summary(runs, cfg)
    summary.update({"n_train": ds.n_train, "n_test": ds.n_test, "source": ds.source,
                    "n_measure": n})
    return Result(claims=claims(cfg, runs, rows), summary=summary, data=data, arrays=arrays,
                  tables=tables(cfg, runs, rows))


def _summary(runs: list[dict], cfg: Config) -> dict:
    """Mean over pairs of each regime's key numbers."""
    out = {}
    for regime in REGIMES:
        mine = [r for r in runs if r["regime"] == regime]
        for key in ("epochs", "train_loss", "train_acc", "test_acc", "lambda_max"):
            out[f"{regime} {key}"] = sum(r[key] for r in mine) / len(mine)
        out[f"{regime} eps_sharpness (ε={cfg.epsilons[0]:g})"] = (
            sum(r["eps_sharpness"][0] for r in mine) / len(mine))
    return out
