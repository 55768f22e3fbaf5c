"""Zhang et al.'s Table 1 beside the measured variants, and the randomization table."""

from __future__ import annotations

import math

from ..base import Table
from . import Config

__all__ = ["tables"]

#: Variant → (paper row, paper train %, paper test %) from Zhang et al. 2017 Table 1
#: (CIFAR-10; "crop" is its augmentation) and §3 / Table 2 where Table 1 has no row.
PAPER_ROWS = {
    "p=0": ("Inception, no crop, no weight decay", 100.0, 85.75),
    "weight_decay p=0": ("Inception, weight decay", 100.0, 86.03),
    "augmentation p=0": ("Inception, random crop", 100.0, 89.31),
    "dropout p=0": ("— (dropout only in the ImageNet Table 2)", "—", "—"),
    "all p=0": ("Inception, random crop + weight decay (no dropout)", 100.0, 89.05),
    "p=1": ("Inception, random labels", 100.0, 9.78),
    "weight_decay p=1": ("Inception and MLPs, random labels + weight decay (§3 text)",
                         "100 (fit perfectly)", "—"),
    "dropout p=1": ("Inception V3 on ImageNet, random labels + dropout + weight decay (§2.1)",
                    "~90 (top-1)", "—"),
    "augmentation p=1": ("— (not measured: random labels are fitted without augmentation)",
                         "—", "—"),
    "mlp p=0": ("MLP 1×512, no weight decay", 100.0, 50.51),
    "mlp p=1": ("MLP 1×512, random labels", 99.34, 10.61),
}
_SWITCHES = {  # variant → (model, augmentation, weight decay, dropout, labels)
    "p=0": ("CNN", "no", "no", "no", "true"),
    "weight_decay p=0": ("CNN", "no", "yes", "no", "true"),
    "augmentation p=0": ("CNN", "yes", "no", "no", "true"),
    "dropout p=0": ("CNN", "no", "no", "yes", "true"),
    "all p=0": ("CNN", "yes", "yes", "yes", "true"),
    "p=1": ("CNN", "no", "no", "no", "random"),
    "weight_decay p=1": ("CNN", "no", "yes", "no", "random"),
    "dropout p=1": ("CNN", "no", "no", "yes", "random"),
    "augmentation p=1": ("CNN", "yes", "no", "no", "random"),
    "mlp p=0": ("MLP 1×1024", "no", "no", "no", "true"),
    "mlp p=1": ("MLP 1×1024", "no", "no", "no", "random"),
}


def _pct(x: float) -> float:
    return round(100.0 * x, 2)


def _fit_cell(run: dict) -> float | str:
    fit = float(run["time_to_fit"])
    return f"> {run['budget']}" if math.isnan(fit) else int(fit)


def _table1(cfg: Config, runs: dict[str, dict]) -> Table:
    rows = [[*_SWITCHES[k], _pct(runs[k]["final"]["train_acc"]), _pct(runs[k]["final"]["test_acc"]),
             _fit_cell(runs[k]), *PAPER_ROWS[k]] for k in PAPER_ROWS]
    return Table(
        caption="Explicit regularization (Zhang et al. 2017, Table 1): the measured MNIST runs "
                f"(one seed; trained until {cfg.fit_accuracy:.0%} train accuracy or the "
                "budget) beside the paper's CIFAR-10 numbers for the corresponding setting. "
                "Augmentation here is a random shift of ≤ "
                f"{cfg.max_shift} pixels, the paper's a random crop.",
        columns=["model", "augmentation", "weight decay", "dropout", "labels", "train acc (%)",
                 "test acc (%)", "epochs to fit", "paper: setting", "paper train (%)",
                 "paper test (%)"],
        rows=rows)


def _randomization(cfg: Config, runs: dict[str, dict]) -> Table:
    names = [f"p={p:g}" for p in sorted(cfg.corruption)] + list(cfg.inputs)
    rows = [[k, _pct(runs[k]["final"]["train_acc"]), _pct(runs[k]["final"]["test_acc"]),
             _fit_cell(runs[k])] for k in names]
    return Table(
        caption="Randomization tests (Zhang et al. 2017, Fig. 1): label corruption p and input "
                "corruptions (true labels), the CNN without regularization. The paper: every "
                "variant reaches 100% train accuracy; test error rises to 90% at p = 1.",
        columns=["variant", "train acc (%)", "test acc (%)", "epochs to fit"], rows=rows)


def tables(cfg: Config, runs: dict[str, dict]) -> dict[str, Table]:
    """The run's tables: ``table1`` (regularizers and models) and ``randomization``."""
    return {"table1": _table1(cfg, runs), "randomization": _randomization(cfg, runs)}
