"""The batch_gap claims and result tables, from the per-variant summaries of ``run``."""

from __future__ import annotations

import math
import statistics

import numpy as np

from ...dynamics import temperature
from ..base import Claim, Table
from . import CLOSES, EACH_FIX, GAP, LOG_BEATS_POWER, LOG_FIT, MATCHED, Config

#: Hoffer et al. 2017, Table 1, ResNet44 on CIFAR-10: validation accuracy (%) per variant.
HOFFER_RESNET44 = {"SB": 92.83, "LB": 86.10, "+LR": 89.30, "+GBN": 90.50, "+RA": 93.07}
_FIXES = (("LB", "+LR"), ("+LR", "+GBN"), ("+GBN", "+RA"))
_LONG = ("SB", "+RA")  # the variants with a long high-lr phase (fits over decades)


def _mean_std(values: list[float]) -> str:
    spread = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.2f} ± {spread:.2f}"


def distance_at(s: dict, t: float) -> float:
    """The seed-mean ‖w_t − w_0‖ of summary ``s`` at update ``t``, interpolated in ln t."""
    return float(np.interp(math.log(t), np.log(s["steps"]), s["distance"]))


def _gap_claims(by: dict[str, dict]) -> list[Claim]:
    err = {k: statistics.fmean(s["test_err"]) for k, s in by.items()}
    paired = [lb - sb for lb, sb in zip(by["LB"]["test_err"], by["SB"]["test_err"])]
    gap = err["LB"] - err["SB"]
    drops = [err[a] - err[b] for a, b in _FIXES]
    closed = (err["LB"] - err["+RA"]) / gap if gap > 0 else math.nan
    n = len(paired)
    return [
        GAP(gap, f"test error (%) SB {err['SB']:.2f}, LB {err['LB']:.2f}; paired gaps over "
            f"{n} seed(s): " + ", ".join(f"{g:.2f}" for g in paired)),
        EACH_FIX(min(drops), "decreases (points) " + ", ".join(
            f"{a}→{b} {d:.2f}" for (a, b), d in zip(_FIXES, drops)) + f"; mean of {n} seed(s)"),
        CLOSES(closed, f"(LB {err['LB']:.2f} − +RA {err['+RA']:.2f}) / gap {gap:.2f}"
               + ("" if gap > 0 else "; no gap to close: NaN")),
    ]


def _diffusion_claims(by: dict[str, dict]) -> list[Claim]:
    fits = {k: by[k]["fit"] for k in _LONG}
    windows = "; ".join(f"{k}: updates {f['t_min']:.0f}–{f['t_max']:.0f} ({f['n']} points), "
                        f"R² log {f['log']['r2']:.4f}, power {f['power']['r2']:.4f} "
                        f"(b = {f['power']['b']:.3f})" for k, f in fits.items())
    sb, ra = by["SB"], by["+RA"]
    t = min(sb["end_hot"], ra["end_hot"])
    d_sb, d_ra = distance_at(sb, t), distance_at(ra, t)
    others = ", ".join(f"{k} {distance_at(by[k], by[k]['updates']) / distance_at(sb, by[k]['updates']):.2f}"
                       for k in ("LB", "+LR", "+GBN"))
    return [
        LOG_FIT(min(f["log"]["r2"] for f in fits.values()), windows),
        LOG_BEATS_POWER(min(f["log"]["r2"] - f["power"]["r2"] for f in fits.values()), windows),
        MATCHED(abs(d_ra / d_sb - 1), f"at update {t}: ‖w_t − w_0‖ = {d_ra:.3f} (+RA) vs {d_sb:.3f} "
                f"(SB); at the last update of each equal-epoch LB variant, its distance over "
                f"SB's at the same update: {others}"),
    ]


def _variants_table(summaries: list[dict]) -> Table:
    rows = []
    for s in summaries:
        rows.append([s["name"], s["batch"], s["ghost"] or "—", round(s["plan"]["lr"], 4),
                     round(s["plan"]["epochs"], 2), s["updates"], _mean_std(s["test_err"]),
                     ", ".join(f"{e:.1f}" for e in s["test_err"]), _mean_std(s["train_err"]),
                     round(s["distance"][-1], 2), HOFFER_RESNET44[s["name"]]])
    return Table(caption="Test error by variant (mean ± std over paired seeds), beside Hoffer et "
                 "al. 2017, Table 1 (ResNet44 on CIFAR-10, validation accuracy)",
                 columns=["variant", "batch", "ghost batch", "lr", "epochs", "updates",
                          "test error %", "per seed", "train error %", "‖w − w₀‖ at the end",
                          "Hoffer ResNet44 accuracy %"], rows=rows)


def _fits_table(summaries: list[dict]) -> Table:
    rows = [[s["name"], f"{s['fit']['t_min']:.0f}–{s['fit']['t_max']:.0f}", s["fit"]["n"],
             round(s["fit"]["log"]["r2"], 4), round(s["fit"]["power"]["r2"], 4),
             round(s["fit"]["log"]["b"], 3), round(s["fit"]["power"]["b"], 3)] for s in summaries]
    return Table(caption="Fits of the seed-mean ‖w_t − w_0‖ over the last decades of the high-lr "
                 "phase: d = a + b·ln t (log) and d = a·t^b (power)",
                 columns=["variant", "updates fitted", "points", "R² log", "R² power",
                          "log slope b", "power exponent b"], rows=rows)


def _layers_table(by: dict[str, dict], labels: dict[str, str]) -> Table:
    rows = []
    for name, label in labels.items():
        row = [label]
        for k in _LONG:
            f = by[k]["layer_fits"][name]
            row += [round(f["log"]["r2"], 4), round(f["power"]["r2"], 4), round(f["power"]["b"], 3)]
        rows.append(row)
    return Table(caption="Per-layer diffusion fits (same window as the whole model)",
                 columns=["layer"] + [f"{k} {c}" for k in _LONG
                                      for c in ("R² log", "R² power", "power b")], rows=rows)


def _temperature_table(summaries: list[dict], dim: int) -> Table:
    rows = []
    for s in summaries:
        lr, b, tr = s["plan"]["lr"], s["batch"], s["trace_cov"]
        temp = temperature(lr, b, tr, dim)
        rows.append([s["name"], b, round(lr, 4), f"{temp.ratio:.3g}", f"{tr:.3g}",
                     f"{temp.trace:.3g}", f"{lr * temp.trace:.3g}"])
    return Table(caption="SGD's noise in the high-lr phase: tr C of the per-example gradient "
                 "covariance at its end (mean over seeds), temperatures η/B and η·tr C/B, and "
                 "the trace of one update's noise covariance η²·tr C/B (the √B rule keeps η²/B fixed)",
                 columns=["variant", "B", "η", "η/B", "tr C", "η·tr C/B", "η²·tr C/B"],
                 rows=rows)


def claims_and_tables(cfg: Config, summaries: list[dict], labels: dict[str, str],
                      dim: int) -> tuple[list[Claim], dict[str, Table], dict]:
    """The six claims (in ``CLAIMS`` order), the result tables and the summary numbers."""
    by = {s["name"]: s for s in summaries}
    claims = _gap_claims(by) + _diffusion_claims(by)
    tables = {"variants": _variants_table(summaries), "diffusion_fits": _fits_table(summaries),
              "layer_fits": _layers_table(by, labels),
              "temperature": _temperature_table(summaries, dim)}
    summary = {f"test_err_{k}": statistics.fmean(s["test_err"]) for k, s in by.items()}
    summary.update({f"r2_log_{k}": s["fit"]["log"]["r2"] for k, s in by.items()})
    summary.update({f"r2_power_{k}": s["fit"]["power"]["r2"] for k, s in by.items()})
    summary.update({c.name: c.value for c in claims})
    summary["seeds"] = cfg.seeds
    return claims, tables, summary
