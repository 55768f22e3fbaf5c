"""SGD on a quadratic, many chains at once: Gaussian noise models and real minibatches.

Conventions (the same throughout genlab.dynamics):

* the loss is L(w) = ½(w − w*)ᵀH(w − w*) (or the least-squares mean of
  ℓ_i(w) = ½(x_iᵀw − y_i)², whose Hessian is H = XᵀX/N);
* C is the covariance of one example's gradient, C = (1/N)Σ(g_i − ḡ)(g_i − ḡ)ᵀ;
* SGD is w ← w − η g_B with g_B the mean gradient of B examples. Drawn with
  replacement, g_B = ∇L(w) + ξ with Cov ξ = C/B: a Gaussian noise model draws
  ξ = C^½ z/√B, z ~ N(0, I), fresh at each step and in each chain.

Noise models (:func:`noise_model`), each given by its trace tr C: ``"isotropic"``
C = (tr C/d)·I; ``"hessian"`` C ∝ H (the anisotropic noise of SGD near a minimum, Zhu
et al. 2019, "The anisotropic noise in stochastic gradient descent", arXiv:1803.00195);
``"anisotropic"`` C ∝ a given matrix. The chains' stationary covariance is then
:func:`~genlab.dynamics.lyapunov_discrete` (H, C, η, B).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

__all__ = ["Chains", "LeastSquares", "least_squares", "noise_model", "sgd_least_squares",
           "sgd_quadratic"]

NOISE_MODELS = ("isotropic", "hessian", "anisotropic")


def noise_model(kind: str, hessian: Tensor, trace: float, matrix: Tensor | None = None
                ) -> Tensor:
    """The per-example gradient covariance C (d, d) of a noise model, scaled to ``trace``.

    Args:
        kind: ``"isotropic"`` (∝ I), ``"hessian"`` (∝ H) or ``"anisotropic"`` (∝ ``matrix``).
        hessian: H (d, d).
        trace: tr C.
        matrix: the shape of C for ``"anisotropic"`` (symmetric positive semi-definite).
    """
    if kind not in NOISE_MODELS:
        raise ValueError(f"kind must be one of {NOISE_MODELS}, got {kind!r}")
    if (kind == "anisotropic") != (matrix is not None):
        raise ValueError("a matrix is given with, and only with, kind='anisotropic'")
    shape = {"isotropic": torch.eye(hessian.shape[0], dtype=hessian.dtype,
                                    device=hessian.device),
             "hessian": hessian, "anisotropic": matrix}[kind]
    return shape * (trace / torch.trace(shape))


def _sqrt(c: Tensor) -> Tensor:
    """S with S Sᵀ = C for a symmetric PSD C (eigenvalue square root, no Cholesky)."""
    lam, v = torch.linalg.eigh(c.double())
    return (v * lam.clamp_min(0).sqrt()).to(c.dtype)


@dataclass
class LeastSquares:
    """A least-squares problem's quadratic: ℓ_i(w) = ½(x_iᵀw − y_i)², L its mean.

    ``optimum`` w* (d,), ``hessian`` H = XᵀX/N (d, d), ``noise`` C at w* (d, d): with
    residuals r_i = x_iᵀw* − y_i and Σ_i x_i r_i = 0, C = (1/N)Σ r_i² x_i x_iᵀ."""

    x: Tensor
    y: Tensor
    optimum: Tensor
    hessian: Tensor
    noise: Tensor

    def gradients(self, w: Tensor) -> Tensor:
        """Per-example gradients g_i = x_i (x_iᵀw − y_i) at ``w`` (N, d)."""
        return self.x * (self.x @ w - self.y)[:, None]

    def noise_at(self, w: Tensor) -> Tensor:
        """C(w) = (1/N)Σ(g_i − ḡ)(g_i − ḡ)ᵀ at ``w`` (d, d)."""
        g = self.gradients(w)
        g = g - g.mean(0)
        return g.T @ g / g.shape[0]

    def stationary_covariance(self, lr: float, batch_size: int) -> Tensor:
        """Exact stationary E[(w − w*)(w − w*)ᵀ] (d, d) of SGD with minibatches drawn
        with replacement, multiplicative noise included.

        With Δ = w − w*, one step is Δ ← (I − ηÂ)Δ − η b̂, Â and b̂ the means of x_j x_jᵀ
        and x_j r_j over the B drawn examples (E Â = H, E b̂ = 0, Cov b̂ = C/B, Δ
        independent of the batch), so S = E ΔΔᵀ solves
        S = (I − ηH)S(I − ηH) + (η²/B)(M(S) − HSH) + (η²/B)C with
        M(S) = (1/N)Σ_i (x_iᵀSx_i) x_i x_iᵀ: the discrete Lyapunov equation plus the
        term from C(w) ≠ C(w*). Solved as a d² × d² linear system.
        """
        h, d, n = self.hessian, self.hessian.shape[0], self.x.shape[0]
        eye = torch.eye(d, dtype=torch.float64, device=h.device)
        a = eye - lr * h
        u = torch.einsum("ni,nj->nij", self.x, self.x).reshape(n, d * d)  # vec(x_i x_iᵀ)
        step = torch.kron(a, a) + (lr**2 / batch_size) * (u.T @ u / n - torch.kron(h, h))
        rhs = (lr**2 / batch_size) * self.noise.reshape(-1)
        s = torch.linalg.solve(torch.eye(d * d, dtype=torch.float64, device=h.device) - step, rhs)
        return s.reshape(d, d)


def least_squares(x: Tensor, y: Tensor) -> LeastSquares:
    """The quadratic of a least-squares data set x (N, d), y (N,), in float64."""
    x, y = x.double(), y.double().reshape(-1)
    if x.ndim != 2 or x.shape[0] != y.shape[0]:
        raise ValueError(f"x must be (N, d) and y (N,), got {tuple(x.shape)} and {tuple(y.shape)}")
    # numpy's lstsq: torch's gave answers differing in the last bits between processes
    w = torch.from_numpy(np.linalg.lstsq(x.cpu().numpy(), y.cpu().numpy(), rcond=None)[0])
    w = w.to(x.device)  # (d,)
    problem = LeastSquares(x, y, w, x.T @ x / x.shape[0], torch.empty(0))
    problem.noise = problem.noise_at(w)
    return problem


@dataclass
class Chains:
    """K independent SGD chains after ``steps`` steps, with stationary moments.

    ``final`` (K, d) the last deviations w − w*. Moments average over the recorded steps
    (after ``burn_in``, every ``record_every``) and the chains; their standard errors
    come from the spread of the averages of up to 64 groups of chains, which are
    independent (the steps within a chain are not):
    ``mean`` (d,) and ``mean_stderr``; ``covariance`` (d, d) = E[(w − w*)(w − w*)ᵀ] (the
    stationary mean is w*), ``covariance_stderr`` (d, d); ``records`` per chain.
    """

    final: Tensor
    mean: Tensor
    mean_stderr: Tensor
    covariance: Tensor
    covariance_stderr: Tensor
    records: int


class _Moments:
    """Sums of x and x xᵀ (float64) over the chains of each of ≤ 64 groups of chains:
    one batched matrix product per record, and group means independent of each other
    for the standard errors."""

    def __init__(self, chains: int, dim: int, device: torch.device, groups: int = 64):
        self.rows = -(-chains // min(groups, chains))  # chains per group (the last: fewer)
        self.groups = -(-chains // self.rows)
        self.pad = self.groups * self.rows - chains  # < rows: every group has a chain
        self.sizes = torch.full((self.groups,), float(self.rows), dtype=torch.float64,
                                device=device)
        self.sizes[-1] -= self.pad
        self.first = torch.zeros(self.groups, dim, dtype=torch.float64, device=device)
        self.second = torch.zeros(self.groups, dim, dim, dtype=torch.float64, device=device)
        self.count = 0

    def add(self, x: Tensor) -> None:
        x = torch.nn.functional.pad(x.double(), (0, 0, 0, self.pad))  # (G·m, d)
        x = x.view(self.groups, self.rows, -1)  # (G, m, d)
        self.first += x.sum(1)
        self.second.baddbmm_(x.transpose(1, 2), x)  # (G, d, d) += Σ x xᵀ
        self.count += 1

    def result(self, final: Tensor) -> Chains:
        if self.count == 0:
            raise ValueError("no step was recorded: need steps ≥ burn_in + record_every")
        w = self.sizes / self.sizes.sum()  # (G,)
        m = self.first / (self.sizes[:, None] * self.count)  # group means (G, d)
        s = self.second / (self.sizes[:, None, None] * self.count)  # (G, d, d)
        return Chains(final, *_mean_and_stderr(m, w), *_mean_and_stderr(s, w), self.count)


def _mean_and_stderr(v: Tensor, w: Tensor) -> tuple[Tensor, Tensor]:
    """Weighted mean over dim 0 and its standard error from the spread of the groups."""
    w = w.reshape(-1, *([1] * (v.ndim - 1)))
    mean = (w * v).sum(0)
    g = v.shape[0]
    if g < 2:
        return mean, torch.full_like(mean, float("nan"))
    var = (w * (v - mean) ** 2).sum(0) * g / (g - 1)  # spread of one group's mean
    return mean, (var * (w**2).sum(0)).sqrt()
def _check(lr: float, batch_size: int, chains: int, steps: int, burn_in: int, every: int) -> None:
    if lr <= 0 or batch_size < 1 or chains < 1 or steps < 1 or every < 1 or burn_in < 0:
        raise ValueError("need lr > 0, batch_size ≥ 1, chains ≥ 1, steps ≥ 1, "
                         f"record_every ≥ 1, burn_in ≥ 0; got {lr}, {batch_size}, {chains}, "
                         f"{steps}, {every}, {burn_in}")


def sgd_quadratic(hessian: Tensor, noise: Tensor, lr: float, batch_size: int, *,
                  chains: int, steps: int, burn_in: int = 0, record_every: int = 1,
                  start: Tensor | None = None, generator: torch.Generator | None = None,
                  dtype: torch.dtype = torch.float32) -> Chains:
    """SGD on ½xᵀHx (x = w − w*) with Gaussian gradient noise of covariance C/B.

    One step of all K chains is x ← x(I − ηH) − (η/√B) z C^½ᵀ, z (K, d) ~ N(0, I):
    one matrix product and one draw (:func:`noise_model` builds C).

    Args:
        hessian: H (d, d), symmetric.
        noise: C (d, d), the per-example gradient covariance (PSD).
        lr, batch_size: η and B.
        chains: K; steps: number of steps; burn_in: steps before recording starts;
        record_every: record the moments every this many steps (a few per
            autocorrelation time 1/(ηλ_min) is enough; each record costs about one step).
        start: initial deviations (d,) or (K, d) (default 0, i.e. at the optimum).
        generator: source of the noise (on the device of ``hessian``).
        dtype: precision of the chains (moments are summed in float64).

    Returns:
        :class:`Chains` of the deviations w − w*.
    """
    _check(lr, batch_size, chains, steps, burn_in, record_every)
    d, device = hessian.shape[0], hessian.device
    step = (torch.eye(d, dtype=torch.float64, device=device) - lr * hessian.double()).to(dtype)
    kick = (-(lr / batch_size**0.5) * _sqrt(noise.double()).T).to(dtype)  # (d, d)
    x = torch.zeros(chains, d, dtype=dtype, device=device)
    if start is not None:
        x += start.to(dtype)
    z = torch.empty_like(x)
    moments = _Moments(chains, d, device)
    for t in range(1, steps + 1):
        z.normal_(generator=generator)
        x = torch.addmm(z @ kick, x, step)  # (K, d)
        if t > burn_in and (t - burn_in) % record_every == 0:
            moments.add(x)
    return moments.result(x)


def _batches(n: int, batch_size: int, chains: int, replacement: bool,
             generator: torch.Generator | None, device: torch.device):
    """Index tensors (K, B), forever: i.i.d. draws, or per-epoch permutations per chain
    (N // B batches per epoch; the N mod B examples left over wait for the next epoch)."""
    while True:
        if replacement:
            yield torch.randint(n, (chains, batch_size), generator=generator, device=device)
            continue
        perm = torch.rand(chains, n, generator=generator, device=device).argsort(1)  # (K, N)
        for j in range(n // batch_size):
            yield perm[:, j * batch_size:(j + 1) * batch_size]


def sgd_least_squares(problem: LeastSquares, lr: float, batch_size: int, *, chains: int,
                      steps: int, burn_in: int = 0, record_every: int = 1,
                      replacement: bool = True, start: Tensor | None = None,
                      generator: torch.Generator | None = None,
                      dtype: torch.dtype = torch.float64) -> Chains:
    """SGD on a least-squares data set with real minibatches, K chains at once.

    Each step every chain takes the mean gradient of its own B examples, drawn with
    replacement (``replacement=True``: the noise C/B of the Lyapunov equations, up to
    C(w) ≠ C(w*)) or from a fresh permutation each epoch (per-epoch shuffling).

    Args:
        problem: from :func:`least_squares`.
        lr, batch_size, chains, steps, burn_in, record_every, generator, dtype: see
            :func:`sgd_quadratic`; ``start`` is the initial w − w* (default 0).
        replacement: with replacement or per-epoch shuffling.

    Returns:
        :class:`Chains` of the deviations w − w*.
    """
    _check(lr, batch_size, chains, steps, burn_in, record_every)
    x_data = problem.x.to(dtype)  # (N, d)
    n, d, device = x_data.shape[0], x_data.shape[1], x_data.device
    if not replacement and batch_size > n:
        raise ValueError(f"batch_size {batch_size} exceeds the {n} examples")
    residual = (x_data @ problem.optimum.to(dtype) - problem.y.to(dtype))  # (N,) r_i at w*
    x = torch.zeros(chains, d, dtype=dtype, device=device)
    if start is not None:
        x += start.to(dtype)
    moments = _Moments(chains, d, device)
    batches = _batches(n, batch_size, chains, replacement, generator, device)
    for t in range(1, steps + 1):
        idx = next(batches)  # (K, B)
        xb = x_data[idx]  # (K, B, d)
        r = torch.einsum("kbd,kd->kb", xb, x) + residual[idx]  # x_iᵀw − y_i (K, B)
        x = x - (lr / batch_size) * torch.einsum("kbd,kb->kd", xb, r)
        if t > burn_in and (t - burn_in) % record_every == 0:
            moments.add(x)
    return moments.result(x)
