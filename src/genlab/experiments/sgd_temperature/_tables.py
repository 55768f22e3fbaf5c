"""The section's tables: Lyapunov errors, the temperature rescaling, shuffling, basins,
escape times and the network's (η, B) runs with their spreads."""

from __future__ import annotations

import math

from ..base import Table
from ._claims import spread

__all__ = ["tables"]


def _pm(v: float, se: float, fmt: str = ".3f") -> str:
    return f"{format(v, fmt)} ± {format(se, fmt)}"


def _lyapunov(runs: list[dict], lam: tuple[float, float]) -> Table:
    rows = [[r["eta_lambda"], r["lr"], r["batch_size"], r["steps"], r["trace"],
             r["errors"]["continuous"], r["errors"]["discrete"], r["errors"]["exact"],
             r["stderr_rel"]] for r in runs]
    return Table(caption=f"Stationary covariance of SGD chains on the line fit (λ_min "
                 f"{lam[0]:.3f}, λ_max {lam[1]:.3f}; minibatches with replacement) against the "
                 "continuous and discrete Lyapunov solutions and the exact solution with "
                 "least squares' multiplicative noise: relative Frobenius errors",
                 columns=["ηλ_max", "η", "B", "steps", "tr Σ measured", "error continuous",
                          "error discrete", "error exact", "Monte-Carlo s.e."], rows=rows)


def _rescaling(rows: list[dict]) -> Table:
    return Table(caption="η/B is the temperature: tr Σ(4η, 4B) / tr Σ(η, B), measured and "
                 "predicted (continuous: exactly 1)",
                 columns=["base ηλ_max", "base B", "4ηλ_max", "4B", "measured ratio",
                          "discrete", "exact (multiplicative noise)"],
                 rows=[[r["eta_lambda"], r["batch_size"], 4 * r["eta_lambda"],
                        4 * r["batch_size"], _pm(r["measured"], r["measured_stderr"]),
                        r["discrete"], r["exact"]] for r in rows])


def _proportional(runs: list[dict], slope: tuple[float, float]) -> Table:
    return Table(caption=f"tr Σ against η/B (halved and doubled by η and by B): fitted "
                 f"exponent {slope[0]:.3f} ± {slope[1]:.3f} (theory: 1)",
                 columns=["ηλ_max", "B", "η/B", "tr Σ measured", "tr Σ discrete"],
                 rows=[[r["eta_lambda"], r["batch_size"], r["ratio"],
                        _pm(r["trace"], r["trace_stderr"], ".3e"), r["traces"]["discrete"]]
                       for r in runs])


def _shuffling(rows: list[dict]) -> Table:
    return Table(caption="Per-epoch shuffling: tr Σ over the with-replacement prediction, "
                 "measured and from the epoch-correlated noise model "
                 "(genlab.dynamics.shuffling.lyapunov_shuffled)",
                 columns=["ηλ_max", "B", "steps per epoch", "slowest relaxation (steps)",
                          "measured / with replacement", "model / with replacement",
                          "error vs model"],
                 rows=[[r["eta_lambda"], r["batch_size"], r["epoch_steps"],
                        round(r["relaxation_steps"]), _pm(r["measured"], r["measured_stderr"]),
                        r["predicted"], r["error"]] for r in rows])


def _basins(occ: dict) -> Table:
    info = occ["wells"]
    rows = [[r["well"].replace("_", " "), r["temperature"], _pm(r["measured"], r["stderr"]),
             r["boltzmann"], r["laplace"]] for r in occ["rows"]]
    desc = "; ".join(f"{k.replace('_', ' ')}: minima at E = {_fmt(v['energies'])} with "
                     f"curvature {_fmt(v['curvatures'])}, barrier {v['barrier_narrow']:.3f} "
                     f"from the narrow minimum" for k, v in info.items())
    return Table(caption=f"Fraction of time in the wide basin: Langevin chains, exact "
                 f"Boltzmann mass and Laplace estimate ({desc}; crossover of the second well "
                 f"T* = {info['deep_narrow']['crossover']:.3f})",
                 columns=["well", "T", "measured", "Boltzmann (exact)", "Laplace"], rows=rows)


def _fmt(values: list[float]) -> str:
    return "(" + ", ".join(f"{round(v, 6) + 0.0:.3g}" for v in values) + ")"


def _escape(esc: dict) -> Table:
    rows = [[k, esc[k]["median"], esc[k]["mean_escaped"], esc[k]["escaped"],
             esc[k]["zhu_indicator"]] for k in ("isotropic", "hessian")]
    k = esc["sharp_curvature"]
    return Table(caption=f"Escape from the sharp basin (curvature diag({k[0]:g}, {k[1]:g}), barrier "
                 f"{esc['barrier']:.3f}) at T = {esc['temperature']:g}: isotropic noise "
                 f"against noise ∝ H of the same trace (time units; cap "
                 f"{esc['max_time']:g})",
                 columns=["noise", "median escape time", "mean (escaped)", "escaped",
                          "tr(H·D) (Zhu's indicator)"], rows=rows)


def _network(runs: list[dict]) -> Table:
    rows = [["GD" if r["gd"] else "SGD", r["lr"], r["batch_size"], r["ratio"], r["steps"],
             round(r["epochs"], 2), r["train_loss"], r["train_acc"], r["test_acc"],
             r["lambda_max"], 2 / r["lr"]] for r in runs]
    return Table(caption="MLP on MNIST trained from one initialization to the same training "
                 "loss: groups of equal η/B, and full-batch GD",
                 columns=["method", "η", "B", "η/B", "steps", "epochs", "train loss",
                          "train acc", "test acc", "λ_max", "2/η"], rows=rows)


def _spreads(runs: list[dict]) -> Table:
    sgd = [r for r in runs if not r["gd"]]
    rows = []
    for label, values in (("log λ_max", [math.log(r["lambda_max"]) for r in sgd]),
                          ("test accuracy", [r["test_acc"] for r in sgd])):
        for name, key in (("η/B", "factor"), ("η", "lr"), ("B", "batch_size")):
            between, within = spread(values, [r[key] for r in sgd])
            rows.append([label, name, between, within, between / within if within else None])
    return Table(caption="Spread between groups (std of group means) and within groups (mean "
                 "std) of the SGD runs, grouped by η/B, by η alone and by B alone",
                 columns=["quantity", "grouped by", "between", "within", "between / within"],
                 rows=rows)


def tables(parts: dict, lam: tuple[float, float]) -> dict[str, Table]:
    """name → :class:`~genlab.experiments.Table`."""
    net = parts["network"]["runs"]
    return {"lyapunov": _lyapunov(parts["lyapunov"], lam),
            "rescaling": _rescaling(parts["rescaling"]),
            "proportional": _proportional(parts["proportional"], parts["slope"]),
            "shuffling": _shuffling(parts["shuffling"]), "basins": _basins(parts["occupation"]),
            "escape": _escape(parts["escape"]), "network": _network(net),
            "network_spread": _spreads(net)}
