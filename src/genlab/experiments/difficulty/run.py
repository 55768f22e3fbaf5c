"""Run the difficulty section: one-epoch seed ensembles, then the label-noise runs."""

from __future__ import annotations

import math

from torch import Tensor

from ...data import Dataset, DataSpec
from ...train import choose_method
from ..base import Context, Result, Table
from . import (
    CSR_HIGHER,
    DROPOUT_HINDERS,
    RANDX_BINOMIAL,
    REAL_DISPERSED,
    VALIDATION_PEAK,
    Config,
)
from ._noisy import csr, noisy_run, peak_vs_fit
from ._one_epoch import CONDITIONS, condition_spec, mlp_maker, one_epoch

__all__ = ["run"]


def _method(cfg: Config, ds: Dataset, ctx: Context) -> str:
    """The seed-ensemble method: the config's, or the one measured faster here (on ``ds``)."""
    if cfg.method != "auto":
        return cfg.method
    x, y = ds.x_train.to(ctx.device), ds.y_train.to(ctx.device)
    return choose_method(mlp_maker(cfg, x[0].numel(), ds.num_classes), cfg.runs, x, y,
                         optimizer=cfg.optimizer, batch_size=cfg.batch_size)


def _one_epoch_all(cfg: Config, base: DataSpec, base_ds: Dataset,
                   ctx: Context) -> tuple[dict, str]:
    method = _method(cfg, base_ds, ctx)
    out = {}
    for cond in CONDITIONS:
        spec = condition_spec(base, cond, ctx)
        res = one_epoch(cfg, spec, cond, method, ctx)
        ctx.save_state(f"one_epoch_{cond}_run0", res.pop("member"), data=spec,
                       loss="cross_entropy", train_digest=res["digest"])
        ctx.log({"variant": f"one_epoch_{cond}", "D": res["D"], "D_within": res["D_within"],
                 "mean_acc": res["mean_acc"], "method": method})
        out[cond] = res
    return out, method


def _noisy_all(cfg: Config, base: DataSpec, clean_y: Tensor,
               ctx: Context) -> tuple[dict, dict]:
    """The label-noise runs (records) and their trained models, saved with their data."""
    plan = [(f"noise={p:g}", p, 0.0) for p in cfg.noise]
    plan += [("random labels", 1.0, 0.0), ("dropout noise=0", 0.0, cfg.dropout),
             ("dropout random labels", 1.0, cfg.dropout)]
    runs, models = {}, {}
    for name, p, drop in plan:
        spec = base.replace(label_noise=p, corruption_seed=ctx.seed_for("noise"))
        runs[name] = noisy_run(cfg, name, spec, clean_y, ctx, dropout=drop)
        models[name] = runs[name].pop("model")
        ctx.save_state(name, models[name], data=spec, loss="cross_entropy",
                       train_digest=runs[name]["digest"])
    return runs, models


def _csr_sweep(cfg: Config, base_ds: Dataset, models: dict, ctx: Context) -> dict:
    """CSR against the ball's radius, at the end of training, real against random labels."""
    xc = base_ds.x_test[:cfg.csr_points].to(ctx.device)
    return {"radii": cfg.radii, **{name: [csr(models[name], xc, r, ctx, ("sweep", name, r),
                                              cfg.csr_steps)[0] for r in cfg.radii]
                                   for name in ("noise=0", "random labels")}}


def _claims(cfg: Config, one: dict, runs: dict) -> list:
    drops = {n: 100 * (max(h["val_acc"] for h in r["history"]) - r["history"][-1]["val_acc"])
             for n, r in runs.items() if n.startswith("noise=") and r["p"] >= 0.4}
    real, rand = runs["noise=0"]["history"][-1], runs["random labels"]["history"][-1]
    z = (rand["csr"] - real["csr"]) / max(math.hypot(rand["csr_se"], real["csr_se"]), 1e-12)
    drop_rand = runs["dropout random labels"]["history"][-1]
    lost_rand = 100 * (rand["train_acc"] - drop_rand["train_acc"])
    lost_val = 100 * (real["val_acc"] - runs["dropout noise=0"]["history"][-1]["val_acc"])
    d = {c: f"{c}: D_within {v['D_within']:.2f}, D {v['D']:.2f}" for c, v in one.items()}
    return [
        REAL_DISPERSED(one["real"]["D_within"], f"{d['real']}; R = {cfg.runs} runs of one "
                       f"epoch, {cfg.n_examples} examples scored"),
        RANDX_BINOMIAL(one["randX"]["D_within"], f"{d['randX']} (single-p̄ index, counts the "
                       f"spread between class accuracies); {d['randY']}"),
        CSR_HIGHER(z, f"(CSR_random − CSR_real)/se at r = {cfg.radius}: {rand['csr']:.3f} vs "
                   f"{real['csr']:.3f} after {cfg.epochs} epochs"),
        VALIDATION_PEAK(min(drops.values(), default=math.nan), "peak − final, points: "
                        + "; ".join(f"{k}: {v:.1f}" for k, v in drops.items())),
        DROPOUT_HINDERS(lost_rand / max(lost_val, 1.0), f"random-label train accuracy lost "
                        f"{lost_rand:.1f} points; validation accuracy lost {lost_val:.1f} "
                        f"points (dropout {cfg.dropout}, {cfg.epochs} epochs; floor 1 point)"),
    ]


def _pct(v: float) -> float:
    return round(100 * v, 2)


def _tables(cfg: Config, one: dict, timing: dict, runs: dict, method: str) -> dict:
    disp = Table(caption=f"Per-example accuracy after one epoch, R = {cfg.runs} runs "
                 f"(trained {method}); D: dispersion index against one overall mean, "
                 "D_within: against each class's mean (≈ 1 for equally hard examples)",
                 columns=["condition", "mean accuracy (%)", "class accuracies (%)", "D",
                          "D_within"],
                 rows=[[c, _pct(v["mean_acc"]), f"{_pct(min(v['class_acc'].values()))}–"
                        f"{_pct(max(v['class_acc'].values()))}", round(v["D"], 2),
                        round(v["D_within"], 2)] for c, v in one.items()])
    noise = Table(caption="Label-noise runs: validation peak against memorization "
                  "(accuracies in %, drop in points)",
                  columns=["run", "peak val. acc.", "peak epoch", "final val. acc.",
                           "drop (points)", "epoch half the noise fitted", "final train acc.",
                           "final CSR"],
                  rows=[[n, _pct(t["peak_val_acc"]), t["peak_epoch"], _pct(t["final_val_acc"]),
                         round(100 * (t["peak_val_acc"] - t["final_val_acc"]), 2),
                         t["noisy_half_fitted_epoch"], _pct(runs[n]["history"][-1]["train_acc"]),
                         round(runs[n]["history"][-1]["csr"], 3)] for n, t in timing.items()])
    return {"dispersion": disp, "label_noise": noise}


def run(cfg: Config, ctx: Context) -> Result:
    base = DataSpec(dataset="mnist", source=cfg.data_dir, n_train=cfg.n_train,
                    n_test=cfg.n_val, subset_seed=ctx.seed_for("subset"))
    base_ds = base.load()  # read once: the clean data every condition starts from
    n_train = len(base_ds.y_train)
    if 0.0 not in cfg.noise or cfg.n_examples > n_train:
        raise ValueError(f"noise must include 0 and n_examples must be ≤ n_train ({n_train})")
    one, method = _one_epoch_all(cfg, base, base_ds, ctx)
    runs, models = _noisy_all(cfg, base, base_ds.y_train, ctx)
    sweep = _csr_sweep(cfg, base_ds, models, ctx)
    timing = {n: peak_vs_fit(r["history"]) for n, r in runs.items()}
    claims = _claims(cfg, one, runs)
    data = {"one_epoch": {c: {k: v[k] for k in ("D", "D_within", "mean_acc", "class_acc")}
                          for c, v in one.items()},
            "runs": runs, "csr_sweep": sweep, "peak_vs_fit": timing, "R": cfg.runs,
            "ensemble_method": method}
    summary = {**{f"D_within_{c}": v["D_within"] for c, v in one.items()},
               **{f"D_{c}": v["D"] for c, v in one.items()},
               **{f"one_epoch_acc_{c}": v["mean_acc"] for c, v in one.items()},
               **{f"final_val_acc {n}": r["history"][-1]["val_acc"] for n, r in runs.items()},
               **{f"final_csr {n}": r["history"][-1]["csr"] for n, r in runs.items()}}
    arrays = {**{f"correct_{c}": v["correct"].numpy() for c, v in one.items()},
              **{f"labels_{c}": v["labels"] for c, v in one.items()}}
    return Result(claims=claims, summary=summary, data=data, arrays=arrays,
                  tables=_tables(cfg, one, timing, runs, method))
