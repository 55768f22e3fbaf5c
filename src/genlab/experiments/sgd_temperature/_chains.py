"""Parts 1–2: SGD chains on the least-squares line fit against the Lyapunov solutions.

Every (ηλ_max, B, sampling) setting is simulated once (:class:`Sweep` caches them), so
the Lyapunov sweep, the η/B rescaling and the η/B proportionality share their runs.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor

from ...data import linear_regression
from ...dynamics import (
    LeastSquares,
    least_squares,
    lyapunov_continuous,
    lyapunov_discrete,
    lyapunov_shuffled,
    sgd_least_squares,
)
from ..base import Context
from . import Config

__all__ = ["Sweep", "line_fit"]

#: Final chain positions kept per run, for the scatter under the ellipses.
_KEEP = 400


def line_fit(cfg: Config, ctx: Context) -> LeastSquares:
    """The descent section's data, y = 2x − 1 + ε with x ~ U(0, 2), as a quadratic in
    w = (a, b) with loss mean ½(a·x + b − y)²."""
    x, y = linear_regression(cfg.n, 2.0, -1.0, cfg.noise, ctx.seed_for("data"),
                             interval=(0.0, 2.0), dtype=torch.float64)  # (n, 1) each
    design = torch.cat([x, torch.ones_like(x)], 1)  # (n, 2)
    return least_squares(design, y.reshape(-1))


def _relative(a: Tensor, b: Tensor) -> float:
    return float((a - b).norm() / b.norm())


def _odd(v: float) -> int:
    """An odd stride near ``v``: with N/B a power of 2 it visits every phase of an epoch."""
    return 2 * max(0, int(v) // 2) + 1


class Sweep:
    """SGD chains on ``problem``, one run per (ηλ_max, B, with replacement or not)."""

    def __init__(self, cfg: Config, ctx: Context, problem: LeastSquares):
        self.cfg, self.ctx, self.problem = cfg, ctx, problem
        lam = torch.linalg.eigvalsh(problem.hessian)
        self.lam_min, self.lam_max = float(lam[0]), float(lam[-1])
        self.runs: dict[tuple, dict] = {}
        self.finals: dict[str, np.ndarray] = {}

    def get(self, eta_lambda: float, batch_size: int, replacement: bool = True) -> dict:
        """The record of one setting (simulated on first request)."""
        key = (round(eta_lambda, 10), batch_size, replacement)
        if key not in self.runs:
            self.runs[key] = self._simulate(*key)
            self.ctx.log({"part": "chains", **{k: v for k, v in self.runs[key].items()
                                                if not isinstance(v, dict)}})
        return self.runs[key]

    def _simulate(self, eta_lambda: float, batch_size: int, replacement: bool) -> dict:
        cfg, p = self.cfg, self.problem
        lr = eta_lambda / self.lam_max
        tau = 1.0 / (lr * self.lam_min)  # slowest relaxation time, in steps
        burn, rec = math.ceil(cfg.burn_in * tau), math.ceil(cfg.record * tau)
        gen = self.ctx.generator("chains", eta_lambda, batch_size, replacement)
        ch = sgd_least_squares(p, lr, batch_size, chains=cfg.chains, steps=burn + rec,
                               burn_in=burn, record_every=_odd(tau / 8),
                               replacement=replacement, generator=gen)
        self.finals[f"final_{eta_lambda:g}_{batch_size}_{int(replacement)}"] = (
            ch.final[:_KEEP].numpy())
        pred = self._predictions(lr, batch_size, replacement)
        cov = ch.covariance
        return {"eta_lambda": eta_lambda, "lr": lr, "batch_size": batch_size,
                "replacement": replacement, "steps": burn + rec, "records": ch.records,
                "ratio": lr / batch_size, "covariance": cov.tolist(),
                "covariance_stderr": ch.covariance_stderr.tolist(),
                "trace": float(torch.trace(cov)),
                "trace_stderr": float(ch.covariance_stderr.diagonal().sum()),
                "stderr_rel": float(ch.covariance_stderr.norm() / cov.norm()),
                "predictions": {k: v.tolist() for k, v in pred.items()},
                "traces": {k: float(torch.trace(v)) for k, v in pred.items()},
                "errors": {k: _relative(cov, v) for k, v in pred.items()}}

    def _predictions(self, lr: float, batch_size: int, replacement: bool) -> dict[str, Tensor]:
        """Continuous and discrete Lyapunov solutions, the exact with-replacement one
        (multiplicative noise included) and, without replacement, the shuffled one."""
        h, c, p = self.problem.hessian, self.problem.noise, self.problem
        out = {"continuous": lyapunov_continuous(h, c, lr, batch_size),
               "discrete": lyapunov_discrete(h, c, lr, batch_size),
               "exact": p.stationary_covariance(lr, batch_size)}
        if not replacement:
            out["shuffled"] = lyapunov_shuffled(h, c, lr, batch_size, len(p.y))
        return out

    # the four groups of runs -------------------------------------------------------------

    def lyapunov(self) -> list[dict]:
        """The sweep over ηλ_max at B = batch_size, with replacement."""
        return [self.get(e, self.cfg.batch_size) for e in
                self.ctx.track(self.cfg.eta_lambda, "Lyapunov sweep")]

    def rescaling(self, factor: int = 4) -> list[dict]:
        """(η, B) → (factor·η, factor·B): tr Σ ratio measured and predicted."""
        rows = []
        for b in self.cfg.rescale_batches:
            for e in self.cfg.rescale_eta_lambda:
                base, big = self.get(e, b), self.get(factor * e, factor * b)
                rows.append({"eta_lambda": e, "batch_size": b, "factor": factor,
                             "lr": base["lr"], "measured": big["trace"] / base["trace"],
                             "measured_stderr": _ratio_se(big, base),
                             **{k: big["traces"][k] / base["traces"][k]
                                for k in ("continuous", "discrete", "exact")}})
        return rows

    def proportional(self) -> tuple[list[dict], float, float]:
        """η/B halved and doubled around (proportional_eta_lambda, batch_size), by η and by
        B: the runs and the fitted exponent of tr Σ in η/B with its standard error."""
        e, b = self.cfg.proportional_eta_lambda, self.cfg.batch_size
        settings = [(e / 2, b), (e, b), (2 * e, b)] + [(e, bb) for bb in (b // 2, 2 * b)
                                                       if bb >= 1]
        runs = [self.get(*s) for s in settings]
        x = np.log([r["ratio"] for r in runs])
        y = np.log([r["trace"] for r in runs])
        w = 1.0 / np.array([r["trace_stderr"] / r["trace"] for r in runs])
        (slope, _), cov = np.polyfit(x, y, 1, w=w, cov="unscaled")
        return runs, float(slope), float(np.sqrt(cov[0, 0]))

    def shuffling(self) -> list[dict]:
        """Per-epoch shuffling against the with-replacement and the shuffled predictions."""
        rows = []
        for b in self.cfg.shuffle_batches:
            for e in self.cfg.shuffle_eta_lambda:
                r = self.get(e, b, replacement=False)
                rows.append({"eta_lambda": e, "batch_size": b, "lr": r["lr"],
                             "epoch_steps": self.cfg.n // b,
                             "relaxation_steps": 1 / (r["lr"] * self.lam_min),
                             "measured": r["trace"] / r["traces"]["exact"],
                             "measured_stderr": r["trace_stderr"] / r["traces"]["exact"],
                             "predicted": r["traces"]["shuffled"] / r["traces"]["exact"],
                             "error": r["errors"]["shuffled"]})
        return rows


def _ratio_se(a: dict, b: dict) -> float:
    """Standard error of tr_a / tr_b from independent runs (first order)."""
    q = a["trace"] / b["trace"]
    return q * math.hypot(a["trace_stderr"] / a["trace"], b["trace_stderr"] / b["trace"])
