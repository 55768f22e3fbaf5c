"""Reconstructing an input from one layer's activations (Mahendran & Vedaldi 2015).

Mahendran & Vedaldi, "Understanding Deep Image Representations by Inverting
Them", CVPR 2015: find
x* = argmin_x ‖Φ(x) − Φ₀‖² / ‖Φ₀‖² + λ_α R_α(x) + λ_V R_V^β(x)
from a random start, where Φ₀ = Φ(x₀) is the code of the original image, R_α the
α-norm (keeps pixels in range) and R_V^β the total variation (favours piecewise
smooth images). Optionally the image is parametrized by a Deep Image Prior
network, x = f_θ(z) (Ulyanov et al. 2018, Sec. 4), and θ is optimized instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ...models.skip import SkipNet, noise_input

__all__ = ["InversionSettings", "alpha_norm", "leaky_relu_gradients", "reconstruct",
           "total_variation"]


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
    """R_α(x) = mean |(x − centre) / scale|^α per image: ≈ 0 inside [0, 1], huge outside."""
    return ((x - centre) / scale).abs().pow(alpha).flatten(1).mean(1)  # (B,)


@dataclass(frozen=True)
class InversionSettings:
    """Optimization settings of :func:`reconstruct` (Adam with cosine decay)."""

    steps: int = 300
    lr: float = 0.1
    tv_weight: float = 0.5
    beta: float = 2.0
    alpha_weight: float = 1e-3
    alpha: float = 6.0
    parametrization: str = "pixels"  # or "dip"
    relu_leak: float = 0.0  # backward-only slope of ReLUs for x < 0 (forward unchanged)


def _features(model: nn.Module, layer: str, x: Tensor, normalize) -> Tensor:
    return model.activations(normalize(x), layer).flatten(1)  # (B, D)


def _objective(model, layer, x, target, norms, s: InversionSettings, normalize) -> Tensor:
    feat = _features(model, layer, x, normalize)  # (B, D)
    rel = ((feat - target) ** 2).sum(1) / norms  # (B,) normalized feature loss
    reg = s.tv_weight * total_variation(x, s.beta) + s.alpha_weight * alpha_norm(x, s.alpha)
    return (rel + reg).sum()


def _optimize(params, make_x: Callable[[], Tensor], model, layer, target, norms,
              s: InversionSettings, normalize, lr: float) -> Tensor:
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=s.steps)
    for _ in range(s.steps):
        loss = _objective(model, layer, make_x(), target, norms, s, normalize)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return make_x().detach()


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


def reconstruct(model: nn.Module, layer: str, images: Tensor, s: InversionSettings, *,
                generator: torch.Generator, normalize: Callable[[Tensor], Tensor] = lambda x: x
                ) -> tuple[Tensor, Tensor]:
    """Reconstruct ``images`` from their activations at ``layer`` of ``model``.

    Args:
        model: a network with ``activations(x, layer)`` (e.g. :class:`~genlab.models.vgg.VGG16`),
            in eval mode; its parameters are not changed (gradients go to the image only).
        layer: the layer name.
        images: originals x₀, (B, C, H, W) in [0, 1].
        s: the optimization settings.
        generator: random source of the start (pixels ~ U(0, 1), or the DIP code and init).
        normalize: the model's input normalization, applied inside Φ.

    ``s.relu_leak > 0`` runs the optimization inside :func:`leaky_relu_gradients`
    (the objective is unchanged; only its descent direction is preconditioned).

    Returns:
        (reconstructions (B, C, H, W) clipped to [0, 1], relative feature error
        ‖Φ(x*) − Φ₀‖ / ‖Φ₀‖ per image (B,)).
    """
    flags = [p.requires_grad for p in model.parameters()]
    model.requires_grad_(False)
    try:
        with torch.no_grad():
            target = _features(model, layer, images, normalize)  # (B, D)
        norms = (target ** 2).sum(1).clamp_min(1e-12)  # (B,)
        with leaky_relu_gradients(model, s.relu_leak):
            rec = _start_and_optimize(model, layer, images, target, norms, s, normalize, generator)
        rec = rec.clamp(0, 1)
        with torch.no_grad():
            err = (_features(model, layer, rec, normalize) - target).norm(dim=1) / norms.sqrt()
    finally:
        for p, f in zip(model.parameters(), flags):
            p.requires_grad_(f)
    return rec, err


def _start_and_optimize(model, layer, images, target, norms, s, normalize, generator) -> Tensor:
    if s.parametrization == "pixels":
        x = torch.rand(images.shape, generator=generator).to(images.device).requires_grad_()
        return _optimize([x], lambda: x, model, layer, target, norms, s, normalize, s.lr)
    if s.parametrization == "dip":
        return torch.cat([_dip_one(model, layer, images[i:i + 1], target[i:i + 1],
                                   norms[i:i + 1], s, normalize, generator)
                          for i in range(len(images))])
    raise ValueError(f"unknown parametrization {s.parametrization!r}; allowed: pixels, dip")


def _dip_one(model, layer, image, target, norms, s, normalize, generator) -> Tensor:
    """One image (1, C, H, W) parametrized as x = f_θ(z) by a small skip net."""
    side = image.shape[-1]
    levels = max(1, min(4, (side & -side).bit_length() - 3))  # H must divide by 2**levels
    seed = int(torch.randint(2 ** 62, (1,), generator=generator))
    net = SkipNet(16, image.shape[1], channels=32, levels=levels, seed=seed).to(image.device)
    z = noise_input(16, image.shape[-2], side, generator=generator).to(image.device)
    return _optimize(net.parameters(), lambda: net(z), model, layer, target, norms, s,
                     normalize, lr=0.01)
