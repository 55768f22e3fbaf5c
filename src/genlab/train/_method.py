"""Which way to train a seed ensemble: the one measured faster here, remembered.

Stacking R members (``vmap``) replaces R small matrix products by one batched product
and R optimizer calls by one, which wins when a step is dominated by per-call
overhead (small models, GPUs); on a CPU the stacked weights of many members also
leave the cache, and then one member after the other can be faster. Rather than
assume, :func:`choose_method` times a few training steps of both on the actual model,
data shapes, batch size, optimizer and device, and keeps the answer.

Reproducibility: the two methods give the same members only up to float rounding,
so the choice must not change between runs of one config on one machine. The
answer is therefore memoized per (device, threads, torch version, architecture,
members, batch size, input shape, optimizer, loss) in this process and in a JSON file
(``$GENLAB_CACHE_DIR/ensemble_methods.json``, default ``~/.cache/genlab``): the first
measurement on a machine decides for every later run there. Experiments record the
method they used; pass it explicitly (``method="vmap"``) to reproduce a run elsewhere.
"""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .core import LossFn, epoch
from .ensemble import _has_batch_norm, make_ensemble, train_ensemble
from .optim import OptimizerConfig

__all__ = ["cache_path", "choose_method", "time_methods"]

_MEMO: dict[str, str] = {}


def cache_path() -> Path:
    """The file that remembers measured choices (``$GENLAB_CACHE_DIR`` or ``~/.cache/genlab``)."""
    root = os.environ.get("GENLAB_CACHE_DIR") or Path(
        os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "genlab"
    return Path(root) / "ensemble_methods.json"


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name")), platform.processor())
    except OSError:
        return platform.processor()


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return f"{device.type}:{platform.machine()}:{_cpu_name()}:{os.cpu_count()} cores"


def _key(model: nn.Module, members: int, x: Tensor, batch_size: int | None,
         optimizer: OptimizerConfig, loss_fn: LossFn) -> str:
    parts = {"device": _device_name(x.device), "threads": torch.get_num_threads(),
             "torch": torch.__version__, "model": repr(model),
             "params": sum(p.numel() for p in model.parameters()), "members": members,
             "batch_size": batch_size, "input": list(x.shape[1:]), "dtype": str(x.dtype),
             "optimizer": optimizer.model_dump(), "loss": getattr(loss_fn, "__qualname__", "")}
    return json.dumps(parts, sort_keys=True)


def _read_cache() -> dict:
    try:
        return json.loads(cache_path().read_text())
    except (OSError, ValueError):
        return {}


def _write_cache(key: str, entry: dict) -> None:
    """Add ``entry`` to the cache file (atomically); a read-only home only loses the memo."""
    path = cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        table = {**_read_cache(), key: entry}
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(table, indent=1))
        os.replace(tmp, path)
    except OSError:
        pass


def _timed(fn: Callable[[], object], device: torch.device) -> float:
    """Seconds ``fn`` takes: CUDA wall time (synchronized); on a CPU with one torch thread,
    this process's CPU time, which load from other processes does not inflate."""
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    one_thread = device.type == "cpu" and torch.get_num_threads() == 1
    clock = time.process_time if one_thread else time.perf_counter
    sync()
    start = clock()
    fn()
    sync()
    return clock() - start


def _per_step(run: Callable[[int], object], steps: int, device: torch.device) -> float:
    """Seconds per step of ``run(k)`` (k steps from scratch), without its fixed costs:
    (t(3s) − t(s)) / 2s after one warm-up, the smaller of two tries."""
    run(1)
    tries = [(_timed(lambda: run(3 * steps), device) - _timed(lambda: run(steps), device))
             / (2 * steps) for _ in range(2)]
    return max(min(tries), 1e-9)


def time_methods(make_model: Callable[[int], nn.Module], members: int, x: Tensor, y: Tensor, *,
                 optimizer: OptimizerConfig, batch_size: int | None,
                 loss_fn: LossFn = F.cross_entropy, steps: int = 2) -> dict[str, float]:
    """Seconds per member and step of training ``members`` copies each way, measured here.

    Both ways train throwaway members (seeds 0…R−1) for a few steps on ``(x, y)``; the
    global random state (used by dropout) is restored afterwards, so a measurement
    never changes the numbers of the training that follows.

    Returns:
        ``{"sequential": s, "vmap": s}``, seconds per member-step.
    """
    n = len(x)
    size = n if batch_size is None else batch_size
    g = torch.Generator().manual_seed(0)

    def data(k: int) -> tuple[Tensor, Tensor, int]:  # k steps' worth, and the epochs
        if batch_size is None:
            return x, y, k
        idx = torch.arange(k * size, device=x.device) % n
        return x[idx], y[idx], 1

    def sequential(k: int) -> None:
        model = make_model(0).to(x.device)
        opt = optimizer.build(model.parameters())
        xs, ys, epochs = data(k)
        for _ in range(epochs):
            epoch(model, opt, xs, ys, batch_size=batch_size, generator=g, loss_fn=loss_fn)

    def stacked(k: int) -> None:
        ens = make_ensemble(make_model, range(members), x.device)
        xs, ys, epochs = data(k)
        train_ensemble(ens, xs, ys, generators=[g] * members, optimizer=optimizer,
                       epochs=epochs, batch_size=batch_size, loss_fn=loss_fn)

    devices = [x.device] if x.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        return {"sequential": _per_step(sequential, steps, x.device),
                "vmap": _per_step(stacked, steps, x.device) / members}


def choose_method(make_model: Callable[[int], nn.Module], members: int, x: Tensor, y: Tensor,
                  *, optimizer: OptimizerConfig, batch_size: int | None,
                  loss_fn: LossFn = F.cross_entropy) -> str:
    """"vmap" or "sequential": whichever trains ``members`` copies faster here, as measured.

    One member, or a model with batch norm (its running statistics cannot be stacked),
    is always "sequential". Otherwise the answer comes from this process's memo, else
    from the cache file (:func:`cache_path`), else from :func:`time_methods` (a few
    seconds at most), and is then remembered in both; so on one machine the same
    config always trains the same way (see the module docstring).

    Args:
        make_model: seed → freshly initialized module.
        members: R.
        x, y: the training set (its shapes, dtype and device are what is measured on).
        optimizer, batch_size, loss_fn: as the training will use them.

    Returns:
        "vmap" or "sequential".
    """
    model = make_model(0)
    if members <= 1 or _has_batch_norm(model):
        return "sequential"
    key = _key(model, members, x, batch_size, optimizer, loss_fn)
    if key not in _MEMO:
        entry = _read_cache().get(key)
        if entry is None:
            seconds = time_methods(make_model, members, x, y, optimizer=optimizer,
                                   batch_size=batch_size, loss_fn=loss_fn)
            entry = {"method": min(seconds, key=seconds.get), "seconds_per_member_step": seconds}
            _write_cache(key, entry)
        _MEMO[key] = entry["method"]
    return _MEMO[key]
