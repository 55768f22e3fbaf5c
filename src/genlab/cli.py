"""The ``genlab`` command line: list, run, show, report."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .errors import GenlabError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_show_locals=False,
                  help="Why do over-parameterized networks generalize? Run the lecture.")
out = Console()
err = Console(stderr=True)


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(2)


def _parse_sets(pairs: list[str]) -> dict[str, str]:
    overrides = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            _fail(f"--set expects key=value, got {pair!r}")
        overrides[key.strip()] = value
    return overrides


def _writable(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        _fail(f"cannot create output directory {path}: {e.strerror}")
    if not os.access(path, os.W_OK):
        _fail(f"output directory {path} is not writable")


@app.command("list")
def list_() -> None:
    """List the experiments with their claim and profiles."""
    from .experiments import available, get

    table = Table("experiment", "section", "claim", "profiles")
    for name in available():
        exp = get(name)
        table.add_row(name, exp.section, exp.claim, ", ".join(exp.profiles))
    out.print(table)


@app.command()
def run(
    experiment: Annotated[str, typer.Argument(help="experiment name, or 'all'")],
    profile: Annotated[str, typer.Option(help="quick | default | full")] = "quick",
    set_: Annotated[Optional[list[str]], typer.Option(
        "--set", help="override a config field: key=value (repeatable)")] = None,
    seed: Annotated[Optional[int], typer.Option(help="run seed")] = None,
    device: Annotated[Optional[str], typer.Option(help="cpu | cuda | cuda:N")] = None,
    out_dir: Annotated[Path, typer.Option("--out", help="run store directory")] = Path("runs"),
    threads: Annotated[Optional[int], typer.Option(
        min=1, help="CPU threads for torch (default: torch's choice; 1 is faster on a "
        "busy machine)")] = None,
) -> None:
    """Run one experiment (or all) and store it under --out."""
    import torch

    from .experiments import available, get, resolve_config, run_experiment

    if threads is not None:
        torch.set_num_threads(threads)

    overrides: dict[str, object] = _parse_sets(set_ or [])
    if seed is not None:
        overrides["seed"] = seed
    if device is not None:
        overrides["device"] = device
    try:
        names = available() if experiment == "all" else [get(experiment).name]
        configs = [(get(n), resolve_config(get(n), profile, overrides)) for n in names]
    except GenlabError as e:
        _fail(str(e))
    _writable(out_dir)
    failed = []
    for exp, config in configs:
        out.rule(f"[bold]{exp.name}[/] ({profile})")
        try:
            record = run_experiment(exp, config, out_dir, progress=sys.stderr.isatty(),
                                    profile=profile)
        except KeyboardInterrupt:
            _fail("interrupted; what was written is kept")
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


def _print_claims(record) -> None:
    title = (f"{record.experiment} ({escape(record.status)}, "
             f"{record.result.get('wall_time_s', '?')} s)")
    table = Table("claim", "measured", "threshold", "verdict", title=title)
    for c in record.result.get("claims", []):
        verdict = "[green]holds[/]" if c["passed"] else "[red]does not hold[/]"
        table.add_row(c["statement"], f"{c['value']:.4g}", f"{c['op']} {c['threshold']:.4g}",
                      verdict)
    out.print(table)


@app.command()
def show(run_dir: Annotated[Path, typer.Argument(help="a run directory")]) -> None:
    """Show a stored run: config, claims with verdicts, key numbers."""
    from .runs import load_run

    try:
        record = load_run(run_dir)
    except (FileNotFoundError, ValueError) as e:
        _fail(str(e))
    out.print(f"[bold]{record.experiment}[/] {record.dir.name}  status: {record.status}"
              + (f"  ({record.result['reason']})" if "reason" in record.result else ""))
    config = Table("config", "value")
    for k, v in record.config.items():
        config.add_row(k, str(v))
    out.print(config)
    _print_claims(record)
    summary = Table("summary", "value")
    for k, v in record.result.get("summary", {}).items():
        summary.add_row(k, f"{v:.4g}" if isinstance(v, float) else str(v))
    out.print(summary)
    prov = record.provenance
    out.print(f"commit {prov.get('commit')} (dirty: {prov.get('dirty')}), "
              f"seed {prov.get('seed')}, device {prov.get('device')}, "
              f"torch {prov.get('packages', {}).get('torch')}")


@app.command()
def report(
    runs: Annotated[Path, typer.Option(help="run store to read")] = Path("runs"),
    out_dir: Annotated[Path, typer.Option("--out", help="where to write the page")] = Path(
        "report"),
) -> None:
    """Write the lecture as a web page from the latest stored run of each experiment."""
    from .report import build_report

    if not runs.is_dir():
        _fail(f"run store {runs} does not exist; run `genlab run all` first")
    _writable(out_dir)
    page = build_report(runs, out_dir)
    out.print(f"wrote {page}")


@app.command()
def measure(
    run_dir: Annotated[Path, typer.Argument(help="a run directory with weights/*.pt")],
    what: Annotated[Optional[list[str]], typer.Option(
        help="hessian | sharpness | noise (repeatable; default hessian)")] = None,
    weights: Annotated[Optional[list[str]], typer.Option(
        help="weights names under weights/ (default: all)")] = None,
    n_samples: Annotated[int, typer.Option(help="training examples measured on")] = 1000,
    seed: Annotated[int, typer.Option(help="seed of the measures' random draws")] = 0,
    device: Annotated[str, typer.Option(help="cpu | cuda | cuda:N")] = "cpu",
) -> None:
    """Measure a stored run's weights; results go to RUN_DIR/measures/<what>.json."""
    from .measures import measure_run

    try:
        results = measure_run(run_dir, what or ["hessian"], weights=weights, n_samples=n_samples, seed=seed,
                              device=device)
    except (GenlabError, ValueError, FileNotFoundError) as e:
        _fail(str(e))
    for kind, per_model in results.items():
        table = Table("weights", "measure", "value", title=kind)
        for name, values in per_model.items():
            for k, v in values.items():
                if not isinstance(v, (dict, list)):
                    table.add_row(name, k, f"{v:.4g}" if isinstance(v, float) else str(v))
        out.print(table)
    out.print(f"wrote {Path(run_dir) / 'measures'}")


def main() -> None:  # pragma: no cover - console entry point
    app()
