"""Training options that bound the weights, and with them the Lipschitz constant.

``constrain(model, kind, level)`` installs one of:

- ``"clip"``: clamp every Linear / convolution weight entrywise to [−c, c] after each
  optimizer step (the weight clipping of Arjovsky et al. 2017, "Wasserstein GAN",
  arXiv:1701.07875; biases are left free as they do not enter the Lipschitz constant).
  Then ‖W‖₂ ≤ ‖W‖_F ≤ c·√(mn) for an (m, n) matrix.
- ``"rescale"``: after each step, scale each Linear weight down to spectral norm s if
  it is above, W ← W · min(1, s / σ̂(W)) (a radial rescaling: the nearest point of the
  ball would clip only the singular values above s).
- ``"spectral_norm"``: reparametrize each Linear weight as s · W / σ̂(W) with
  ``torch.nn.utils.parametrizations.spectral_norm`` (Miyato et al. 2018, "Spectral
  Normalization for Generative Adversarial Networks", arXiv:1802.05957) followed by a
  scale s, so every layer sits on the bound.

For ``"rescale"`` and ``"spectral_norm"`` every Linear layer has ‖W_l‖₂ ≤ s (up to the
estimate's excess, below), so a ReLU MLP with L Linear layers is s^L-Lipschitz. σ̂ comes from subspace iteration on a
block of ``block`` vectors, warm-started across steps (Rayleigh–Ritz on the block).
A single power-iteration vector, as ``spectral_norm`` keeps on its own, lags when the
top singular values crowd together, which spectral normalization itself causes. Fitting
Rahaman's target with Adam (lr 1e-3), checked every 20 steps against ``matrix_norm``:
on a 6 × 64 MLP (s = 2.5, 3,000 steps) one vector let ‖W_l‖₂ exceed s by 8.8% at the
median check (16% at most); blocks of 8 / 16 / 32 kept the largest excess to 2.9% /
1.5e-4 / 2e-6. On a 6 × 256 MLP (s = 2.5, 3,000 steps) a block of 16 kept it to 7.7e-4.
A block as wide as the matrix is an exact SVD. ``"rescale"`` needs less: its excess
stayed below 1e-5 with a block of 8 in these runs.
After each step the block's top Ritz vectors are written into ``spectral_norm``'s
``_u`` / ``_v`` buffers, from which its own train-mode iteration continues.
Convolutions are constrained only by ``"clip"``.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

__all__ = ["CONSTRAINTS", "Constraint", "constrain"]

CONSTRAINTS = ("none", "clip", "rescale", "spectral_norm")
_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


class _Scale(nn.Module):
    """The parametrization W ↦ s W (stacked after ``spectral_norm``)."""

    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, weight: Tensor) -> Tensor:
        return self.scale * weight


class _TopSingular:
    """The top singular triple of a changing matrix, by subspace iteration on a block
    of k orthonormal right vectors kept from one call to the next."""

    def __init__(self, weight: Tensor, block: int, generator: torch.Generator):
        k = min(block, *weight.shape)
        start = torch.randn(weight.shape[1], k, generator=generator, dtype=torch.float64)
        self.basis = torch.linalg.qr(start.to(weight))[0].T  # (k, in): rows, as W is stored

    def __call__(self, w: Tensor, iters: int) -> tuple[Tensor, Tensor, Tensor]:
        """(σ̂, u (out,), v (in,)) of ``w`` (out, in) after ``iters`` iterations; σ̂ ≤ ‖w‖₂."""
        b = self.basis @ w.T  # (k, out) = (W V)ᵀ; row-major products are the fast ones
        for _ in range(iters):
            self.basis = torch.linalg.qr((b @ w).T)[0].T  # (k, in): orth. rows of (WᵀW V)ᵀ
            b = self.basis @ w.T
        values, vectors = torch.linalg.eigh(b @ b.T)  # Rayleigh–Ritz, ascending: (k,), (k, k)
        sigma = values[-1].clamp(min=0).sqrt()  # a tensor: no host sync
        top = vectors[:, -1]  # (k,)
        u = top @ b / sigma.clamp(min=torch.finfo(w.dtype).tiny)  # (out,)
        return sigma, u, top @ self.basis


def _weight(m: nn.Module) -> Tensor:
    """The trained matrix: the parametrization's original under ``spectral_norm``."""
    return m.parametrizations.weight.original if parametrize.is_parametrized(m, "weight") \
        else m.weight


class Constraint:
    """A weight bound installed on a model; call it after every optimizer step.

    ``constraint(*args)`` ignores its arguments, so it can be passed directly as
    ``train(..., on_step=constraint)``. Attributes: ``kind``, ``level`` and ``layers``
    (the constrained modules).
    """

    def __init__(self, kind: str, level: float, layers: list[nn.Module], iterations: int):
        self.kind, self.level, self.layers = kind, level, layers
        self.iterations = iterations
        self._top: dict[nn.Module, _TopSingular] = {}

    @torch.no_grad()
    def __call__(self, *_) -> None:
        """Restore the bound after a step: clamp (``"clip"``), scale down
        (``"rescale"``), or refresh the normalizing estimate (``"spectral_norm"``)."""
        if self.kind == "clip":
            for m in self.layers:
                m.weight.clamp_(-self.level, self.level)
        elif self.kind in ("rescale", "spectral_norm"):
            for m in self.layers:
                sigma, u, v = self._top[m](_weight(m), self.iterations)
                if self.kind == "rescale":
                    m.weight.mul_((self.level / sigma).clamp(max=1.0))
                else:
                    m.parametrizations.weight[0]._u.copy_(u)
                    m.parametrizations.weight[0]._v.copy_(v)

    def implied_bound(self) -> float:
        """The Lipschitz bound the constraint guarantees for a chain of the constrained
        layers with 1-Lipschitz activations: s^L for ``"rescale"`` / ``"spectral_norm"``,
        ∏ c·√(fan_out·fan_in) for ``"clip"`` (the Frobenius bound); inf for ``"none"`` and
        for clipped convolutions (measure those with ``genlab.measures.lipschitz_bound``)."""
        if self.kind == "none" or any(isinstance(m, _CONV) for m in self.layers):
            return math.inf
        if self.kind == "clip":
            return math.prod(self.level * math.sqrt(m.weight.numel()) for m in self.layers)
        return self.level ** len(self.layers)

    def remove(self) -> None:
        """Bake ``"spectral_norm"`` parametrizations into plain weights (keeping their
        current values), so the model's state dict loads into an unconstrained twin;
        the constraint becomes ``"none"``."""
        if self.kind == "spectral_norm":
            for m in self.layers:
                parametrize.remove_parametrizations(m, "weight", leave_parametrized=True)
        self.kind = "none"


def _layers(model: nn.Module, kind: str) -> list[nn.Module]:
    types = (nn.Linear, *_CONV) if kind == "clip" else (nn.Linear,)
    layers = [m for m in model.modules() if isinstance(m, types)]
    if not layers and kind != "none":
        raise ValueError(f"constraint {kind!r} needs Linear layers; the model has none")
    return layers


def _install_spectral_norm(m: nn.Module, level: float) -> None:
    dev = m.weight.device  # torch draws its own start vectors: keep the global RNGs
    cpu = dev.type == "cpu"
    with torch.random.fork_rng(devices=[] if cpu else [dev],
                               device_type="cuda" if cpu else dev.type):
        spectral_norm(m)
    parametrize.register_parametrization(m, "weight", _Scale(level))


def _check(kind: str, level: float, iterations: int, block: int) -> None:
    if kind not in CONSTRAINTS:
        raise ValueError(f"unknown constraint {kind!r}; choose one of {CONSTRAINTS}")
    if not level > 0 or not math.isfinite(level):
        raise ValueError(f"constraint level must be a positive number, got {level}")
    if iterations < 1 or block < 1:
        raise ValueError(f"iterations and block must be >= 1, got {iterations}, {block}")


def constrain(model: nn.Module, kind: str, level: float = 1.0, *,
              generator: torch.Generator | None = None, iterations: int = 1, block: int = 16,
              init_iterations: int = 50) -> Constraint:
    """Install a weight bound on ``model`` (modified in place) and return it.

    The bound holds from the start: the initial weights are projected once (or
    normalized, for ``"spectral_norm"``, whose parameters become
    ``<layer>.parametrizations.weight.original``: build the optimizer after this
    call, and call :meth:`Constraint.remove` before saving the weights).

    Args:
        model: the network.
        kind: one of ``CONSTRAINTS`` (see the module docstring).
        level: c for ``"clip"``, the per-layer spectral norm s otherwise (> 0).
        generator: random start of the subspace iterations (default: seed 0).
        iterations: subspace iterations per call (per optimizer step), warm-started.
        block: vectors in the block (capped by the matrix size); 1 is power iteration.
        init_iterations: iterations run once at installation.

    Returns:
        :class:`Constraint`, to call after every optimizer step.
    """
    _check(kind, level, iterations, block)
    generator = generator or torch.Generator().manual_seed(0)
    out = Constraint(kind, level, _layers(model, kind), iterations)
    for m in out.layers if kind in ("rescale", "spectral_norm") else []:
        out._top[m] = _TopSingular(m.weight, block, generator)
        if kind == "spectral_norm":
            _install_spectral_norm(m, level)
    out.iterations = init_iterations
    out()  # the initial weights satisfy the bound too
    out.iterations = iterations
    return out
