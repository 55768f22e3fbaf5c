"""Lecture section 3: the generalization mystery — the same network fits random labels.

Claim (Zhang, Bengio, Hardt, Recht & Vinyals 2017, "Understanding deep learning
requires rethinking generalization", ICLR, arXiv:1611.03530): "Deep neural networks
easily fit random labels." The lecture's MNIST CNN (808,666 parameters), trained with
Adam (batch 32) and no regularization, reaches high test accuracy on the true labels,
yet fits partly or completely random labels, shuffled or random pixels and Gaussian
inputs to ≥ 99% training accuracy; the time to fit grows with the label corruption p,
but "only by a small constant factor", while test accuracy falls to chance (Fig. 1).
"Explicit regularization may improve generalization performance, but is neither
necessary nor by itself sufficient for controlling generalization error" (§1.1, §3,
Table 1): without weight decay, dropout or augmentation the net still generalizes,
and with them it still fits random labels. So capacity arguments alone cannot explain
why the network generalizes.

The run trains one model per variant (label corruption p, input corruption,
regularizer × {true, random labels}, an MLP of the same size) from the same
initialization and batch order, each until its training accuracy reaches
``fit_accuracy`` or its epoch budget ends; the epoch it first gets there is its time
to fit. Every variant's data is a :class:`genlab.data.DataSpec`; the label corruption
of every p uses one seed, so the corrupted sets are nested in p.

Cost (one torch thread): a CNN epoch on the 4,000 embedded training digits, with the
evaluation of the training set that times the fit, costs about 1.5 s of one core.
``default`` trains about 460 CNN epochs (most variants stop at 6–60 epochs; the
augmented random-label fit uses its whole budget of 100): about 12 minutes of CPU
time, more wall time on a shared machine. ``quick`` (200 digits) takes under a minute.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ...train.optim import OptimizerConfig
from ..base import ClaimSpec, Experiment, ExperimentConfig

__all__ = ["CLAIMS", "EXPERIMENT", "PROFILES", "TRUE_LABEL_ACC", "Config"]


class Config(ExperimentConfig):
    dataset: Literal["mnist", "cifar10"] = Field("mnist", description="data set name")
    data_dir: str | None = Field(None, description="directory of the full data set "
                                 "(MNIST IDX files / CIFAR-10 batches); None = embedded MNIST "
                                 "(4,000 train / 1,000 test digits)")
    n_train: int | None = Field(None, ge=10, description="training examples (stratified "
                                "subset; None = all)")
    n_test: int | None = Field(None, ge=10, description="test examples (None = all)")
    corruption: list[float] = Field([0.0, 0.2, 0.4, 0.6, 0.8, 1.0], min_length=3,
                                    description="label-corruption probabilities p, 0 and 1 "
                                    "included (Zhang Fig. 1b–c)")
    inputs: list[Literal["shuffled_pixels", "random_pixels", "gaussian"]] = Field(
        ["shuffled_pixels", "random_pixels", "gaussian"], min_length=1,
        description="input corruptions, trained with the true labels (Zhang Fig. 1a)")
    max_epochs: int = Field(60, ge=1, description="epoch budget of the label, input and MLP "
                            "variants before giving up on fitting")
    reg_max_epochs: int | None = Field(None, ge=1, description="epoch budget of the "
                                       "regularizer variants, which fit random labels more "
                                       "slowly (None = max_epochs)")
    fit_accuracy: float = Field(0.99, gt=0, le=1, description="training accuracy that counts "
                                "as fitted (time to fit = first epoch reaching it)")
    batch_size: int = Field(32, ge=1, description="minibatch size")
    optimizer: OptimizerConfig = Field(OptimizerConfig(name="adam", lr=1e-3),
                                       description="optimizer of every variant (the weight-"
                                       "decay variant adds weight_decay to it)")
    weight_decay: float = Field(5e-4, gt=0, description="L2 coefficient of the weight-decay "
                                "variants (coupled, PyTorch's weight_decay)")
    dropout: float = Field(0.3, gt=0, lt=1, description="dropout probability of the dropout "
                           "variants (before each linear layer)")
    max_shift: int = Field(2, ge=1, description="augmentation: random shifts of up to this "
                           "many pixels per axis, redrawn every epoch")
    mlp_hidden: int = Field(1024, ge=1, description="hidden width of the comparison MLP "
                            "(1024: 814,090 parameters, like the CNN)")
    trend_window: int = Field(10, ge=1, description="epochs over which the augmented random-"
                              "label fit must still be rising at the end of its budget")


#: ``quick`` tests 500 digits, so that the ±3-point chance band is > 2 standard errors
#: (1.3 points) wide, and trains 35 epochs so that random labels can be fitted at all.
#: ``default`` trains on all 4,000 embedded digits (the true-label threshold assumes
#: them) and tests on all 1,000; the regularizer variants get 100 epochs, so that an
#: unfitted augmented random-label run shows whether it is still rising. Run with one
#: torch thread (``OMP_NUM_THREADS=1``): on a busy 2-core machine two threads cost ~10×.
PROFILES = {
    "quick": {"n_train": 200, "n_test": 500, "corruption": [0.0, 0.5, 1.0], "max_epochs": 35,
              "reg_max_epochs": 50},
    "default": {"reg_max_epochs": 100},
    "full": {"data_dir": "data/mnist", "max_epochs": 100, "reg_max_epochs": 300},
}

_ZHANG = "Zhang, Bengio, Hardt, Recht & Vinyals 2017 (arXiv:1611.03530)"
#: Test-accuracy threshold of the true-label claim by data source (stated before measuring):
#: 95% for the CNN on 4,000 embedded digits, 99% on the full 60,000, 50% on CIFAR-10.
TRUE_LABEL_ACC = {"embedded": 0.95, "mnist": 0.99, "cifar10": 0.5}

TRUE_LABELS = ClaimSpec(
    "true_labels_generalize", "true labels: the unregularized CNN reaches high test "
    "accuracy (≥ 95% on 4,000 embedded digits, ≥ 99% on full MNIST)", ">=",
    TRUE_LABEL_ACC["embedded"], paper=_ZHANG + ", Table 1 and §5",
    paper_value="CIFAR-10 without regularization: Inception 85.75%, MLP 1×512 50.51% test "
    "(chance 10%); MNIST (§5): 1.2% test error", min_profile="default")
RANDOM_FITTED = ClaimSpec(
    "random_labels_fitted", "random labels are fitted: train accuracy ≥ 99%", ">=", 0.99,
    paper=_ZHANG + ", Table 1", paper_value="random labels: train 100.0% (Inception), "
    "99.34–100% (AlexNet, MLPs)")
RANDOM_CHANCE = ClaimSpec(
    "random_labels_at_chance", "random labels: test accuracy at chance (|test acc − 10%| ≤ 3 "
    "points)", "<=", 0.03, paper=_ZHANG + ", Table 1",
    paper_value="random labels: test 9.78–10.61%")
FIT_GROWS = ClaimSpec(
    "fit_time_grows_with_p", "time to fit grows with the label corruption p (Spearman ρ ≥ 0.9)",
    ">=", 0.9, paper=_ZHANG + ", Fig. 1b",
    paper_value="convergence slows down as the label noise grows from 0 to 1")
FIT_FACTOR = ClaimSpec(
    "fit_time_modest_factor", "…by a small constant factor (random/true labels ≤ 10×)", "<=",
    10.0, paper=_ZHANG + ", §1.1 and Fig. 1b",
    paper_value="training time increases only by a small constant factor")
TEST_FALLS = ClaimSpec(
    "test_acc_falls_with_p", "test accuracy falls as p grows (Spearman ρ ≤ −0.9)", "<=", -0.9,
    paper=_ZHANG + ", Fig. 1c",
    paper_value="test error rises steadily with the noise level, to 90% (chance) at p = 1")
INPUTS_FITTED = ClaimSpec(
    "corrupted_inputs_fitted", "shuffled pixels, random pixels and Gaussian inputs are fitted "
    "(train accuracy ≥ 99%)", ">=", 0.99, paper=_ZHANG + ", Fig. 1a",
    paper_value="all input corruptions reach zero training error; random pixels and Gaussian "
    "faster than random labels")
#: Table 1's largest test-accuracy loss from switching every regularizer off:
#: AlexNet 81.22% → 76.07% (Inception 89.31% → 85.75%; the MLPs ±1 point).
NOT_NECESSARY = ClaimSpec(
    "regularization_not_necessary", "explicit regularization is not necessary: without any, "
    "true-label test accuracy is at most 5.15 points below the best regularized variant",
    "<=", 0.0515, paper=_ZHANG + ", Table 1 and §3",
    paper_value="all regularizers off costs ≤ 5.15 points (AlexNet 81.22 → 76.07%; Inception "
    "89.31 → 85.75%): 'the absence of all regularization does not necessarily imply poor "
    "generalization'", min_profile="default")
NOT_SUFFICIENT = ClaimSpec(
    "regularization_not_sufficient", "explicit regularization is not sufficient: with weight "
    "decay or with dropout the CNN still fits random labels (train accuracy ≥ 90%, test at "
    "chance)", ">=", 0.90, paper=_ZHANG + ", §3 and Table 2",
    paper_value="with weight decay Inception and the MLPs fit CIFAR-10 random labels "
    "perfectly; Inception V3 with dropout and weight decay reaches ~90% top-1 train on "
    "ImageNet random labels")
AUG_RISING = ClaimSpec(
    "augmentation_does_not_stop_fitting", "augmentation slows random-label fitting but does "
    "not stop it: over its last 10 epochs the fit still closes ≥ 10% of the training error "
    "left (or it is fitted)", ">=", 0.10, paper=_ZHANG + ", abstract and §3",
    paper_value="fitting random labels 'is qualitatively unaffected by explicit "
    "regularization' (the paper fits random labels without augmentation)")
CLAIMS = (TRUE_LABELS, RANDOM_FITTED, RANDOM_CHANCE, FIT_GROWS, FIT_FACTOR, TEST_FALLS,
          INPUTS_FITTED, NOT_NECESSARY, NOT_SUFFICIENT, AUG_RISING)

EXPERIMENT = Experiment(
    name="memorization", title="Random labels: the same network fits noise", section="3",
    claim="the CNN that generalizes on true labels also fits random labels and random inputs; "
          "explicit regularization is neither necessary nor sufficient",
    config=Config, profiles=PROFILES, run=f"{__name__}.run:run",
    figures=f"{__name__}.figures:figures", claims=CLAIMS)
