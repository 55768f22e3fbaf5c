"""Lecture section 1: gradient descent, minibatch SGD and online learning.

Claim: on the least-squares loss E(a, b) = mean (a·x + b − y)² of a line fit,
full-batch gradient descent converges to the least-squares solution, while
minibatch SGD (M = 8) and online SGD (M = 1) keep fluctuating around it; the
spread of their late iterates grows with the learning rate η and shrinks with
the batch size M (for small η it scales like √(η/M), the Ornstein–Uhlenbeck
picture of SGD; Mandt, Hoffman & Blei 2017).
"""

from __future__ import annotations

import numpy as np
import torch
from pydantic import Field
from scipy.stats import spearmanr

from ..data import linear_regression
from ..runs import RunRecord
from ..train import make_optimizer, train
from .base import Context, Experiment, ExperimentConfig, Result, check

__all__ = ["EXPERIMENT", "Config", "figures", "run"]


class Config(ExperimentConfig):
    n: int = Field(200, ge=8, description="number of (x, y) samples, x ~ U(0, 2)")
    slope: float = Field(2.0, description="true slope a of y = a·x + b")
    intercept: float = Field(-1.0, description="true intercept b")
    noise: float = Field(0.5, gt=0, description="std of the Gaussian noise on y")
    start: tuple[float, float] = Field((-2.0, 3.0), description="initial (a, b)")
    lr: float = Field(0.1, gt=0, lt=0.4, description="learning rate η of all three methods")
    gd_steps: int = Field(1000, ge=1, description="full-batch gradient-descent steps")
    epochs: int = Field(3, ge=1, description="epochs of minibatch (M=8) and online (M=1) SGD")
    lrs: list[float] = Field([0.01, 0.03, 0.1], min_length=2,
                             description="learning rates of the spread sweep (at M = 8)")
    batch_sizes: list[int] = Field([1, 4, 16], min_length=2,
                                   description="batch sizes M of the spread sweep (at η = lr)")
    spread_steps: int = Field(3000, ge=100, description="SGD steps per spread measurement")


PROFILES = {"quick": {"spread_steps": 1500}, "default": {}, "full": {"n": 1000,
                                                                    "spread_steps": 20000}}


def _line(start: tuple[float, float], dtype=torch.float64) -> torch.nn.Linear:
    model = torch.nn.Linear(1, 1, dtype=dtype)
    with torch.no_grad():
        model.weight.fill_(start[0])
        model.bias.fill_(start[1])
    return model


def _mse(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return torch.mean((out.squeeze(-1) - y) ** 2)


def _sgd_path(ctx: Context, x, y, *, lr: float, batch_size: int | None,
              steps: int, start, name: str) -> np.ndarray:
    """Run plain SGD from ``start`` and return the iterates (a, b), shape (steps + 1, 2)."""
    model = _line(start).to(ctx.device)
    path = [start]

    def record(step: int, loss: torch.Tensor) -> None:
        path.append((model.weight.item(), model.bias.item()))

    train(model, x, y, optimizer=make_optimizer(model.parameters(), "sgd", lr),
          steps=steps, batch_size=batch_size, loss_fn=_mse, accuracy=False,
          generator=ctx.generator(name), on_step=record)
    return np.asarray(path)


def _spread(path: np.ndarray, optimum: np.ndarray) -> float:
    """RMS distance of the second half of the iterates from the optimum."""
    tail = path[len(path) // 2:]
    return float(np.sqrt(np.mean(np.sum((tail - optimum) ** 2, axis=1))))


def run(cfg: Config, ctx: Context) -> Result:
    x, y = linear_regression(cfg.n, cfg.slope, cfg.intercept, cfg.noise, ctx.seed_for("data"),
                             interval=(0.0, 2.0), dtype=torch.float64)  # (n, 1) each
    x64, y64 = x.reshape(-1), y.reshape(-1)
    design = np.stack([x64.numpy(), np.ones(cfg.n)], axis=1)  # (n, 2)
    optimum = np.linalg.lstsq(design, y64.numpy(), rcond=None)[0]
    xs, ys = x64.reshape(-1, 1).to(ctx.device), y64.to(ctx.device)

    paths = {"GD": _sgd_path(ctx, xs, ys, lr=cfg.lr, batch_size=None,
                             steps=cfg.gd_steps, start=cfg.start, name="gd"),
             "minibatch M=8": _sgd_path(ctx, xs, ys, lr=cfg.lr, batch_size=8,
                                        steps=cfg.epochs * cfg.n // 8, start=cfg.start,
                                        name="mb"),
             "online M=1": _sgd_path(ctx, xs, ys, lr=cfg.lr, batch_size=1,
                                     steps=cfg.epochs * cfg.n, start=cfg.start, name="online")}
    gd_error = float(np.linalg.norm(paths["GD"][-1] - optimum) / np.linalg.norm(optimum))

    sweep = {"lr": [], "batch": []}
    for lr in ctx.track(cfg.lrs, "spread vs η"):
        p = _sgd_path(ctx, xs, ys, lr=lr, batch_size=8, steps=cfg.spread_steps,
                      start=tuple(optimum), name=("lr", lr))
        sweep["lr"].append({"lr": lr, "batch_size": 8, "spread": _spread(p, optimum)})
    for m in ctx.track(cfg.batch_sizes, "spread vs M"):
        p = _sgd_path(ctx, xs, ys, lr=cfg.lr, batch_size=m, steps=cfg.spread_steps,
                      start=tuple(optimum), name=("batch", m))
        sweep["batch"].append({"lr": cfg.lr, "batch_size": m, "spread": _spread(p, optimum)})
    for rec in sweep["lr"] + sweep["batch"]:
        ctx.log(rec)

    s_lr = [r["spread"] for r in sweep["lr"]]
    s_m = [r["spread"] for r in sweep["batch"]]
    rho_lr = spearmanr(cfg.lrs, s_lr).statistic if len(set(s_lr)) > 1 else 0.0
    rho_m = spearmanr(cfg.batch_sizes, s_m).statistic if len(set(s_m)) > 1 else 0.0
    claims = [
        check("gd_converges", "GD reaches the least-squares solution (numpy.linalg.lstsq)",
              gd_error, "<=", 1e-6, "relative distance ‖θ_GD − θ*‖/‖θ*‖ after "
              f"{cfg.gd_steps} steps"),
        check("spread_grows_with_lr", "the spread of late SGD iterates grows with η",
              rho_lr, ">=", 1.0, "Spearman ρ(η, spread) at M = 8; spreads "
              + ", ".join(f"{s:.3g}" for s in s_lr)),
        check("spread_shrinks_with_batch", "the spread of late SGD iterates shrinks with M",
              rho_m, "<=", -1.0, "Spearman ρ(M, spread) at η = lr; spreads "
              + ", ".join(f"{s:.3g}" for s in s_m)),
    ]
    sxx, sx = float(np.mean(design[:, 0] ** 2)), float(np.mean(design[:, 0]))
    yv = y64.numpy()
    moments = {"xx": sxx, "x": sx, "xy": float(np.mean(design[:, 0] * yv)),
               "y": float(np.mean(yv)), "yy": float(np.mean(yv ** 2))}
    stride = {k: max(1, len(p) // 600) for k, p in paths.items()}
    return Result(
        claims=claims,
        summary={"optimum_a": optimum[0], "optimum_b": optimum[1], "gd_rel_error": gd_error,
                 "spread_by_lr": dict(zip(map(str, cfg.lrs), s_lr)),
                 "spread_by_batch": dict(zip(map(str, cfg.batch_sizes), s_m))},
        data={"optimum": optimum, "moments": moments, "sweep": sweep,
              "paths": {k: p[::stride[k]] for k, p in paths.items()}, "stride": stride})


def _loss(m: dict, a, b):
    """E(a, b) from the data's moments; works elementwise on arrays."""
    return (a * a * m["xx"] + 2 * a * b * m["x"] + b * b - 2 * a * m["xy"] - 2 * b * m["y"]
            + m["yy"])


def figures(record: RunRecord) -> dict:
    import matplotlib.pyplot as plt

    d = record.data
    m, opt = d["moments"], np.asarray(d["optimum"])
    paths = {k: np.asarray(p) for k, p in d["paths"].items()}
    pts = np.concatenate(list(paths.values()))
    lo, hi = pts.min(0) - 0.5, pts.max(0) + 0.5
    a, b = np.meshgrid(np.linspace(lo[0], hi[0], 200), np.linspace(lo[1], hi[1], 200))
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    ax.contour(a, b, _loss(m, a, b), levels=np.geomspace(0.3, 40, 20), cmap="Greys", alpha=.7)
    for (name, p), c in zip(paths.items(), ["C0", "C1", "C3"]):
        ax.plot(p[:, 0], p[:, 1], ".-", ms=2, lw=0.8, color=c, label=name)
        steps = np.arange(len(p)) * d["stride"][name]
        ax2.semilogy(steps + 1, _loss(m, p[:, 0], p[:, 1]) - _loss(m, *opt) + 1e-16,
                     color=c, label=name)
    ax.plot(*opt, "k*", ms=12, label="least squares")
    ax.set(xlabel="slope a", ylabel="intercept b", title="E(a, b) and the three methods")
    ax.legend(fontsize=8)
    ax2.set(xlabel="step", ylabel="E(θ_t) − E(θ*)", title="excess loss")
    ax2.legend(fontsize=8)
    fig2, axs = plt.subplots(1, 2, figsize=(9, 3.6))
    for ax, key, var in zip(axs, ["lr", "batch"], ["lr", "batch_size"]):
        v = np.array([r[var] for r in d["sweep"][key]], float)
        s = np.array([r["spread"] for r in d["sweep"][key]])
        ax.loglog(v, s, "o-", label="measured")
        ax.loglog(v, s[0] * np.sqrt(v / v[0]) ** (1 if key == "lr" else -1), "k--",
                  label="∝ √η" if key == "lr" else "∝ 1/√M")
        ax.set(xlabel="η" if key == "lr" else "M", ylabel="RMS ‖θ_t − θ*‖ (late iterates)")
        ax.legend()
    fig2.suptitle("SGD's stationary spread around the minimum")
    fig2.tight_layout()
    return {"trajectories": fig, "spread": fig2}


EXPERIMENT = Experiment(
    name="descent", title="Gradient descent, minibatch and online SGD", section="1",
    claim="GD converges to least squares; SGD fluctuates around it, more for larger η, "
          "less for larger M",
    config=Config, profiles=PROFILES, run=run, figures=figures)
