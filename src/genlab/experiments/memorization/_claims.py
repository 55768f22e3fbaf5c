"""The memorization section's claims and tables, computed from the per-variant runs."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import spearmanr

from ..base import Claim
from . import (AUG_RISING, FIT_FACTOR, FIT_GROWS, INPUTS_FITTED, NOT_NECESSARY, NOT_SUFFICIENT,
               RANDOM_CHANCE, RANDOM_FITTED, TEST_FALLS, TRUE_LABEL_ACC, TRUE_LABELS, Config)
from ._variants import REGULARIZERS

__all__ = ["claims", "closing"]


def _rho(a, b) -> float:
    """Spearman ρ; 0 (no monotone trend) when b is constant."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(spearmanr(a, b).statistic) if len(set(b)) > 1 else 0.0


def _fitted(run: dict) -> bool:
    return not math.isnan(float(run["time_to_fit"]))


def _fit_epochs(run: dict) -> float:
    """Epochs to fit; a run never fitted counts as its budget + 1 (a lower bound)."""
    return float(run["time_to_fit"]) if _fitted(run) else run["budget"] + 1.0


def closing(history: list[dict], window: int) -> float:
    """The fraction of the remaining training error closed over the last ``window`` epochs.

    With a = train accuracy: (a_end − a_start) / (1 − a_start), a_start taken ``window``
    epochs before the end (or at epoch 0). About 0 for a stalled fit, 1 for one that
    reached 100%; a fit still rising at the end of its budget is slower, not stopped.
    """
    accs = [h["train_acc"] for h in history]
    start = accs[max(0, len(accs) - 1 - window)]
    return (accs[-1] - start) / max(1.0 - start, 1e-12)


def _progress(run: dict, window: int) -> str:
    """How a random-label run ended, in words."""
    acc = run["final"]["train_acc"]
    if _fitted(run):
        return f"{acc:.3f} (fitted at epoch {float(run['time_to_fit']):g})"
    rate = closing(run["history"], window)
    trend = "still rising: a lower bound" if rate >= AUG_RISING.threshold else "stalled"
    return (f"{acc:.3f} (not fitted in {run['budget']} epochs; closed {rate:.0%} of the "
            f"remaining error over the last {window}: {trend})")


def _label_claims(cfg: Config, runs: dict[str, dict]) -> list[Claim]:
    ps = sorted(cfg.corruption)
    fits = [_fit_epochs(runs[f"p={p:g}"]) for p in ps]
    tests = [runs[f"p={p:g}"]["final"]["test_acc"] for p in ps]
    key = "embedded" if cfg.data_dir is None else cfg.dataset
    true, rand = runs["p=0"], runs["p=1"]
    n = len(true["history"]) - 1
    return [
        TRUE_LABELS(true["final"]["test_acc"], f"CNN test accuracy on {key} data "
                    f"({cfg.n_train or 'all'} training examples) after {n} epochs",
                    threshold=TRUE_LABEL_ACC[key]),
        RANDOM_FITTED(rand["final"]["train_acc"], f"p = 1: {_progress(rand, cfg.trend_window)}"),
        RANDOM_CHANCE(abs(rand["final"]["test_acc"] - 0.1),
                      f"|test acc − 0.1|, test acc = {rand['final']['test_acc']:.3f}"),
        FIT_GROWS(_rho(ps, fits), "Spearman ρ(p, epochs to fit); epochs "
                  + ", ".join(f"{f:g}" for f in fits) + " (budget + 1 = not fitted)"),
        FIT_FACTOR(fits[-1] / max(fits[0], 1.0), f"epochs to fit at p = 1 ({fits[-1]:g}) / at "
                   f"p = 0 ({fits[0]:g}); a lower bound if p = 1 was not fitted"),
        TEST_FALLS(_rho(ps, tests), "Spearman ρ(p, test acc); " + ", ".join(
            f"{t:.3f}" for t in tests)),
    ]


def _regularizer_claims(cfg: Config, runs: dict[str, dict]) -> list[Claim]:
    fin = {k: r["final"] for k, r in runs.items()}
    inputs = {k: fin[k]["train_acc"] for k in cfg.inputs}
    reg_test = {r: fin[f"{r} p=0"]["test_acc"] for r in (*REGULARIZERS, "all")}
    best = max(reg_test, key=reg_test.get)
    none = fin["p=0"]["test_acc"]
    random = {r: runs[f"{r} p=1"] for r in ("weight_decay", "dropout")}
    aug = runs["augmentation p=1"]
    window = cfg.trend_window
    return [
        INPUTS_FITTED(min(inputs.values()), "train accuracy: " + ", ".join(
            f"{k} {_progress(runs[k], window)}" for k in inputs)),
        NOT_NECESSARY(reg_test[best] - none, f"best regularized test acc ({best}) "
                      f"{reg_test[best]:.3f} − unregularized {none:.3f}; "
                      + ", ".join(f"{r} {t:.3f}" for r, t in reg_test.items())),
        NOT_SUFFICIENT(min(r["final"]["train_acc"] for r in random.values()),
                       "random-label train accuracy: " + "; ".join(
                           f"{k} {_progress(r, window)}, test {r['final']['test_acc']:.3f}"
                           for k, r in random.items())),
        AUG_RISING(closing(aug["history"], window), f"fraction of the remaining training error "
                   f"closed over the last {window} epochs; train accuracy "
                   f"{_progress(aug, window)}"),
    ]


def claims(cfg: Config, runs: dict[str, dict]) -> list[Claim]:
    """Every declared claim, measured on ``runs`` (variant name → fit_variant's record)."""
    return _label_claims(cfg, runs) + _regularizer_claims(cfg, runs)
