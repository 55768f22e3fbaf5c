"""Where a sweep's members run: joblib's process pool here, or Ray core tasks on a cluster.

Both backends run an ordinary ``run_experiment`` per member and hand each finished
member to the driver as soon as it is done (unordered), so a killed driver loses no
finished member. The local pool's workers write into the run store directly; Ray's
workers write into a temporary directory of their own and return the run directory
packed as bytes, which the driver unpacks into the run store, so no shared
filesystem is needed.
"""

from __future__ import annotations

import io
import shutil
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import GenlabError
from .plan import Member, longest_first

__all__ = ["BACKENDS", "run_members"]

BACKENDS = ("local", "ray")


def _run_member(experiment: str, config: dict[str, Any], profile: str, out: str,
                threads: int) -> dict[str, Any]:
    """Run one member into ``out`` (in a worker process); never raises for a failed run."""
    import torch

    from ..experiments import get, run_experiment

    torch.set_num_threads(threads)
    exp = get(experiment)
    try:
        record = run_experiment(exp, exp.config(**config), out, profile=profile)
        return {"status": record.status, "run_dir": str(record.dir)}
    except Exception as e:  # noqa: BLE001 - the member's failure is recorded, the sweep goes on
        runs = sorted((Path(out) / experiment).glob("*"), key=lambda p: p.stat().st_mtime)
        return {"status": "failed", "reason": f"{type(e).__name__}: {e}",
                "run_dir": str(runs[-1]) if runs else None}


def _run_member_packed(experiment: str, config: dict[str, Any], profile: str,
                       threads: int) -> dict[str, Any]:
    """Run one member in a private temporary run store; return it packed as tar bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        done = _run_member(experiment, config, profile, tmp, threads)
        if done.get("run_dir"):
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w:gz") as tar:
                tar.add(done["run_dir"], arcname=Path(done["run_dir"]).name)
            done["packed"] = buf.getvalue()
        return done


def _unpack(done: dict[str, Any], out: Path, experiment: str) -> dict[str, Any]:
    packed = done.pop("packed", None)
    if packed is not None:
        dest = out / experiment
        dest.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(packed), mode="r:gz") as tar:
            name = tar.getnames()[0].split("/")[0]
            with tempfile.TemporaryDirectory(dir=dest) as tmp:
                tar.extractall(tmp, filter="data")
                shutil.move(str(Path(tmp) / name), dest / name)  # appears whole
        done["run_dir"] = str(dest / name)
    return done


def _local(members: list[Member], profile: str, out: Path, workers: int,
           threads: int) -> Iterator[tuple[Member, dict]]:
    from joblib import Parallel, delayed

    results = Parallel(n_jobs=workers, return_as="generator_unordered")(
        delayed(_numbered)(i, m.experiment, m.config, profile, str(out), threads)
        for i, m in enumerate(members))
    for i, done in results:
        yield members[i], done


def _numbered(i: int, *args: Any) -> tuple[int, dict]:
    return i, _run_member(*args)


def _ray(members: list[Member], profile: str, out: Path, address: str | None, threads: int,
         gpu: bool) -> Iterator[tuple[Member, dict]]:
    try:
        import ray
    except ImportError:
        raise GenlabError("the ray backend needs Ray: pip install 'genlab[ray]'") from None
    if not ray.is_initialized():
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise GenlabError(f"cannot reach a Ray cluster at {address!r}: "
                              f"{str(e).splitlines()[0]}") from None
    task = ray.remote(num_cpus=threads, num_gpus=1 if gpu else 0)(_run_member_packed)
    pending = {task.remote(m.experiment, m.config, profile, threads): m for m in members}
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        member = pending.pop(ready[0])
        try:
            done = ray.get(ready[0])
        except Exception as e:  # noqa: BLE001 - a lost worker fails its member only
            done = {"status": "failed", "reason": f"{type(e).__name__}: {e}", "run_dir": None}
        yield member, _unpack(done, out, member.experiment)


def run_members(members: list[Member], profile: str, out: Path, *, backend: str = "local",
                workers: int = 2, threads: int = 1, address: str | None = None,
                on_done: Callable[[Member, dict], None] | None = None) -> None:
    """Run ``members`` on ``backend``, calling ``on_done(member, outcome)`` as each finishes.

    Members start slowest first, by the wall times of earlier runs in ``out``
    (:func:`~genlab.sweeps.plan.longest_first`).

    Args:
        members: what to run.
        profile: the profile name recorded with each run.
        out: the run store.
        backend: "local" (joblib's process pool) or "ray".
        workers: processes of the local pool.
        threads: torch threads per member (and CPUs a Ray task asks for).
        address: a Ray cluster to join (None: start a local one).
        on_done: receives each member and ``{"status", "run_dir", "reason"?}``.
    """
    if backend not in BACKENDS:
        raise GenlabError(f"unknown backend {backend!r}; allowed: {', '.join(BACKENDS)}")
    members = longest_first(members, Path(out), profile)
    gpu = any(str(m.config.get("device", "cpu")).startswith("cuda") for m in members)
    stream = (_local(members, profile, out, workers, threads) if backend == "local"
              else _ray(members, profile, out, address, threads, gpu))
    for member, done in stream:
        if on_done is not None:
            on_done(member, done)
