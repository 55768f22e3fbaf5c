"""Lecture intro: what each layer of a VGG16 network keeps of its input.

Claim (the lecture's VGG16 reconstruction slide, after Mahendran & Vedaldi,
"Understanding Deep Image Representations by Inverting Them", CVPR 2015,
arXiv:1412.0035): the input can be reconstructed from the features of most layers of
a trained network. Their AlexNet reconstructions keep a photographically faithful
picture through every convolutional layer, with increasing fuzziness; only the fully
connected layers invert to a composition of parts similar, but not identical, to the
original. Depth re-arranges information more than it discards it.

What "keeps the input" means here: a layer keeps the *specific* input when its
reconstruction picks its own source out of 64 candidates (the nearest candidate by
pixel correlation; chance 1/64), and keeps the *class* when the trained net
classifies the reconstruction as it classifies the original. (Pixel SSIM on MNIST's
black backgrounds measured mostly background noise.) Reconstruction is by
optimization from a random start: the normalized feature loss plus total-variation
and α-norm priors, or, in the Deep Image Prior parametrization, the image is the
output of an untrained skip network, x = f_θ(z), and θ is optimized (Ulyanov,
Vedaldi & Lempitsky, "Deep Image Prior", CVPR 2018, arXiv:1711.10925, Sec. 4
"natural pre-image"; this links the intro to the DIP section).

Two nets. The trained one is a VGG16-layout net trained on the embedded MNIST digits
zero-padded to ``image_size`` (64: pool5 keeps 2×2 cells; at 32 it keeps 1×1), saved
with its data spec so ``genlab measure`` rebuilds it. The control is the same
architecture with random weights on 64 crops of scikit-image's natural pictures: He,
Wang & Hopcroft, "A Powerful Generative Model Using Random Weights for the Deep
Image Representation", NeurIPS 2016 (arXiv:1606.04801), found random-weight VGGs
invertible too, i.e. the architecture alone keeps most of the input. With ``--set
weights=PATH`` (a VGG16 ImageNet state dict, never downloaded) the trained net is
that VGG16 on the same natural crops, and the control a random full-width VGG16.

CPU-scale choices: width 0.125 (8…64 channels; pool5 keeps 1/16 value per input
pixel, about AlexNet's pool5 ratio) with batch norm, so that training at 64×64 takes
about a minute and reaches ≈ 95% test accuracy; the control is that same 1-channel
architecture, so the natural crops are gray. Reconstructions keep the pixels in [0, 1]
by projection after every step, use a leaky-ReLU backward pass (forward unchanged)
against dead-unit plateaus, and TV weight 2 (β = 2). A feature-space control tells
whether a lost identity is the layer's invariance or a failed optimization: the
reconstruction's features must point to their own source among the candidates'.
"""

from __future__ import annotations

from pydantic import Field, field_validator, model_validator

from ...train import OptimizerConfig
from ..base import ClaimSpec, Experiment, ExperimentConfig

__all__ = ["CLAIMS", "EXPERIMENT", "KEEP", "PROFILES", "SLIDE_LAYERS", "Config"]

#: Layers of the VGG16 layout, input to output (kept here so listing needs no torch).
ALL_LAYERS = ("conv1_1", "conv1_2", "pool1", "conv2_1", "conv2_2", "pool2", "conv3_1",
              "conv3_2", "conv3_3", "pool3", "conv4_1", "conv4_2", "conv4_3", "pool4",
              "conv5_1", "conv5_2", "conv5_3", "pool5", "fc6", "fc7", "fc8")
#: Default layers: the last conv of each block, the first and the last fc layer.
SLIDE_LAYERS = ("conv1_2", "conv2_2", "conv3_3", "conv4_3", "conv5_3", "fc6", "fc8")
#: Identification accuracy (nearest of 64 candidates) at which a layer keeps the input:
#: 32× chance. Fixed before any run.
KEEP = 0.5
#: Agreement of the trained net's classes of reconstruction and original. Fixed before any run.
AGREE = 0.9
NATURAL = ("astronaut", "camera", "coffee", "chelsea", "rocket", "coins", "moon", "brick")


class Config(ExperimentConfig):
    image_size: int = Field(64, ge=32, description="side of the inputs in pixels, a multiple of "
                            "32 (MNIST zero-padded to it; pool5 keeps (side/32)² cells)")
    width: float = Field(0.125, gt=0, le=1, description="VGG16 width multiplier (1 = 64…512 "
                         "channels); ignored with weights")
    hidden: int = Field(256, ge=8, description="width of fc6 and fc7; ignored with weights")
    batch_norm: bool = Field(True, description="batch norm after every conv (VGG16-BN); "
                             "ignored with weights")
    optimizer: OptimizerConfig = Field(
        OptimizerConfig(name="adam", lr=3e-3, schedule="cosine"),
        description="optimizer of the MNIST training (per-step schedule)")
    epochs: int = Field(2, ge=1, description="training epochs on the MNIST digits")
    batch_size: int = Field(64, ge=1, description="training batch size")
    n_train: int = Field(4000, ge=10, description="MNIST training digits (embedded: ≤ 4000)")
    n_test: int = Field(1000, ge=64, description="MNIST test digits (candidates and accuracy)")
    weights: str | None = Field(None, description="path of a VGG16 ImageNet state dict "
                                "(torch.save'd; loaded with weights_only=True); None: train "
                                "on MNIST")
    natural_images: list[str] = Field(list(NATURAL), min_length=1, description="scikit-image "
                                      "pictures (or files) the 64 natural crops come from")
    natural_scale: int = Field(128, ge=32, description="shorter side (px) each picture is "
                               "resized to before the crops are cut")
    candidates: int = Field(64, ge=2, description="candidates of the identification test "
                            "(the sources and others); chance is 1/candidates")
    sources: int = Field(8, ge=1, description="inputs reconstructed per net (the first "
                         "candidates)")
    layers: list[str] = Field(list(SLIDE_LAYERS), min_length=2,
                              description="layers to invert, input to output")
    steps: int = Field(200, ge=1, description="optimizer steps per pixel reconstruction")
    pixel_optimizer: OptimizerConfig = Field(
        OptimizerConfig(name="adam", lr=0.1, schedule="cosine"),
        description="optimizer of the reconstructed pixels")
    tv_weight: float = Field(2.0, ge=0, description="weight λ_V of the TV^β prior")
    beta: float = Field(2.0, ge=1, description="exponent β of the TV prior")
    alpha_weight: float = Field(1e-3, ge=0, description="weight λ_α of the α-norm prior")
    alpha: float = Field(6.0, ge=1, description="exponent α of the α-norm")
    relu_leak: float = Field(0.3, ge=0, lt=1, description="backward-only slope of the ReLUs "
                             "for x < 0 during reconstruction (forward unchanged)")
    dip_layers: list[str] = Field(["conv5_3"], description="layers also inverted with "
                                  "the Deep Image Prior parametrization (a subset of layers)")
    dip_images: int = Field(2, ge=1, description="natural sources inverted with DIP")
    dip_steps: int = Field(300, ge=1, description="optimizer steps per DIP reconstruction")
    dip_optimizer: OptimizerConfig = Field(OptimizerConfig(name="adam", lr=0.01),
                                           description="optimizer of the DIP generator weights")
    dip_channels: int = Field(16, ge=1, description="channels per level of the DIP skip net")

    @field_validator("layers", "dip_layers")
    @classmethod
    def _layers_ok(cls, v: list[str]) -> list[str]:
        bad = [x for x in v if x not in ALL_LAYERS]
        if bad:
            raise ValueError(f"unknown layers {bad}; allowed: {', '.join(ALL_LAYERS)}")
        return sorted(dict.fromkeys(v), key=ALL_LAYERS.index)

    @model_validator(mode="after")
    def _sizes(self) -> Config:
        if self.image_size % 32:
            raise ValueError(f"image_size {self.image_size} must be a multiple of 32")
        if self.sources > self.candidates or self.dip_images > self.sources:
            raise ValueError("need dip_images ≤ sources ≤ candidates; got "
                             f"{self.dip_images}, {self.sources}, {self.candidates}")
        if self.natural_scale < self.image_size or not set(self.dip_layers) <= set(self.layers):
            raise ValueError("natural_scale must be ≥ image_size and dip_layers a subset of "
                             "layers")
        return self


PROFILES = {
    "quick": {"image_size": 32, "n_train": 2000, "n_test": 200, "epochs": 1,
              "natural_scale": 64, "sources": 6, "steps": 60,
              "layers": ["conv2_2", "conv4_3", "conv5_3", "fc8"], "dip_layers": ["conv4_3"],
              "dip_images": 1, "dip_steps": 60},
    "default": {},
    "full": {"width": 1.0, "hidden": 4096, "epochs": 10, "sources": 16, "steps": 1000,
             "layers": list(ALL_LAYERS), "dip_layers": ["conv3_3", "conv5_3", "fc6", "fc8"],
             "dip_images": 8, "dip_steps": 2000, "dip_channels": 32},
}

_MV = "Mahendran & Vedaldi 2015, AlexNet reconstructions from every layer (Fig. 6)"
_CHANCE = "nearest of 64 candidates by pixel correlation; chance 1/64"

CONV_KEEP = ClaimSpec(
    "conv_layers_keep_input", f"trained net: every conv and pool layer keeps the specific "
    f"input (lowest identification accuracy among them; {_CHANCE})", ">=", KEEP, paper=_MV,
    paper_value="all convolutional layers keep a photographically faithful representation, "
    "with increasing fuzziness", min_profile="default")
TOP_LOSES = ClaimSpec(
    "top_layer_loses_input", "trained net: the last layer (fc8, the logits) no longer "
    f"identifies its source (identification accuracy; {_CHANCE})", "<", KEEP, paper=_MV,
    paper_value="fully connected layers invert to parts similar but not identical to the "
    "original", min_profile="default")
FC_CLASS = ClaimSpec(
    "fc_layers_keep_class", "trained net: reconstructions from the fully connected layers "
    "are classified as their originals (mean agreement over the fc layers)", ">=", AGREE,
    paper=_MV, paper_value="fc reconstructions are compositions of the object's parts "
    "(class content kept)", min_profile="default")
RANDOM_KEEP = ClaimSpec(
    "random_net_keeps_input", "random-weight control: every conv and pool layer keeps natural "
    "images (lowest identification accuracy among them; 64 crops of scikit-image pictures)",
    ">=", KEEP, paper="He, Wang & Hopcroft 2016, Sec. 3 (inverting ranVGG)",
    paper_value="reconstructions from a random-weight VGG are statistically of higher "
    "quality than from the trained VGG", min_profile="default")
DIP_CLOSER = ClaimSpec(
    "dip_preimage_closer", "Deep Image Prior pre-images of natural images are closer to the "
    "originals than TV-regularized ones at the deep layers (mean SSIM gain over dip_layers)",
    ">", 0.0, paper="Ulyanov, Vedaldi & Lempitsky 2018, Sec. 4 (natural pre-image)",
    paper_value="qualitative: DIP pre-images of AlexNet features look more natural than "
    "TV-regularized ones", min_profile="default")
CLAIMS = (CONV_KEEP, TOP_LOSES, FC_CLASS, RANDOM_KEEP, DIP_CLOSER)

EXPERIMENT = Experiment(
    name="inversion", title="What each layer keeps: reconstructing the input from VGG16 layers",
    section="intro",
    claim="every conv layer of a trained VGG16-layout net keeps the specific input; only the "
          "last layers keep just the class; random weights keep it too",
    config=Config, profiles=PROFILES, run=f"{__name__}.run:run",
    figures=f"{__name__}.figures:figures", claims=CLAIMS)
