"""The ``genlab`` command line: list, run, show, report, measure.

Start-up stays light (typer and rich only); torch, matplotlib and the experiments'
code are imported by the command that needs them, so ``genlab list`` and ``--help``
answer in well under a second.
"""

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

#: Exit codes: bad input a user can fix, and Ctrl-C (128 + SIGINT, as shells report it).
EXIT_BAD_INPUT, EXIT_INTERRUPTED = 2, 130


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


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


def _threads(threads: int | None) -> None:
    if threads is not None:
        import torch

        torch.set_num_threads(threads)


_THREADS_HELP = "CPU threads for torch (default: torch's choice; 1 is fastest for small models"\
    " on a busy or 2-core machine)"


@app.command("list")
def list_() -> None:
    """List the experiments with their claim and profiles."""
    from .experiments import available, get

    table = Table("experiment", "section", "claim", "profiles")
    for name in available():
        exp = get(name)
        table.add_row(name, exp.section, exp.claim, ", ".join(exp.profiles))
    out.print(table)


def _configs(experiment: str, profile: str, overrides: dict) -> list:
    """(experiment, config) pairs to run; a key that only some experiments have is applied
    to those (said on stderr), a key none has is refused."""
    from .experiments import accepts, available, get, resolve_config

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
        from .experiments.context import check_device

        for _, config in configs[:1]:
            check_device(config.device)
    except GenlabError as e:
        _fail(str(e))
    _writable(out_dir)
    if workers > 1 and len(configs) > 1:
        _run_parallel(configs, profile, out_dir, workers, threads or 1)
        return
    _threads(threads)
    from .experiments import run_experiment

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


@app.command()
def sweep(
    experiment: Annotated[Optional[str], typer.Argument(
        help="experiment name, or 'all' (omit with --resume)")] = None,
    seeds: Annotated[str, typer.Option(help="seeds: 0-4 or 0,3,7")] = "0-2",
    profile: Annotated[str, typer.Option(help="quick | default | full")] = "quick",
    grid: Annotated[Optional[list[str]], typer.Option(
        help="a grid axis: key=v1,v2,... (repeatable; the sweep takes the product)")] = None,
    set_: Annotated[Optional[list[str]], typer.Option(
        "--set", help="a fixed override: key=value (repeatable)")] = None,
    backend: Annotated[str, typer.Option(help="local (process pool) | ray")] = "local",
    workers: Annotated[int, typer.Option(min=1, help="processes of the local pool")] = 2,
    address: Annotated[Optional[str], typer.Option(
        help="Ray cluster address to join (default: start a local one)")] = None,
    device: Annotated[Optional[str], typer.Option(help="cpu | cuda | cuda:N")] = None,
    threads: Annotated[int, typer.Option(min=1, help="torch threads per member")] = 1,
    out_dir: Annotated[Path, typer.Option("--out", help="run store directory")] = Path("runs"),
    resume: Annotated[Optional[Path], typer.Option(
        help="finish the sweep in this sweep directory")] = None,
) -> None:
    """Run an experiment (or all) over seeds and a grid; judge each claim over seeds."""
    from .sweeps import parse_grid, parse_seeds, resume_spec, run_sweep

    try:
        if resume is not None:
            spec = resume_spec(resume)
            experiment, profile, seed_list = spec["experiment"], spec["profile"], spec["seeds"]
            grid_values, overrides = spec["grid"], spec["overrides"]
            out_dir = resume.parent.parent
        elif experiment is None:
            raise GenlabError("name an experiment (or 'all'), or give --resume SWEEP_DIR")
        else:
            seed_list, grid_values = parse_seeds(seeds), parse_grid(grid or [])
            overrides = dict(_parse_sets(set_ or []))
            if device is not None:
                overrides["device"] = device
        from .experiments.context import check_device

        check_device(overrides.get("device", "cpu"))
        _writable(out_dir)
        sweep_dir = run_sweep(experiment, seeds=seed_list, profile=profile, grid=grid_values,
                              overrides=overrides, out=out_dir, backend=backend,
                              workers=workers, threads=threads, address=address,
                              log=lambda line: err.print(escape(line), highlight=False))
    except (GenlabError, FileNotFoundError) as e:
        _fail(str(e))
    except KeyboardInterrupt:
        _fail("interrupted; finished members are kept (rerun the sweep to finish it)",
              EXIT_INTERRUPTED)
    _print_aggregate(sweep_dir)


def _print_aggregate(sweep_dir: Path) -> None:
    from .runs.aggregate import load_aggregate

    agg = load_aggregate(sweep_dir)
    spec = agg["spec"]
    states = [m["status"] for m in agg["members"]]
    out.print(f"[bold]sweep[/] {sweep_dir}  {spec['experiment']}, profile {spec['profile']}, "
              f"seeds {spec['seeds']}, grid {spec['grid'] or '—'}: "
              + ", ".join(f"{states.count(s)} {s}" for s in sorted(set(states))))
    for g in agg["groups"]:
        grid = ", ".join(f"{k}={v}" for k, v in g["grid"].items())
        table = Table("claim", "mean ± std", "threshold", "holds in", "verdict over seeds",
                      title=f"{g['experiment']} {grid} (n = {len(g['seeds'])} seeds)")
        for c in g["claims"]:
            colour = {"holds": "green", "does not hold": "red"}.get(c["verdict"], "yellow")
            verdict = c["verdict"] if c["expected"] else f"not expected at this profile ({c['verdict']})"
            table.add_row(escape(c["statement"]), f"{c['mean']:.4g} ± {c['std']:.2g}",
                          f"{c['op']} {c['threshold']:.4g}", f"{c['holds_in']} of {c['n']}",
                          f"[{colour if c['expected'] else 'dim'}]{escape(verdict)}[/]")
        out.print(table)
    for m in agg["members"]:
        if m["status"] != "ok":
            out.print(f"{m['experiment']} seed {m['seed']} {m['grid'] or ''}: {m['status']}"
                      + (f" ({escape(m['reason'])})" if m.get("reason") else ""))


def _run_parallel(configs: list, profile: str, out_dir: Path, workers: int,
                  threads: int) -> None:
    """Run the experiments in ``workers`` processes, printing each as it finishes."""
    from .runs import load_run
    from .sweeps import Member
    from .sweeps.backends import run_members

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


def _verdict(c: dict) -> str:
    if not c.get("expected", True):
        return f"[dim]not expected at this profile ({'holds' if c['passed'] else 'does not hold'})[/]"
    return "[green]holds[/]" if c["passed"] else "[red]does not hold[/]"


def _print_claims(record) -> None:
    title = (f"{record.experiment} ({escape(record.status)}, profile "
             f"{record.provenance.get('profile')}, {record.result.get('wall_time_s', '?')} s)")
    table = Table("claim", "measured", "threshold", "verdict", "paper", title=title)
    for c in record.result.get("claims", []):
        paper = " · ".join(x for x in (c.get("paper_value"), c.get("paper")) if x)
        table.add_row(c["statement"], f"{c['value']:.4g}", f"{c['op']} {c['threshold']:.4g}",
                      _verdict(c), escape(paper))
    out.print(table)


def _newest_run(path: Path):
    """The run at ``path``, or the newest run of the experiment folder ``path``."""
    from .runs import list_runs, load_run

    if (path / "config.json").is_file() or not path.is_dir():
        return load_run(path)
    runs = list_runs(path.parent, path.name)
    if not runs:
        raise FileNotFoundError(f"{path} is neither a run directory nor an experiment folder "
                                "with runs")
    return runs[-1]


@app.command()
def show(run_dir: Annotated[Path, typer.Argument(
        help="a run directory, an experiment folder (its newest run) or a sweep directory")]
         ) -> None:
    """Show a stored run (config, claims with verdicts, tables, key numbers) or a sweep."""
    if (run_dir / "aggregate.json").is_file():
        _print_aggregate(run_dir)
        return
    try:
        record = _newest_run(run_dir)
    except (FileNotFoundError, ValueError) as e:
        _fail(str(e))
    prov = record.provenance
    out.print(f"[bold]{record.experiment}[/] {record.dir.name}  status: {record.status}  "
              f"profile: {prov.get('profile')}"
              + (f"  ({escape(record.result['reason'])})" if "reason" in record.result else ""))
    config = Table("config", "value")
    for k, v in record.config.items():
        config.add_row(k, escape(str(v)))
    out.print(config)
    _print_claims(record)
    for t in record.tables.values():
        table = Table(*t["columns"], title=t["caption"])
        for row in t["rows"]:
            table.add_row(*(f"{v:.4g}" if isinstance(v, float) else escape(str(v)) for v in row))
        out.print(table)
    summary = Table("summary", "value")
    for k, v in record.result.get("summary", {}).items():
        summary.add_row(k, f"{v:.4g}" if isinstance(v, float) else escape(str(v)))
    out.print(summary)
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
    if not runs.is_dir():
        _fail(f"run store {runs} does not exist; run `genlab run all` first")
    _writable(out_dir)
    from .report import build_report

    page = build_report(runs, out_dir)
    out.print(f"wrote {page}")


def _value(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, list) and all(isinstance(x, (int, float)) for x in v):
        return ", ".join(f"{x:.4g}" for x in v)
    return str(v)


@app.command()
def measure(
    run_dir: Annotated[Path, typer.Argument(help="a run directory with weights/*.pt")],
    what: Annotated[Optional[list[str]], typer.Option(
        help="hessian | sharpness | noise (repeatable; default hessian)")] = None,
    weights: Annotated[Optional[list[str]], typer.Option(
        help="weights names under weights/ (default: all)")] = None,
    n_samples: Annotated[int, typer.Option(min=1, help="training examples measured on "
                                           "(capped at the training set's size)")] = 1000,
    seed: Annotated[int, typer.Option(help="seed of the measures' random draws")] = 0,
    device: Annotated[str, typer.Option(help="cpu | cuda | cuda:N")] = "cpu",
    threads: Annotated[Optional[int], typer.Option(min=1, help=_THREADS_HELP)] = None,
) -> None:
    """Measure a stored run's weights on the data each was trained on.

    Results go to RUN_DIR/measures/<what>.json.
    """
    _threads(threads)
    from .experiments.context import check_device
    from .runs.measure import measure_run

    try:
        check_device(device)
        done = measure_run(run_dir, what or ["hessian"], weights=weights, n_samples=n_samples,
                           seed=seed, device=device)
    except (GenlabError, ValueError, FileNotFoundError) as e:
        _fail(str(e))
    for kind, per_model in done.results.items():
        table = Table("weights", "measure", "value", title=kind)
        for name, values in per_model.items():
            for k, v in values.items():
                if k != "data" and not isinstance(v, dict):
                    table.add_row(name, k, _value(v))
        out.print(table)
    for name, text in done.data.items():
        out.print(f"{name}: measured on {text}")
    for note in done.notes:
        err.print(f"note: {escape(note)}", highlight=False)
    out.print(f"wrote {Path(run_dir) / 'measures'}")


def main() -> None:
    """Console entry point: usage errors as one line (exit 2), Ctrl-C as exit 130."""
    try:  # typer ≥ 0.29 vendors click
        from typer._click.exceptions import ClickException, NoArgsIsHelpError
    except ImportError:  # pragma: no cover - older typer uses click itself
        from click.exceptions import ClickException, NoArgsIsHelpError

    try:
        code = app(standalone_mode=False)
    except NoArgsIsHelpError as e:
        err.print(e.ctx.get_help() if e.ctx else e.format_message(), highlight=False)
        sys.exit(EXIT_BAD_INPUT)
    except ClickException as e:
        err.print(f"[bold red]error:[/] {escape(e.format_message())}", highlight=False,
                  soft_wrap=True)
        sys.exit(EXIT_BAD_INPUT)
    except (KeyboardInterrupt, typer.Abort):
        err.print("interrupted", highlight=False)
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(code if isinstance(code, int) else 0)
