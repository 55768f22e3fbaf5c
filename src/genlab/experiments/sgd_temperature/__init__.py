"""Lecture section 4: SGD as an Ornstein–Uhlenbeck process; η/B is the temperature.

Claim: near a minimum with Hessian H and per-example gradient covariance C, SGD with
step η and B examples per step is a noisy relaxation whose stationary covariance Σ
solves the Lyapunov equation HΣ + ΣH = (η/B)·C in the small-step limit (Mandt,
Hoffman & Blei 2017, "Stochastic gradient descent as approximate Bayesian inference",
JMLR, arXiv:1704.04289) and Σ = (I − ηH)Σ(I − ηH)ᵀ + (η²/B)·C exactly for additive
noise at any stable step (Liu, Ziyin & Ueda 2021, "Noise and fluctuation of finite
learning rate stochastic gradient descent", ICML, arXiv:2012.03636); the temperature
is set by the ratio η/B (Jastrzębski et al. 2017, "Three factors influencing minima in
SGD", arXiv:1711.04623; Smith & Le 2018, "A Bayesian perspective on generalization and
stochastic gradient descent", ICLR, arXiv:1710.06451). At a given temperature a noisy descent prefers wide basins: a
basin's probability mass is ∝ exp(−E/T)·det(H)^(−½), so above some temperature a wide
basin wins over a deeper narrow one; noise shaped like the curvature, as SGD's is,
leaves sharp basins faster than isotropic noise of the same size (Zhu, Wu, Yu, Wu &
Ma 2019, "The anisotropic noise in stochastic gradient descent", ICML,
arXiv:1803.00195). On a real network the top Hessian eigenvalue reached at a given
training loss follows η/B (Jastrzębski et al.), and full-batch GD drives it to about
2/η (Cohen, Kaur, Li, Kolter & Talwalkar 2021, "Gradient descent on neural networks
typically occurs at the edge of stability", ICLR, arXiv:2103.00065).

The experiment, in four parts:

1. least squares with label noise (the descent section's line fit y = a·x + b + ε,
   x ~ U(0, 2), whose design (x, 1) is anisotropic: condition number ≈ 14), N = 1,024
   examples, many SGD chains started at the optimum with minibatches drawn with
   replacement; the chains' stationary covariance against the continuous and the
   discrete Lyapunov solutions (and the exact one with the multiplicative noise of
   least squares) over ηλ_max from 0.05 to 0.9;
2. the temperature: (η, B) → (4η, 4B) keeps tr Σ, η/B halved or doubled moves it in
   proportion, and where this breaks (ηλ_max near the stability limit, B = 1: Ziyin,
   Liu, Mori & Ueda 2022, "Strength of minibatch noise in SGD", ICLR,
   arXiv:2102.05375); per-epoch shuffling (sampling without replacement) gives less, predicted by
   :func:`genlab.dynamics.shuffling.lyapunov_shuffled` (the noise of one epoch sums
   to zero);
3. Langevin dynamics (SGD with isotropic noise) in two 1-D double wells: equal depth
   with different curvature, and a deeper narrow against a shallower wide minimum;
   the time spent in each basin against the exact Boltzmann masses and the Laplace
   estimate over temperature; escape times from a sharp 2-D basin with noise ∝ H
   against isotropic noise of the same trace;
4. an MLP on the embedded MNIST digits trained by plain SGD from one initialization to
   the same training loss with (η, B) in three groups of equal η/B (ratios ½, 1, 2 ×
   the base), then λ_max of the Hessian and test accuracy; full-batch GD at large η,
   whose λ_max is compared with 2/η.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from ...train import OptimizerConfig
from ..base import ClaimSpec, Experiment, ExperimentConfig

__all__ = ["CLAIMS", "EXPERIMENT", "PROFILES", "Config"]


class Config(ExperimentConfig):
    # part 1–2: least squares
    n: int = Field(1024, ge=64, description="examples of the line fit (a power of 2, so every "
                   "batch size divides it and an epoch's noise sums to zero)")
    noise: float = Field(0.5, gt=0, description="std of the label noise ε on y = 2x − 1 + ε")
    batch_size: int = Field(8, ge=1, description="B of the Lyapunov sweep over ηλ_max")
    eta_lambda: list[float] = Field(
        [0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.9], min_length=3, description="ηλ_max of the "
        "Lyapunov sweep (the claims read the smallest and the one nearest 0.5)")
    chains: int = Field(500, ge=16, description="independent SGD chains per (η, B)")
    burn_in: float = Field(3.0, gt=0, description="steps discarded, in units of the slowest "
                           "relaxation time 1/(ηλ_min)")
    record: float = Field(8.0, gt=0, description="steps recorded after the burn-in, in units "
                          "of 1/(ηλ_min)")
    rescale_eta_lambda: list[float] = Field(
        [0.05, 0.1, 0.2, 0.4], min_length=2, description="ηλ_max of the base runs of "
        "(η, B) → (4η, 4B) (first: the claim's; last: the large-step break, below 0.5)")
    rescale_batches: list[int] = Field([8, 1], min_length=1, description="base batch sizes "
                                       "of the rescaling (first: the claims'; 1: B near 1)")
    proportional_eta_lambda: float = Field(
        0.1, gt=0, lt=0.5, description="ηλ_max of the base of η/B halved and doubled (by η "
        "at B = batch_size, and by B at that η)")
    shuffle_eta_lambda: list[float] = Field(
        [0.05, 0.1, 0.2, 0.5], min_length=1, description="ηλ_max of the per-epoch-shuffling "
        "runs (the claim reads those ≤ 0.2)")
    shuffle_batches: list[int] = Field([8, 32], min_length=1, description="B of the "
                                       "per-epoch-shuffling runs")
    # part 3: double wells
    well_center: float = Field(0.6, gt=0, description="minima at ∓well_center (narrow at −)")
    narrow_curvature: float = Field(9.0, gt=0, description="curvature of the narrow basin")
    wide_curvature: float = Field(1.0, gt=0, description="curvature of the wide basin")
    depth_gap: float = Field(0.2, gt=0, description="how much higher the wide minimum is in "
                             "the second well (energy units)")
    temperatures: list[float] = Field([0.12, 0.18, 0.27, 0.4], min_length=2,
                                      description="Langevin temperatures T (first below, last "
                                      "above the crossover of the second well)")
    dt: float = Field(0.005, gt=0, description="Euler–Maruyama step h (SGD's η)")
    well_chains: int = Field(2000, ge=16, description="Langevin chains per temperature")
    well_steps: int = Field(16000, ge=100, description="steps per chain (a quarter is burn-in)")
    escape_temperature: float = Field(0.1, gt=0, description="T of the escape-time comparison")
    escape_chains: int = Field(1000, ge=16, description="chains per noise shape")
    escape_max_steps: int = Field(20000, ge=100, description="give up after this many steps")
    # part 4: network
    n_train: int = Field(2000, ge=100, description="embedded MNIST training digits")
    n_test: int = Field(1000, ge=100, description="test digits")
    hidden: list[int] = Field([128], min_length=1, description="hidden widths of the ReLU MLP")
    optimizer: OptimizerConfig = Field(OptimizerConfig(name="sgd", lr=0.1), description="plain "
                                       "SGD; lr is η at base_batch, scaled by B and the ratio "
                                       "factor in each run")
    base_batch: int = Field(64, ge=1, description="B at which optimizer.lr is the base η")
    batches: list[int] = Field([32, 64, 128], min_length=2, description="B within each group "
                               "of equal η/B")
    ratio_factors: list[float] = Field([0.5, 1.0, 2.0], min_length=2, description="η/B of the "
                                       "groups, in units of optimizer.lr / base_batch")
    gd_lrs: list[float] = Field([0.5, 1.0], min_length=1, description="η of the full-batch GD "
                                "runs (edge of stability: large enough that 2/η is below the "
                                "sharpness GD would otherwise reach)")
    target_loss: float = Field(0.1, gt=0, description="every network run stops when its "
                               "cross-entropy on the whole training set first falls below this")
    check_every: float = Field(0.25, gt=0, description="epochs between two checks of the "
                               "training loss of an SGD run")
    gd_check_every: int = Field(10, ge=1, description="GD steps between two checks of the "
                                "training loss; λ_max is traced at every other check")
    max_epochs: float = Field(300, gt=0, description="epoch cap of an SGD run")
    gd_max_steps: int = Field(2000, ge=1, description="step cap of a GD run")
    eig_tol: float = Field(1e-3, gt=0, description="relative residual of the Lanczos λ_max")

    @field_validator("optimizer")
    @classmethod
    def _plain_sgd(cls, v: OptimizerConfig) -> OptimizerConfig:
        if v.name != "sgd" or v.weight_decay or v.schedule != "constant":
            raise ValueError("must be plain SGD (name sgd, no weight decay, constant schedule): "
                             "the temperature η/B is a property of plain SGD")
        return v


PROFILES = {
    "quick": {"chains": 200, "burn_in": 2.0, "record": 5.0, "eta_lambda": [0.05, 0.2, 0.5, 0.9],
              "rescale_eta_lambda": [0.05, 0.4], "rescale_batches": [8],
              "shuffle_eta_lambda": [0.1], "shuffle_batches": [8, 32],
              "temperatures": [0.14, 0.4], "well_chains": 1000, "well_steps": 8000,
              "escape_temperature": 0.12, "escape_chains": 300, "escape_max_steps": 8000,
              "n_train": 500, "n_test": 500, "hidden": [32], "gd_lrs": [1.0]},
    "default": {},
    "full": {"chains": 2000, "record": 20.0, "well_chains": 8000, "well_steps": 40000,
             "escape_chains": 4000, "n_train": 4000, "hidden": [256], "batches": [32, 64, 128,
                                                                                  256]},
}

_MANDT = "Mandt, Hoffman & Blei 2017, §3 (Eq. 14–15: OU stationary covariance)"
_JASTRZEBSKI = "Jastrzębski et al. 2017, §3–4"
_SMITH = "Smith & Le 2018, §5 (noise scale g ≈ εN/B)"

DISCRETE_FITS = ClaimSpec(
    "discrete_lyapunov_fits", "the chains' stationary covariance matches the discrete "
    "Lyapunov solution Σ = (I − ηH)Σ(I − ηH)ᵀ + (η²/B)C within 10% (relative Frobenius "
    "error, worst over ηλ_max)", "<=", 0.10,
    paper="Liu, Ziyin & Ueda 2021, discrete-time SGD on a quadratic",
    paper_value="the stationary fluctuation of discrete-time SGD is larger and distorted "
    "compared with the continuous-time prediction; exact at any stable η for additive noise")
CONTINUOUS_SMALL = ClaimSpec(
    "continuous_fits_small_step", "at ηλ_max = 0.05 (the smallest of the sweep) the "
    "continuous solution HΣ + ΣH = (η/B)C is within 10%", "<=", 0.10, paper=_MANDT,
    paper_value="for a small learning rate SGD is an OU process whose stationary covariance "
    "solves AΣ + ΣAᵀ = (ε/S)·BBᵀ (A the Hessian, BBᵀ the gradient-noise covariance)")
CONTINUOUS_BREAKS = ClaimSpec(
    "continuous_breaks_large_step", "at ηλ_max ≈ 0.5 the continuous solution is off by ≥ 15% "
    "(it misses the factor 1/(1 − ηλ/2) of the stiff direction)", ">=", 0.15, paper=_MANDT,
    paper_value="the continuous-time approximation assumes a learning rate small enough "
    "that SGD's discrete steps look like an SDE")
RESCALE_KEEPS = ClaimSpec(
    "rescale_keeps_temperature", "(η, B) → (4η, 4B) keeps tr Σ within 10% (base ηλ_max = "
    "first of rescale_eta_lambda, B = first of rescale_batches)", "<=", 0.10,
    paper=_JASTRZEBSKI, paper_value="SGD with the same η/B ratio are discretizations of the "
    "same SDE; \"the ratio of learning rate to batch size is a key determinant of SGD "
    "dynamics\"")
PROPORTIONAL = ClaimSpec(
    "trace_proportional_to_ratio", "tr Σ moves in proportion to η/B: fitted exponent of tr Σ "
    "against η/B (η/B halved and doubled by η and by B) within 0.1 of 1", "<=", 0.10,
    paper=_SMITH, paper_value="the noise scale g ≈ εN/B sets the SGD dynamics (B ≪ N)")
RESCALE_BREAKS = ClaimSpec(
    "rescale_breaks_large_step", "the η/B rule breaks near the stability limit: (η, B) → (4η, 4B) "
    "from the largest base ηλ_max of rescale_eta_lambda (4ηλ_max up to 1.6) changes tr Σ by "
    "≥ 1.5× (the discrete solution's factor 1/(2λ − ηλ²))", ">=", 1.5,
    paper="Ziyin, Liu, Mori & Ueda 2022, linear regression with minibatch noise",
    paper_value="\"the linear learning rate–batch size scaling law fails at a large learning "
    "rate or at a small batch size\"")
SHUFFLING_LESS = ClaimSpec(
    "shuffling_smaller", "per-epoch shuffling (without replacement) gives a smaller stationary "
    "covariance than the with-replacement prediction: tr Σ_shuffled / tr Σ_replacement ≤ 0.8 "
    "at every ηλ_max ≤ 0.2 (worst run)", "<=", 0.8,
    paper="measured here and in the descent section (spread exponent 0.82 in η with "
    "shuffling vs 0.51 with replacement); cf. HaoChen & Sra 2019, arXiv:1806.10077",
    paper_value="without replacement the noise of one epoch sums to zero; a probe measured "
    "about 0.5× at η ≤ 0.2, B = 8–32")
SHUFFLING_FORMULA = ClaimSpec(
    "shuffling_explained", "the epoch-correlated noise model (genlab.dynamics.shuffling: "
    "Cov(ξ_s, ξ_s') = −C/(N − 1) within an epoch) predicts the shuffled covariance within 10% "
    "(relative Frobenius error, worst run)", "<=", 0.10,
    paper="finite-population sampling covariance (Cochran 1977, Sampling Techniques, §2.8)",
    paper_value="two draws without replacement from N have covariance −C/(N − 1)")
BOLTZMANN = ClaimSpec(
    "occupation_is_boltzmann", "the time Langevin chains spend in each basin matches the "
    "exact Boltzmann mass ∫_basin e^(−E/T) within 0.03 (worst well and temperature)", "<=", 0.03,
    paper=f"{_JASTRZEBSKI}; {_SMITH.split(',')[0]}, §3 (Bayesian evidence)",
    paper_value="SGD with isotropic noise samples p(w) ∝ exp(−L(w)/T)")
LAPLACE = ClaimSpec(
    "laplace_at_low_temperature", "the Laplace estimate p_i ∝ exp(−E_i/T)·det(H_i)^(−½) is "
    "within 0.02 of the exact mass at the lowest temperature (both wells)", "<=", 0.02,
    paper="Smith & Le 2018, §3 (Occam factor); Jastrzębski et al. 2017, §3",
    paper_value="probability of a minimum ∝ exp(−L_i/T)·det(H_i)^(−½) (Laplace)")
NARROW_COLD = ClaimSpec(
    "deep_narrow_wins_cold", "in the second well, below the crossover temperature the deeper "
    "narrow basin holds most of the time: wide-basin fraction at the lowest T < 0.5", "<", 0.5,
    paper="Smith & Le 2018, §3", paper_value="at low temperature the lower minimum wins")
WIDE_HOT = ClaimSpec(
    "wide_wins_hot", "above the crossover the higher but wider basin holds most of the time: "
    "wide-basin fraction at the highest T > 0.5", ">", 0.5,
    paper=f"Smith & Le 2018, §3; {_JASTRZEBSKI}",
    paper_value="broad minima win when the noise (temperature) is large enough, although "
    "sharper minima may have lower loss")
ESCAPE = ClaimSpec(
    "anisotropic_noise_escapes_faster", "from a sharp basin, noise ∝ H leaves faster than "
    "isotropic noise of the same trace: median escape time isotropic / ∝ H > 1", ">", 1.0,
    paper="Zhu et al. 2019, §3–4 (indicator tr(HΣ))",
    paper_value="anisotropic noise aligned with the curvature escapes sharp minima more "
    "efficiently than isotropic noise of the same magnitude")
LAMBDA_BY_RATIO = ClaimSpec(
    "lambda_max_set_by_ratio", "at equal training loss λ_max of the Hessian depends on η/B far "
    "more than on η or B alone: spread of log λ_max between groups of equal η/B (std of group "
    "means) ≥ 2 × the spread within groups (mean std)", ">=", 2.0, paper=_JASTRZEBSKI,
    paper_value="\"the ratio of learning rate to batch size is a key determinant of … the "
    "width of the final minima\"")
LAMBDA_FALLS = ClaimSpec(
    "lambda_max_falls_with_ratio", "higher η/B, flatter minimum: slope of log λ_max against "
    "log(η/B) over the SGD runs < 0", "<", 0.0, paper=_JASTRZEBSKI,
    paper_value="\"higher values of the ratio lead to wider minima\"")
ACCURACY_BY_RATIO = ClaimSpec(
    "test_accuracy_set_by_ratio", "test accuracy, too, depends on η/B more than on η or B: "
    "between-group spread ≥ 2 × within-group spread", ">=", 2.0, paper=_JASTRZEBSKI,
    paper_value="\"… and often better generalization\"", min_profile="default")
EDGE_OF_STABILITY = ClaimSpec(
    "gd_edge_of_stability", "full-batch GD at large η ends with λ_max near 2/η: "
    "|ηλ_max/2 − 1| ≤ 0.2 (worst GD run, at the target loss)", "<=", 0.2,
    paper="Cohen et al. 2021, abstract and §3",
    paper_value="\"the maximum eigenvalue of the training loss Hessian hovers just above the "
    "numerical value 2/(step size)\"", min_profile="default")
CLAIMS = (DISCRETE_FITS, CONTINUOUS_SMALL, CONTINUOUS_BREAKS, RESCALE_KEEPS, PROPORTIONAL,
          RESCALE_BREAKS, SHUFFLING_LESS, SHUFFLING_FORMULA, BOLTZMANN, LAPLACE, NARROW_COLD,
          WIDE_HOT, ESCAPE, LAMBDA_BY_RATIO, LAMBDA_FALLS, ACCURACY_BY_RATIO, EDGE_OF_STABILITY)

EXPERIMENT = Experiment(
    name="sgd_temperature", title="SGD as a stochastic process: temperature η/B and which "
    "basin it chooses", section="4",
    claim="SGD's stationary covariance is the Lyapunov solution; η/B sets the temperature, "
          "and at a given temperature the wide basin wins",
    config=Config, profiles=PROFILES, run=f"{__name__}.run:run",
    figures=f"{__name__}.figures:figures", claims=CLAIMS)
