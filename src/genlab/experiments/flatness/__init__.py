"""Lecture section 3 (the continued mystery): flat minima and the ReLU rescaling.

Claim 1 (Keskar, Mudigere, Nocedal, Smelyanskiy & Tang 2017, "On large-batch
training for deep learning: generalization gap and sharp minima", ICLR,
arXiv:1609.04836): the same network trained with Adam on large batches (10% of the
training set) ends in a sharper minimum than on small batches, although both reach
about the same training loss: its ε-sharpness (the largest relative rise of the
training loss in a box of relative size ε around the weights, their metric (3)) is one
to two orders of magnitude larger (Table 3), and it generalizes worse (Table 2: the
fully connected MNIST network F1 reaches 98.03% test accuracy with small batches
and 97.81% with large ones).

A sharpness comparison only means something between minima of the same training
loss (the Hessian of the cross-entropy shrinks as the loss goes to 0). So every run
here stops when its loss on the whole training set first falls below the same target
(``target_loss``, checked every ``check_every`` epochs, at most ``max_epochs``), and
the run reports the epochs each regime needed and the loss it reached. A run that
misses the target fails the ``equal_training_loss`` claim, and the comparison claims
say that they compare unequal minima. Each comparison is repeated for ``seeds`` pairs
(one initialization per pair, shared by its two runs), as Keskar report 5 trials.

Claim 2 (Dinh, Pascanu, Bengio & Bengio 2017, "Sharp minima can generalize for deep
nets", ICML, arXiv:1703.04933, §4): for a ReLU network the α-scale transformation
W1 → αW1, b1 → αb1, W2 → W2/α leaves the function unchanged, yet moves the naive
sharpness measures (the Hessian's λ_max, ε-sharpness) by as much as one likes; a
flatness that should predict generalization must be reparametrization-invariant, e.g.
the loss rise along filter-normalized directions (Li, Xu, Taylor, Studer & Goldstein
2018, "Visualizing the loss landscape of neural nets", NeurIPS, arXiv:1712.09913).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ...train import OptimizerConfig
from ..base import ClaimSpec, Experiment, ExperimentConfig

__all__ = ["CLAIMS", "EXPERIMENT", "PROFILES", "Config"]


class Config(ExperimentConfig):
    data_dir: str | None = Field(None, description="directory of the full MNIST IDX files; "
                                 "None = the 5,000 embedded digits")
    n_train: int | None = Field(4000, ge=32, description="training examples (None = all)")
    n_test: int | None = Field(1000, ge=32, description="test examples (None = all)")
    model: Literal["mlp", "cnn"] = Field("mlp", description="architecture: ReLU MLP or the "
                                         "lecture CNN (808,666 parameters)")
    hidden: list[int] = Field([256], min_length=1, description="hidden widths of the MLP")
    optimizer: OptimizerConfig = Field(OptimizerConfig(name="adam", lr=1e-3),
                                       description="optimizer of both regimes (Keskar: Adam)")
    small_batch: int = Field(16, ge=1, description="batch size of the small-batch (SB) runs "
                             "(Keskar: 256 of 60,000 = 0.4% of the training set)")
    large_batch: int = Field(400, ge=1, description="batch size of the large-batch (LB) runs "
                             "(Keskar: 10% of the training set)")
    target_loss: float = Field(0.01, gt=0, description="mean cross-entropy on the whole "
                               "training set at which a run stops (both regimes)")
    max_epochs: float = Field(600, gt=0, description="epoch cap of a run that does not reach "
                              "target_loss")
    check_every: float = Field(0.25, gt=0, description="epochs between two evaluations of the "
                               "training loss (the stopping test)")
    seeds: int = Field(5, ge=1, description="SB/LB pairs, each from its own initialization "
                       "(Keskar: 5 trials)")
    n_measure: int | None = Field(None, ge=16, description="training examples the measures "
                                  "see (None = the whole training set, Keskar's f)")
    measure_batch: int = Field(1000, ge=1, description="batch size of the measure passes "
                               "(memory only: the measures average over all batches)")
    epsilons: list[float] = Field([1e-3, 5e-4], min_length=1, description="Keskar's box sizes "
                                  "ε (relative); the first is the one the claims use")
    sharp_iter: int = Field(10, ge=1, description="L-BFGS-B iterations of ε-sharpness "
                            "(Keskar: 10)")
    sharp_restarts: int = Field(3, ge=1, description="random starts of the ε-sharpness "
                                "maximization, the largest rise kept (Keskar: one)")
    eig_tol: float = Field(1e-3, gt=0, description="relative residual of the Lanczos λ_max")
    trace_samples: int = Field(30, ge=2, description="Hutchinson probes for tr(H) (first pair)")
    fn_radius: float = Field(0.2, gt=0, description="largest step t along a filter-normalized "
                             "direction (invariant sharpness)")
    fn_directions: int = Field(8, ge=2, description="filter-normalized directions")
    slq_vectors: int = Field(3, ge=1, description="probe vectors of the spectral density")
    slq_steps: int = Field(40, ge=2, description="Lanczos steps per probe of the density")
    interp_points: int = Field(31, ge=3, description="points of the SB→LB line, t ∈ [−1, 2] "
                               "(Keskar Fig. 3)")
    alphas: list[float] = Field([1e-2, 1e-1, 1.0, 1e1, 1e2], min_length=3,
                                description="rescaling factors α of Dinh's transformation "
                                "(must include 1, the reference)")

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        if 1.0 not in self.alphas:
            raise ValueError("alphas must include 1.0 (the reference of the invariance claim)")
        if self.small_batch >= self.large_batch:
            raise ValueError("small_batch must be smaller than large_batch")
        if self.model == "cnn" and self.hidden != [256]:
            raise ValueError("hidden applies to the MLP only; the CNN is the lecture's")
        return self


PROFILES = {
    "quick": {"n_train": 1000, "n_test": 500, "hidden": [64], "small_batch": 16,
              "large_batch": 100, "seeds": 1, "epsilons": [1e-3], "trace_samples": 10,
              "fn_directions": 4, "slq_vectors": 2, "slq_steps": 20, "interp_points": 13},
    "default": {},
    "full": {"data_dir": "data/mnist", "n_train": None, "n_test": None, "hidden": [512, 512],
             "small_batch": 256, "large_batch": 6000, "seeds": 5, "n_measure": 10000},
}

_KESKAR = "Keskar et al. 2017"
_DINH = "Dinh, Pascanu, Bengio & Bengio 2017, §4"
#: Keskar's Table 3 (full space, ε = 1e-3 and 5e-4), network F1 (fully connected, MNIST).
KESKAR_F1_SHARPNESS = {1e-3: (1.23, 205.14), 5e-4: (0.61, 42.90)}
#: Keskar's Table 2, network F1: (train SB, train LB, test SB, test LB) accuracy in %.
KESKAR_F1_ACCURACY = (99.66, 99.92, 98.03, 97.81)

EQUAL_LOSS = ClaimSpec(
    "equal_training_loss", "both regimes reach the same training loss: every run's "
    "cross-entropy on the training set falls below the target (threshold = target_loss)",
    "<=", 0.01, paper=f"{_KESKAR}, §2.1 and Table 2",
    paper_value="\"large-batch methods usually yield a similar value of the training "
    "function\"; F1 train accuracy 99.66% (SB), 99.92% (LB)")
LB_SHARPER = ClaimSpec(
    "lb_sharper", "at equal training loss the large-batch minimum is sharper: ε-sharpness "
    "LB/SB > 1 (geometric mean over pairs, ε = first of epsilons)", ">", 1.0,
    paper=f"{_KESKAR}, Table 3 and Fig. 3",
    paper_value="F1, ε = 1e-3: SB 1.23 ± 0.83, LB 205.14 ± 69.52 (LB sharper in all six "
    "networks)")
LB_MUCH_SHARPER = ClaimSpec(
    "lb_sharper_10x", "the difference is 1–2 orders of magnitude: ε-sharpness LB/SB ≥ 10 "
    "(geometric mean over pairs)", ">=", 10.0, paper=f"{_KESKAR}, Table 3",
    paper_value="\"a 1-2 order-of-magnitude difference\"; F1 ratio 167 (ε = 1e-3), 70 "
    "(ε = 5e-4)", min_profile="full")
LB_WORSE = ClaimSpec(
    "lb_generalizes_worse", "large batches generalize worse (the generalization gap): test "
    "accuracy SB − LB > 0 percentage points (mean over pairs)", ">", 0.0,
    paper=f"{_KESKAR}, Table 2",
    paper_value="F1 test accuracy 98.03 ± 0.07% (SB) vs 97.81 ± 0.07% (LB): gap 0.22 "
    "points; up to 5 points on the other networks", min_profile="default")
SAME_FUNCTION = ClaimSpec(
    "rescaling_keeps_function", "the rescaled network computes the same function: "
    "max |f_α(x) − f(x)| / max |f(x)| ≤ 1e-5 (float32 rounding)", "<=", 1e-5, paper=_DINH,
    paper_value="T_α(θ1, θ2) = (αθ1, θ2/α) gives an observationally equivalent network")
LAMBDA_MOVES = ClaimSpec(
    "naive_sharpness_moves", "rescaling moves the Hessian's λ_max by ≥ 100× (max/min over α)",
    ">=", 100.0, paper=_DINH,
    paper_value="the spectral norm of the Hessian can be made arbitrarily large by the "
    "choice of α, the function unchanged")
EPS_MOVES = ClaimSpec(
    "eps_sharpness_moves", "rescaling moves ε-sharpness by ≥ 10× (max/min over α)", ">=",
    10.0, paper=_DINH,
    paper_value="ε-sharpness (Keskar's metric) of an equivalent network can be made large "
    "by the choice of α")
INVARIANT = ClaimSpec(
    "invariant_measure_fixed", "filter-normalized sharpness changes ≤ 1% under rescaling "
    "(max relative deviation from α = 1)", "<=", 0.01,
    paper="Li, Xu, Taylor, Studer & Goldstein 2018, §4 (filter normalization)",
    paper_value="filter-normalized directions remove the scale invariance of ReLU networks")
CLAIMS = (EQUAL_LOSS, LB_SHARPER, LB_MUCH_SHARPER, LB_WORSE, SAME_FUNCTION, LAMBDA_MOVES,
          EPS_MOVES, INVARIANT)

EXPERIMENT = Experiment(
    name="flatness", title="Flat minima and the ReLU rescaling", section="3",
    claim="at equal training loss, large batches find sharper minima that generalize worse; "
          "rescaling a ReLU net changes naive sharpness but not the function",
    config=Config, profiles=PROFILES, run=f"{__name__}.run:run",
    figures=f"{__name__}.figures:figures", claims=CLAIMS)
