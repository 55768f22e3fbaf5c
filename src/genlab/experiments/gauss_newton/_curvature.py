"""One checkpoint's curvature measurements: top eigenpairs of H, G and F, gradient overlaps,
persistence, class-mean span, SNR and (optionally) H's spectral density."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from ... import measures as M

__all__ = ["OPERATORS", "Checkpoint", "measure"]

#: The operators measured at each checkpoint: Hessian, Gauss–Newton, empirical Fisher.
OPERATORS = {"H": M.HessianOperator, "G": M.GaussNewtonOperator,
             "F": M.EmpiricalFisherOperator}


@dataclass
class Checkpoint:
    """A checkpoint's record (JSON-ready) and the eigenvectors kept for the next one."""

    record: dict
    vectors: dict[str, Tensor] = field(default_factory=dict)


@dataclass(frozen=True)
class Settings:
    """What :func:`measure` needs of the config."""

    top: int
    classes: int
    tol: float
    max_steps: int
    outlier_ratio: float
    batch_size: int
    minibatches: int
    slq_vectors: int = 0
    slq_steps: int = 0


def _flat_grad(model: nn.Module, x: Tensor, y: Tensor) -> Tensor:
    """∇ of the mean cross-entropy on (x, y) as a flat vector (P,); ``.grad`` untouched."""
    params = [p for p in model.parameters() if p.requires_grad]
    loss = M.cross_entropy_loss(model(x), (x, y))
    return torch.cat([g.reshape(-1) for g in torch.autograd.grad(loss, params)])


def _captured(g: Tensor, vectors: Tensor) -> list[float]:
    """Cumulative overlaps (top,): entry j is ‖P_(j+1) g‖²/‖g‖² for the first j+1 rows of
    ``vectors`` (orthonormal Ritz vectors (top, P))."""
    coef = (vectors.double() @ g.double()).square()  # (top,)
    return (coef.cumsum(0) / g.double().square().sum()).tolist()


def _eigen(model: nn.Module, batch, s: Settings, gen: torch.Generator,
           v0: dict[str, Tensor]) -> tuple[dict[str, M.Eigen], Tensor]:
    """Top eigenpairs of H, started from the previous checkpoint's H vectors and this
    checkpoint's gradient (the gradient alone at the first), then of G and F, each started
    from this checkpoint's H vectors (H ≈ G ≈ F in their top space). Also returns the
    full-batch gradient (P,), which H's operator holds anyway."""
    out: dict[str, M.Eigen] = {}
    for name, cls in OPERATORS.items():
        op = cls(model, M.cross_entropy_loss, batch)
        if name != "H":
            start = out["H"].vectors
        else:
            grad = op.gradient()
            start = torch.cat([v0["H"], grad[None]]) if "H" in v0 else None
        out[name] = M.top_eigen(op, s.top, tol=s.tol, max_steps=s.max_steps, v0=start,
                                generator=gen)
    return out, grad


def _minibatch_overlaps(model: nn.Module, batch, eig: dict[str, M.Eigen], s: Settings,
                        gen: torch.Generator) -> dict[str, dict[str, float]]:
    """Mean and standard error over minibatches (B examples drawn with replacement from
    ``batch``) of the overlap of the minibatch gradient with each top-k space."""
    x, y = batch
    values: dict[str, list[float]] = {name: [] for name in eig}
    for _ in range(s.minibatches):
        idx = torch.randint(0, len(x), (s.batch_size,), generator=gen).to(x.device)
        g = _flat_grad(model, x[idx], y[idx])
        for name, e in eig.items():
            values[name].append(_captured(g, e.vectors[:s.classes])[-1])
    return {name: {"mean": sum(v) / len(v), "stderr": _stderr(v)} for name, v in values.items()}


def _stderr(v: list[float]) -> float:
    m = sum(v) / len(v)
    return math.sqrt(sum((a - m) ** 2 for a in v) / (len(v) - 1) / len(v))


def _operator_record(e: M.Eigen, g: Tensor, s: Settings) -> dict:
    """An operator's top eigenvalues, solver cost, outliers and the gradient's overlaps."""
    out = M.outlier_count(e.values, s.outlier_ratio)
    return {"values": e.values.tolist(), "matvecs": e.matvecs, "converged": e.converged,
            "outliers": out.count, "gap_ratio": out.ratio,
            "overlap": M.vector_overlap(g, e.vectors[:s.classes]),
            "captured": _captured(g, e.vectors)}


def _density(model: nn.Module, batch, s: Settings, gen: torch.Generator) -> dict:
    op = M.HessianOperator(model, M.cross_entropy_loss, batch)
    d = M.spectral_density(op, s.slq_vectors, s.slq_steps, generator=gen)
    return {"grid": d.grid.tolist(), "density": d.density.tolist(), "sigma": d.sigma}


def measure(model: nn.Module, batch: tuple[Tensor, Tensor], s: Settings, gen: torch.Generator,
            previous: Checkpoint | None = None, density: bool = False) -> Checkpoint:
    """Every curvature measure of ``model`` on the measurement ``batch`` (x, y).

    Args:
        model: in eval mode for the measures (no batch norm or dropout here).
        batch: the fixed measurement examples.
        s: the settings.
        gen: the checkpoint's random source (Lanczos, minibatches, SLQ probes).
        previous: the previous checkpoint: warm start of H's Lanczos and persistence.
        density: also estimate H's spectral density.
    """
    k = s.classes
    eig, g = _eigen(model, batch, s, gen, previous.vectors if previous else {})  # g: (P,)
    moments = M.gradient_moments(model, M.cross_entropy_loss, batch)
    means = M.class_mean_gradients(model, M.cross_entropy_loss, batch).gradients  # (C, P)
    rec = {
        "n_params": g.numel(), "grad_norm_sq": float(g.double().square().sum()),
        "trace_cov": moments.trace_cov,
        "snr": M.gradient_snr(moments.mean, moments.trace_cov, s.batch_size),
        "class_mean_span": M.span_fraction(means, eig["H"].vectors[:k]),
        "random_overlap": M.random_subspace_overlap(k, g.numel()),
        "persistence": (M.subspace_overlap(eig["H"].vectors[:k], previous.vectors["H"][:k])
                        if previous else None),
        "minibatch": _minibatch_overlaps(model, batch, eig, s, gen),
    }
    for name, e in eig.items():
        rec[name] = _operator_record(e, g, s)
    rec["subspace_vs_H"] = {n: M.subspace_overlap(eig["H"].vectors[:k], eig[n].vectors[:k])
                            for n in ("G", "F")}
    c = rec["H"]["outliers"] or k  # H's outliers (k when there is no gap)
    rec["outlier_space_H_G"] = M.subspace_overlap(eig["H"].vectors[:c], eig["G"].vectors[:c])
    if density:
        rec["density"] = _density(model, batch, s, gen)
    return Checkpoint(rec, {name: e.vectors for name, e in eig.items()})
