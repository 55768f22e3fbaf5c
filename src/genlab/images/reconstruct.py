"""Reconstructing an input from a layer's features, for any model (Mahendran & Vedaldi 2015).

Mahendran & Vedaldi, "Understanding Deep Image Representations by Inverting Them",
CVPR 2015 (arXiv:1412.0035): from a random start, find

    x* = argmin_x ‖Φ(x) − Φ₀‖² / ‖Φ₀‖² + λ_α R_α(x) + λ_V R_V^β(x),

where Φ₀ = Φ(x₀) is the code of the original image, R_α an α-norm (keeps pixels in
range) and R_V^β the total variation (favours piecewise smooth images). Φ is any
callable; :func:`layer_features` makes one from any ``nn.Module`` and a module name
with a forward hook (the forward pass stops at that module).

:func:`reconstruct_dip` replaces the hand-made regularizers by a Deep Image Prior:
the image is the output of an untrained generator, x = f_θ(z), and θ is optimized
(Ulyanov, Vedaldi & Lempitsky 2018, arXiv:1711.10925, Sec. 4 "natural pre-image").

Gradients flow to the image (or the generator) only: the model's parameters, their
``.grad`` and its buffers are left untouched.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..models.skip import SkipNet, noise_input
from ..train import OptimizerConfig

__all__ = ["PIXEL_OPTIMIZER", "Reconstruction", "Regularizer", "alpha_norm", "layer_features",
           "leaky_relu_gradients", "reconstruct", "reconstruct_dip", "total_variation"]

#: Adam at 0.1 with cosine decay: the image pixels' optimizer of :func:`reconstruct`.
PIXEL_OPTIMIZER = OptimizerConfig(name="adam", lr=0.1, schedule="cosine")

Features = Callable[[Tensor], Tensor]


class _Reached(Exception):
    """Raised by the feature hook to end the forward pass at the hooked module."""


def layer_features(model: nn.Module, layer: str, *, train_mode: bool = False) -> Features:
    """``features(x)``: the output of ``model``'s submodule ``layer`` when ``model(x)`` runs.

    A forward hook captures the module's output and ends the forward pass there, so
    deep layers cost no more than the layers below them. A module used twice in the
    forward pass gives its first output.

    Args:
        model: any module; each call runs it in ``train_mode`` and restores its mode.
        layer: a name of ``model.named_modules()``, e.g. ``"features.15"``
            (:data:`genlab.models.VGG16_LAYERS` maps ``"conv3_3"`` to it).
        train_mode: the mode the features are computed in (False: eval).

    Returns:
        A function of a batch ``x`` giving the module's output (with autograd history).

    Raises:
        ValueError: ``model`` has no such submodule (also raised by ``features`` when
            the forward pass never reaches it).
    """
    modules = dict(model.named_modules())
    if layer not in modules or layer == "":
        some = ", ".join(list(n for n in modules if n)[:12])
        raise ValueError(f"model has no submodule {layer!r}; allowed: {some}, …")
    module = modules[layer]

    def features(x: Tensor) -> Tensor:
        captured: list[Tensor] = []

        def hook(_module, _inputs, output):
            captured.append(output)
            raise _Reached

        handle, was_training = module.register_forward_hook(hook), model.training
        model.train(train_mode)
        try:
            model(x)
        except _Reached:
            pass
        finally:
            handle.remove()
            model.train(was_training)
        if not captured:
            raise ValueError(f"the forward pass of the model never reached {layer!r}")
        return captured[0]

    return features


def total_variation(x: Tensor, beta: float = 2.0) -> Tensor:
    """R_V^β(x) = mean over pixels and channels of ((∂_h x)² + (∂_w x)²)^(β/2), per image.

    Args:
        x: images (B, C, H, W).
        beta: exponent β (2 in Mahendran & Vedaldi's reconstructions).

    Returns:
        (B,) values, forward differences on the (H−1)×(W−1) interior.
    """
    dh = x[..., 1:, :-1] - x[..., :-1, :-1]  # (B, C, H−1, W−1)
    dw = x[..., :-1, 1:] - x[..., :-1, :-1]
    return (dh ** 2 + dw ** 2).pow(beta / 2).flatten(1).mean(1)


def alpha_norm(x: Tensor, alpha: float = 6.0, centre: float = 0.5, scale: float = 0.5) -> Tensor:
    """R_α(x) = mean |(x − centre) / scale|^α per image (B,): ≈ 0 inside [0, 1], huge outside."""
    return ((x - centre) / scale).abs().pow(alpha).flatten(1).mean(1)


@dataclass(frozen=True)
class Regularizer:
    """Mahendran & Vedaldi's image prior λ_V R_V^β(x) + λ_α R_α(x), per image (B,).

    ``Regularizer(0, alpha_weight=0)`` is no prior at all (as with a Deep Image Prior).
    """

    tv_weight: float = 0.5
    beta: float = 2.0
    alpha_weight: float = 1e-3
    alpha: float = 6.0

    def __call__(self, x: Tensor) -> Tensor:
        out = torch.zeros(len(x), dtype=x.dtype, device=x.device)  # (B,)
        if self.tv_weight:
            out = out + self.tv_weight * total_variation(x, self.beta)
        if self.alpha_weight:
            out = out + self.alpha_weight * alpha_norm(x, self.alpha)
        return out


@dataclass
class Reconstruction:
    """Reconstructed images (B, C, H, W) and their relative feature error
    ‖Φ(x*) − Φ₀‖ / ‖Φ₀‖ (B,), both detached."""

    images: Tensor
    feature_error: Tensor


@contextmanager
def leaky_relu_gradients(model: nn.Module, leak: float) -> Iterator[None]:
    """Inside the block, every ``nn.ReLU`` of ``model`` back-propagates slope ``leak`` for x < 0.

    The forward values (hence the objective and its minimizers) are unchanged; only
    the descent direction changes, so units that are off at the current image but on
    in the target still pull the image (a preconditioner against dead-ReLU plateaus).
    ``leak = 0`` leaves the model untouched.

    Args:
        model: the network; its ReLUs run out of place inside the block.
        leak: backward slope for negative inputs, in [0, 1).
    """
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)] if leak else []
    inplace = [m.inplace for m in relus]

    def hook(_m, inputs, out):
        neg = inputs[0].clamp(max=0)  # forward adds exactly 0; backward adds leak on x < 0
        return out + leak * (neg - neg.detach())

    handles = [m.register_forward_hook(hook) for m in relus]
    for m in relus:
        m.inplace = False
    try:
        yield
    finally:
        for m, flag, h in zip(relus, inplace, handles):
            m.inplace = flag
            h.remove()


def _target(features: Features, images: Tensor) -> tuple[Tensor, Tensor]:
    with torch.no_grad():
        target = features(images).flatten(1)  # (B, D)
    return target, (target ** 2).sum(1).clamp_min(1e-12)  # (B, D), (B,)


def _optimize(params: list[Tensor], make_x: Callable[[], Tensor], features: Features,
              target: Tensor, norms: Tensor, regularizer: Regularizer, steps: int,
              optimizer: OptimizerConfig, box: bool = False) -> Tensor:
    """The ten-line loop: normalized feature loss + prior, backward into ``params`` only;
    ``box`` projects the parameters onto [0, 1] after every step."""
    opt = optimizer.build(params)
    scheduler = optimizer.scheduler(opt, steps)
    for _ in range(steps):
        x = make_x()  # (B, C, H, W)
        rel = ((features(x).flatten(1) - target) ** 2).sum(1) / norms  # (B,)
        loss = (rel + regularizer(x)).sum()  # images are independent: a sum keeps them apart
        opt.zero_grad(set_to_none=True)
        loss.backward(inputs=params)
        opt.step()
        if scheduler is not None:
            scheduler.step()
        if box:
            with torch.no_grad():
                for p in params:
                    p.clamp_(0, 1)
    with torch.no_grad():
        return make_x()


def _finish(features: Features, x: Tensor, target: Tensor, norms: Tensor,
            clip: bool) -> Reconstruction:
    x = x.clamp(0, 1) if clip else x
    with torch.no_grad():
        err = (features(x).flatten(1) - target).norm(dim=1) / norms.sqrt()  # (B,)
    return Reconstruction(x.detach(), err)


def reconstruct(features: Features, images: Tensor, *, generator: torch.Generator,
                steps: int = 300, optimizer: OptimizerConfig = PIXEL_OPTIMIZER,
                regularizer: Regularizer = Regularizer(), clip: bool = True) -> Reconstruction:
    """Reconstruct ``images`` from their features by optimizing the pixels.

    Args:
        features: Φ, a function of a batch (e.g. :func:`layer_features`); the
            reconstruction is as good as Φ is deterministic (use eval mode).
        images: the originals x₀, (B, C, H, W), values in [0, 1].
        generator: random source of the start, pixels ~ U(0, 1) (drawn on the CPU).
        steps: optimizer steps.
        optimizer: built once over the pixels (default Adam 0.1, cosine decay).
        regularizer: the image prior.
        clip: keep the pixels in [0, 1]: projected after every step (a box constraint, so
            the result is a valid image and its features are the ones optimized); False:
            unconstrained pixels.

    Returns:
        The :class:`Reconstruction`. Without a prior and with an injective linear Φ it
        converges to x₀; with TV (β = 2) and a linear Φ, to the solution of a linear
        least-squares problem (``tests/images/test_images_reconstruct.py``).
    """
    target, norms = _target(features, images)
    x = torch.rand(images.shape, generator=generator, dtype=images.dtype).to(images.device)
    x.requires_grad_(True)
    x = _optimize([x], lambda: x, features, target, norms, regularizer, steps, optimizer, clip)
    return _finish(features, x, target, norms, clip)


def reconstruct_dip(features: Features, images: Tensor, *, generator: torch.Generator,
                    steps: int = 300, optimizer: OptimizerConfig = OptimizerConfig(lr=0.01),
                    regularizer: Regularizer = Regularizer(0.0, alpha_weight=0.0),
                    channels: int = 32, levels: int | None = None) -> Reconstruction:
    """Reconstruct each image as the output of its own untrained skip network, x = f_θ(z).

    The Deep Image Prior's "natural pre-image" (Ulyanov et al. 2018, Sec. 4): the same
    feature loss as :func:`reconstruct`, minimized over the weights θ of a
    :class:`~genlab.models.SkipNet` (sigmoid output, so x stays in (0, 1)); by default
    no hand-made prior is added.

    Args:
        features, images, generator, steps, regularizer: as in :func:`reconstruct`;
            ``generator`` also seeds each net and its code z.
        optimizer: built once per image over its net's weights (default Adam 0.01).
        channels: channels per level of the skip net.
        levels: levels of the skip net (default: as many as H and W allow, at most 4,
            leaving at least 4×4 pixels at the bottom).

    Returns:
        The :class:`Reconstruction` (one net per image: batch norm must not mix images).
    """
    side = min(images.shape[-2:])
    levels = levels or max(1, min(4, ((side & -side).bit_length() - 3)))
    out = []
    for i in range(len(images)):
        target, norms = _target(features, images[i:i + 1])
        seed = int(torch.randint(2 ** 62, (1,), generator=generator))
        net = SkipNet(16, images.shape[1], channels=channels, levels=levels, seed=seed)
        net = net.to(images.device, images.dtype).train()
        z = noise_input(16, *images.shape[-2:], generator=generator).to(images.device,
                                                                        images.dtype)
        out.append(_optimize(list(net.parameters()), lambda: net(z), features, target, norms,
                             regularizer, steps, optimizer))
    x = torch.cat(out)  # (B, C, H, W)
    target, norms = _target(features, images)
    return _finish(features, x, target, norms, clip=False)
