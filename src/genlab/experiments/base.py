"""The experiment contract: typed config + profiles, ``run(config, ctx) -> Result``, claims, figures.

An experiment is a package ``genlab/experiments/<name>/``: its ``__init__.py`` holds
the docstring (the lecture's claim and its paper), a pydantic ``Config`` (subclass of
:class:`ExperimentConfig`), the named profiles, the claims as :class:`ClaimSpec`
constants (statement, threshold, the paper's number, the smallest profile at which
the phenomenon is expected: all fixed before any run) and
``EXPERIMENT = Experiment(...)``; ``run.py`` trains and measures; ``figures.py`` draws
from the stored run alone. ``__init__.py`` imports nothing heavy (no torch), so
``genlab list`` starts fast; ``run`` and ``figures`` are named as ``"module:function"``
and imported when first used. :func:`run_experiment` runs an experiment into the run
store.
"""

from __future__ import annotations

import dataclasses
import importlib
import json
import operator
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import GenlabError
from ..runs import RunRecord, RunWriter, figure_style, load_run
from .context import Context

if TYPE_CHECKING:
    import numpy as np

__all__ = ["PROFILES", "Claim", "ClaimSpec", "Context", "Experiment", "ExperimentConfig",
           "Result", "Table", "accepts", "check", "resolve_config", "run_experiment"]

#: Profiles from the smallest to the largest.
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
    """The lecture's statement as a measured check: ``value op threshold`` → verdict.

    ``paper`` cites the source (with its table or figure) and ``paper_value`` gives the
    paper's own number or statement, shown beside the measured one. ``min_profile`` is
    the smallest profile at which the phenomenon is expected to show; ``expected`` is
    False when the run's profile is smaller, and then the verdict is reported as "not
    expected at this profile", never as a pass.
    """

    name: str
    statement: str
    value: float
    op: str
    threshold: float
    passed: bool
    detail: str = ""
    paper: str = ""
    paper_value: str = ""
    min_profile: str = "quick"
    expected: bool = True


def check(name: str, statement: str, value: float, op: str, threshold: float,
          detail: str = "", *, paper: str = "", paper_value: str = "",
          min_profile: str = "quick") -> Claim:
    """Build a claim whose verdict is computed from the measured ``value``.

    A NaN value never passes.
    """
    if op not in _OPS:
        raise ValueError(f"unknown comparison {op!r}; allowed: {', '.join(_OPS)}")
    if min_profile not in PROFILES:
        raise ValueError(f"unknown profile {min_profile!r}; allowed: {', '.join(PROFILES)}")
    value = float(value)
    passed = bool(value == value and _OPS[op](value, float(threshold)))
    return Claim(name=name, statement=statement, value=value, op=op,
                 threshold=float(threshold), passed=passed, detail=detail, paper=paper,
                 paper_value=paper_value, min_profile=min_profile)


@dataclass(frozen=True)
class ClaimSpec:
    """A claim declared before any run: statement, comparison, threshold and the paper.

    Calling it with the measured value gives the :class:`Claim`::

        FITTED = ClaimSpec("random_labels_fitted", "random labels reach ≥ 99% train "
                           "accuracy", ">=", 0.99, paper="Zhang et al. 2017, Table 1",
                           paper_value="train accuracy 100% (CIFAR-10, Inception)")
        FITTED(train_acc, detail="p = 1 after 35 epochs")

    Attributes:
        name: identifier (stable across runs: sweeps aggregate by it).
        statement: the lecture's statement, as the paper makes it.
        op: ``>=``, ``<=``, ``>`` or ``<``.
        threshold: fixed before any result is seen.
        paper: the source, with its table or figure.
        paper_value: the paper's own number or statement.
        min_profile: the smallest profile at which the phenomenon is expected to show.
    """

    name: str
    statement: str
    op: str
    threshold: float
    paper: str = ""
    paper_value: str = ""
    min_profile: str = "quick"

    def __post_init__(self) -> None:
        if self.op not in _OPS or self.min_profile not in PROFILES:
            raise ValueError(f"claim {self.name}: op must be one of {', '.join(_OPS)} and "
                             f"min_profile one of {', '.join(PROFILES)}")

    def __call__(self, value: float, detail: str = "", *,
                 threshold: float | None = None) -> Claim:
        """The measured claim; ``threshold`` overrides the declared one where the spec's
        docstring says it depends on the config (e.g. the data source)."""
        return check(self.name, self.statement, value, self.op,
                     self.threshold if threshold is None else threshold, detail,
                     paper=self.paper, paper_value=self.paper_value,
                     min_profile=self.min_profile)


@dataclass
class Result:
    """What ``run`` returns.

    Attributes:
        claims: the measured claims.
        summary: key numbers shown by ``genlab show`` and the report.
        data: JSON-serializable records the figures are drawn from (``data.json``).
        arrays: larger arrays for the figures (``arrays.npz``).
        tables: name → :class:`Table`, shown as HTML tables in the report and by
            ``genlab show`` (``tables.json``): numbers a reader compares side by side,
            e.g. a paper's table next to the measured one.
    """

    claims: list[Claim]
    summary: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    tables: dict[str, Table] = field(default_factory=dict)


class Table(BaseModel):
    """A small table of results: a caption, column names and rows of cells.

    Cells are numbers or short strings; numbers are formatted where they are shown.
    """

    caption: str
    columns: list[str]
    rows: list[list[Any]]

    @field_validator("rows")
    @classmethod
    def _rows_fit(cls, rows: list[list[Any]], info) -> list[list[Any]]:
        width = len(info.data.get("columns", []))
        if any(len(r) != width for r in rows):
            raise ValueError(f"every row needs {width} cells (one per column)")
        return rows


def _resolve(target: Callable | str) -> Callable:
    """A callable, or ``"package.module:function"`` imported now."""
    if callable(target):
        return target
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


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
        run: ``run(config, ctx) -> Result``, or ``"module:function"`` imported when called.
        figures: ``figures(run_record) -> {name: Figure}`` (or ``"module:function"``);
            draws stored records only.
        claims: the declared claims (for listings before any run).
    """

    name: str
    title: str
    section: str
    claim: str
    config: type[ExperimentConfig]
    profiles: Mapping[str, Mapping[str, Any]]
    run: Callable[[Any, Context], Result] | str
    figures: Callable[[RunRecord], dict[str, Any]] | str
    claims: tuple[ClaimSpec, ...] = ()

    def run_fn(self) -> Callable[[Any, Context], Result]:
        """The ``run`` function (imported on first use)."""
        return _resolve(self.run)

    def figures_fn(self) -> Callable[[RunRecord], dict[str, Any]]:
        """The ``figures`` function (imported on first use)."""
        return _resolve(self.figures)


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


def _model_class(cls: type[BaseModel], key: str) -> type[BaseModel] | None:
    """The pydantic model class of field ``key`` of ``cls``, if it is one."""
    annotation = cls.model_fields[key].annotation
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) \
        else None


def accepts(exp: Experiment, key: str) -> bool:
    """Whether ``exp``'s config has the (possibly dotted, e.g. ``optimizer.lr``) key."""
    cls: type[BaseModel] | None = exp.config
    for part in key.split("."):
        if cls is None or part not in cls.model_fields:
            return False
        cls = _model_class(cls, part)
    return True


def _set(values: dict, cls: type[BaseModel], key: str, value: Any, exp: Experiment,
         prefix: str = "") -> None:
    """``values[key] = value``, where a dotted key sets a field of a nested config."""
    head, _, rest = key.partition(".")
    if head not in cls.model_fields:
        raise GenlabError(f"unknown config key {prefix + key!r} for {exp.name}; "
                          f"allowed: {', '.join(cls.model_fields)}")
    if not rest:
        values[head] = value
        return
    sub = _model_class(cls, head)
    if sub is None:
        raise GenlabError(f"config key {head!r} of {exp.name} has no fields; got {key!r}")
    current = values.get(head, cls.model_fields[head].default)
    nested = dict(current.model_dump() if isinstance(current, BaseModel) else current or {})
    _set(nested, sub, rest, value, exp, f"{prefix}{head}.")
    values[head] = nested


def resolve_config(exp: Experiment, profile: str = "quick",
                   overrides: Mapping[str, str | Any] | None = None) -> ExperimentConfig:
    """Config = defaults ← profile ← overrides (``--set key=value``, strings parsed as JSON).

    A dotted key sets one field of a nested config (``optimizer.lr=0.1``).

    Raises:
        GenlabError: unknown profile or key, or a value the config rejects; the
            message is one line naming the key and what is allowed.
    """
    if profile not in exp.profiles:
        raise GenlabError(f"unknown profile {profile!r} for {exp.name}; "
                          f"allowed: {', '.join(exp.profiles)}")
    values = dict(exp.profiles[profile])
    parsed = {k: _parse_value(v) if isinstance(v, str) else v for k, v in (overrides or {}).items()}
    for key, value in parsed.items():
        _set(values, exp.config, key, value, exp)
    try:
        return exp.config(**values)
    except ValidationError as e:
        err = e.errors()[0]
        key = ".".join(map(str, err["loc"])) or "?"
        head = str(err["loc"][0]) if err["loc"] else "?"
        got = parsed.get(key, values.get(head, "<missing>"))
        hint = _field_help(exp.config, head) if head in exp.config.model_fields else ""
        raise GenlabError(f"bad value for {key!r}: {got!r}: {err['msg']}"
                          + (f"; {head} is {hint}" if hint else "")) from None


def _rank(profile: str | None) -> int:
    return PROFILES.index(profile) if profile in PROFILES else len(PROFILES)


def run_experiment(exp: Experiment, config: ExperimentConfig, out: Path | str = "runs", *,
                   progress: bool = False, profile: str | None = None) -> RunRecord:
    """Run ``exp`` into a new run directory under ``out`` and draw its figures.

    ``profile`` (the name the config came from) is recorded in the provenance, and
    marks each claim whose ``min_profile`` is larger as not expected at this profile.

    On an exception or Ctrl-C the run keeps what it wrote and its ``result.json``
    says ``failed`` or ``interrupted`` with the reason; the exception propagates.
    """
    writer = RunWriter(out, exp.name, config.model_dump(mode="json"), seed=config.seed,
                       device=config.device, profile=profile)
    try:
        ctx = Context(writer, config, progress=progress, profile=profile)
        result = exp.run_fn()(config, ctx)
        writer.save_json("data", result.data)
        if result.tables:
            writer.save_json("tables", {k: t.model_dump() for k, t in result.tables.items()})
        if result.arrays:
            writer.save_arrays(result.arrays)
        claims = [{**c.model_dump(), "expected": _rank(profile) >= _rank(c.min_profile)}
                  for c in result.claims]
        writer.update_result(summary=result.summary, status="drawing", claims=claims)
        record = load_run(writer.dir)
        with figure_style():
            figs = exp.figures_fn()(record)
        names = [writer.save_figure(n, fig).name for n, fig in figs.items()]
    except KeyboardInterrupt:
        writer.finish("interrupted", reason="interrupted by the user (Ctrl-C)")
        raise
    except BaseException as e:
        writer.finish("failed", reason=f"{type(e).__name__}: {e}",
                      traceback=traceback.format_exc())
        raise
    writer.finish("ok", figures=names)
    return load_run(writer.dir)
