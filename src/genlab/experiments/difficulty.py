"""Lecture section 3: easy and hard examples — networks learn patterns before memorizing.

Claim (Arpit et al. 2017, "A Closer Look at Memorization in Deep Networks",
ICML): on real data, some examples are consistently easy and others hard —
per-example accuracy after one epoch, over 100 runs with new init and data
order, is far more dispersed than the binomial reference (dispersion index
D = Var_x(p̂_x) / (p̄(1 − p̄)/R) ≫ 1), while on random inputs every example is
alike (D ≈ 1). Networks fitted to random labels are more complex near the data:
their critical sample ratio (CSR, the fraction of points whose predicted label
changes within an L∞ ball) is higher. With label noise, validation accuracy
peaks before the noisy examples are memorized, then falls; dropout slows the
memorization of random labels far more than it hurts learning real data.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from ..data import load_dataset
from ..runs import RunRecord
from ._diff import CONDITIONS, csr, noisy_run, one_epoch_accuracy
from .base import Context, Experiment, ExperimentConfig, Result, check

__all__ = ["EXPERIMENT", "Config", "figures", "run"]


class Config(ExperimentConfig):
    data_dir: str | None = Field(None, description="directory of the full MNIST IDX files; "
                                 "None = the embedded 5,000 digits")
    n_train: int | None = Field(None, ge=100, description="training examples, of the one-"
                                "epoch and the label-noise runs (None = all)")
    n_val: int | None = Field(None, ge=10, description="validation examples (None = all test)")
    hidden: list[int] = Field([256, 256], min_length=1, description="MLP hidden widths")
    lr: float = Field(1e-3, gt=0, description="Adam learning rate")
    batch_size: int = Field(32, ge=1, description="minibatch size")
    n_examples: int = Field(1000, ge=10, description="training examples whose accuracy after "
                            "one epoch on the whole training set is measured (Arpit: 1,000)")
    runs: int = Field(100, ge=2, description="independent runs R for per-example accuracy")
    method: str = Field("auto", pattern="^(auto|vmap|sequential)$", description="seed-"
                        "ensemble training: auto, vmap or sequential")
    noise: list[float] = Field([0.0, 0.2, 0.4, 0.6, 0.8], min_length=2, description="label-"
                               "noise levels of the validation-curve runs (0 included)")
    epochs: int = Field(60, ge=1, description="epochs of each label-noise run")
    dropout: float = Field(0.5, gt=0, lt=1, description="dropout probability of the dropout runs")
    radius: float = Field(0.05, gt=0, description="L∞ radius r of the CSR ball (pixels in [0, 1])")
    radii: list[float] = Field([0.01, 0.02, 0.05, 0.1, 0.2], min_length=2,
                               description="radii of the final CSR sweep")
    csr_points: int = Field(500, ge=10, description="validation points the CSR is measured on")
    csr_every: int = Field(5, ge=1, description="epochs between CSR measurements")
    csr_steps: int = Field(20, ge=1, description="LASS iterations per point")


PROFILES = {
    "quick": {"n_train": 500, "n_val": 300, "n_examples": 300, "runs": 20, "noise": [0.0, 0.4],
              "epochs": 12, "csr_points": 100, "csr_every": 4, "csr_steps": 10,
              "radii": [0.02, 0.05, 0.1]},
    "default": {},
    "full": {"data_dir": "data/mnist", "epochs": 100, "csr_points": 1000},
}
#: Thresholds, stated before measuring.
D_REAL_MIN, D_RANDX_MAX = 5.0, 2.0
PEAK_MARGIN = 0.05  # validation peak − final value, at ≥ 40% noise
CSR_Z = 2.0  # CSR(random labels) − CSR(real) in standard errors
DROPOUT_RATIO = 5.0  # random-label fit lost / clean validation lost (floor 1 point)


def _one_epoch(cfg: Config, ds, ctx: Context) -> dict:
    out = {}
    for cond in CONDITIONS:
        res = one_epoch_accuracy(cond, ds, cfg.n_examples, cfg.runs, cfg.hidden, ctx,
                                 batch_size=cfg.batch_size, lr=cfg.lr, n_fit=ds.n_train,
                                 method=cfg.method)
        ctx.save_state(f"one_epoch_{cond}_run0", res.pop("member"))
        ctx.log({"variant": f"one_epoch_{cond}", "dispersion": res["dispersion"],
                 "mean_acc": res["mean_acc"]})
        out[cond] = res
    return out


def _noisy(cfg: Config, ds, ctx: Context) -> dict[str, dict]:
    common = dict(hidden=cfg.hidden, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                  radius=cfg.radius, csr_points=cfg.csr_points, csr_every=cfg.csr_every,
                  csr_steps=cfg.csr_steps)
    plan = [(f"noise={p:g}", p, 0.0) for p in cfg.noise]
    plan += [("random labels", 1.0, 0.0), ("dropout noise=0", 0.0, cfg.dropout),
             ("dropout random labels", 1.0, cfg.dropout)]
    runs = {}
    for name, p, drop in plan:
        runs[name] = noisy_run(name, p, ds, ctx, dropout=drop, **common)
        ctx.save_state(name, runs[name]["model"])
    return runs


def _claims(cfg: Config, one: dict, runs: dict) -> list:
    margins = {n: max(h["val_acc"] for h in r["history"]) - r["history"][-1]["val_acc"]
               for n, r in runs.items() if n.startswith("noise=") and r["p"] >= 0.4}
    real, rand = runs["noise=0"]["history"][-1], runs["random labels"]["history"][-1]
    z = (rand["csr"] - real["csr"]) / max(np.hypot(rand["csr_se"], real["csr_se"]), 1e-12)
    lost_rand = rand["train_acc"] - runs["dropout random labels"]["history"][-1]["train_acc"]
    lost_clean = real["val_acc"] - runs["dropout noise=0"]["history"][-1]["val_acc"]
    return [
        check("real_data_dispersed", "real data: per-example accuracy is over-dispersed (D ≥ 5)",
              one["real"]["dispersion"], ">=", D_REAL_MIN,
              f"R = {cfg.runs} runs of 1 epoch; {cfg.n_examples} examples scored"),
        check("random_inputs_binomial", "random inputs (randX): D near 1 (≤ 2)",
              one["randX"]["dispersion"], "<=", D_RANDX_MAX,
              f"randY: D = {one['randY']['dispersion']:.2f}"),
        check("csr_higher_for_random_labels", "CSR is higher for random labels than for real data",
              z, ">=", CSR_Z, f"(CSR_randY − CSR_real)/se at r = {cfg.radius}: "
              f"{rand['csr']:.3f} vs {real['csr']:.3f} after {cfg.epochs} epochs"),
        check("validation_peak_before_memorization", "at ≥ 40% noise the validation peak exceeds "
              "the final value by ≥ 5 points", min(margins.values(), default=float("nan")), ">=",
              PEAK_MARGIN, "; ".join(f"{k}: {v:.3f}" for k, v in margins.items())),
        check("dropout_slows_memorization", "dropout slows random-label fitting far more "
              "(≥ 5×) than it lowers clean validation accuracy",
              lost_rand / max(lost_clean, 0.01), ">=", DROPOUT_RATIO,
              f"random-label train acc lost {lost_rand:.3f}; clean val acc lost {lost_clean:.3f} "
              f"(dropout {cfg.dropout}, {cfg.epochs} epochs; floor 0.01)"),
    ]


def _peak_vs_fit(h: list[dict]) -> dict:
    """Epoch of the validation peak, and first epoch with half the noisy labels memorized."""
    peak = int(np.argmax([e["val_acc"] for e in h]))
    half = next((e["epoch"] for e in h if e["noisy_acc"] >= 0.5), float("nan"))
    return {"peak_epoch": h[peak]["epoch"], "peak_val_acc": h[peak]["val_acc"],
            "final_val_acc": h[-1]["val_acc"], "noisy_half_fitted_epoch": half}


def run(cfg: Config, ctx: Context) -> Result:
    ds = load_dataset("mnist", source=cfg.data_dir, n_train=cfg.n_train, n_test=cfg.n_val,
                      seed=ctx.seed_for("subset") % 2**31)
    if 0.0 not in cfg.noise or cfg.n_examples > ds.n_train:
        raise ValueError(f"noise must include 0 and n_examples must be ≤ n_train ({ds.n_train})")
    one = _one_epoch(cfg, ds, ctx)
    runs = _noisy(cfg, ds, ctx)
    xc = ds.x_test[:cfg.csr_points].to(ctx.device)
    sweep = {name: [csr(runs[name]["model"], xc, r, ctx, ("sweep", name, r), cfg.csr_steps)[0]
                    for r in cfg.radii] for name in ("noise=0", "random labels")}
    claims = _claims(cfg, one, runs)
    timing = {n: _peak_vs_fit(r["history"]) for n, r in runs.items() if r["p"] > 0}
    data = {"one_epoch": {c: {"dispersion": v["dispersion"], "mean_acc": v["mean_acc"]}
                          for c, v in one.items()},
            "runs": {n: {k: v for k, v in r.items() if k != "model"} for n, r in runs.items()},
            "csr_sweep": {"radii": cfg.radii, **sweep}, "peak_vs_fit": timing, "R": cfg.runs}
    summary = {**{f"D_{c}": v["dispersion"] for c, v in one.items()},
               **{f"one_epoch_acc_{c}": v["mean_acc"] for c, v in one.items()},
               **{f"final_val_acc {n}": r["history"][-1]["val_acc"] for n, r in runs.items()},
               **{f"final_csr {n}": r["history"][-1]["csr"] for n, r in runs.items()}}
    arrays = {f"correct_{c}": v["correct"].numpy() for c, v in one.items()}
    return Result(claims=claims, summary=summary, data=data, arrays=arrays)


def figures(record: RunRecord) -> dict:
    from ._diff_figures import draw

    return draw(record)


EXPERIMENT = Experiment(
    name="difficulty", title="Easy and hard examples; patterns before memorization",
    section="3",
    claim="real data has consistently easy and hard examples (D ≫ 1, randX D ≈ 1); random "
          "labels raise the critical sample ratio; validation accuracy peaks before noise is "
          "memorized; dropout slows memorization",
    config=Config, profiles=PROFILES, run=run, figures=figures)
