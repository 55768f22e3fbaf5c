"""Sharpness and flatness of a minimum: Keskar's ε-sharpness, PAC-Bayes σ′, and
the rescaling-invariant filter-normalized sharpness.

- Keskar, Mudigere, Nocedal, Smelyanskiy & Tang 2017, "On large-batch training for
  deep learning: generalization gap and sharp minima", metric (3).
- Jiang, Neyshabur, Mobahi, Krishnan & Bengio 2019, "Fantastic generalization
  measures and where to find them": PAC-Bayes flatness σ′ and its magnitude-aware
  variant.
- Li et al. 2018 filter-normalized directions (see :mod:`.landscape`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.optimize
import torch
from torch import nn

from ._func import FunctionalLoss, LossFn, flatten, unflatten
from .landscape import filter_normalized_direction, loss_slice_1d
from .spectrum import Estimate

__all__ = [
    "Flatness",
    "Sharpness",
    "epsilon_sharpness",
    "filter_normalized_sharpness",
    "pac_bayes_sigma",
]


@dataclass
class Sharpness:
    """Keskar's ε-sharpness: ``value`` = 100·(max_loss − loss)/(1 + loss) in
    percent, at box size ``epsilon`` in a space of dimension ``dim``."""

    value: float
    loss: float
    max_loss: float
    epsilon: float
    dim: int


def epsilon_sharpness(model: nn.Module, loss_fn: LossFn, data: Any, *, epsilon: float = 1e-3,
                      subspace_dim: int | None = None,
                      generator: torch.Generator | None = None, max_iter: int = 10,
                      method: str = "lbfgsb", restarts: int = 1, **kwargs: Any) -> Sharpness:
    """Keskar et al.'s ε-sharpness of the loss at the model's weights w.

    φ = 100 · (max_{y ∈ C_ε} L(w + A y) − L(w)) / (1 + L(w)), with the box
    C_ε = {|y_i| ≤ ε(|(A⁺w)_i| + 1)}. A = I in the full space; with
    ``subspace_dim = p``, A is an (n, p) Gaussian matrix (a random manifold).

    Args:
        model, loss_fn, data: as for every measure; ``**kwargs`` go to
            :class:`~genlab.measures.FunctionalLoss` (``params``, ``inputs``, ``train_mode``).
        epsilon: relative box size (Keskar uses 1e-3 and 5e-4).
        subspace_dim: p for a random subspace, ``None`` for the full space.
        generator: source of A and of the start point, uniform in the box (a
            start at w itself would stall where the gradient vanishes); default seed 0.
        max_iter: iterations of the maximizer (Keskar: 10 of L-BFGS-B).
        method: ``"lbfgsb"`` (scipy's bound-constrained L-BFGS-B) or ``"pgd"``
            (projected sign-gradient ascent with step = box/``max_iter``·2).
        restarts: independent random starts; the maximization is non-convex and
            each start may end at a different local maximum.

    Returns:
        :class:`Sharpness`; ``max_loss`` is the largest loss actually evaluated
        inside the box, so ``value`` is a certified lower bound of the true max.
    """
    if method not in ("lbfgsb", "pgd"):
        raise ValueError(f"method must be 'lbfgsb' or 'pgd', got {method!r}")
    f = FunctionalLoss(model, loss_fn, data, **kwargs)
    w = flatten(f.params).to("cpu", torch.float64)  # (n,)
    generator = generator or torch.Generator().manual_seed(0)
    A = None
    if subspace_dim is not None:
        A = torch.randn(f.dim, subspace_dim, generator=generator, dtype=torch.float64)  # (n, p)
        center = torch.linalg.pinv(A) @ w  # (p,)
    else:
        center = w
    bound = (epsilon * (center.abs() + 1)).numpy()  # (p,)
    best = {"loss": -math.inf}

    def neg_loss_and_grad(y: np.ndarray) -> tuple[float, np.ndarray]:
        y_t = torch.from_numpy(y)
        shift = y_t if A is None else A @ y_t  # (n,)
        point = unflatten((w + shift).to(f.device, f.dtype), f.params)
        value, g = f.value_and_grad(point)
        best["loss"] = max(best["loss"], value)
        g = flatten(g).to(torch.float64).cpu()
        return -value, -(g if A is None else A.T @ g).numpy()

    loss0 = f.value()
    for _ in range(restarts):
        u = torch.rand(len(bound), generator=generator, dtype=torch.float64)
        _maximize(neg_loss_and_grad, (2 * u - 1).numpy() * bound, bound, method, max_iter)
    value = 100 * (best["loss"] - loss0) / (1 + loss0)
    return Sharpness(value, loss0, best["loss"], epsilon, len(bound))


def _maximize(fun: Any, y0: np.ndarray, bound: np.ndarray, method: str, max_iter: int) -> None:
    if method == "lbfgsb":
        scipy.optimize.minimize(fun, y0, jac=True, method="L-BFGS-B",
                                bounds=scipy.optimize.Bounds(-bound, bound),
                                options={"maxiter": max_iter})
        return
    y = y0
    for _ in range(max_iter):
        _, g = fun(y)
        y = np.clip(y - 2 * bound / max_iter * np.sign(g), -bound, bound)
    fun(y)


@dataclass
class Flatness:
    """PAC-Bayes flatness: the largest noise scale ``sigma`` (σ′) at which the
    expected loss increase is ``target``; ``stderr`` is its delta-method standard
    error. ``increase`` ± ``increase_stderr``: the Monte-Carlo loss increase at σ′.
    Jiang et al. report 1/σ′² (:attr:`measure`): larger = sharper."""

    sigma: float
    stderr: float
    loss: float
    increase: float
    increase_stderr: float
    target: float
    num_samples: int

    @property
    def measure(self) -> float:
        return 1.0 / self.sigma**2


def _noise_increase(f: FunctionalLoss, seeds: Sequence[int], sigma: float, scale: Any,
                    loss0: float) -> torch.Tensor:
    out = []
    for seed in seeds:  # the same draws at every σ: common random numbers
        g = torch.Generator().manual_seed(seed)
        noisy = {}
        for name, w in f.params.items():
            z = torch.randn(w.shape, generator=g, dtype=torch.float64).to(w.device, w.dtype)
            noisy[name] = w + scale(name, w, sigma) * z
        out.append(f.value(noisy) - loss0)
    return torch.tensor(out, dtype=torch.float64)  # (S,)


def pac_bayes_sigma(model: nn.Module, loss_fn: LossFn, data: Any, *, generator: torch.Generator,
                    target: float = 0.1, magnitude_aware: bool = False, eps: float = 1e-3,
                    num_samples: int = 10, sigma_range: tuple[float, float] = (1e-6, 10.0),
                    iters: int = 24, **kwargs: Any) -> Flatness:
    """PAC-Bayes flatness σ′ (Jiang et al. 2019, measures 50–53).

    σ′ is the largest σ with E_u[L(w + u)] − L(w) ≤ ``target``, found by bisection
    on log σ over Monte-Carlo estimates that reuse the same ``num_samples`` noise
    draws at every σ. Noise: u ~ N(0, σ²) (plain) or, ``magnitude_aware``,
    u_i ~ N(0, σ²w_i² + eps²). With ``eps = 0`` the magnitude-aware σ′ is exactly
    invariant to the ReLU rescaling (the noise is multiplicative).

    Args:
        model, loss_fn, data, ``**kwargs``: as for every measure. ``loss_fn`` may be
            any per-batch statistic, e.g. the error rate 1 − accuracy.
        generator: source of the noise seeds.
        target: allowed expected increase of the loss (Jiang: 0.1).
        magnitude_aware: scale the noise by |w|.
        eps: additive noise std of the magnitude-aware variant (Jiang: 1e-3).
        num_samples: Monte-Carlo noise draws per σ.
        sigma_range: bisection bracket (σ_lo, σ_hi).
        iters: bisection steps (relative precision (σ_hi/σ_lo)^(2^-iters)).

    Returns:
        :class:`Flatness`; σ′ = σ_hi if even σ_hi does not reach ``target``.
    """
    f = FunctionalLoss(model, loss_fn, data, **kwargs)
    seeds = torch.randint(0, 2**62, (num_samples,), generator=generator).tolist()
    if magnitude_aware:
        scale = lambda n, w, s: torch.sqrt(s**2 * w**2 + eps**2)  # noqa: E731
    else:
        scale = lambda n, w, s: s  # noqa: E731
    loss0 = f.value()
    inc = lambda s: _noise_increase(f, seeds, s, scale, loss0)  # noqa: E731
    lo, hi = sigma_range
    if float(inc(hi).mean()) <= target:
        sigma = hi
    else:
        for _ in range(iters):
            mid = math.sqrt(lo * hi)
            lo, hi = (mid, hi) if float(inc(mid).mean()) <= target else (lo, mid)
        sigma = lo
    at = inc(sigma)
    up, down = float(inc(sigma * 1.05).mean()), float(inc(sigma / 1.05).mean())
    slope = (up - down) / (2 * math.log(1.05))  # d increase / d log σ
    se_inc = float(at.std() / math.sqrt(num_samples)) if num_samples > 1 else math.inf
    se = sigma * se_inc / slope if slope > 0 else math.inf
    return Flatness(sigma, se, loss0, float(at.mean()), se_inc, target, num_samples)


def filter_normalized_sharpness(model: nn.Module, loss_fn: LossFn, data: Any, *,
                                generator: torch.Generator, radius: float = 0.2,
                                num_directions: int = 10, num_points: int = 9,
                                params: str | Sequence[str] | None = None,
                                **kwargs: Any) -> Estimate:
    """Mean over filter-normalized random directions d of max_{|t| ≤ radius} L(w + t·d) − L(w).

    Invariant to the ReLU rescaling W1 → αW1, b1 → αb1, W2 → W2/α: with the same
    generator the rescaled net sees the rescaled directions and identical losses
    (Li et al. 2018's normalization is what makes this so).

    Args:
        model, loss_fn, data, ``**kwargs``: as for every measure.
        generator: source of the directions.
        radius: largest step along each direction.
        num_directions: D directions.
        num_points: grid points t in [−radius, radius].
        params: parameter subset.

    Returns:
        :class:`~genlab.measures.Estimate` (mean ± standard error over directions, n = D).
    """
    ts = torch.linspace(-radius, radius, num_points)
    loss0 = FunctionalLoss(model, loss_fn, data, params=params, **kwargs).value()
    rises = []
    for _ in range(num_directions):
        d = filter_normalized_direction(model, generator=generator, params=params)
        losses = loss_slice_1d(model, loss_fn, data, d, ts, params=params, **kwargs)
        rises.append(float(losses.max()) - loss0)
    rises_t = torch.tensor(rises, dtype=torch.float64)
    se = float(rises_t.std() / math.sqrt(num_directions)) if num_directions > 1 else math.inf
    return Estimate(float(rises_t.mean()), se, num_directions)
