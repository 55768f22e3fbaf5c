"""The measured claims of the section (their specs, thresholds and papers are in ``__init__``)."""

from __future__ import annotations

import math
from collections import defaultdict
from statistics import fmean, stdev

import numpy as np

from ..base import Claim
from . import (
    ACCURACY_BY_RATIO,
    BOLTZMANN,
    CONTINUOUS_BREAKS,
    CONTINUOUS_SMALL,
    DISCRETE_FITS,
    EDGE_OF_STABILITY,
    ESCAPE,
    LAMBDA_BY_RATIO,
    LAMBDA_FALLS,
    LAPLACE,
    NARROW_COLD,
    PROPORTIONAL,
    RESCALE_BREAKS,
    RESCALE_KEEPS,
    SHUFFLING_FORMULA,
    SHUFFLING_LESS,
    WIDE_HOT,
    Config,
)

__all__ = ["claims", "spread"]


def _listed(values, fmt: str = ".3g") -> str:
    return ", ".join(format(v, fmt) for v in values)


def spread(values: list[float], keys: list) -> tuple[float, float]:
    """(between, within): the std of the group means over groups of equal key, and the
    mean std inside the groups with ≥ 2 members (sample std, ddof 1 both)."""
    groups: dict = defaultdict(list)
    for v, k in zip(values, keys):
        groups[k].append(v)
    means = [fmean(g) for g in groups.values()]
    inside = [stdev(g) for g in groups.values() if len(g) > 1]
    between = stdev(means) if len(means) > 1 else math.nan
    return between, fmean(inside) if inside else math.nan


def _lyapunov(runs: list[dict]) -> list[Claim]:
    small = min(runs, key=lambda r: r["eta_lambda"])
    mid = min(runs, key=lambda r: abs(r["eta_lambda"] - 0.5))
    table = "; ".join(f"ηλ_max {r['eta_lambda']:g}: continuous {r['errors']['continuous']:.3f}, "
                      f"discrete {r['errors']['discrete']:.3f}, exact {r['errors']['exact']:.3f} "
                      f"(MC s.e. {r['stderr_rel']:.3f})" for r in runs)
    worst = max(runs, key=lambda r: r["errors"]["discrete"])
    return [
        DISCRETE_FITS(worst["errors"]["discrete"], f"worst at ηλ_max {worst['eta_lambda']:g}, "
                      f"B = {worst['batch_size']}; {table}; 'exact' adds least squares' "
                      "multiplicative noise (LeastSquares.stationary_covariance)"),
        CONTINUOUS_SMALL(small["errors"]["continuous"], f"at ηλ_max {small['eta_lambda']:g} "
                         f"(Monte-Carlo s.e. of the relative error ≈ {small['stderr_rel']:.3f}; "
                         f"the continuous solution alone is off by "
                         f"{_off(small, 'continuous'):.3f} from the exact one)"),
        CONTINUOUS_BREAKS(mid["errors"]["continuous"], f"at ηλ_max {mid['eta_lambda']:g}; the "
                          f"discrete solution there: {mid['errors']['discrete']:.3f}"),
    ]


def _off(run: dict, kind: str) -> float:
    a, b = np.asarray(run["predictions"][kind]), np.asarray(run["predictions"]["exact"])
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _temperature(cfg: Config, rescale: list[dict], slope: tuple[float, float],
                 prop: list[dict]) -> list[Claim]:
    first = [r for r in rescale if r["batch_size"] == cfg.rescale_batches[0]]
    keep = min(first, key=lambda r: r["eta_lambda"])
    brk = max(first, key=lambda r: r["eta_lambda"])
    rows = "; ".join(f"ηλ_max {r['eta_lambda']:g}, B {r['batch_size']}: "
                     f"{r['measured']:.3f} ± {r['measured_stderr']:.3f} (discrete "
                     f"{r['discrete']:.3f}, exact {r['exact']:.3f})" for r in rescale)
    runs = _listed([f"(η/B {r['ratio']:.2e}: tr {r['trace']:.3g})" for r in prop], "s")
    return [
        RESCALE_KEEPS(abs(keep["measured"] - 1), f"ratio {keep['measured']:.3f} ± "
                      f"{keep['measured_stderr']:.3f} at ηλ_max {keep['eta_lambda']:g}, "
                      f"B {keep['batch_size']} → {4 * keep['batch_size']}; all: {rows}"),
        PROPORTIONAL(abs(slope[0] - 1), f"exponent {slope[0]:.3f} ± {slope[1]:.3f} over "
                     f"{runs}"),
        RESCALE_BREAKS(brk["measured"], f"ηλ_max {brk['eta_lambda']:g} → "
                       f"{4 * brk['eta_lambda']:g}: ratio {brk['measured']:.3f} ± "
                       f"{brk['measured_stderr']:.3f} (discrete {brk['discrete']:.3f}, exact "
                       f"{brk['exact']:.3f}); all: {rows}"),
    ]


def _shuffling(rows: list[dict]) -> list[Claim]:
    small = [r for r in rows if r["eta_lambda"] <= 0.2 + 1e-12]
    listed = "; ".join(f"ηλ_max {r['eta_lambda']:g}, B {r['batch_size']} ({r['epoch_steps']} "
                       f"steps per epoch, relaxation {r['relaxation_steps']:.0f} steps): "
                       f"{r['measured']:.3f} ± {r['measured_stderr']:.3f} (model "
                       f"{r['predicted']:.3f})" for r in rows)
    return [
        SHUFFLING_LESS(max((r["measured"] for r in small), default=math.nan),
                       f"shuffled / with-replacement tr Σ: {listed}"),
        SHUFFLING_FORMULA(max(r["error"] for r in rows), f"relative Frobenius errors "
                          f"{_listed([r['error'] for r in rows])} (same runs as above)"),
    ]


def _wells(occ: dict, esc: dict) -> list[Claim]:
    rows = occ["rows"]
    worst = max(rows, key=lambda r: abs(r["measured"] - r["boltzmann"]))
    deep = sorted((r for r in rows if r["well"] == "deep_narrow"), key=lambda r: r["temperature"])
    lows = [min((r for r in rows if r["well"] == w), key=lambda r: r["temperature"])
            for w in occ["wells"]]
    cross = occ["wells"]["deep_narrow"]["crossover"]
    listed = "; ".join(f"{r['well']} T {r['temperature']:g}: {r['measured']:.3f} ± "
                       f"{r['stderr']:.3f} vs {r['boltzmann']:.3f}" for r in rows)
    iso, hes = esc["isotropic"], esc["hessian"]
    return [
        BOLTZMANN(abs(worst["measured"] - worst["boltzmann"]), f"wide-basin fraction: {listed}"),
        LAPLACE(max(abs(r["laplace"] - r["boltzmann"]) for r in lows), "; ".join(
            f"{r['well']} at T {r['temperature']:g}: Laplace {r['laplace']:.4f}, exact "
            f"{r['boltzmann']:.4f}" for r in lows)),
        NARROW_COLD(deep[0]["measured"], f"T {deep[0]['temperature']:g} < crossover "
                    f"{cross:.3f} (exact): wide fraction {deep[0]['measured']:.3f} ± "
                    f"{deep[0]['stderr']:.3f}"),
        WIDE_HOT(deep[-1]["measured"], f"T {deep[-1]['temperature']:g} (crossover {cross:.3f}): "
                 f"wide fraction {deep[-1]['measured']:.3f} ± {deep[-1]['stderr']:.3f}, "
                 f"although its minimum is higher"),
        ESCAPE(iso["median"] / hes["median"], f"T {esc['temperature']:g}, barrier "
               f"{esc['barrier']:.3f}: median escape time {iso['median']:.3g} (isotropic) vs "
               f"{hes['median']:.3g} (∝ H); escaped {iso['escaped']:.3f} and "
               f"{hes['escaped']:.3f}; Zhu's indicator tr(HD) {iso['zhu_indicator']:.3g} vs "
               f"{hes['zhu_indicator']:.3g}"),
    ]


def _network(runs: list[dict]) -> list[Claim]:
    sgd = [r for r in runs if not r["gd"]]
    gd = [r for r in runs if r["gd"]]
    caveat = "" if all(r["reached"] for r in runs) else "NOT ALL RUNS REACHED THE TARGET: "
    log_lam = [math.log(r["lambda_max"]) for r in sgd]
    keys = {k: [r[k] for r in sgd] for k in ("factor", "lr", "batch_size")}
    lam_s = {k: spread(log_lam, v) for k, v in keys.items()}
    acc_s = {k: spread([r["test_acc"] for r in sgd], v) for k, v in keys.items()}
    slope = float(np.polyfit(np.log([r["ratio"] for r in sgd]), log_lam, 1)[0])

    def detail(s: dict, unit: str) -> str:
        return caveat + "; ".join(f"grouped by {name}: between {b:.3g}, within {w:.3g}"
                                  for name, (b, w) in zip(("η/B", "η", "B"), s.values())) + unit

    eos = max(gd, key=lambda r: abs(r["lr"] * r["lambda_max"] / 2 - 1)) if gd else None
    return [
        LAMBDA_BY_RATIO(_ratio(lam_s["factor"]), detail(lam_s, " (std of log λ_max)")),
        LAMBDA_FALLS(slope, caveat + "λ_max " + _listed([r["lambda_max"] for r in sgd]) +
                     " at η/B " + _listed([r["ratio"] for r in sgd], ".2e")),
        ACCURACY_BY_RATIO(_ratio(acc_s["factor"]), detail(acc_s, " (std of test accuracy)")),
        EDGE_OF_STABILITY(math.nan if eos is None else abs(eos["lr"] * eos["lambda_max"] / 2 - 1),
                          caveat + "; ".join(f"η {r['lr']:g}: λ_max {r['lambda_max']:.3g} vs "
                                             f"2/η {2 / r['lr']:.3g} after {r['steps']} steps"
                                             for r in gd)),
    ]


def _ratio(s: tuple[float, float]) -> float:
    between, within = s
    return between / within if within > 0 else math.inf


def claims(cfg: Config, parts: dict) -> list[Claim]:
    """All claims, in the order of ``CLAIMS``."""
    return (_lyapunov(parts["lyapunov"])
            + _temperature(cfg, parts["rescaling"], parts["slope"], parts["proportional"])
            + _shuffling(parts["shuffling"]) + _wells(parts["occupation"], parts["escape"])
            + _network(parts["network"]["runs"]))
