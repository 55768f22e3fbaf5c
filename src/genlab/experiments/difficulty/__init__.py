"""Lecture section 3: easy and hard examples — networks learn patterns before memorizing.

Claims (Arpit, Jastrzębski, Ballas, Krueger, Bengio, Kanwal, Maharaj, Fischer,
Courville, Bengio & Lacoste-Julien 2017, "A Closer Look at Memorization in Deep
Networks", ICML, arXiv:1706.05394):

- §3.1, Fig. 1: after one epoch, an example's accuracy over 100 runs (new init and
  data order each) varies much more across examples on real data than on noise data:
  real data has consistently easy and consistently hard examples, while random
  inputs (randX: Gaussian noise with the data's statistics, true labels) are all
  about equally hard. Measured as a dispersion index: the per-example variance of
  accuracy over the variance R runs of a coin with the same success rate would give.
  It is taken *within classes* (each example against its class's mean accuracy):
  after one epoch on noise the classes differ in accuracy (the net has learned the
  class frequencies), which a single overall mean would count as per-example
  difficulty. Both indices are reported.
- §4: networks fitted to random labels have a higher critical sample ratio (CSR, the
  fraction of points whose predicted label changes within a small L∞ ball) than
  networks fitted to real data: the learned function is more complex near the data.
- §4: with label noise, validation accuracy first rises (the real patterns are
  learned), peaks, then falls as the noisy labels are memorized.
- §5 and abstract: tuned dropout hinders the fitting of random labels while barely
  changing the validation accuracy on real data.

The one-epoch ensembles train 100 MLPs at once with :func:`genlab.train.train_seeds`
(stacked or one after the other, whichever :func:`genlab.train.choose_method` measured
faster here; the run records which). Every saved model carries the
:class:`~genlab.data.DataSpec` it was trained on. Accuracy differences are in
percentage points throughout.
"""

from __future__ import annotations

from pydantic import Field

from ...train.optim import OptimizerConfig
from ..base import ClaimSpec, Experiment, ExperimentConfig

__all__ = ["CLAIMS", "EXPERIMENT", "PROFILES", "Config"]


class Config(ExperimentConfig):
    data_dir: str | None = Field(None, description="directory of the full MNIST IDX files; "
                                 "None = the embedded 5,000 digits")
    n_train: int | None = Field(None, ge=100, description="training examples, of the one-"
                                "epoch and the label-noise runs (None = all)")
    n_val: int | None = Field(None, ge=10, description="validation examples (None = all test)")
    hidden: list[int] = Field([256, 256], min_length=1, description="MLP hidden widths")
    optimizer: OptimizerConfig = Field(OptimizerConfig(name="adam", lr=1e-3),
                                       description="optimizer of every run (Adam, η = 1e-3)")
    batch_size: int = Field(32, ge=1, description="minibatch size")
    n_examples: int = Field(1000, ge=10, description="training examples whose accuracy after "
                            "one epoch on the whole training set is scored (Arpit: 1,000)")
    runs: int = Field(100, ge=2, description="independent runs R for per-example accuracy")
    method: str = Field("auto", pattern="^(auto|vmap|sequential)$", description="seed-"
                        "ensemble training: auto (measured faster here), vmap or sequential")
    noise: list[float] = Field([0.0, 0.2, 0.4, 0.6, 0.8], min_length=2, description="label-"
                               "noise levels of the validation-curve runs (0 included)")
    epochs: int = Field(60, ge=1, description="epochs of each label-noise run")
    dropout: float = Field(0.5, gt=0, lt=1, description="dropout probability of the dropout runs")
    radius: float = Field(0.05, gt=0, description="L∞ radius r of the CSR ball (pixels in "
                          "[0, 1])")
    radii: list[float] = Field([0.01, 0.02, 0.05, 0.1, 0.2], min_length=2,
                               description="radii of the final CSR sweep")
    csr_points: int = Field(500, ge=10, description="validation points the CSR is measured on")
    csr_every: int = Field(5, ge=1, description="epochs between CSR measurements")
    csr_steps: int = Field(20, ge=1, description="LASS iterations per point")


PROFILES = {
    "quick": {"n_train": 500, "n_val": 300, "n_examples": 300, "runs": 20, "noise": [0.0, 0.4],
              "epochs": 12, "csr_points": 100, "csr_every": 4, "csr_steps": 10,
              "radii": [0.02, 0.05, 0.1]},
    "default": {},
    "full": {"data_dir": "data/mnist", "epochs": 100, "csr_points": 1000},
}

_ARPIT = "Arpit et al. 2017, A Closer Look at Memorization in Deep Networks"
#: Thresholds, fixed before measuring (see the claims' statements).
D_REAL_MIN, D_RANDX_MAX = 5.0, 2.0
PEAK_POINTS = 5.0  # validation peak − final value, percentage points, at ≥ 40% noise
CSR_Z = 2.0  # CSR(random labels) − CSR(real), in standard errors
DROPOUT_RATIO = 5.0  # random-label train points lost / validation points lost (floor 1 point)

REAL_DISPERSED = ClaimSpec(
    "real_data_dispersed", "real data has consistently easy and consistently hard examples: "
    f"within classes, per-example accuracy after one epoch varies ≥ {D_REAL_MIN:g}× more "
    "than R coin flips would (dispersion index D_within)", ">=", D_REAL_MIN,
    paper=_ARPIT + ", §3.1, Fig. 1",
    paper_value="100 runs, 1 epoch: on real MNIST/CIFAR-10 the per-example misclassification "
    "rate spreads from always right to always wrong; far more variable than on noise data",
    min_profile="default")
RANDX_BINOMIAL = ClaimSpec(
    "random_inputs_binomial", "random inputs (randX): every example of a class is about "
    f"equally hard — within classes, per-example accuracy is binomial (D_within ≤ "
    f"{D_RANDX_MAX:g})", "<=", D_RANDX_MAX, paper=_ARPIT + ", §3.1, Fig. 1",
    paper_value="randX: the per-example misclassification rate is nearly the same for every "
    "example (a flat curve); noise examples are fit independently")
CSR_HIGHER = ClaimSpec(
    "csr_higher_for_random_labels", "after training, a network fitted to random labels has a "
    f"higher critical sample ratio than one fitted to real labels (by ≥ {CSR_Z:g} standard "
    "errors)", ">=", CSR_Z, paper=_ARPIT + ", §4 (critical sample ratio during training)",
    paper_value="CSR stays low when fitting real data and grows far higher when fitting noise "
    "(randX, randY)", min_profile="default")
VALIDATION_PEAK = ClaimSpec(
    "validation_peak_before_memorization", "with ≥ 40% label noise, validation accuracy "
    f"peaks, then falls as the noise is memorized (peak − final ≥ {PEAK_POINTS:g} percentage "
    "points, the smallest drop over those noise levels)", ">=", PEAK_POINTS,
    paper=_ARPIT + ", §4 (accuracy and CSR under 20–80% label noise)",
    paper_value="validation accuracy rises while the real examples are learned, peaks early, "
    "then decreases as the noisy examples are fitted", min_profile="default")
DROPOUT_HINDERS = ClaimSpec(
    "dropout_slows_memorization", "dropout hinders the fitting of random labels far more than "
    f"it lowers real-data validation accuracy (random-label train accuracy lost ≥ "
    f"{DROPOUT_RATIO:g}× the validation accuracy lost, both in points, the latter floored at "
    "1 point)", ">=", DROPOUT_RATIO, paper=_ARPIT + ", §5 and abstract",
    paper_value="tuned dropout degrades training performance on noise data without "
    "compromising generalization on real data", min_profile="default")
CLAIMS = (REAL_DISPERSED, RANDX_BINOMIAL, CSR_HIGHER, VALIDATION_PEAK, DROPOUT_HINDERS)

EXPERIMENT = Experiment(
    name="difficulty", title="Easy and hard examples; patterns before memorization",
    section="3",
    claim="real data has consistently easy and hard examples, random inputs do not; random "
          "labels raise the critical sample ratio; validation accuracy peaks before noise is "
          "memorized; dropout hinders memorization",
    config=Config, profiles=PROFILES, run=f"{__name__}.run:run",
    figures=f"{__name__}.figures:figures", claims=CLAIMS)
