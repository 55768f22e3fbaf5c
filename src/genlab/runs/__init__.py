"""The run store: writing and reading ``runs/<experiment>/<run-id>/`` directories, and
measuring stored weights (:mod:`genlab.runs.measure`, imported on first use: it needs torch)."""

from .figstyle import FIGURE_STYLE, figure_style, save_figure
from .provenance import provenance
from .store import (RunRecord, RunWriter, atomic_write, latest_runs, list_runs, load_run,
                    read_metrics, slug, to_jsonable, write_json)

__all__ = ["FIGURE_STYLE", "RunRecord", "RunWriter", "atomic_write", "figure_style",
           "latest_runs", "list_runs", "load_run", "load_weights", "measure_run", "provenance",
           "read_metrics", "save_figure", "slug", "to_jsonable", "write_json"]


def __getattr__(name: str):
    if name in ("measure_run", "load_weights", "WHAT"):
        from . import measure

        return getattr(measure, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
