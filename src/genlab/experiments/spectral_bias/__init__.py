"""Lecture section 4: spectral bias — a ReLU network learns low frequencies first.

Claim (Rahaman, Baratin, Arpit, Draxler, Lin, Hamprecht, Bengio & Courville 2019, "On
the Spectral Bias of Neural Networks", ICML, arXiv:1806.08734, §3 and Fig. 1): fitting
f(z) = Σ_i A_i sin(2π k_i z + φ_i), k_i = 5, 10, …, 50, on 200 points of [0, 1) with a
deep ReLU network and full-batch Adam, the normalized amplitude |f̃_θ(k_i)| / A_i of
the network's output reaches 1 in order of frequency: low frequencies first, whether
the amplitudes are equal or rise with the frequency (0.1 … 1.0), so the order is not
an effect of amplitude. Meanwhile the spectral norm of every layer grows, and with it
the Lipschitz bound ∏_l ‖W_l‖₂, which bounds how fast the function can oscillate; a
bound on the weights (here ``rescale``: every layer's spectral norm kept ≤ s after each
step, :func:`genlab.train.constrain`) lowers the highest frequency learned within a
budget. A smooth target plus white noise on the grid shows the consequence: the
noise, spread over all frequencies, is fitted last, so the error to the clean target
falls, then rises (the same shape as ``image_prior``'s PSNR curve and
``difficulty``'s validation peak).

Beyond the 1-D grid (Xu, Zhang, Luo, Xiao & Ma 2019, "Frequency Principle: Fourier
Analysis Sheds Light on Deep Neural Networks", arXiv:1901.06523): we chose their
filtering method on real data. The lecture's MNIST CNN fits embedded MNIST digits;
targets (one-hot labels) and outputs (softmax probabilities) are split at the
training images by a Gaussian low-pass filter over input space
(:mod:`genlab.measures.filtering`), and the low-frequency part of the fit converges
before the high-frequency part.

Setting: Rahaman's target on :func:`~genlab.measures.unit_grid` (exact integer
frequencies, so the FFT amplitudes are exact, :func:`~genlab.measures.amplitude_spectrum`);
phases drawn per draw and averaged over draws (the heat map and the claims use the
normalized amplitude averaged over draws; each draw shares its phases and its
initialization between the equal- and rising-amplitude fits). The network is
``MLP(1, [width] * depth, 1)`` (Rahaman's code: 6 linear layers of 256; here
``depth`` counts hidden layers). Rahaman trained 60,000 iterations at lr 3e-4; CPU
profiles use lr 1e-3 and fewer iterations (``full`` is the paper's).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ...train.optim import OptimizerConfig
from ..base import ClaimSpec, Experiment, ExperimentConfig

__all__ = ["CLAIMS", "EXPERIMENT", "PROFILES", "Config"]


class Config(ExperimentConfig):
    n_points: int = Field(200, ge=16, description="grid points z_j = j/N of [0, 1) (Rahaman: 200)")
    frequencies: list[int] = Field(list(range(5, 55, 5)), min_length=3, description="target "
                                   "frequencies k_i, cycles per unit (Rahaman: 5, 10, …, 50); "
                                   "integers below n_points / 2")
    width: int = Field(256, ge=4, description="hidden width of the ReLU MLP (Rahaman: 256)")
    depth: int = Field(6, ge=1, description="number of hidden layers")
    optimizer: OptimizerConfig = Field(OptimizerConfig(name="adam", lr=1e-3), description="full-"
                                       "batch optimizer of every fit (Rahaman: Adam, lr 3e-4)")
    steps: int = Field(6000, ge=10, description="iterations of each sine-sum fit")
    draws: int = Field(3, ge=1, description="phase draws of the equal-amplitude fits "
                       "(Rahaman: 20)")
    rising_draws: int | None = Field(None, ge=1, description="phase draws of the rising-"
                                     "amplitude fits, the first of the equal ones' (None = draws)")
    log_every: int = Field(50, ge=1, description="iterations between two recorded outputs "
                           "(the spectrum's time resolution)")
    norm_logs: int = Field(10, ge=1, description="times the layers' spectral norms are measured "
                                                 "during a fit, evenly spaced (plus at init)")
    constraint: Literal["rescale", "clip", "spectral_norm"] = Field(
        "rescale", description="weight bound of the sweep (genlab.train.constrain)")
    bounds: list[float] = Field([8.0, 6.0, 5.0, 4.0], min_length=1, description="levels of "
                                "the bound, loosest first: per-layer spectral norm s (rescale, "
                                "spectral_norm) or entry bound c (clip)")
    sweep_steps: int = Field(3000, ge=10, description="iterations of each bounded fit (the "
                             "budget within which the highest learned frequency is read)")
    sweep_draws: int = Field(1, ge=1, description="phase draws of the bound sweep (the first "
                             "draws of the equal-amplitude fits are its unbounded reference)")
    smooth_frequencies: list[int] = Field([1, 2, 3], min_length=1, description="frequencies of "
                                          "the smooth target of the noise fit (amplitude 1)")
    noise_std: float = Field(0.5, gt=0, description="std of the white noise added on the grid")
    noise_steps: int = Field(3000, ge=10, description="iterations of the noise fit")
    data_dir: str | None = Field(None, description="directory of the full MNIST IDX files; None "
                                 "= the 5,000 embedded digits")
    mnist_train: int | None = Field(1000, ge=20, description="MNIST training images fitted by "
                                    "the CNN (None = all)")
    cnn_channels: int = Field(8, ge=1, description="conv channels of the MNIST CNN (lecture: 8)")
    cnn_hidden: int = Field(512, ge=4, description="hidden width of the MNIST CNN (lecture: 512)")
    cnn_steps: int = Field(150, ge=10, description="full-batch iterations of the CNN fit")
    cnn_log_every: int = Field(2, ge=1, description="iterations between two filtered errors")
    filter_width: float = Field(0.1, gt=0, description="Gaussian filter width δ as a fraction of "
                                "the median squared distance between training images")

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        if any(not 0 < k < self.n_points / 2 for k in self.frequencies + self.smooth_frequencies):
            raise ValueError(f"frequencies must lie strictly between 0 and n_points / 2 = "
                             f"{self.n_points / 2:g}")
        if sorted(self.bounds, reverse=True) != self.bounds or min(self.bounds) <= 0:
            raise ValueError("bounds must be positive and listed loosest (largest) first")
        if self.sweep_draws > self.draws or (self.rising_draws or 0) > self.draws:
            raise ValueError("sweep_draws and rising_draws must be <= draws (their phases and "
                             "the sweep's unbounded reference are the equal-amplitude draws')")
        if self.sweep_steps > self.steps or self.sweep_steps % self.log_every:
            raise ValueError("sweep_steps must be <= steps and a multiple of log_every (its "
                             "unbounded reference is the equal-amplitude fits, cut there)")
        return self


PROFILES = {
    "quick": {"width": 128, "steps": 2000, "draws": 2, "rising_draws": 1, "log_every": 25,
              "norm_logs": 5, "bounds": [4.0], "sweep_steps": 500, "noise_steps": 2000,
              "mnist_train": 500, "cnn_steps": 40},
    "default": {},
    "full": {"optimizer": {"name": "adam", "lr": 3e-4}, "steps": 60000, "draws": 10,
             "log_every": 200, "sweep_steps": 20000, "sweep_draws": 3, "noise_steps": 20000,
             "mnist_train": None, "cnn_steps": 1000},
}

_RAHAMAN = "Rahaman et al. 2019, On the Spectral Bias of Neural Networks"
_XU = "Xu et al. 2019, Frequency Principle (arXiv:1901.06523)"
#: Thresholds, fixed before any run (see each statement).
RHO_MIN = 0.8  # Spearman ρ(k, iterations to half amplitude): at most a swap or two
NORM_GROWTH = 10.0  # ∏‖W_l‖₂ at the end / at init
FREQ_DROP = 10  # highest learned k, unbounded − tightest bound: two steps of the grid
NOISE_RISE = 1.5  # final / best clean-target MSE
BAND_RATIO = 2.0  # iterations for e_high to halve / for e_low to halve

ORDER_EQUAL = ClaimSpec(
    "order_equal_amplitudes", "with equal amplitudes, lower frequencies reach half their "
    f"amplitude first: Spearman ρ(k_i, iterations to |f̃(k_i)|/A_i ≥ ½) ≥ {RHO_MIN:g}, draws "
    "averaged, frequencies never reached ranked last", ">=", RHO_MIN,
    paper=_RAHAMAN + ", §3, Fig. 1a", paper_value="A_i = 1: the heat map of |f̃(k_i)|/A_i over "
    "iterations is a staircase, k = 5 first and k = 50 last ('lower frequencies are learned "
    "first')")
ORDER_RISING = ClaimSpec(
    "order_rising_amplitudes", "with amplitudes rising 0.1 … 1.0 with frequency, lower "
    f"frequencies still reach half their amplitude first: Spearman ρ ≥ {RHO_MIN:g}", ">=",
    RHO_MIN, paper=_RAHAMAN + ", §3, Fig. 1b", paper_value="A_i = 0.1 … 1.0 (the highest "
    "frequency has the largest amplitude): the low frequencies are still learned first",
    min_profile="default")
NORM_GROWS = ClaimSpec(
    "lipschitz_bound_grows", "the Lipschitz bound ∏_l ‖W_l‖₂ grows during training by a "
    f"factor ≥ {NORM_GROWTH:g} (geometric mean over the equal-amplitude draws)", ">=",
    NORM_GROWTH, paper=_RAHAMAN + ", §3, Fig. 1 (right)", paper_value="the spectral norm of "
    "every layer's weights increases steadily during training")
BOUND_LOWERS = ClaimSpec(
    "bound_lowers_frequency", "a tighter weight bound lowers the highest frequency learned "
    f"within the budget: highest k reaching half amplitude, unbounded minus tightest bound, "
    f"≥ {FREQ_DROP} (none reached counts as 0)", ">=", FREQ_DROP,
    paper=_RAHAMAN + ", §2 (Fourier spectrum of ReLU networks) and Fig. 1 (right)",
    paper_value="|f̃(k)| is bounded through the Lipschitz constant, ≤ ∏‖W_l‖₂, so higher "
    "frequencies need larger weights; the paper shows the norms growing, not a bound sweep",
    min_profile="default")
NOISE_LAST = ClaimSpec(
    "noise_learned_last", "fitting a smooth target plus white noise, the error to the clean "
    f"target is lowest before the end of training: final / best clean MSE ≥ {NOISE_RISE:g}",
    ">=", NOISE_RISE, paper=_RAHAMAN + ", §3 (MNIST with noise of frequency k)",
    paper_value="the validation loss first dips, then rises as the noise is fitted; the dip is "
    "more pronounced when the noise has higher frequency")
LOW_FIRST_MNIST = ClaimSpec(
    "low_frequencies_first_on_mnist", "on MNIST (the lecture's CNN), the low-frequency part "
    "of the fit converges first: iterations until e_high ≤ ½ are ≥ "
    f"{BAND_RATIO:g}× the iterations until e_low ≤ ½ (Gaussian filter over input space)", ">=",
    BAND_RATIO, paper=_XU + ", filtering method (MNIST and CIFAR-10, DNN and CNN)",
    paper_value="the relative error of the low-frequency part, e_low, decays faster than that "
    "of the high-frequency part, e_high, for every filter width δ tried")
CLAIMS = (ORDER_EQUAL, ORDER_RISING, NORM_GROWS, BOUND_LOWERS, NOISE_LAST, LOW_FIRST_MNIST)

EXPERIMENT = Experiment(
    name="spectral_bias", title="Spectral bias: low frequencies first", section="4",
    claim="a ReLU network learns a target's low frequencies before its high ones; its weight "
          "norms grow as it does, a weight bound caps the frequencies it reaches, and noise is "
          "fitted last",
    config=Config, profiles=PROFILES, run=f"{__name__}.run:run",
    figures=f"{__name__}.figures:figures", claims=CLAIMS)
