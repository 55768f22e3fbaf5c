"""``genlab sweep``: seeds × grid, judged over seeds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ..errors import GenlabError
from ._common import (EXIT_INTERRUPTED, _fail, _parse_sets, _verdict, _writable, app, err,
                      out)


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
    from ..sweeps import parse_grid, parse_seeds, resume_spec, run_sweep

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
        from ..experiments.context import check_device

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
    from ..runs.aggregate import load_aggregate

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
            table.add_row(escape(c["statement"]), f"{c['mean']:.4g} ± {c['std']:.2g}",
                          f"{c['op']} {c['threshold']:.4g}", f"{c['holds_in']} of {c['n']}",
                          _verdict(c))
        out.print(table)
    for m in agg["members"]:
        if m["status"] != "ok":
            out.print(f"{m['experiment']} seed {m['seed']} {m['grid'] or ''}: {m['status']}"
                      + (f" ({escape(m['reason'])})" if m.get("reason") else ""))
