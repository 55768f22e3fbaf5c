"""What every command shares: the app, the consoles, one-line errors, claim tables."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

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


_COLOUR = {"pass": "green", "fail": "red", "flip": "yellow", "unexpected": "dim"}


def _verdict(c: dict) -> str:
    """A claim's verdict (of one run, or over seeds) as coloured rich markup."""
    from ..runs.aggregate import claim_verdict

    kind, words = claim_verdict(c)
    return f"[{_COLOUR[kind]}]{escape(words)}[/]"


def _print_claims(record) -> None:
    title = (f"{record.experiment} ({escape(record.status)}, profile "
             f"{record.provenance.get('profile')}, {record.result.get('wall_time_s', '?')} s)")
    table = Table("claim", "measured", "threshold", "verdict", "paper", title=title)
    for c in record.result.get("claims", []):
        paper = " · ".join(x for x in (c.get("paper_value"), c.get("paper")) if x)
        table.add_row(c["statement"], f"{c['value']:.4g}", f"{c['op']} {c['threshold']:.4g}",
                      _verdict(c), escape(paper))
    out.print(table)
