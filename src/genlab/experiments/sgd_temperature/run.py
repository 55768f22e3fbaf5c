"""Run the SGD-temperature section: least-squares chains, double wells, the network."""

from __future__ import annotations

from ..base import Context, Result
from . import Config
from ._chains import Sweep, line_fit
from ._claims import claims
from ._network import network
from ._tables import tables
from ._wells import escapes, occupations

__all__ = ["run"]


def _chains(cfg: Config, ctx: Context) -> tuple[dict, Sweep]:
    sweep = Sweep(cfg, ctx, line_fit(cfg, ctx))
    prop, slope, slope_se = sweep.proportional()
    parts = {"lyapunov": sweep.lyapunov(), "rescaling": sweep.rescaling(),
             "proportional": prop, "slope": (slope, slope_se), "shuffling": sweep.shuffling()}
    return parts, sweep


def run(cfg: Config, ctx: Context) -> Result:
    parts, sweep = _chains(cfg, ctx)
    parts["occupation"] = occupations(cfg, ctx)
    parts["escape"], escape_arrays = escapes(cfg, ctx)
    parts["network"] = network(cfg, ctx)
    lam = (sweep.lam_min, sweep.lam_max)
    p = sweep.problem
    data = {**parts, "lambda": list(lam), "hessian": p.hessian.tolist(),
            "noise": p.noise.tolist(), "optimum": p.optimum.tolist(),
            "runs": list(sweep.runs.values())}
    net = parts["network"]["runs"]
    summary = {"lambda_min": lam[0], "lambda_max": lam[1],
               "crossover_temperature": parts["occupation"]["wells"]["deep_narrow"]["crossover"],
               "shuffled_over_replacement": [r["measured"] for r in parts["shuffling"]],
               "proportional_exponent": parts["slope"][0],
               **{f"lambda_max {r['name']}": r["lambda_max"] for r in net},
               "n_train": parts["network"]["n_train"], "source": parts["network"]["source"]}
    return Result(claims=claims(cfg, parts), summary=summary, data=data,
                  arrays={**sweep.finals, **escape_arrays}, tables=tables(parts, lam))
