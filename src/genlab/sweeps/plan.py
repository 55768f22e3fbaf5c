"""A sweep's members: seeds × grid points, each a resolved config with a stable key.

A member's key is a hash of its experiment and resolved config, so re-running a sweep
recognizes the members that already finished in the run store (whatever sweep or
command made them) and runs only the missing, failed or interrupted ones.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import GenlabError
from ..experiments import accepts, available, get, resolve_config
from ..runs import RunRecord, list_runs, load_run

__all__ = ["Member", "finished_runs", "longest_first", "member_key", "parse_grid", "parse_seeds", "plan",
           "sweep_name"]


@dataclass
class Member:
    """One run of a sweep: experiment, seed, grid point, resolved config and its key."""

    experiment: str
    seed: int
    grid: dict[str, Any]
    config: dict[str, Any]
    key: str = field(init=False)

    def __post_init__(self) -> None:
        self.key = member_key(self.experiment, self.config)

    def describe(self) -> dict[str, Any]:
        return {"experiment": self.experiment, "seed": self.seed, "grid": self.grid,
                "key": self.key}


def member_key(experiment: str, config: dict[str, Any]) -> str:
    """A 16-hex-digit hash of the experiment name and its resolved config (JSON form)."""
    text = json.dumps({"experiment": experiment, "config": config}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def parse_seeds(text: str) -> list[int]:
    """``"0-4"`` → [0, 1, 2, 3, 4]; ``"0,3,7"`` → [0, 3, 7]; ranges and lists combine."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            lo, sep, hi = part.strip().partition("-")
            seeds += list(range(int(lo), int(hi) + 1)) if sep else [int(lo)]
    except ValueError:
        raise GenlabError(f"--seeds expects e.g. 0-4 or 0,3,7; got {text!r}") from None
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise GenlabError(f"--seeds must name distinct seeds ≥ 0; got {text!r}")
    return seeds


def parse_grid(pairs: list[str]) -> dict[str, list[Any]]:
    """``["lr=0.1,0.2", "hidden=[64],[128]"]`` → {"lr": [0.1, 0.2], "hidden": [[64], [128]]}.

    Values are parsed as JSON where they can be (a bracketed list is one value).
    """
    grid: dict[str, list[Any]] = {}
    for pair in pairs:
        key, sep, values = pair.partition("=")
        if not sep or not key.strip() or not values.strip():
            raise GenlabError(f"--grid expects key=v1,v2,...; got {pair!r}")
        try:
            parsed = json.loads(f"[{values}]")
        except json.JSONDecodeError:
            parsed = [v.strip() for v in values.split(",")]
        grid[key.strip()] = parsed
    return grid


def plan(experiment: str, profile: str, seeds: list[int], grid: dict[str, list[Any]],
         overrides: dict[str, Any] | None = None) -> list[Member]:
    """Every member of the sweep, each config resolved (so bad keys or values fail now).

    With ``experiment == "all"`` every section is swept; a grid or override key applies
    to the sections that have it and is refused if none has it.

    Raises:
        GenlabError: unknown experiment, profile, key or a value the config rejects.
    """
    names = available() if experiment == "all" else [get(experiment).name]
    overrides = dict(overrides or {})
    for key in [*grid, *overrides]:
        if key not in ("seed", "device") and not any(accepts(get(n), key) for n in names):
            raise GenlabError(f"unknown config key {key!r} for {experiment}")
    members = []
    for name in names:
        exp = get(name)
        keys = [k for k in grid if accepts(exp, k)]
        for point in itertools.product(*(grid[k] for k in keys)):
            point_dict = dict(zip(keys, point))
            own = {k: v for k, v in overrides.items() if k == "device" or accepts(exp, k)}
            for seed in seeds:
                cfg = resolve_config(exp, profile, {**own, **point_dict, "seed": seed})
                members.append(Member(name, seed, point_dict, cfg.model_dump(mode="json")))
    return members


def sweep_name(experiment: str, profile: str, seeds: list[int], grid: dict,
               overrides: dict) -> str:
    """The sweep directory's name: the experiment and a hash of what the sweep asks for."""
    text = json.dumps([experiment, profile, seeds, grid, overrides], sort_keys=True)
    return f"{experiment}-{profile}-{hashlib.sha256(text.encode()).hexdigest()[:8]}"


def finished_runs(out: Path, experiments: set[str]) -> tuple[dict[str, RunRecord], list[str]]:
    """The newest finished (``ok``) run of each member key in the run store ``out``.

    Returns:
        ``(key → run, problems)``: problems name run directories that could not be read
        (corrupt files); they are reported and their members run again.
    """
    found: dict[str, RunRecord] = {}
    problems = []
    for name in sorted(experiments):
        for path in sorted((out / name).glob("*/config.json")):
            try:
                record = load_run(path.parent)
            except (ValueError, OSError) as e:
                problems.append(f"{path.parent}: {e}")
                continue
            if record.status == "ok":
                found[member_key(name, record.config)] = record  # sorted: newest last wins
    return found, problems


def longest_first(members: list[Member], out: Path, profile: str) -> list[Member]:
    """``members`` in the order a pool should start them: the slowest first, so that no
    long run is left alone on one worker at the end.

    A member's expected time is the wall time of the newest run of its experiment at
    ``profile`` that finished in the store ``out``. Members without one come first, in
    their given order; the others follow from the slowest down (a stable sort, so the
    seeds of one experiment keep their order).
    """
    seconds: dict[str, float] = {}
    for name in {m.experiment for m in members}:
        try:
            runs = list_runs(out, name)  # oldest first: the newest wins
        except (OSError, ValueError):
            continue
        for run in runs:
            took = run.result.get("wall_time_s")
            if run.status == "ok" and run.provenance.get("profile") == profile and took:
                seconds[name] = float(took)
    unknown = [m for m in members if m.experiment not in seconds]
    known = sorted((m for m in members if m.experiment in seconds),
                   key=lambda m: -seconds[m.experiment])
    return unknown + known
