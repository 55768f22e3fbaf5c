"""Run the batch_gap section: five variants × paired seeds, diffusion fits, gradient noise."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ...data import DataSpec
from ...dynamics import DiffusionTracker, fit_diffusion, gradient_noise, log_spaced_steps
from ...errors import GenlabError
from ...measures import cross_entropy_loss
from ...models import MLP
from ...train import LrPlan, batches, check_finite, evaluate, lr_plan, step
from ..base import Context, Result
from . import VARIANTS, Config
from ._tables import claims_and_tables

__all__ = ["run"]


@dataclass(frozen=True)
class Variant:
    """One column of Hoffer et al.'s Table 1: batch size, lr rule, ghost batch, regime."""

    name: str
    batch: int
    rule: str
    ghost: int | None
    adapted: bool


def variants(cfg: Config) -> list[Variant]:
    """SB, LB, +LR, +GBN, +RA: each fix added to the one before (Hoffer et al., Table 1)."""
    sb, lb, g, rule = cfg.small_batch, cfg.large_batch, cfg.ghost_batch, cfg.lr_rule
    return [Variant("SB", sb, "none", None, False), Variant("LB", lb, "none", None, False),
            Variant("+LR", lb, rule, None, False), Variant("+GBN", lb, rule, g, False),
            Variant("+RA", lb, rule, g, True)]


def plan_of(cfg: Config, v: Variant) -> LrPlan:
    """The lr regime of variant ``v`` (η₀ and the milestones are the small batch's)."""
    return lr_plan(v.rule, base_lr=cfg.optimizer.lr, base_batch_size=cfg.small_batch,
                   batch_size=v.batch, epochs=cfg.epochs, milestones=cfg.milestones,
                   gamma=cfg.gamma, regime_adaptation=v.adapted)


def _check_batches(n: int, v: Variant) -> None:
    """Batch norm needs ≥ 2 examples per (ghost) batch, the epoch's last, smaller batch included."""
    for size in {v.batch, n % v.batch or v.batch}:
        if size == 1:
            raise GenlabError(f"{n} examples in batches of {v.batch} leave a last batch of one "
                              "example, which batch norm cannot normalize; choose another batch")
        if v.ghost is not None and size > v.ghost and size % v.ghost == 1:
            raise GenlabError(f"a batch of {size} examples leaves one example in its last ghost "
                              f"batch of {v.ghost}; choose ghost_batch so that no remainder is 1")


def _train(cfg: Config, ctx: Context, v: Variant, k: int, data: dict) -> dict:
    """Train variant ``v`` from paired seed ``k``; the model, distances and noise record."""
    x, y, classes = data["x"], data["y"], data["classes"]
    plan, n = plan_of(cfg, v), len(x)
    spe = math.ceil(n / v.batch)
    total = plan.steps(spe)
    end_hot = round(plan.milestones[0] * spe) if plan.milestones else total  # last hot update
    model = MLP(x[0].numel(), cfg.hidden, classes, seed=ctx.seed_for("init", k),
                batch_norm=True, ghost_batch_size=v.ghost).to(ctx.device)
    opt = cfg.optimizer.replace(lr=plan.lr).build(model.parameters())
    schedule = plan.scheduler(opt, spe)
    tracker = DiffusionTracker(model, steps=log_spaced_steps(total, cfg.diffusion_points))
    order = batches(n, v.batch, ctx.generator("batches", k), device=x.device)
    running, noise = torch.zeros((), device=x.device), None
    for t, idx in enumerate(itertools.islice(order, total), start=1):
        running += step(model, opt, F.cross_entropy, *((x, y) if idx is None else (x[idx], y[idx])))
        schedule.step()
        tracker(t)
        if t == end_hot:  # the end of the high-lr phase: SGD's noise there
            noise = gradient_noise(model, cross_entropy_loss, data["noise"]).trace
        if t % spe == 0 or t == total:
            loss = check_finite(float(running) / (t % spe or spe), f"{v.name} training loss")
            ctx.log({"variant": v.name, "seed": k, "update": t, "epoch": t / spe,
                     "lr": opt.param_groups[0]["lr"], "train_loss_running": loss})
            running.zero_()
    return {"model": model, "plan": plan, "steps_per_epoch": spe, "updates": total,
            "end_hot": end_hot, "tracker": tracker, "trace_cov": noise}


def _outcome(model, data, rec: dict) -> dict:
    """Test and training error (%) of a trained model, and its distance records."""
    test = evaluate(model, data["xt"], data["yt"])
    train = evaluate(model, data["x"], data["y"])
    tracker = rec["tracker"]
    steps, dist = tracker.series()
    layers = {name: tracker.series(name)[1].tolist() for name in tracker.layers}
    return {"test_err": 100 * (1 - test["acc"]), "train_err": 100 * (1 - train["acc"]),
            "test_loss": test["loss"], "steps": steps.tolist(), "distance": dist.tolist(),
            "layers": layers, "trace_cov": rec["trace_cov"]}


def _layer_labels(model: torch.nn.Module, names: list[str]) -> dict[str, str]:
    """Layer name ("1", "2", ...) → a readable label ("Linear 1", "BatchNorm 1", ...)."""
    count: dict[str, int] = {}
    labels = {}
    for name in names:
        kind = "BatchNorm" if "BatchNorm" in type(model.get_submodule(name)).__name__ \
            else type(model.get_submodule(name)).__name__
        count[kind] = count.get(kind, 0) + 1
        labels[name] = f"{kind} {count[kind]}"
    return labels


def _load(cfg: Config, ctx: Context) -> tuple[DataSpec, dict]:
    spec = DataSpec(dataset="mnist", source=cfg.data_dir)
    ds = spec.load()
    dev = ctx.device
    gen = ctx.generator("noise_examples")
    pick = torch.randperm(len(ds.x_train), generator=gen)[:cfg.noise_examples]
    data = {"x": ds.x_train.to(dev), "y": ds.y_train.to(dev), "xt": ds.x_test.to(dev),
            "yt": ds.y_test.to(dev)}
    data["noise"] = (data["x"][pick.to(dev)], data["y"][pick.to(dev)])  # (M, 1, 28, 28), (M,)
    data["classes"] = ds.num_classes
    return spec, data


def _mean_curve(runs: list[dict], key: str, layer: str | None = None) -> list[float]:
    """The mean over paired seeds of a distance series (the same steps in every seed)."""
    rows = [r[key] if layer is None else r["layers"][layer] for r in runs]
    return np.mean(np.asarray(rows, dtype=float), axis=0).tolist()


def _fit(steps: np.ndarray, curve, lo: float, hi: float) -> dict:
    """Both diffusion fits of one curve over [lo, hi], as plain numbers."""
    fit = fit_diffusion(steps, curve, t_min=lo, t_max=hi)
    return {"t_min": fit.t_min, "t_max": fit.t_max, "n": fit.n,
            "log": {"a": fit.log.a, "b": fit.log.b, "r2": fit.log.r2},
            "power": {"a": fit.power.a, "b": fit.power.b, "r2": fit.power.r2}}


def _summarize(cfg: Config, v: Variant, runs: list[dict], rec: dict) -> dict:
    """One variant over its paired seeds: errors, plan, mean distance curves and their fits
    over the last ``fit_decades`` decades of the high-lr phase."""
    plan, steps = rec["plan"], np.asarray(runs[0]["steps"])
    lo, hi = rec["end_hot"] / 10 ** cfg.fit_decades, rec["end_hot"]
    curve = _mean_curve(runs, "distance")
    layers = {name: _mean_curve(runs, "layers", name) for name in runs[0]["layers"]}
    traces = [r["trace_cov"] for r in runs]
    return {
        "name": v.name, "batch": v.batch, "rule": v.rule, "ghost": v.ghost, "adapted": v.adapted,
        "plan": {"lr": plan.lr, "base_lr": plan.base_lr, "epochs": plan.epochs,
                 "milestones": list(plan.milestones), "gamma": plan.gamma,
                 "warmup_epochs": plan.warmup_epochs, "rule": plan.rule},
        "steps_per_epoch": rec["steps_per_epoch"], "updates": rec["updates"],
        "end_hot": rec["end_hot"],
        "test_err": [r["test_err"] for r in runs], "train_err": [r["train_err"] for r in runs],
        "steps": steps.tolist(), "distance": curve, "layers": layers,
        "distance_seeds": [r["distance"] for r in runs],
        "fit": _fit(steps, curve, lo, hi),
        "layer_fits": {name: _fit(steps, c, lo, hi) for name, c in layers.items()},
        "trace_cov": float(np.mean(traces)), "trace_cov_seeds": traces,
    }


def run(cfg: Config, ctx: Context) -> Result:
    spec, data = _load(cfg, ctx)
    summaries, labels = [], {}
    for v in variants(cfg):
        _check_batches(len(data["x"]), v)
    for v in variants(cfg):
        runs = []
        for k in ctx.track(range(cfg.seeds), v.name, total=cfg.seeds):
            rec = _train(cfg, ctx, v, k, data)
            runs.append(_outcome(rec["model"], data, rec))
            if k == 0:  # the first paired seed's weights, for `genlab measure`
                ctx.save_state(f"{v.name.lstrip('+').lower()}", rec["model"], data=spec,
                               loss="cross_entropy", variant=v.name, updates=rec["updates"])
                labels = _layer_labels(rec["model"], rec["tracker"].layers)
        summaries.append(_summarize(cfg, v, runs, rec))
    dim = sum(p.numel() for p in rec["model"].parameters())
    claims, tables, summary = claims_and_tables(cfg, summaries, labels, dim)
    return Result(claims=claims, summary=summary, tables=tables,
                  data={"variants": summaries, "layer_labels": labels, "order": list(VARIANTS),
                        "n_train": len(data["x"]), "seeds": cfg.seeds})
