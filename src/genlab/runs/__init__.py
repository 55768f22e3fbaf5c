"""The run store: writing and reading ``runs/<experiment>/<run-id>/`` directories."""

from .provenance import provenance
from .store import (RunRecord, RunWriter, atomic_write, latest_runs, list_runs, load_run,
                    read_metrics)

__all__ = ["RunRecord", "RunWriter", "atomic_write", "latest_runs", "list_runs", "load_run",
           "provenance", "read_metrics"]
