"""``genlab list`` and ``genlab run``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import GenlabError
from ._common import (_THREADS_HELP, EXIT_INTERRUPTED, _fail, _parse_sets, _print_claims,
                      _threads, _writable, app, err, out)


@app.command("list")
def list_() -> None:
    """List the experiments with their claim and profiles."""
    from ..experiments import available, get

    table = Table("experiment", "section", "claim", "profiles")
    for name in available():
        exp = get(name)
        table.add_row(name, exp.section, exp.claim, ", ".join(exp.profiles))
    out.print(table)


def _configs(experiment: str, profile: str, overrides: dict) -> list:
    """(experiment, config) pairs to run; a key that only some experiments have is applied
    to those (said on stderr), a key none has is refused."""
    from ..experiments import accepts, available, get, resolve_config

    names = available() if experiment == "all" else [get(n.strip()).name
                                                     for n in experiment.split(",")]
    exps = [get(n) for n in names]
    common = {"seed", "device"}
    for key in set(overrides) - common:
        having = [e.name for e in exps if accepts(e, key)]
        if not having:
            allowed = "" if len(exps) > 1 else "; allowed: " + ", ".join(exps[0].config.model_fields)
            raise GenlabError(f"unknown config key {key!r} for {experiment}{allowed}")
        if len(having) < len(exps):
            err.print(f"--set {key} applies to {', '.join(having)} only", highlight=False)
    return [(e, resolve_config(e, profile, {k: v for k, v in overrides.items()
                                            if k in common or accepts(e, k)})) for e in exps]


@app.command()
def run(
    experiment: Annotated[str, typer.Argument(
        help="experiment name, several separated by commas, or 'all'")],
    profile: Annotated[str, typer.Option(help="quick | default | full")] = "quick",
    set_: Annotated[Optional[list[str]], typer.Option(
        "--set", help="override a config field: key=value or nested.key=value (repeatable)")]
        = None,
    seed: Annotated[Optional[int], typer.Option(help="run seed")] = None,
    device: Annotated[Optional[str], typer.Option(help="cpu | cuda | cuda:N")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="run store directory")] = Path("runs"),
    threads: Annotated[Optional[int], typer.Option(min=1, help=_THREADS_HELP)] = None,
    workers: Annotated[int, typer.Option(
        min=1, help="with 'all': run this many experiments at once, in separate processes "
        "(with --threads each)")] = 1,
) -> None:
    """Run one experiment (or all) and store it under --out."""
    overrides: dict[str, object] = _parse_sets(set_ or [])
    if seed is not None:
        overrides["seed"] = seed
    if device is not None:
        overrides["device"] = device
    try:
        configs = _configs(experiment, profile, overrides)
        from ..experiments.context import check_device

        for _, config in configs[:1]:
            check_device(config.device)
    except GenlabError as e:
        _fail(str(e))
    _writable(out_dir)
    if workers > 1 and len(configs) > 1:
        _run_parallel(configs, profile, out_dir, workers, threads or 1)
        return
    _threads(threads)
    from ..experiments import run_experiment

    failed = []
    for exp, config in configs:
        out.rule(f"[bold]{exp.name}[/] ({profile})")
        try:
            record = run_experiment(exp, config, out_dir, progress=sys.stderr.isatty(),
                                    profile=profile)
        except KeyboardInterrupt:
            _fail("interrupted; what was written is kept", EXIT_INTERRUPTED)
        except (GenlabError, ValueError, FileNotFoundError) as e:
            err.print(f"[bold red]error:[/] {exp.name}: {escape(str(e))}", highlight=False)
            failed.append(exp.name)
            continue
        except Exception as e:  # a bug: keep going with the other experiments
            err.print(f"[bold red]error:[/] {exp.name} crashed: {type(e).__name__}: "
                      f"{escape(str(e))} (traceback in its result.json)", highlight=False)
            failed.append(exp.name)
            continue
        _print_claims(record)
        out.print(f"stored in {record.dir}")
    if failed:
        _fail(f"failed: {', '.join(failed)}")


def _run_parallel(configs: list, profile: str, out_dir: Path, workers: int,
                  threads: int) -> None:
    """Run the experiments in ``workers`` processes, printing each as it finishes."""
    from ..runs import load_run
    from ..sweeps import Member
    from ..sweeps.backends import run_members

    members = [Member(e.name, c.seed, {}, c.model_dump(mode="json")) for e, c in configs]
    failed = []

    def done(member, outcome: dict) -> None:
        if outcome["status"] != "ok":
            err.print(f"[bold red]error:[/] {member.experiment}: "
                      f"{escape(outcome.get('reason', outcome['status']))}", highlight=False)
            failed.append(member.experiment)
            return
        record = load_run(outcome["run_dir"])
        _print_claims(record)
        out.print(f"stored in {record.dir}")

    try:
        run_members(members, profile, out_dir, workers=workers, threads=threads, on_done=done)
    except KeyboardInterrupt:
        _fail("interrupted; finished experiments are kept", EXIT_INTERRUPTED)
    if failed:
        _fail(f"failed: {', '.join(failed)}")
