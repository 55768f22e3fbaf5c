"""``genlab measure RUN_DIR``: measure a stored run's weights on the data they were trained on.

Every weights file ``weights/<name>.pt`` has a ``weights/<name>.json`` beside it with
the model's class and constructor arguments and the :class:`~genlab.data.DataSpec` of
its training data (:meth:`genlab.experiments.Context.save_state`), so this module
rebuilds exactly that model and that data: the random-label models of
``memorization`` are measured on their random labels, ``inversion``'s VGG on its
padded digits. Results go to ``RUN_DIR/measures/<what>.json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from ..data import DataSpec
from ..measures import (HessianOperator, epsilon_sharpness, filter_normalized_sharpness,
                        gradient_moments, hutchinson_trace, pac_bayes_sigma, spectral_density,
                        top_eigen)
from ..models import build_model
from .store import load_run, write_json

__all__ = ["WHAT", "Measured", "load_weights", "measure_run"]

WHAT = ("hessian", "sharpness", "noise")

_LOSSES: dict[str, Callable] = {
    "cross_entropy": lambda out, batch: F.cross_entropy(out, batch[1]),
    "mse": lambda out, batch: F.mse_loss(out, batch[1]),
}


@dataclass
class Measured:
    """What :func:`measure_run` measured: per kind, per weights name, the values; and for
    each weights name the data it was measured on (``data``), with notes such as a
    sample count capped at the training-set size."""

    results: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    data: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def load_weights(run_dir: str | Path, name: str, device: str = "cpu"
                 ) -> tuple[nn.Module, dict[str, Any]]:
    """The model stored as ``weights/<name>.pt`` (eval mode) and its info (model and data spec).

    Raises:
        FileNotFoundError: no such weights file.
        ValueError: the weights carry no model spec (saved by an older genlab, or a
            model whose class does not record its arguments).
    """
    path = Path(run_dir) / "weights" / f"{name}.pt"
    info_path = path.with_suffix(".json")
    if not path.is_file():
        raise FileNotFoundError(f"no weights file {path}")
    info = json.loads(info_path.read_text()) if info_path.is_file() else {}
    if not info.get("model"):
        raise ValueError(f"weights {name!r} have no model spec ({info_path.name} missing or "
                         "empty): re-run the experiment with this version of genlab")
    model = build_model(info["model"])
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.to(device).eval(), info


def _describe(spec: DataSpec, n: int) -> str:
    parts = [f"{n} training examples of {spec.dataset} ({spec.source or 'embedded'})"]
    if spec.label_noise:
        parts.append(f"labels redrawn with p = {spec.label_noise:g}")
    if spec.inputs != "real":
        parts.append(f"inputs: {spec.inputs}")
    return ", ".join(parts)


def _hessian(model, loss_fn, batches, gen, k) -> dict[str, Any]:
    op = HessianOperator(model, loss_fn, batches)
    eig = top_eigen(op, k=k, tol=1e-4, generator=gen())
    tr = hutchinson_trace(op, 30, generator=gen())
    sd = spectral_density(op, 3, 40, generator=gen(), grid_size=300)
    return {"top_eigenvalues": eig.values.tolist(), "residuals": eig.residuals.tolist(),
            "trace": tr.value, "trace_stderr": tr.stderr,
            "density": {"grid": sd.grid.tolist(), "density": sd.density.tolist()}}


def _sharpness(model, loss_fn, batches, gen, k) -> dict[str, Any]:
    eps = epsilon_sharpness(model, loss_fn, batches, epsilon=1e-3, generator=gen())
    fn = filter_normalized_sharpness(model, loss_fn, batches, generator=gen())
    pb = pac_bayes_sigma(model, loss_fn, batches, magnitude_aware=True, generator=gen())
    return {"eps_sharpness": eps.value, "epsilon": eps.epsilon, "fn_sharpness": fn.value,
            "fn_sharpness_stderr": fn.stderr, "pac_bayes_sigma_magnitude": pb.sigma,
            "pac_bayes_sigma_stderr": pb.stderr}


def _noise(model, loss_fn, batches, gen, k) -> dict[str, Any]:
    mom = gradient_moments(model, loss_fn, batches)
    return {"trace_cov": mom.trace_cov, "mean_grad_sq_norm": float(mom.mean @ mom.mean),
            "n": mom.n}


_MEASURES = {"hessian": _hessian, "sharpness": _sharpness, "noise": _noise}


def _with_data(run_dir: Path, names: list[str], *, explicit: bool, notes: list[str]) -> list[str]:
    """The weights among ``names`` whose training data has a spec. Without one (a
    synthetic target that no :class:`DataSpec` describes) there is nothing to measure
    on: an error for weights the user named, a note and a skip otherwise."""
    def has_data(name: str) -> bool:
        path = run_dir / "weights" / f"{name}.json"
        # without the file, load_weights says what is missing
        return not path.exists() or bool(json.loads(path.read_text()).get("data"))

    keep = [n for n in names if has_data(n)]
    skipped = [n for n in names if n not in keep]
    if skipped and (explicit or not keep):
        raise ValueError(f"weights {', '.join(map(repr, skipped))} carry no data spec (trained "
                         "on data no DataSpec describes): nothing to measure on")
    notes.extend(f"{n}: trained on data no DataSpec describes; skipped" for n in skipped)
    return keep


def measure_run(run_dir: str | Path, what: str | Sequence[str] = "hessian", *,
                weights: Sequence[str] | None = None, n_samples: int = 1000,
                batch_size: int = 500, top_k: int = 3, seed: int = 0,
                device: str = "cpu") -> Measured:
    """Measure every stored weights file of a run on its own training data.

    Args:
        run_dir: a run directory (``runs/<experiment>/<run-id>``).
        what: one of :data:`WHAT` or a list of them.
        weights: names under ``weights/`` (without ``.pt``); default all of them.
        n_samples: training examples measured on (the first of the stored data spec's
            training split; capped at its size, which the result notes).
        batch_size: batch size of the measure passes.
        top_k: Hessian eigenvalues to compute.
        seed: seed of the measures' random draws (probes, directions).
        device: torch device of the computation.

    Returns:
        :class:`Measured`; each kind is also written to ``measures/<kind>.json``.

    Raises:
        FileNotFoundError: not a run directory, or it holds no weights.
        ValueError: unknown ``what`` or weights name, named weights without a data
            spec, or no weights with one. Unnamed weights without a spec are skipped
            with a note.
    """
    kinds = [what] if isinstance(what, str) else list(what)
    bad = [w for w in kinds if w not in _MEASURES]
    if bad:
        raise ValueError(f"unknown measure {bad[0]!r}; allowed: {', '.join(WHAT)}")
    record = load_run(run_dir)
    files = sorted(p.stem for p in (record.dir / "weights").glob("*.pt"))
    if not files:
        raise FileNotFoundError(f"{record.dir} holds no weights/*.pt to measure")
    names = list(weights) if weights is not None else files
    for n in names:
        if n not in files:
            raise ValueError(f"no weights {n!r} in {record.dir}; allowed: {', '.join(files)}")
    out = Measured(results={k: {} for k in kinds})
    names = _with_data(record.dir, names, explicit=weights is not None, notes=out.notes)
    for name in names:
        model, info = load_weights(record.dir, name, device)
        spec = DataSpec(**info["data"])
        ds = spec.load()
        n = min(n_samples, ds.n_train)
        if n < n_samples:
            out.notes.append(f"{name}: --n-samples {n_samples} capped at the {n} training "
                             "examples it was trained on")
        x, y = ds.x_train[:n].to(device), ds.y_train[:n].to(device)
        batches = list(zip(x.split(batch_size), y.split(batch_size)))
        out.data[name] = _describe(spec, n)
        loss_fn = _LOSSES[info.get("loss", "cross_entropy")]
        seeds = iter(range(seed * 1000, seed * 1000 + 1000))
        gen = lambda: torch.Generator().manual_seed(next(seeds))  # noqa: E731
        for kind in kinds:
            t = time.perf_counter()
            out.results[kind][name] = {**_MEASURES[kind](model, loss_fn, batches, gen, top_k),
                                       "seconds": time.perf_counter() - t,
                                       "data": out.data[name]}
    (record.dir / "measures").mkdir(exist_ok=True)
    for kind in kinds:
        meta = {"n_samples": n_samples, "batch_size": batch_size, "seed": seed,
                "notes": out.notes}
        write_json(record.dir / "measures" / f"{kind}.json", {"meta": meta, **out.results[kind]})
    return out
