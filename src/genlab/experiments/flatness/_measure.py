"""The measures of one minimum, of the line between two minima and of Dinh's rescaling.

Every measure of every model draws from the same generators (``gen(name)``), so two
minima are compared on the same random directions, start points and probes.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ... import measures as M
from . import Config

__all__ = ["curvature", "details", "interpolation", "rescaling"]

Gen = Callable[[str], torch.Generator]


def _lambda_max(cfg: Config, model: nn.Module, batches: list, gen: Gen) -> float:
    op = M.HessianOperator(model, M.cross_entropy_loss, batches)
    return float(M.top_eigen(op, k=1, tol=cfg.eig_tol, generator=gen("eig")).values[0])


def _eps_sharpness(cfg: Config, model: nn.Module, batches: list, gen: Gen,
                   epsilon: float) -> float:
    return M.epsilon_sharpness(model, M.cross_entropy_loss, batches, epsilon=epsilon,
                               max_iter=cfg.sharp_iter, restarts=cfg.sharp_restarts,
                               generator=gen(f"sharp{epsilon:g}")).value


def _fn_sharpness(cfg: Config, model: nn.Module, batches: list, gen: Gen) -> M.Estimate:
    return M.filter_normalized_sharpness(model, M.cross_entropy_loss, batches, generator=gen("fn"),
                                         radius=cfg.fn_radius, num_directions=cfg.fn_directions)


def curvature(cfg: Config, model: nn.Module, batches: list, gen: Gen) -> dict:
    """Keskar's ε-sharpness at every ε of ``cfg.epsilons`` (a list, same order) and λ_max."""
    return {"eps_sharpness": [_eps_sharpness(cfg, model, batches, gen, e) for e in cfg.epsilons],
            "lambda_max": _lambda_max(cfg, model, batches, gen)}


def details(cfg: Config, model: nn.Module, batches: list, gen: Gen, name: str
            ) -> tuple[dict, dict]:
    """tr(H), filter-normalized sharpness and the Hessian's spectral density (arrays)."""
    op = M.HessianOperator(model, M.cross_entropy_loss, batches)
    tr = M.hutchinson_trace(op, cfg.trace_samples, generator=gen("trace"))
    fn = _fn_sharpness(cfg, model, batches, gen)
    sd = M.spectral_density(op, cfg.slq_vectors, cfg.slq_steps, generator=gen("slq"))
    arrays = {f"{name}_grid": sd.grid.numpy(), f"{name}_density": sd.density.numpy()}
    return ({"trace": tr.value, "trace_se": tr.stderr, "fn_sharpness": fn.value,
             "fn_sharpness_se": fn.stderr}, arrays)


def interpolation(cfg: Config, sb: nn.Module, lb: nn.Module, splits: dict[str, list]) -> dict:
    """Loss and accuracy along (1 − t)·w_SB + t·w_LB, t ∈ [−1, 2] (Keskar Fig. 3)."""
    ts = torch.linspace(-1.0, 2.0, cfg.interp_points)
    out: dict = {"t": ts.tolist()}
    for split, batches in splits.items():
        line = M.interpolate(sb, lb, M.cross_entropy_loss, batches, ts,
                             metrics={"accuracy": M.accuracy})
        out[f"{split}_loss"] = line.loss.tolist()
        out[f"{split}_accuracy"] = line.metrics["accuracy"].tolist()
    return out


def rescaling(cfg: Config, model: nn.Sequential, batches: list, x_test: torch.Tensor,
              gen: Gen, log: Callable[[dict], None]) -> list[dict]:
    """Dinh's α-scale transformation of the first ReLU pair, measured at every α."""
    first, second = M.homogeneous_pairs(model)[0]
    with torch.no_grad():
        ref = model.eval()(x_test)  # (N, 10)
    rows = []
    for alpha in cfg.alphas:
        m = M.rescale_relu(model, first, second, alpha)
        with torch.no_grad():
            change = float((m(x_test) - ref).abs().max() / ref.abs().max())
        rows.append({"alpha": alpha, "layers": [first, second], "output_change": change,
                     "lambda_max": _lambda_max(cfg, m, batches, gen),
                     "eps_sharpness": _eps_sharpness(cfg, m, batches, gen, cfg.epsilons[0]),
                     "fn_sharpness": _fn_sharpness(cfg, m, batches, gen).value})
        log({"run": "rescale", **rows[-1]})
    return rows
