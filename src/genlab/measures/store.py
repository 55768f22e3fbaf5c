"""Store-aware entry point: measure a stored run's weights, write the results beside it.

``genlab measure RUN_DIR --what hessian|sharpness|noise`` calls :func:`measure_run`.
It never imports an experiment (the library must not): the architecture is read
off the stored state dict (:func:`model_from_state`, genlab's ``MLP`` and
``MnistCNN``) unless the caller passes ``build_model``, and the data are the run's
training subset, drawn as experiments draw it (seed derived from the run seed and
``"subset"``), unless the caller passes ``data``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..data import load_dataset
from ..models import MLP, MnistCNN
from ..runs import load_run, write_json
from ..seeding import derive_seed
from ._func import cross_entropy_loss
from .hessian import HessianOperator
from .per_sample import gradient_moments
from .sharpness import epsilon_sharpness, filter_normalized_sharpness, pac_bayes_sigma
from .spectrum import hutchinson_trace, spectral_density, top_eigen

__all__ = ["WHAT", "measure_run", "model_from_state"]

WHAT = ("hessian", "sharpness", "noise")


def model_from_state(state: dict[str, torch.Tensor]) -> nn.Module:
    """A genlab ``MnistCNN`` or ``MLP`` whose shapes match ``state`` (loaded into it).

    Raises:
        ValueError: the state dict is not one of these architectures.
    """
    weights = [(k, v) for k, v in state.items() if k.endswith(".weight") and v.ndim >= 2]
    try:
        if weights and weights[0][1].ndim == 4:  # conv first: the lecture CNN
            conv, lin1, lin2 = (v for _, v in weights)
            c, cin = conv.shape[:2]
            size = 2 * round((lin1.shape[1] / c) ** 0.5)
            # with dropout the linear layers sit at 5 and 8 (p is irrelevant in eval mode)
            dropout = 0.5 if "8.weight" in state else 0.0
            model: nn.Module = MnistCNN(0, channels=c, hidden=lin1.shape[0],
                                        num_classes=lin2.shape[0], in_channels=cin,
                                        image_size=size, dropout=dropout)
        else:
            dims = [v.shape for _, v in weights]
            model = MLP(dims[0][1], [d[0] for d in dims[:-1]], dims[-1][0],
                        batch_norm=any(k.endswith("running_mean") for k in state))
        model.load_state_dict(state)
    except (RuntimeError, ValueError, IndexError) as e:
        raise ValueError(f"weights are not a genlab MLP or MnistCNN ({e}); "
                         "pass build_model") from None
    return model


def _run_data(config: dict, run_seed: int, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    ds = load_dataset(config.get("dataset", "mnist"), source=config.get("data_dir"),
                      n_train=config.get("n_train"), n_test=config.get("n_test"),
                      seed=derive_seed(run_seed, "subset") % 2**31)
    return ds.x_train[:n], ds.y_train[:n]


def _hessian(model: nn.Module, batches: list, gen: Callable[[], torch.Generator],
             k: int) -> dict[str, Any]:
    op = HessianOperator(model, cross_entropy_loss, batches)
    eig = top_eigen(op, k=k, tol=1e-4, generator=gen())
    tr = hutchinson_trace(op, 30, generator=gen())
    sd = spectral_density(op, 3, 40, generator=gen(), grid_size=300)
    return {"top_eigenvalues": eig.values.tolist(), "residuals": eig.residuals.tolist(),
            "trace": tr.value, "trace_stderr": tr.stderr,
            "density": {"grid": sd.grid.tolist(), "density": sd.density.tolist()}}


def _sharpness(model: nn.Module, batches: list, gen: Callable[[], torch.Generator],
               k: int) -> dict[str, Any]:
    eps = epsilon_sharpness(model, cross_entropy_loss, batches, epsilon=1e-3, generator=gen())
    fn = filter_normalized_sharpness(model, cross_entropy_loss, batches, generator=gen())
    pb = pac_bayes_sigma(model, cross_entropy_loss, batches, magnitude_aware=True,
                         generator=gen())
    return {"eps_sharpness": eps.value, "epsilon": eps.epsilon,
            "fn_sharpness": fn.value, "fn_sharpness_stderr": fn.stderr,
            "pac_bayes_sigma_magnitude": pb.sigma, "pac_bayes_sigma_stderr": pb.stderr}


def _noise(model: nn.Module, batches: list, gen: Callable[[], torch.Generator],
           k: int) -> dict[str, Any]:
    mom = gradient_moments(model, cross_entropy_loss, batches, chunk_size=64)
    return {"trace_cov": mom.trace_cov, "mean_grad_sq_norm": float(mom.mean @ mom.mean),
            "n": mom.n}


_MEASURES = {"hessian": _hessian, "sharpness": _sharpness, "noise": _noise}


def measure_run(run_dir: str | Path, what: str | Sequence[str] = "hessian", *,
                weights: Sequence[str] | None = None, n_samples: int = 1000,
                batch_size: int = 500, top_k: int = 3, seed: int = 0, device: str = "cpu",
                build_model: Callable[[dict[str, torch.Tensor]], nn.Module] | None = None,
                data: tuple[torch.Tensor, torch.Tensor] | None = None) -> dict[str, Any]:
    """Measure every stored weight file of a run and write ``measures/<what>.json``.

    Args:
        run_dir: a run directory (``runs/<experiment>/<run-id>``).
        what: one of :data:`WHAT` or a list of them.
        weights: names under ``weights/`` (without ``.pt``); default all of them.
        n_samples: training examples the measures see (the first of the run's subset).
        batch_size: batch size of the measure passes.
        top_k: Hessian eigenvalues to compute.
        seed: seed of the measures' random draws (probes, directions, noise).
        device: torch device of the computation.
        build_model: ``state_dict -> model``; default :func:`model_from_state`.
        data: ``(x, y)`` to measure on instead of the run's training subset.

    Returns:
        ``{what: {weights_name: {measure: value}}}``, also written to the run.

    Raises:
        FileNotFoundError: not a run directory, or it holds no weights.
        ValueError: unknown ``what`` or weights name.
    """
    kinds = [what] if isinstance(what, str) else list(what)
    bad = [w for w in kinds if w not in _MEASURES]
    if bad:
        raise ValueError(f"unknown measure {bad[0]!r}; allowed: {', '.join(WHAT)}")
    record = load_run(run_dir)
    files = {p.stem: p for p in sorted((record.dir / "weights").glob("*.pt"))}
    if not files:
        raise FileNotFoundError(f"{record.dir} holds no weights/*.pt to measure")
    names = list(weights) if weights is not None else list(files)
    for n in names:
        if n not in files:
            raise ValueError(f"no weights {n!r} in {record.dir}; allowed: {', '.join(files)}")
    x, y = data if data is not None else _run_data(record.config, record.config.get("seed", 0),
                                                   n_samples)
    x, y = x[:n_samples].to(device), y[:n_samples].to(device)
    batches = list(zip(x.split(batch_size), y.split(batch_size)))
    results: dict[str, Any] = {}
    for kind in kinds:
        results[kind] = {}
        for n in names:
            state = torch.load(files[n], map_location=device, weights_only=True)
            model = (build_model or model_from_state)(state).to(device).eval()
            gen_seed = iter(range(seed * 1000, seed * 1000 + 1000))
            gen = lambda: torch.Generator().manual_seed(next(gen_seed))  # noqa: E731
            t = time.perf_counter()
            results[kind][n] = {**_MEASURES[kind](model, batches, gen, top_k),
                                "seconds": time.perf_counter() - t}
        out = record.dir / "measures"
        out.mkdir(exist_ok=True)
        meta = {"n_samples": len(x), "batch_size": batch_size, "seed": seed}
        write_json(out / f"{kind}.json", {"meta": meta, **results[kind]})
    return results
