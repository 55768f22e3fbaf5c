"""Lecture section 3: the large-batch generalization gap and ultra-slow diffusion.

Claim (Hoffer, Hubara & Soudry 2017, "Train longer, generalize better: closing the
generalization gap in large batch training of neural networks", NeurIPS,
arXiv:1705.08741): trained for the same number of epochs, a large batch (LB)
generalizes worse than a small one (SB) (Keskar, Mudigere, Nocedal, Smelyanskiy &
Tang 2017, "On large-batch training for deep learning: generalization gap and sharp
minima", ICLR, arXiv:1609.04836). The weights move away from their initialization
like a random walk on a random potential, ‖w_t − w_0‖ ~ log t ("ultra-slow
diffusion"), so a large batch, which makes B_L/B_S times fewer updates per epoch,
has simply not travelled as far. Three fixes, added one after the other, close the
gap: a learning rate scaled by √(B_L/B_S) (the covariance of one update then
matches the small batch's), Ghost Batch Normalization over ghost batches of B_S
examples (the normalization noise of the small batch), and regime adaptation
(B_L/B_S times more epochs, with the learning-rate decays moved accordingly, so
the large batch makes as many updates as the small one).

The experiment trains an MLP with batch norm (Keskar's F1 has 5 × 512 hidden units;
the default profile uses 3 × 256 to fit its budget on a CPU) on the embedded MNIST
split (4,000 / 1,000) with SGD, momentum 0.9, weight decay 1e-4 and gradient-norm clipping 5, in five variants:
SB, LB, LB + √ lr (+LR), + ghost BN (+GBN), + regime adaptation (+RA). Every variant
starts from the same initialization for a given seed, and the run averages several
such paired seeds (the test set of 1,000 digits alone gives about ±0.7 points of
standard error on one error rate, and two seeds of one variant differ by a few
tenths of a point, the size of the effects measured). During training it records
‖w_t − w_0‖ (whole model and per layer) at log-spaced updates and fits a + b·ln t
and a·t^b over the last decades of the high learning-rate phase; at the end of that
phase it measures the per-example gradient covariance C and the temperatures η/B
and η·tr C/B of every variant (the quantity that section ``sgd_temperature`` builds on).
"""

from __future__ import annotations

from pydantic import Field, model_validator

from ...train import LrRule, OptimizerConfig
from ..base import ClaimSpec, Experiment, ExperimentConfig

__all__ = ["CLAIMS", "EXPERIMENT", "PROFILES", "VARIANTS", "Config"]

#: The variants, in the order of Hoffer et al.'s Table 1; each fix adds to the one before.
VARIANTS = ("SB", "LB", "+LR", "+GBN", "+RA")


class Config(ExperimentConfig):
    data_dir: str | None = Field(None, description="directory of the full MNIST IDX files "
                                 "(60,000 / 10,000); None = the embedded split (4,000 / 1,000)")
    hidden: list[int] = Field([256] * 3, min_length=1, description="hidden widths of the MLP, "
                              "each followed by batch norm and ReLU (Keskar's F1: 5 × 512)")
    small_batch: int = Field(32, ge=2, description="B_S, examples per update of the small batch")
    large_batch: int = Field(1024, ge=2, description="B_L, examples per update of the large "
                             "batch (and of +LR, +GBN, +RA)")
    ghost_batch: int = Field(32, ge=2, description="examples per ghost batch of +GBN and +RA "
                             "(Hoffer et al.: the small batch)")
    epochs: int = Field(20, ge=1, description="epochs of SB, LB, +LR and +GBN; +RA trains "
                        "epochs × B_L/B_S")
    milestones: list[float] = Field([10.0, 15.0], description="epochs (at B_S) after which the "
                                    "lr is multiplied by gamma; × B_L/B_S under +RA; the first "
                                    "one ends the high-lr phase where diffusion is fitted")
    gamma: float = Field(0.1, gt=0, le=1, description="lr decay factor at each milestone")
    optimizer: OptimizerConfig = Field(
        OptimizerConfig(name="momentum", lr=0.05, momentum=0.9, weight_decay=1e-4,
                        clip_grad_norm=5.0),
        description="optimizer of every variant; lr is η₀, the lr of the small batch")
    lr_rule: LrRule = Field("sqrt", description="lr rule of +LR, +GBN and +RA: sqrt "
                            "(η₀·√(B_L/B_S), Hoffer), linear (η₀·B_L/B_S with warm-up, Goyal) "
                            "or none")
    seeds: int = Field(3, ge=1, description="paired seeds per variant, averaged in the run "
                       "(seed k: the same initialization and batch-order seed in every variant)")
    diffusion_points: int = Field(60, ge=8, description="log-spaced updates at which "
                                  "‖w_t − w_0‖ is recorded")
    fit_decades: float = Field(1.5, gt=0.3, description="the diffusion fits use the updates in "
                               "[T/10^fit_decades, T], T = the update of the first lr decay")
    noise_examples: int = Field(512, ge=2, description="training examples of the gradient-noise "
                                "covariance C, measured at the end of the high-lr phase")

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        if self.large_batch <= self.small_batch:
            raise ValueError(f"large_batch ({self.large_batch}) must exceed small_batch "
                             f"({self.small_batch})")
        if self.ghost_batch >= self.large_batch:
            raise ValueError(f"ghost_batch ({self.ghost_batch}) must be below large_batch "
                             f"({self.large_batch})")
        if any(not 0 < m < self.epochs for m in self.milestones) or \
                sorted(set(self.milestones)) != list(self.milestones):
            raise ValueError(f"milestones must be strictly ascending within (0, {self.epochs})")
        return self


PROFILES = {
    # CI-sized: two small layers, two epochs, B_L/B_S = 8; too few updates for the gap or
    # for fits over decades: every claim is declared for `default` and up.
    "quick": {"hidden": [64, 64], "large_batch": 256, "epochs": 2, "milestones": [1.0, 1.5],
              "seeds": 1, "diffusion_points": 30, "fit_decades": 1.0, "noise_examples": 128},
    "default": {},
    # Keskar's F1 and Hoffer's MNIST regime on the full MNIST (60,000 / 10,000): 5 × 512,
    # B_S = 128, B_L = 4096, lr 0.1 at B_S decayed ×0.1 at epochs 10, 20, 30, 50 epochs.
    "full": {"data_dir": "data/mnist", "hidden": [512] * 5,
             "small_batch": 128, "large_batch": 4096, "ghost_batch": 128, "epochs": 50,
             "milestones": [10.0, 20.0, 30.0], "seeds": 5, "noise_examples": 2048,
             "optimizer": {"name": "momentum", "lr": 0.1, "momentum": 0.9,
                           "weight_decay": 1e-4, "clip_grad_norm": 5.0}},
}

_HOFFER = "Hoffer, Hubara & Soudry 2017, arXiv:1705.08741"
_TABLE1 = (f"{_HOFFER}, Table 1; Keskar et al. 2017, arXiv:1609.04836, Table 2")
GAP = ClaimSpec(
    "gap_exists", "at equal epochs the large batch generalizes worse: test error of LB − SB "
    "≥ 0.5 points (mean over paired seeds)", ">=", 0.5, paper=_TABLE1,
    paper_value="ResNet44 on CIFAR-10: accuracy 92.83% (SB) vs 86.10% (LB); Keskar's F1 on "
    "MNIST: 98.03% vs 97.81%", min_profile="default")
EACH_FIX = ClaimSpec(
    "each_fix_helps", "each fix, added in the paper's order (+LR, +GBN, +RA), lowers the test "
    "error: the smallest of the three decreases (points) > 0", ">", 0.0,
    paper=f"{_HOFFER}, Table 1",
    paper_value="ResNet44 on CIFAR-10: 86.10 → 89.30 (+LR) → 90.50 (+GBN) → 93.07% (+RA)",
    min_profile="default")
CLOSES = ClaimSpec(
    "fixes_close_gap", "the three fixes together close most of the gap: (LB − +RA)/(LB − SB) "
    "≥ 0.75", ">=", 0.75, paper=f"{_HOFFER}, Table 1",
    paper_value="ResNet44 on CIFAR-10: (93.07 − 86.10)/(92.83 − 86.10) = 1.04, +RA beats SB",
    min_profile="default")
LOG_FIT = ClaimSpec(
    "diffusion_log_fit", "‖w_t − w_0‖ grows like log t in the high-lr phase: R² of "
    "a + b·ln t over its last decades ≥ 0.95 (the smaller of SB and +RA)", ">=", 0.95,
    paper=f"{_HOFFER}, §3 and Fig. 2",
    paper_value="‖w_t − w_0‖ ~ log t (ultra-slow diffusion of a random walk on a random "
    "potential)", min_profile="default")
LOG_BEATS_POWER = ClaimSpec(
    "log_beats_power", "over the same window the log fit beats a power law a·t^b: "
    "R²(log) − R²(power) > 0 (the smaller of SB and +RA)", ">", 0.0,
    paper=f"{_HOFFER}, §3 and Fig. 2",
    paper_value="logarithmic, not the t^½ of a random walk in a fixed landscape",
    min_profile="default")
MATCHED = ClaimSpec(
    "matched_distance", "at the same number of updates (the end of the high-lr phase) the "
    "large batch with the three fixes has moved as far as the small batch: "
    "|d(+RA)/d(SB) − 1| ≤ 0.2", "<=", 0.2, paper=f"{_HOFFER}, §4–5",
    paper_value="with √B lr and ghost BN the weight increments match the small batch's; "
    "with as many updates, so does ‖w_t − w_0‖", min_profile="default")
CLAIMS = (GAP, EACH_FIX, CLOSES, LOG_FIT, LOG_BEATS_POWER, MATCHED)

EXPERIMENT = Experiment(
    name="batch_gap", title="The large-batch gap and ultra-slow diffusion", section="3",
    claim="large batches generalize worse at equal epochs; ‖w_t − w_0‖ ~ log t; √B lr, ghost "
          "BN and regime adaptation close the gap",
    config=Config, profiles=PROFILES, run=f"{__name__}.run:run",
    figures=f"{__name__}.figures:figures", claims=CLAIMS)
