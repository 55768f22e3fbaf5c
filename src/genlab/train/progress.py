"""Progress bars (rich) that switch off cleanly in tests and pipes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

__all__ = ["track"]

T = TypeVar("T")


def track(iterable: Iterable[T], description: str, *, total: int | None = None,
          enabled: bool = True) -> Iterator[T]:
    """Yield from ``iterable`` showing a bar with count, elapsed time and ETA when ``enabled``."""
    if not enabled:
        yield from iterable
        return
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        yield from bar.track(iterable, total=total, description=description)
