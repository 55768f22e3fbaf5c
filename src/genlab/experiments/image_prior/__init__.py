"""Lecture section 3: Deep Image Prior — an untrained network restores one image.

Claim (Ulyanov, Vedaldi & Lempitsky, "Deep Image Prior", CVPR 2018, arXiv:1711.10925):
the structure of a convolutional generator alone is a strong image prior. Fitting a
randomly initialized encoder–decoder f_θ(z) to a single corrupted image restores it,
because the network fits natural images much faster than noise ("high impedance to
noise", the paper's Fig. 2): the natural image is fitted several times faster than
the same image with noise, its pixels shuffled, or uniform noise (order natural <
noisy < shuffled ≤ noise). In denoising the PSNR against the clean image rises well
above the noisy input's, peaks, then falls as the net fits the noise, so early
stopping matters; a no-reference rule (ES-WMV, Wang, Li, Zhuang, Chen, Liang & Sun,
"Early Stopping for Deep Image Prior", TMLR 2023, arXiv:2112.06074) lands within 1 dB
of the best iterate. In 4× super-resolution DIP beats bicubic upsampling.
Baselines from scikit-image are measured on the same inputs. The library behind it is
:mod:`genlab.images` (``fit_dip``, ``DipRecorder``, ``steps_to_fit``).

CPU-scale settings (``quick``, ``default``): the nets are far narrower than the
paper's, so two choices make the phenomena appear within minutes. The input jitter of
the denoising fit is off (the paper uses 1/30): with it, a 16-channel net at 128×128
is still improving after 1500 steps, so the fall after the peak would not be seen.
The other fits keep the jitter: without it the SR fit memorizes the small
low-resolution input and falls below bicubic. The impedance targets are smaller than
the working image (``impedance_size``) so that the net can fit uniform noise within
the budget, and the target MSE is 0.008, just below the noise variance (25/255)² ≈
0.0096: the noisy target must have part of its noise fitted, while a lower target
makes the step count mostly measure how well the small net memorizes Gaussian noise
(then "noisy" is slower than "shuffled", unlike the paper's Fig. 2). ``full`` keeps
the paper's jitter and a 0.002 target.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ...train import OptimizerConfig
from ..base import ClaimSpec, Experiment, ExperimentConfig

__all__ = ["CLAIMS", "EXPERIMENT", "PROFILES", "Config"]

Task = Literal["denoise", "inpaint", "text", "sr", "impedance"]


class Config(ExperimentConfig):
    image: str = Field("astronaut", description="skimage.data picture name or image file path")
    size: int = Field(128, ge=16, description="side in pixels of the square working image "
                      "(shorter side resized to it, then center-cropped)")
    levels: int = Field(5, ge=1, le=8, description="encoder/decoder levels of the skip net")
    channels: int = Field(16, ge=1, description="channels per level (128 in the paper)")
    skip_channels: int = Field(4, ge=0, description="channels of each skip connection")
    noise_channels: int = Field(32, ge=1, description="channels of the input code z")
    upsample: Literal["bilinear", "nearest", "bicubic"] = Field(
        "bilinear", description="decoder upsampling mode")
    optimizer: OptimizerConfig = Field(OptimizerConfig(name="adam", lr=0.01),
                                       description="optimizer of the generator weights "
                                       "(the paper: Adam, lr 0.01)")
    jitter: float = Field(1 / 30, ge=0, description="std of the noise added to z every step")
    denoise_jitter: float | None = Field(None, ge=0, description="jitter of the denoising fit "
                                         "(None = jitter)")
    ema: float = Field(0.99, ge=0, lt=1, description="weight of the running average of outputs")
    noise_sigma: float = Field(25.0, gt=0, description="denoising noise std, 0–255 gray levels")
    missing: float = Field(0.5, gt=0, lt=1, description="fraction of pixels removed (inpaint)")
    sr_factor: int = Field(4, ge=2, description="super-resolution scale factor")
    tasks: list[Task] = Field(["denoise", "inpaint", "text", "sr", "impedance"], min_length=1,
                              description="tasks to run")
    denoise_iters: int = Field(1500, ge=1, description="optimizer steps of the denoising fit")
    inpaint_iters: int = Field(600, ge=1, description="optimizer steps of each inpainting fit")
    sr_iters: int = Field(800, ge=1, description="optimizer steps of the super-resolution fit")
    impedance_size: int | None = Field(None, ge=16, description="side in pixels of the "
                                       "impedance targets (None = size); small enough that "
                                       "the net can fit noise within the budget")
    impedance_iters: int = Field(800, ge=1, description="step budget of each impedance fit")
    impedance_mse: float = Field(0.008, gt=0, description="MSE the impedance fits must reach "
                                 "(below the noise variance (σ/255)² ≈ 0.0096, so the noisy "
                                 "target needs part of its noise fitted)")
    es_window: int = Field(100, ge=2, description="ES-WMV window W (outputs)")
    es_patience: int = Field(500, ge=1, description="ES-WMV patience P (steps)")
    eval_every: int = Field(1, ge=1, description="steps between PSNR evaluations")
    snapshots: list[int] = Field([100, 500, 700, 1000, 1500],
                                 description="steps whose denoising outputs are shown")

    @model_validator(mode="after")
    def _sizes(self) -> Config:
        step = 2 ** self.levels  # batch norm needs >= 2×2 pixels at the deepest level
        if self.size % step or self.size % self.sr_factor or self.size < 2 * step:
            raise ValueError(f"size {self.size} must be a multiple of 2**levels = {step} and "
                             f"of sr_factor = {self.sr_factor}, and at least {2 * step}")
        side = self.impedance_size
        if side is not None and (side % step or side < 2 * step):
            raise ValueError(f"impedance_size {side} must be a multiple of 2**levels = {step} "
                             f"and at least {2 * step}")
        return self


PROFILES = {
    # Chosen so the phenomena appear within the CPU budget (see the module docstring): no
    # jitter in denoising, so the net fits the noise (PSNR peaks, then falls) in time;
    # impedance targets small enough that the net fits uniform noise within the budget.
    "quick": {"size": 64, "levels": 3, "channels": 16, "noise_channels": 16,
              "denoise_jitter": 0.0, "denoise_iters": 800, "inpaint_iters": 250,
              "sr_iters": 250, "impedance_size": 48, "impedance_iters": 600,
              "es_window": 30, "es_patience": 150, "eval_every": 2,
              "snapshots": [50, 200, 400, 800]},
    "default": {"denoise_jitter": 0.0, "denoise_iters": 3000, "inpaint_iters": 400,
                "sr_iters": 600, "impedance_size": 64, "impedance_iters": 2000,
                "eval_every": 2, "snapshots": [100, 500, 1000, 2000, 3000]},
    "full": {"size": 512, "channels": 128, "denoise_iters": 3000, "es_patience": 1000,
             "inpaint_iters": 5000, "sr_iters": 2000, "impedance_iters": 8000,
             "impedance_mse": 0.002, "eval_every": 10,
             "snapshots": [100, 500, 700, 1000, 1800, 3000]},
}

_DIP = "Ulyanov, Vedaldi & Lempitsky 2018"
_ES = "Wang et al. 2023 (ES-WMV)"

DENOISE_RISES = ClaimSpec(
    "denoise_rises", "denoising: the DIP output's PSNR rises well above the noisy input's "
    "(gain of the best iterate, dB)", ">=", 3.0, paper=f"{_DIP}, Sec. 4 (denoising, σ = 25)",
    paper_value="DIP denoises without training data, close to CBM3D; the fit reaches the "
    "image before the noise")
DENOISE_PEAKS = ClaimSpec(
    "denoise_peaks_then_falls", "denoising: PSNR peaks, then falls as the net fits the noise "
    "(best − final raw iterate, dB)", ">=", 1.0, paper=f"{_DIP}, Fig. 2 and Sec. 3",
    paper_value="given enough steps the net fits the noise too: early stopping is needed")
EARLY_STOP = ClaimSpec(
    "early_stop_within_1db", "the no-reference ES-WMV pick is within 1 dB of the best "
    "iterate (best − ES pick, dB)", "<=", 1.0, paper=f"{_ES}, denoising experiments",
    paper_value="ES-WMV stops near the PSNR peak (small detection gap) without the clean image")
SR_BEATS_BICUBIC = ClaimSpec(
    "sr_beats_bicubic", "4× super-resolution: DIP (final running average) beats bicubic "
    "upsampling (PSNR-Y gain, dB)", ">", 0.0, paper=f"{_DIP}, Sec. 4 (super-resolution, 4×)",
    paper_value="DIP beats bicubic upsampling on Set5 and Set14, approaching trained SR nets")
NATURAL_FASTER = ClaimSpec(
    "natural_fits_faster", "the natural image is fitted several times faster than uniform "
    "noise (steps(noise) / steps(natural); a lower bound when noise is not fitted within the "
    "budget)", ">=", 3.0, paper=f"{_DIP}, Fig. 2",
    paper_value="natural images converge much faster than noise: high impedance to noise")
IMPEDANCE_ORDER = ClaimSpec(
    "impedance_order", "fit speed order natural < noisy < shuffled ≤ noise (fraction of the "
    "three relations that hold)", ">=", 1.0, paper=f"{_DIP}, Fig. 2",
    paper_value="curves in the order image < image + noise < shuffled image < U(0, 1) noise")
CLAIMS = (DENOISE_RISES, DENOISE_PEAKS, EARLY_STOP, SR_BEATS_BICUBIC, NATURAL_FASTER,
          IMPEDANCE_ORDER)

EXPERIMENT = Experiment(
    name="image_prior", title="Deep Image Prior: an untrained network restores an image",
    section="3",
    claim="a random skip network fits a natural image before noise: it denoises (with early "
          "stopping), inpaints and super-resolves one image without any training data",
    config=Config, profiles=PROFILES, run=f"{__name__}.run:run",
    figures=f"{__name__}.figures:figures", claims=CLAIMS)
