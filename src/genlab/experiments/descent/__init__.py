"""Lecture section 1: gradient descent, minibatch SGD and online learning.

Claim: on the least-squares loss E(a, b) = mean (a·x + b − y)² of a line fit,
full-batch gradient descent converges to the least-squares solution, while
minibatch SGD (M = 8) and online SGD (M = 1) keep fluctuating around it. Near the
minimum SGD behaves like an Ornstein–Uhlenbeck process whose stationary covariance
solves HΣ + ΣH = (η/M)·C (Mandt, Hoffman & Blei 2017, "Stochastic Gradient Descent
as Approximate Bayesian Inference", JMLR, arXiv:1704.04289, Eq. 14–15), so the
spread of the late iterates scales like √(η/M): exponent ½ in η and −½ in M.

The theory assumes small steps (ηλ_max ≪ 1), minibatches drawn with replacement and
chains long against the slowest relaxation time 1/(η·λ_min). The exponents are
fitted in that regime, from many chains started at the optimum; the run also
measures where the law breaks: with per-epoch shuffling (sampling without
replacement, the noise of one epoch sums to zero, so the spread is smaller and
falls faster with M) and at large ηλ_max (the discrete-time correction,
Σ ≈ Σ_continuous / (1 − ηλ/2) along each eigendirection, grows the spread faster
than √η).
"""

from __future__ import annotations

from pydantic import Field

from ..base import ClaimSpec, Experiment, ExperimentConfig

__all__ = ["CLAIMS", "EXPERIMENT", "PROFILES", "Config"]


class Config(ExperimentConfig):
    n: int = Field(200, ge=8, description="number of (x, y) samples, x ~ U(0, 2)")
    slope: float = Field(2.0, description="true slope a of y = a·x + b")
    intercept: float = Field(-1.0, description="true intercept b")
    noise: float = Field(0.5, gt=0, description="std of the Gaussian noise on y")
    start: tuple[float, float] = Field((-2.0, 3.0), description="initial (a, b)")
    lr: float = Field(0.1, gt=0, lt=0.4, description="learning rate η of the three "
                      "trajectories (GD, M = 8, M = 1)")
    gd_steps: int = Field(1000, ge=1, description="full-batch gradient-descent steps")
    epochs: int = Field(3, ge=1, description="epochs of the minibatch (M=8) and online (M=1) "
                        "trajectories")
    lrs: list[float] = Field([0.0025, 0.005, 0.01, 0.02], min_length=2,
                             description="learning rates of the spread-vs-η fit (at M = 4); "
                             "keep ηλ_max ≤ 0.1, where the continuous-time theory holds")
    batch_sizes: list[int] = Field([1, 4, 16], min_length=2,
                                   description="batch sizes M of the spread-vs-M fit "
                                   "(at η = sweep_lr)")
    sweep_lr: float = Field(0.01, gt=0, description="η of the spread-vs-M fit")
    large_lrs: list[float] = Field([0.05, 0.1, 0.2], min_length=1, description="larger η "
                                   "(ηλ_max up to ~0.9) showing where the √η law breaks")
    chains: int = Field(256, ge=2, description="independent SGD chains per setting")
    burn_in: float = Field(3.0, gt=0, description="steps discarded, in units of the slowest "
                           "relaxation time 1/(η·λ_min)")
    record: float = Field(5.0, gt=0, description="steps averaged after the burn-in, in "
                          "units of 1/(η·λ_min)")


PROFILES = {"quick": {"chains": 64, "burn_in": 2.0, "record": 3.0, "lrs": [0.005, 0.01, 0.02]},
            "default": {},
            "full": {"n": 1000, "chains": 1024, "record": 20.0}}

_MANDT = "Mandt, Hoffman & Blei 2017, Eq. 14–15 (OU stationary covariance)"
#: Tolerance on the fitted exponents, fixed before measuring.
EXPONENT_TOL = 0.1

GD_CONVERGES = ClaimSpec(
    "gd_converges", "GD reaches the least-squares solution (numpy.linalg.lstsq)", "<=", 1e-6,
    paper="Robbins & Monro 1951; any convex-optimization text",
    paper_value="GD with η < 2/λ_max converges linearly to the minimizer")
SPREAD_LR = ClaimSpec(
    "spread_exponent_lr", f"the spread of late SGD iterates grows like η^½ "
    f"(|fitted exponent − ½| ≤ {EXPONENT_TOL})", "<=", EXPONENT_TOL, paper=_MANDT,
    paper_value="Σ ∝ η/S: spread ∝ η^½ at fixed minibatch size S")
SPREAD_BATCH = ClaimSpec(
    "spread_exponent_batch", f"the spread of late SGD iterates shrinks like M^−½ "
    f"(|fitted exponent + ½| ≤ {EXPONENT_TOL})", "<=", EXPONENT_TOL, paper=_MANDT,
    paper_value="Σ ∝ η/S: spread ∝ S^−½ at fixed η")
CLAIMS = (GD_CONVERGES, SPREAD_LR, SPREAD_BATCH)

EXPERIMENT = Experiment(
    name="descent", title="Gradient descent, minibatch and online SGD", section="1",
    claim="GD converges to least squares; SGD fluctuates around it with a spread ∝ √(η/M)",
    config=Config, profiles=PROFILES, run=f"{__name__}.run:run",
    figures=f"{__name__}.figures:figures", claims=CLAIMS)
