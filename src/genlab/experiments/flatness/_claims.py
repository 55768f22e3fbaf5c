"""The measured claims of the flatness section (their specs are declared in ``__init__``)."""

from __future__ import annotations

import math
from statistics import fmean, stdev

from ..base import Claim
from . import (EPS_MOVES, EQUAL_LOSS, INVARIANT, LAMBDA_MOVES, LB_MUCH_SHARPER, LB_SHARPER,
               LB_WORSE, SAME_FUNCTION, Config)

__all__ = ["claims", "mean_std", "pairs"]

_TINY = 1e-12


def pairs(runs: list[dict]) -> tuple[list[dict], list[dict]]:
    """The SB and the LB records, each ordered by pair."""
    pick = lambda regime: sorted((r for r in runs if r["regime"] == regime),  # noqa: E731
                                 key=lambda r: r["pair"])
    return pick("small_batch"), pick("large_batch")


def mean_std(values: list[float], fmt: str = ".3g") -> str:
    """``"m ± s"`` (the sample std), or ``"m"`` for a single value."""
    if len(values) == 1:
        return format(values[0], fmt)
    return f"{format(fmean(values), fmt)} ± {format(stdev(values), fmt)}"


def _listed(values: list[float], fmt: str = ".3g") -> str:
    return ", ".join(format(v, fmt) for v in values)


def _keskar(cfg: Config, runs: list[dict]) -> list[Claim]:
    sb, lb = pairs(runs)
    caveat = "" if all(r["reached"] for r in runs) else (
        "NOT AT EQUAL LOSS (a run missed the target, see equal_training_loss): ")
    eps_sb, eps_lb = ([r["eps_sharpness"][0] for r in rs] for rs in (sb, lb))
    ratios = [b / max(a, _TINY) for a, b in zip(eps_sb, eps_lb)]
    geo = math.exp(fmean(math.log(max(r, _TINY)) for r in ratios))
    lam = [b["lambda_max"] / max(a["lambda_max"], _TINY) for a, b in zip(sb, lb)]
    sharp = (f"{caveat}ε = {cfg.epsilons[0]:g}, n = {len(ratios)} pairs: LB/SB per pair "
             f"{_listed(ratios)} (LB sharper in {sum(r > 1 for r in ratios)} of {len(ratios)}); "
             f"ε-sharpness SB {mean_std(eps_sb)}, LB {mean_std(eps_lb)}; λ_max LB/SB per pair "
             f"{_listed(lam)}")
    gaps = [100 * (a["test_acc"] - b["test_acc"]) for a, b in zip(sb, lb)]
    se = stdev(gaps) / math.sqrt(len(gaps)) if len(gaps) > 1 else math.nan
    gap = (f"{caveat}test accuracy SB {mean_std([100 * r['test_acc'] for r in sb], '.2f')}%, "
           f"LB {mean_std([100 * r['test_acc'] for r in lb], '.2f')}%; gap per pair "
           f"{_listed(gaps, '.2f')} points (standard error {se:.2f}, n = {len(gaps)}; SB "
           f"better in {sum(g > 0 for g in gaps)})")
    loss_ratio = (fmean(r["train_loss"] for r in lb)
                  / max(fmean(r["train_loss"] for r in sb), _TINY))
    reached = (f"target {cfg.target_loss:g}; SB: epochs {_listed([r['epochs'] for r in sb])}, "
               f"losses {_listed([r['train_loss'] for r in sb], '.4g')}; LB: epochs "
               f"{_listed([r['epochs'] for r in lb])}, losses "
               f"{_listed([r['train_loss'] for r in lb], '.4g')} (cap {cfg.max_epochs:g} epochs); "
               f"mean stopping loss LB/SB {loss_ratio:.3f}")
    return [EQUAL_LOSS(max(r["train_loss"] for r in runs), reached, threshold=cfg.target_loss),
            LB_SHARPER(geo, sharp), LB_MUCH_SHARPER(geo, sharp),
            LB_WORSE(fmean(gaps), gap)]


def _dinh(cfg: Config, rows: list[dict]) -> list[Claim]:
    alphas = "α = " + _listed([r["alpha"] for r in rows], "g")
    lams = [r["lambda_max"] for r in rows]
    eps = [r["eps_sharpness"] for r in rows]
    ref = next(r["fn_sharpness"] for r in rows if r["alpha"] == 1.0)
    dev = max(abs(r["fn_sharpness"] - ref) for r in rows) / max(abs(ref), _TINY)
    first, second = rows[0]["layers"]
    return [
        SAME_FUNCTION(max(r["output_change"] for r in rows), f"over the test inputs and {alphas}; "
                      f"layers {first} → {second} of the first small-batch minimum"),
        LAMBDA_MOVES(max(lams) / max(min(lams), _TINY), f"λ_max {_listed(lams)} at {alphas}"),
        EPS_MOVES(max(eps) / max(min(eps), _TINY),
                  f"ε-sharpness (ε = {cfg.epsilons[0]:g}) {_listed(eps)} at {alphas}"),
        INVARIANT(dev, f"filter-normalized sharpness "
                  f"{_listed([r['fn_sharpness'] for r in rows], '.4g')} at {alphas}"),
    ]


def claims(cfg: Config, runs: list[dict], rows: list[dict]) -> list[Claim]:
    """Keskar's claims from the SB/LB ``runs``, Dinh's from the rescaling ``rows``."""
    return _keskar(cfg, runs) + _dinh(cfg, rows)
