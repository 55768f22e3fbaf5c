"""Critical samples and the dispersion of per-example accuracy (Arpit et al. 2017).

Arpit, Jastrzębski, Ballas, Krueger, Bengio, Kanwal, Maharaj, Fischer, Courville,
Bengio & Lacoste-Julien (2017), "A Closer Look at Memorization in Deep Networks",
ICML. A data point x is *critical* if the predicted label changes somewhere in
the L∞ ball of radius r around x; the critical sample ratio (CSR) is the fraction
of critical points, a measure of how complex (how often changing) the learned
function is near the data. The points are found with Arpit's Langevin adversarial
sample search (LASS, their Algorithm 1): a signed-gradient step that lowers the
predicted class's log-probability, plus Gaussian noise, projected back onto the ball.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["CriticalSamples", "critical_samples", "dispersion_index"]


@dataclass(frozen=True)
class CriticalSamples:
    """The outcome of a LASS search over a batch of points.

    Attributes:
        critical: (N,) bool, whether a label change was found within the ball.
        x_adv: (N, ...) the last search point of each input (the label-changing
            point where one was found); always within ``radius`` of x in L∞.
        ratio: the critical sample ratio, mean of ``critical``.
        stderr: its binomial standard error sqrt(ratio (1 − ratio) / N).
        radius: the ball's radius r.
    """

    critical: Tensor
    x_adv: Tensor
    ratio: float
    stderr: float
    radius: float


def _predict(model: nn.Module, x: Tensor) -> Tensor:
    return model(x).argmax(-1)


def _step_direction(model: nn.Module, x: Tensor, label: Tensor) -> Tensor:
    """sign ∇ₓ of −log p_label(x): the signed direction that lowers the original label."""
    x = x.detach().requires_grad_()
    loss = F.cross_entropy(model(x), label, reduction="sum")  # points are independent
    (g,) = torch.autograd.grad(loss, x)
    return g.sign()


def critical_samples(model: nn.Module, x: Tensor, radius: float, *,
                     generator: torch.Generator, steps: int = 20,
                     step_size: float | None = None, noise: float | None = None,
                     clamp: tuple[float, float] | None = None, train_mode: bool = False,
                     batch_size: int = 1024) -> CriticalSamples:
    """Search the L∞ ball of radius r around each point for a change of predicted label.

    LASS (Arpit et al. 2017, Algorithm 1), for all points at once: starting from
    x̃ = x, repeat ``steps`` times
    x̃ ← clip_{[x−r, x+r]}(x̃ + α·sign ∇ₓ̃(−log p_k(x̃)) + β·ε), ε ~ N(0, I),
    where k is the label predicted at x; a point is critical as soon as
    argmax f(x̃) ≠ k, and its search stops there. With β = 0, α ≥ r and one
    step this is the fast-gradient-sign attack, which is the exact L∞ optimum
    for a linear two-class model.

    Args:
        model: a classifier returning logits (N, K); its parameters, buffers and
            mode are left unchanged.
        x: points (N, ...).
        radius: r ≥ 0, in input units.
        generator: source of the Gaussian noise (on x's device).
        steps: search iterations per point.
        step_size: α; default r/4.
        noise: β, the noise standard deviation; default r/4.
        clamp: optional (low, high) valid input range the search also stays in.
        train_mode: evaluate the model in train mode (default eval).
        batch_size: points searched together.

    Returns:
        A :class:`CriticalSamples` record.
    """
    if radius < 0 or steps < 1:
        raise ValueError(f"need radius >= 0 and steps >= 1, got radius={radius}, steps={steps}")
    alpha = radius / 4 if step_size is None else step_size
    beta = radius / 4 if noise is None else noise
    modes = [m.training for m in model.modules()]
    model.train(train_mode)
    try:
        parts = [_search(model, xb, radius, alpha, beta, steps, clamp, generator)
                 for xb in x.split(batch_size)]
    finally:
        for m, mode in zip(model.modules(), modes):
            m.training = mode
    critical = torch.cat([c for c, _ in parts])  # (N,)
    ratio = float(critical.double().mean())
    return CriticalSamples(critical, torch.cat([a for _, a in parts]), ratio,
                           math.sqrt(ratio * (1 - ratio) / len(critical)), float(radius))


def _search(model: nn.Module, x: Tensor, r: float, alpha: float, beta: float, steps: int,
            clamp: tuple[float, float] | None, g: torch.Generator) -> tuple[Tensor, Tensor]:
    """LASS on one batch: (critical (B,), last points (B, ...))."""
    with torch.no_grad():
        label = _predict(model, x)  # (B,)
    lo, hi = x - r, x + r
    if clamp is not None:
        lo, hi = lo.clamp(*clamp), hi.clamp(*clamp)
    found = torch.zeros(len(x), dtype=torch.bool, device=x.device)
    xt = x.clone()
    view = (-1,) + (1,) * (x.dim() - 1)
    for _ in range(steps):
        step = alpha * _step_direction(model, xt, label)
        if beta:
            eps = torch.randn(x.shape, generator=g, device=g.device, dtype=x.dtype)
            step = step + beta * eps.to(x.device)
        active = (~found).view(view)  # frozen once critical
        xt = torch.where(active, torch.minimum(torch.maximum(xt + step, lo), hi), xt)
        with torch.no_grad():
            found |= _predict(model, xt) != label
        if bool(found.all()):
            break
    return found, xt.detach()


def dispersion_index(correct: Tensor) -> float:
    """D = Var_x(p̂_x) / (p̄(1 − p̄)/R) of per-example accuracies over R runs.

    p̂_x is example x's accuracy over the R runs and p̄ the mean over examples.
    If every example had the same probability p of being right (independent
    runs), R·p̂_x would be Binomial(R, p) and D ≈ 1; examples that are
    consistently easy or hard make D ≫ 1 (Arpit et al. 2017, Fig. 1). The
    variance over examples uses N − 1 (unbiased, so E[D] = 1 under that null
    when p̄ is near p).

    Args:
        correct: (R, N) booleans or 0/1: run r got example x right.

    Returns:
        D (NaN if p̄ is 0 or 1, where the binomial variance vanishes).
    """
    if correct.dim() != 2 or correct.shape[1] < 2:
        raise ValueError(f"correct must be (R, N) with N >= 2, got shape {tuple(correct.shape)}")
    runs = correct.shape[0]
    p_x = correct.double().mean(0)  # (N,)
    p_bar = float(p_x.mean())
    null = p_bar * (1 - p_bar) / runs
    return float(p_x.var(correction=1)) / null if null > 0 else float("nan")
