"""The experiment contract: typed config + profiles, ``run(config, ctx) -> Result``, claims, figures.

An experiment module defines a pydantic ``Config`` (subclass of
:class:`ExperimentConfig`), a ``run`` function, a ``figures`` function that draws
from the stored run alone, and registers everything as a module-level
``EXPERIMENT = Experiment(...)``. :func:`run_experiment` runs it into the run store.
"""

from __future__ import annotations

import dataclasses
import json
import operator
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import GenlabError
from ..runs import RunRecord, RunWriter, load_run
from ..seeding import derive_seed
from ..train.progress import track

__all__ = ["Claim", "Context", "Experiment", "ExperimentConfig", "Result", "check",
           "resolve_config", "run_experiment"]

PROFILES = ("quick", "default", "full")


class ExperimentConfig(BaseModel):
    """Fields every experiment has. Subclasses add theirs, each with a description."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=True)

    seed: int = Field(0, ge=0, description="run seed; every random source derives from it")
    device: str = Field("cpu", description="torch device: cpu, cuda or cuda:N")

    @field_validator("device")
    @classmethod
    def _device_ok(cls, v: str) -> str:
        if v != "cpu" and not (v == "cuda" or v.startswith("cuda:")):
            raise ValueError("must be cpu, cuda or cuda:N")
        return v


_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


class Claim(BaseModel):
    """The lecture's statement as a measured check: ``value op threshold`` → verdict."""

    name: str
    statement: str
    value: float
    op: str
    threshold: float
    passed: bool
    detail: str = ""


def check(name: str, statement: str, value: float, op: str, threshold: float,
          detail: str = "") -> Claim:
    """Build a claim whose verdict is computed from the measured ``value``.

    A NaN value never passes.
    """
    if op not in _OPS:
        raise ValueError(f"unknown comparison {op!r}; allowed: {', '.join(_OPS)}")
    value = float(value)
    passed = bool(value == value and _OPS[op](value, float(threshold)))
    return Claim(name=name, statement=statement, value=value, op=op,
                 threshold=float(threshold), passed=passed, detail=detail)


@dataclass
class Result:
    """What ``run`` returns.

    Attributes:
        claims: the measured claims.
        summary: key numbers shown by ``genlab show`` and the report.
        data: JSON-serializable records the figures are drawn from (``data.json``).
        arrays: larger arrays for the figures (``arrays.npz``).
    """

    claims: list[Claim]
    summary: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


C = TypeVar("C", bound=ExperimentConfig)


@dataclass(frozen=True)
class Experiment:
    """One lecture section as a runnable, checked experiment.

    Attributes:
        name: CLI name (``genlab run NAME``).
        title: human title.
        section: lecture section it reproduces.
        claim: one-line statement of what it shows.
        config: the pydantic config class.
        profiles: ``quick`` / ``default`` / ``full`` → field overrides.
        run: ``run(config, ctx) -> Result``.
        figures: ``figures(run_record) -> {name: Figure}``; draws stored records only.
    """

    name: str
    title: str
    section: str
    claim: str
    config: type[ExperimentConfig]
    profiles: Mapping[str, Mapping[str, Any]]
    run: Callable[[Any, Context], Result]
    figures: Callable[[RunRecord], dict[str, Any]]


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _field_help(cls: type[BaseModel], key: str) -> str:
    f = cls.model_fields[key]
    bounds = [f"{k} {v}" for m in f.metadata if dataclasses.is_dataclass(m)
              for k, v in dataclasses.asdict(m).items()]
    text = f.description or ""
    return f"{text} ({', '.join(bounds)})" if bounds else text


def resolve_config(exp: Experiment, profile: str = "quick",
                   overrides: Mapping[str, str | Any] | None = None) -> ExperimentConfig:
    """Config = defaults ← profile ← overrides (``--set key=value``, strings parsed as JSON).

    Raises:
        GenlabError: unknown profile or key, or a value the config rejects; the
            message is one line naming the key and what is allowed.
    """
    if profile not in exp.profiles:
        raise GenlabError(f"unknown profile {profile!r} for {exp.name}; "
                          f"allowed: {', '.join(exp.profiles)}")
    values = dict(exp.profiles[profile])
    fields = exp.config.model_fields
    for key, raw in (overrides or {}).items():
        if key not in fields:
            raise GenlabError(f"unknown config key {key!r} for {exp.name}; "
                              f"allowed: {', '.join(fields)}")
        values[key] = _parse_value(raw) if isinstance(raw, str) else raw
    try:
        return exp.config(**values)
    except ValidationError as e:
        err = e.errors()[0]
        key = str(err["loc"][0]) if err["loc"] else "?"
        got = values.get(key, "<missing>")
        hint = _field_help(exp.config, key) if key in fields else ""
        raise GenlabError(f"bad value for {key!r}: {got!r}: {err['msg']}"
                          + (f"; {key} is {hint}" if hint else "")) from None


class Context:
    """What a running experiment may touch: its run directory, device, seeds, progress."""

    def __init__(self, writer: RunWriter, config: ExperimentConfig, *, progress: bool = False):
        self.writer = writer
        self.seed = config.seed
        if config.device.startswith("cuda") and not torch.cuda.is_available():
            raise GenlabError(f"device {config.device!r} requested but CUDA is not available")
        self.device = torch.device(config.device)
        self.progress = progress

    @property
    def dir(self) -> Path:
        return self.writer.dir

    def seed_for(self, *names: Any) -> int:
        """An integer seed for the random source named by ``names`` (e.g. ``"init", 3``)."""
        return derive_seed(self.seed, *names)

    def generator(self, *names: Any, device: str | torch.device = "cpu") -> torch.Generator:
        """A fresh ``torch.Generator`` seeded for the random source named by ``names``."""
        return torch.Generator(device=device).manual_seed(self.seed_for(*names))

    def log(self, record: dict[str, Any]) -> None:
        """Append one metrics record to ``metrics.jsonl``."""
        self.writer.log(record)

    def save_state(self, name: str, model: torch.nn.Module) -> Path:
        """Save ``model``'s weights as ``weights/<name>.pt``."""
        return self.writer.save_state(name, model.state_dict())

    def track(self, iterable: Iterable, description: str, total: int | None = None):
        """Iterate with a progress bar when the run shows progress."""
        return track(iterable, description, total=total, enabled=self.progress)


def run_experiment(exp: Experiment, config: ExperimentConfig, out: Path | str = "runs", *,
                   progress: bool = False, profile: str | None = None) -> RunRecord:
    """Run ``exp`` into a new run directory under ``out`` and draw its figures.

    ``profile`` (the name the config came from) is recorded in the provenance.

    On an exception or Ctrl-C the run keeps what it wrote and its ``result.json``
    says ``failed`` or ``interrupted`` with the reason; the exception propagates.
    """
    writer = RunWriter(out, exp.name, config.model_dump(mode="json"), seed=config.seed,
                       device=config.device, profile=profile)
    try:
        ctx = Context(writer, config, progress=progress)
        result = exp.run(config, ctx)
        writer.save_json("data", result.data)
        if result.arrays:
            writer.save_arrays(result.arrays)
        writer.update_result(summary=result.summary, status="drawing",
                             claims=[c.model_dump() for c in result.claims])
        record = load_run(writer.dir)
        names = [writer.save_figure(n, fig).name for n, fig in exp.figures(record).items()]
    except KeyboardInterrupt:
        writer.finish("interrupted", reason="interrupted by the user (Ctrl-C)")
        raise
    except BaseException as e:
        writer.finish("failed", reason=f"{type(e).__name__}: {e}",
                      traceback=traceback.format_exc())
        raise
    writer.finish("ok", figures=names)
    return load_run(writer.dir)
