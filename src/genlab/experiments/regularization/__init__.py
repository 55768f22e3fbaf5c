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

from pydantic import Field

from ..base import ClaimSpec, Experiment, ExperimentConfig

__all__ = ["CLAIMS", "EXPERIMENT", "PROFILES", "Config"]


class Config(ExperimentConfig):
    n_train: int = Field(12, ge=2, description="training points per draw")
    n_test: int = Field(1000, ge=10, description="test points")
    noise: float = Field(0.3, ge=0, description="std of the Gaussian noise on y")
    max_degree: int = Field(11, ge=3, le=40, description="largest polynomial degree")
    decays: list[float] = Field([0.0, 1e-5, 1e-3, 1e-1], min_length=2,
                                description="weight-decay coefficients λ of the sweep; the "
                                "first is the 'no decay' case, the largest the 'strong' one")
    draws: int = Field(30, ge=2, description="independent training sets averaged per point")


PROFILES = {"quick": {"draws": 10}, "default": {}, "full": {"draws": 200}}

_BISHOP = "Bishop 2006, Pattern Recognition and Machine Learning, §1.1"
TRAIN_FALLS = ClaimSpec(
    "train_falls", "without decay, training error falls with the degree", "<=", -0.9,
    paper=_BISHOP + ", Fig. 1.5", paper_value="training RMS error falls to 0 at M = 9")
TEST_U_SHAPE = ClaimSpec(
    "test_u_shape", "without decay, test error is U-shaped in the degree (ends ≥ 2× the "
    "best)", ">=", 2.0, paper=_BISHOP + ", Fig. 1.5",
    paper_value="test RMS error low for M = 3…8, large at M = 0 and M = 9")
DECAY_FLATTENS = ClaimSpec(
    "decay_flattens", "with strong decay, test error barely depends on the degree "
    "(worst/best median test MSE over degrees ≥ 3 ≤ 1.5)", "<=", 1.5,
    paper=_BISHOP + ", Fig. 1.7–1.8 and Table 1.2",
    paper_value="with ln λ = −18 the M = 9 fit is as good as M = 3; coefficients shrink "
    "from 10⁵ to < 1")
CLAIMS = (TRAIN_FALLS, TEST_U_SHAPE, DECAY_FLATTENS)

EXPERIMENT = Experiment(
    name="regularization", title="Under/over-fitting and weight decay", section="2",
    claim="test error is U-shaped in model degree; strong weight decay makes it nearly "
          "degree-independent",
    config=Config, profiles=PROFILES, run=f"{__name__}.run:run",
    figures=f"{__name__}.figures:figures", claims=CLAIMS)
