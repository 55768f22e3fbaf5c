"""Lecture section 2: under- and over-fitting, and weight decay.

Claim: fitting y = sin(2πx) + noise from a few points with polynomials of growing
degree, the training error keeps falling while the test error is U-shaped
(underfit → fit → overfit); with a strong weight decay (an L2 penalty on the
coefficients) the test error barely depends on the degree any more (Bishop 2006,
*Pattern Recognition and Machine Learning*, §1.1).

Each fit is the exact minimizer of mean (Φw − y)² + λ‖w‖², the point that gradient
descent with weight decay λ converges to; features are Legendre polynomials of
the rescaled input, so high degrees stay well conditioned. Every point on the
curves is a mean ± std over independent draws of the training set.
"""

from __future__ import annotations

import numpy as np
import torch
from pydantic import Field
from scipy.stats import spearmanr

from ..data import polynomial_regression, target_function
from ..runs import RunRecord
from .base import Context, Experiment, ExperimentConfig, Result, check

__all__ = ["EXPERIMENT", "Config", "features", "figures", "ridge_fit", "run"]


class Config(ExperimentConfig):
    n_train: int = Field(12, ge=2, description="training points per draw")
    n_test: int = Field(1000, ge=10, description="test points")
    noise: float = Field(0.3, ge=0, description="std of the Gaussian noise on y")
    max_degree: int = Field(11, ge=3, le=40, description="largest polynomial degree")
    decays: list[float] = Field([0.0, 1e-5, 1e-3, 1e-1], min_length=2,
                                description="weight-decay coefficients λ of the sweep; the "
                                "first is the 'no decay' case, the largest the 'strong' one")
    draws: int = Field(30, ge=2, description="independent training sets averaged per point")
    flat_ratio: float = Field(1.5, gt=1, description="claim threshold: worst/best median "
                              "test MSE over degrees ≥ 3 under the strongest decay")


PROFILES = {"quick": {"draws": 10}, "default": {}, "full": {"draws": 200}}


def features(x: np.ndarray, degree: int) -> np.ndarray:
    """Legendre features P_0..P_degree of x ∈ [0, 1] mapped to [−1, 1], shape (N, degree + 1)."""
    return np.polynomial.legendre.legvander(2 * np.asarray(x).reshape(-1) - 1, degree)


def ridge_fit(phi: np.ndarray, y: np.ndarray, decay: float) -> np.ndarray:
    """argmin_w mean (Φw − y)² + λ‖w‖² (minimum-norm least squares when λ = 0)."""
    n, p = phi.shape
    if decay == 0:
        return np.linalg.lstsq(phi, y, rcond=None)[0]
    aug = np.vstack([phi, np.sqrt(n * decay) * np.eye(p)])
    return np.linalg.lstsq(aug, np.concatenate([y, np.zeros(p)]), rcond=None)[0]


def _mse(phi: np.ndarray, w: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((phi @ w - y) ** 2))


def run(cfg: Config, ctx: Context) -> Result:
    degrees = np.arange(cfg.max_degree + 1)
    train = np.zeros((len(cfg.decays), len(degrees), cfg.draws))  # (λ, degree, draw)
    test = np.zeros_like(train)
    for r in ctx.track(range(cfg.draws), "draws", total=cfg.draws):
        data = polynomial_regression(cfg.n_train, cfg.n_test, "sin", cfg.noise,
                                     ctx.seed_for("data", r))
        xtr, ytr = data.x_train.double().numpy().ravel(), data.y_train.double().numpy().ravel()
        xte, yte = data.x_test.double().numpy().ravel(), data.y_test.double().numpy().ravel()
        for j, d in enumerate(degrees):
            ptr, pte = features(xtr, d), features(xte, d)
            for i, lam in enumerate(cfg.decays):
                w = ridge_fit(ptr, ytr, lam)
                train[i, j, r], test[i, j, r] = _mse(ptr, w, ytr), _mse(pte, w, yte)
    for i, lam in enumerate(cfg.decays):
        for j, d in enumerate(degrees):
            ctx.log({"decay": lam, "degree": int(d), "train_mse": train[i, j].mean(),
                     "test_mse": test[i, j].mean(), "test_mse_std": test[i, j].std()})

    tr0, te0 = np.median(train[0], 1), np.median(test[0], 1)  # no decay, median over draws
    best = int(np.argmin(te0))
    rho = spearmanr(degrees, tr0).statistic
    u_ratio = min(te0[0], te0[-1]) / te0[best]  # 1 when the best degree is an end: no U
    te_all = np.median(test, 2)[:, 3:]  # (λ, degree ≥ 3)
    ratios = te_all.max(1) / te_all.min(1)
    k = int(np.argmax(cfg.decays))
    flat, flat0 = float(ratios[k]), float(ratios[0])
    claims = [
        check("train_falls", "without decay, training error falls with the degree", rho, "<=",
              -0.9, "Spearman ρ(degree, median train MSE)"),
        check("test_u_shape", "without decay, test error is U-shaped in the degree", u_ratio,
              ">=", 2.0, f"min(test MSE at degree 0, at {cfg.max_degree}) / test MSE at the "
              f"best degree {best} (medians over {cfg.draws} draws); interior minimum: "
              f"{0 < best < cfg.max_degree}"),
        check("decay_flattens", "with strong decay, test error barely depends on the degree",
              flat, "<=", cfg.flat_ratio, f"worst/best median test MSE over degrees 3–"
              f"{cfg.max_degree} at the strongest λ = {cfg.decays[k]:g}; by λ: "
              + ", ".join(f"{lam:g}: {r:.3g}" for lam, r in zip(cfg.decays, ratios))),
    ]
    example = polynomial_regression(cfg.n_train, 2, "sin", cfg.noise, ctx.seed_for("data", 0))
    return Result(
        claims=claims,
        summary={"best_degree": best, "test_mse_best": te0[best], "u_ratio": u_ratio,
                 "flatness_ratio_strong_decay": flat, "flatness_ratio_no_decay": flat0},
        data={"degrees": degrees, "decays": cfg.decays, "noise": cfg.noise,
              "train_median": np.median(train, 2), "test_median": np.median(test, 2),
              "test_q25": np.quantile(test, 0.25, 2), "test_q75": np.quantile(test, 0.75, 2),
              "example": {"x": example.x_train.ravel(), "y": example.y_train.ravel()},
              "show_degrees": [1, min(3, cfg.max_degree), cfg.max_degree]})


def figures(record: RunRecord) -> dict:
    import matplotlib.pyplot as plt

    d = record.data
    degrees, decays = np.asarray(d["degrees"]), d["decays"]
    x, y = np.asarray(d["example"]["x"]), np.asarray(d["example"]["y"])
    grid = np.linspace(0, 1, 400)
    fig1, axs = plt.subplots(1, 3, figsize=(12, 3.4), sharey=True)
    for ax, deg in zip(axs, d["show_degrees"]):
        w = ridge_fit(features(x, deg), y, 0.0)
        ax.plot(grid, target_function("sin")(torch.from_numpy(grid)).numpy(), "g--", lw=1,
                label="sin 2πx")
        ax.plot(grid, features(grid, deg) @ w, "C3", label=f"degree {deg}")
        ax.plot(x, y, "ko", ms=4)
        ax.set(ylim=(-1.8, 1.8), xlabel="x", title=["underfit", "fit", "overfit"][
            d["show_degrees"].index(deg)])
        ax.legend(fontsize=8, loc="lower left")
    fig1.tight_layout()
    fig2, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    tr, te = np.asarray(d["train_median"]), np.asarray(d["test_median"])
    q25, q75 = np.asarray(d["test_q25"]), np.asarray(d["test_q75"])
    a1.semilogy(degrees, tr[0], "o-", label="train")
    a1.semilogy(degrees, te[0], "s-", label="test")
    a1.fill_between(degrees, q25[0], q75[0], alpha=.2, color="C1")
    a1.axhline(d["noise"] ** 2, color="k", ls=":", label="noise variance")
    a1.set(xlabel="degree", ylabel="MSE (median over draws, IQR shaded)", title="no decay")
    a1.legend()
    for i, lam in enumerate(decays):
        a2.semilogy(degrees, te[i], "o-", label=f"λ = {lam:g}")
    a2.axhline(d["noise"] ** 2, color="k", ls=":")
    a2.set(xlabel="degree", title="test MSE under weight decay")
    a2.legend()
    fig2.tight_layout()
    return {"fits": fig1, "error_vs_degree": fig2}


EXPERIMENT = Experiment(
    name="regularization", title="Under/over-fitting and weight decay", section="2",
    claim="test error is U-shaped in model degree; strong weight decay makes it nearly "
          "degree-independent",
    config=Config, profiles=PROFILES, run=run, figures=figures)
