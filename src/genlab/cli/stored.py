"""``genlab show``, ``genlab report`` and ``genlab measure``: reading the run store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import GenlabError
from ._common import _THREADS_HELP, _fail, _print_claims, _threads, _writable, app, err, out
from .sweep import _print_aggregate


def _newest_run(path: Path):
    """The run at ``path``, or the newest run of the experiment folder ``path``."""
    from ..runs import list_runs, load_run

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
    from ..report import build_report

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
    from ..experiments.context import check_device
    from ..runs.measure import measure_run

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
