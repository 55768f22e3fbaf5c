"""Run the regularization section: exact ridge fits of Legendre polynomials over many draws."""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from ...data import polynomial_regression
from ...models.polynomial import legendre_features as features
from ...models.polynomial import ridge_fit
from ..base import Context, Result
from . import DECAY_FLATTENS, TEST_U_SHAPE, TRAIN_FALLS, Config

__all__ = ["run"]


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
        TRAIN_FALLS(rho, "Spearman ρ(degree, median train MSE)"),
        TEST_U_SHAPE(u_ratio, f"min(test MSE at degree 0, at {cfg.max_degree}) / test MSE at the "
              f"best degree {best} (medians over {cfg.draws} draws); interior minimum: "
              f"{0 < best < cfg.max_degree}"),
        DECAY_FLATTENS(flat, f"worst/best median test MSE over degrees 3–"
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
