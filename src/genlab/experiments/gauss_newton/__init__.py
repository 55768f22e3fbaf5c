"""Lecture section 3: the Gauss–Newton view of the Hessian, H ≈ C + ḡḡᵀ, during training.

Claim: the Hessian of a classifier's loss is a bulk of near-zero eigenvalues plus a few
outliers, about as many as there are classes (Sagun, Evci, Güney, Dauphin & Bottou
2017, "Empirical analysis of the Hessian of over-parametrized neural networks",
arXiv:1706.04454). The outliers belong to the Gauss–Newton part Jᵀ H_out J, not to the
residual term, and come from the class structure: the per-class means of the gradients
span their eigenspace (Papyan 2019, "Measurements of three-level hierarchical structure
in the outliers in the spectrum of deepnet Hessians", arXiv:1901.08244). Near a minimum
the Gauss–Newton matrix of the cross-entropy is the Fisher, which the lecture writes as
the gradients' second moment C + ḡḡᵀ (the empirical Fisher; how far that stand-in can
be trusted: Kunstner, Hennig & Balles 2019, arXiv:1905.12558). After a short transient
the gradient lies almost entirely in the top-k eigenspace, k = number of classes, and
that space changes slowly: "gradient descent happens in a tiny subspace" (Gur-Ari,
Roberts & Dyer 2018, arXiv:1812.04754). Early on the mean gradient dominates the
minibatch noise (drift); later the noise dominates (diffusion), the regime the next
section treats as a stochastic process. Song, Ahn & Yun 2024 ("Does SGD really happen in
tiny subspaces?", arXiv:2405.16002) ask whether the alignment matters: SGD restricted
to the top subspace stops making progress, SGD with the top subspace projected out
trains as well as SGD.

The experiment trains a small ReLU MLP (784-32-32-10) and the lecture's CNN with plain
SGD on the embedded MNIST digits and, at log-spaced steps, measures on a fixed set of
training examples: the top-20 eigenpairs of the Hessian H, of the Gauss–Newton matrix G
and of the empirical Fisher F (Lanczos, each checkpoint warm-started from the previous
one); the overlap of the full-batch and of minibatch gradients with each top-k space;
the persistence of H's top-k space between checkpoints; the fraction of it spanned by
the class-mean gradients; the gradient signal-to-noise ratio ‖ḡ‖²/(tr C/B); the loss;
and H's spectral density (stochastic Lanczos quadrature). The ablation continues the
MLP from one checkpoint three ways with the same minibatches: plain SGD, SGD with each
update projected onto H's top-k space ("dominant"), and onto its complement ("bulk").
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from ...train import OptimizerConfig
from ..base import ClaimSpec, Experiment, ExperimentConfig

__all__ = ["CLAIMS", "EXPERIMENT", "PROFILES", "Config"]


class Config(ExperimentConfig):
    n_train: int = Field(4000, ge=100, description="embedded MNIST training digits (stratified)")
    n_test: int = Field(1000, ge=100, description="test digits")
    n_measure: int = Field(1000, ge=50, description="training examples (a fixed random subset) "
                           "on which every curvature operator, gradient and SNR is measured")
    hidden: list[int] = Field([32, 32], min_length=1, description="hidden widths of the ReLU MLP")
    optimizer: OptimizerConfig = Field(OptimizerConfig(name="sgd", lr=0.1), description="plain "
                                       "SGD of every run (MLP, CNN, ablation)")
    batch_size: int = Field(64, ge=1, description="B: examples per SGD step, also of the "
                            "minibatch overlaps and of the SNR ‖ḡ‖²/(tr C/B)")
    steps: int = Field(3000, ge=10, description="SGD steps of the MLP")
    checkpoints: int = Field(10, ge=3, description="log-spaced measurement steps of the MLP "
                             "(step 0 included)")
    top: int = Field(20, ge=4, description="eigenpairs per operator and checkpoint (≥ 2 × "
                     "classes, so that the bulk's top is among them)")
    eig_tol: float = Field(1e-3, gt=0, lt=0.1, description="relative eigenvalue error at which "
                           "Lanczos stops (genlab.measures.top_eigen)")
    max_lanczos: int = Field(400, ge=20, description="Lanczos step cap per eigen-solve")
    outlier_ratio: float = Field(1.5, gt=1, description="an eigengap λ_i/λ_(i+1) at least this "
                                 "large separates outliers from the bulk (outlier_count)")
    minibatches: int = Field(16, ge=2, description="minibatches (B examples of the measurement "
                             "set, drawn with replacement) whose overlaps are averaged")
    density_checkpoints: int = Field(3, ge=0, description="checkpoints (spread over training) "
                                     "at which H's spectral density is estimated")
    slq_vectors: int = Field(4, ge=1, description="probe vectors of the spectral density")
    slq_steps: int = Field(60, ge=10, description="Lanczos steps per probe of the density")
    early_steps: tuple[int, int] = Field((20, 200), description="the 'early' window (steps, "
                                         "inclusive) of the overlap claim")
    persist_from: int = Field(100, ge=0, description="persistence is averaged over consecutive "
                              "checkpoints from this step on")
    cnn: bool = Field(True, description="also train and measure the lecture CNN (MnistCNN)")
    cnn_steps: int = Field(1000, ge=10, description="SGD steps of the CNN")
    cnn_checkpoints: int = Field(3, ge=2, description="log-spaced measurement steps of the CNN, "
                                 "from cnn_first to cnn_steps")
    cnn_first: int = Field(30, ge=1, description="the CNN's first measured step (before it "
                           "the spectrum is a flat bulk whose top-20 take Lanczos longest)")
    cnn_eig_tol: float = Field(1e-2, gt=0, lt=0.1, description="Lanczos tolerance of the CNN "
                               "(its bulk edge is dense: 1e-3 doubles the products for the "
                               "same eigenvalues to 3 digits; benchmarks/curvature_training.py)")
    cnn_measure: int = Field(1000, ge=50, description="examples of the CNN's operators (the "
                             "first of the measurement set)")
    ablation_start: int = Field(100, ge=0, description="the MLP step from which the three "
                                "ablation runs continue")
    ablation_steps: int = Field(600, ge=10, description="steps of each ablation run")
    ablation_refresh: int = Field(5, ge=1, description="steps between two recomputations of "
                                  "the top-k Hessian space the ablation projects on (warm-"
                                  "started Lanczos)")

    @field_validator("optimizer")
    @classmethod
    def _plain_sgd(cls, v: OptimizerConfig) -> OptimizerConfig:
        if v.name != "sgd" or v.weight_decay or v.schedule != "constant":
            raise ValueError("must be plain SGD (name sgd, no weight decay, constant schedule): "
                             "the ablation projects the update, which for plain SGD is the "
                             "projected gradient")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        if self.n_measure > self.n_train or (self.cnn and self.cnn_measure > self.n_measure):
            raise ValueError(f"need n_measure ({self.n_measure}) ≤ n_train ({self.n_train}) and, "
                             f"with the CNN, cnn_measure ({self.cnn_measure}) ≤ n_measure")
        if self.ablation_start > self.steps:
            raise ValueError(f"ablation_start ({self.ablation_start}) must be ≤ steps "
                             f"({self.steps})")
        if not 0 <= self.early_steps[0] <= self.early_steps[1]:
            raise ValueError("early_steps must be (first, last) with 0 ≤ first ≤ last")
        return self


PROFILES = {
    # CI-sized: fewer digits and steps, a smaller measurement set, no CNN; the claims about
    # the end of training and the ablation are declared for `default`.
    "quick": {"n_train": 2000, "n_test": 500, "n_measure": 500, "steps": 600,
              "checkpoints": 7, "minibatches": 8, "density_checkpoints": 2, "slq_vectors": 2,
              "slq_steps": 40, "cnn": False, "ablation_steps": 200, "ablation_refresh": 10},
    "default": {},
    "full": {"steps": 20000, "checkpoints": 16, "minibatches": 64, "density_checkpoints": 4,
             "slq_vectors": 10, "slq_steps": 100, "cnn_steps": 5000, "cnn_checkpoints": 6,
             "ablation_steps": 5000, "ablation_refresh": 1, "cnn_eig_tol": 1e-3},
}

_SAGUN = "Sagun et al. 2017, arXiv:1706.04454"
_GUR_ARI = "Gur-Ari, Roberts & Dyer 2018, arXiv:1812.04754"
_PAPYAN = "Papyan 2019, arXiv:1901.08244"
_SONG = "Song, Ahn & Yun 2024, arXiv:2405.16002, Fig. 1 (MLP on MNIST-5k)"

EARLY_OVERLAP = ClaimSpec(
    "early_overlap_high", "after a short transient the full-batch gradient lies mostly in the "
    "top-k Hessian eigenspace (k = classes): mean overlap ‖P_k ḡ‖²/‖ḡ‖² over the checkpoints "
    "of the early window ≥ 0.8 (a random k-space: k/n)", ">=", 0.8,
    paper=_GUR_ARI,
    paper_value="the overlap f_top with the top-k space (k = classes) rises to ≈ 0.9 and above "
    "after a short training period; random subspace k/n")
PERSISTS = ClaimSpec(
    "top_subspace_persists", "the top-k Hessian eigenspace changes slowly: mean subspace "
    "overlap between consecutive log-spaced checkpoints from persist_from on ≥ 0.5 (random: "
    "k/n)", ">=", 0.5, paper=_GUR_ARI,
    paper_value="the top subspace evolves slowly after the initial transient: its overlap with "
    "a later top subspace stays high for many steps")
OUTLIERS = ClaimSpec(
    "outliers_near_classes", "MLP: the Hessian's outliers number about the classes: "
    "|outlier count − C| ≤ 1 at the last checkpoint (largest eigengap ratio ≥ outlier_ratio "
    "among the top-20)", "<=", 1, paper=_SAGUN,
    paper_value="a bulk near zero plus outliers; the number of outliers is about the number of "
    "classes", min_profile="default")
CNN_OUTLIERS = ClaimSpec(
    "cnn_outliers_near_classes", "CNN: |outlier count − C| ≤ 1 at its last checkpoint (same "
    "rule)", "<=", 1, paper=_SAGUN,
    paper_value="outliers ≈ number of classes, for several architectures",
    min_profile="default")
H_GGN_VALUES = ClaimSpec(
    "h_ggn_outliers_agree", "at the last checkpoint (where the residual term is small) H's "
    "outlier eigenvalues equal the Gauss–Newton matrix's: max relative difference ≤ 10%",
    "<=", 0.10, paper=f"{_PAPYAN}; {_SAGUN}",
    paper_value="the outliers of the Hessian are those of its Gauss–Newton part G; the residual "
    "term contributes to the bulk", min_profile="default")
H_GGN_SPACES = ClaimSpec(
    "h_ggn_spaces_agree", "… and their eigenspaces coincide: subspace overlap of H's and G's "
    "top eigenvectors over H's outliers ≥ 0.8", ">=", 0.8,
    paper=_PAPYAN, paper_value="the top-C eigenspace of the Hessian is "
    "that of G", min_profile="default")
FISHER = ClaimSpec(
    "fisher_overlaps_hessian", "H ≈ C + ḡḡᵀ: the empirical Fisher's top-k eigenspace overlaps "
    "H's at the last checkpoint: subspace overlap ≥ 0.5", ">=", 0.5,
    paper="the lecture's Gauss–Newton view; Kunstner, Hennig & Balles 2019, arXiv:1905.12558",
    paper_value="near a minimum G equals the Fisher; the empirical Fisher (the gradients' "
    "second moment) is the lecture's stand-in for it, and can differ", min_profile="default")
CLASS_MEANS = ClaimSpec(
    "class_means_span_top", "the C per-class mean gradients span most of the top-k Hessian "
    "eigenspace at the last checkpoint: span fraction ≥ 0.5", ">=", 0.5,
    paper=_PAPYAN, paper_value="the outliers are attributed to the class means of the "
    "gradients; the class means span the outlier eigenspace", min_profile="default")
SNR_DRIFT = ClaimSpec(
    "snr_starts_above_one", "drift first: at step 0 the minibatch gradient is mostly mean "
    "gradient, SNR ‖ḡ‖²/(tr C/B) > 1", ">", 1.0,
    paper="the lecture (drift then diffusion); Shwartz-Ziv & Tishby 2017, arXiv:1703.00810",
    paper_value="a drift phase (gradient mean ≫ its fluctuations) is followed by a diffusion "
    "phase (fluctuations dominate)")
SNR_DIFFUSION = ClaimSpec(
    "snr_ends_below_one", "then diffusion: at the last checkpoint the noise dominates, SNR < 1",
    "<", 1.0, paper="the lecture; Shwartz-Ziv & Tishby 2017, arXiv:1703.00810",
    paper_value="in the diffusion phase the gradient's standard deviation exceeds its mean",
    min_profile="default")
DOMINANT_STALLS = ClaimSpec(
    "dominant_only_stalls", "SGD restricted to the top-k space barely lowers the loss: its "
    "loss decrease over the ablation is ≤ 25% of plain SGD's", "<=", 0.25, paper=_SONG,
    paper_value="Dom-SGD: \"when the SGD update is projected onto the dominant subspace, the "
    "training loss does not decrease further\"", min_profile="default")
BULK_TRAINS = ClaimSpec(
    "bulk_only_trains", "SGD with the top-k space projected out trains about as well as SGD: "
    "its loss decrease is ≥ 75% of plain SGD's", ">=", 0.75, paper=_SONG,
    paper_value="Bulk-SGD: \"projecting out the dominant subspace proves to be just as "
    "effective as the original update\"", min_profile="default")
CLAIMS = (EARLY_OVERLAP, PERSISTS, OUTLIERS, CNN_OUTLIERS, H_GGN_VALUES, H_GGN_SPACES, FISHER,
          CLASS_MEANS, SNR_DRIFT, SNR_DIFFUSION, DOMINANT_STALLS, BULK_TRAINS)

EXPERIMENT = Experiment(
    name="gauss_newton", title="The Gauss–Newton view: outliers, the tiny subspace, drift "
    "and diffusion", section="3",
    claim="a few outliers (about the classes) carried by the Gauss–Newton part; the gradient "
          "lies in their slowly moving eigenspace; drift gives way to diffusion",
    config=Config, profiles=PROFILES, run=f"{__name__}.run:run",
    figures=f"{__name__}.figures:figures", claims=CLAIMS)
