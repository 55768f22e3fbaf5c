"""Sweeps over seeds and settings: ``genlab sweep EXP --seeds 0-4 --grid key=v1,v2``.

A sweep is a set of ordinary runs in the run store (one per seed × grid point) and a
directory ``runs/sweeps/<name>/`` with the sweep's spec (``spec.json``), the members'
statuses and the claims judged over seeds (``aggregate.json``, see
:mod:`genlab.runs.aggregate`), and figures of each claim against a grid key. Members
are keyed by a hash of their resolved config: running the same sweep again (or
``--resume SWEEP_DIR``) runs only the members that are missing, failed or interrupted.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..runs import RunRecord, load_run, write_json
from ..runs.aggregate import aggregate_claims
from .backends import BACKENDS, run_members
from .plan import Member, finished_runs, parse_grid, parse_seeds, plan, sweep_name

__all__ = ["BACKENDS", "Member", "parse_grid", "parse_seeds", "plan", "resume_spec",
           "run_sweep"]


def _write(sweep_dir: Path, spec: dict, members: list[Member], status: dict[str, dict],
           problems: list[str], records: dict[str, RunRecord]) -> dict[str, Any]:
    """Rewrite ``aggregate.json`` from every member that has finished so far (``records``:
    member key → its run, each read once)."""
    done = [(m.describe(), records[m.key]) for m in members if m.key in records]
    aggregate = {"spec": spec, "updated": time.time(),
                 "members": [{**m.describe(), **status.get(m.key, {"status": "pending"})}
                             for m in members],
                 "problems": problems, "groups": aggregate_claims(done)}
    write_json(sweep_dir / "aggregate.json", aggregate)
    return aggregate


def resume_spec(sweep_dir: str | Path) -> dict[str, Any]:
    """The spec of an existing sweep directory (for ``--resume``)."""
    path = Path(sweep_dir) / "spec.json"
    if not path.is_file():
        raise FileNotFoundError(f"{sweep_dir} is not a sweep directory (no spec.json)")
    return json.loads(path.read_text())


def run_sweep(experiment: str, *, seeds: list[int], profile: str = "quick",
              grid: dict[str, list[Any]] | None = None, overrides: dict[str, Any] | None = None,
              out: str | Path = "runs", backend: str = "local", workers: int = 2,
              threads: int = 1, address: str | None = None, log=print) -> Path:
    """Run (or finish) a sweep and write its aggregate; returns the sweep directory.

    Every member's config is resolved before anything runs, so a bad key or value fails
    at once. Members already finished in the run store are not run again; a failed
    member is recorded with its reason and the sweep goes on.

    Args:
        experiment: an experiment name, or "all".
        seeds: the run seeds.
        profile: the profile every member starts from.
        grid: key → values; the sweep takes their product (with the seeds).
        overrides: fixed config changes (as ``--set``).
        out: the run store; the sweep directory is ``out/sweeps/<name>``.
        backend, workers, threads, address: see :func:`~genlab.sweeps.backends.run_members`.
        log: called with one line per event (member done or failed, skipped members).
    """
    grid, overrides, out = dict(grid or {}), dict(overrides or {}), Path(out)
    members = plan(experiment, profile, seeds, grid, overrides)
    spec = {"experiment": experiment, "profile": profile, "seeds": seeds, "grid": grid,
            "overrides": overrides, "backend": backend}
    sweep_dir = out / "sweeps" / sweep_name(experiment, profile, seeds, grid, overrides)
    sweep_dir.mkdir(parents=True, exist_ok=True)
    write_json(sweep_dir / "spec.json", spec)
    finished, problems = finished_runs(out, {m.experiment for m in members})
    for p in problems:
        log(f"unreadable run, its member runs again: {p}")
    status = {m.key: {"status": "ok", "run_dir": str(finished[m.key].dir)}
              for m in members if m.key in finished}
    records = {k: finished[k] for k in status}
    todo = [m for m in members if m.key not in status]
    log(f"{len(members)} members: {len(members) - len(todo)} already finished, "
        f"{len(todo)} to run on {backend}")
    _write(sweep_dir, spec, members, status, problems, records)

    def on_done(member: Member, outcome: dict) -> None:
        status[member.key] = outcome
        if outcome["status"] == "ok":
            records[member.key] = load_run(outcome["run_dir"])
        _write(sweep_dir, spec, members, status, problems, records)
        reason = f": {outcome['reason']}" if outcome.get("reason") else ""
        log(f"{member.experiment} seed {member.seed} {member.grid or ''} "
            f"{outcome['status']}{reason}")

    run_members(todo, profile, out, backend=backend, workers=workers, threads=threads,
                address=address, on_done=on_done)
    aggregate = _write(sweep_dir, spec, members, status, problems, records)
    from .figures import save_figures

    save_figures(sweep_dir, aggregate)
    return sweep_dir
