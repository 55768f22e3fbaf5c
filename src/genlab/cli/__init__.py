"""The ``genlab`` command line: list, run, sweep, show, report, measure.

Start-up stays light (typer and rich only); torch, matplotlib and the experiments'
code are imported by the command that needs them, so ``genlab list`` and ``--help``
answer in well under a second.
"""

from __future__ import annotations

import sys

import typer
from rich.markup import escape

from ._common import EXIT_BAD_INPUT, EXIT_INTERRUPTED, app, err

# the commands register on app, in the order --help lists them
from .run import _configs  # noqa: E402,F401  (tests call it)
from . import sweep, stored  # noqa: E402,F401

__all__ = ["EXIT_BAD_INPUT", "EXIT_INTERRUPTED", "app", "main"]


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
