"""The run store: writing and reading ``runs/<experiment>/<run-id>/`` directories."""

from .provenance import provenance
from .store import (RunRecord, RunWriter, atomic_write, latest_runs, list_runs, load_run,
                    read_metrics, slug, to_jsonable, write_json)

__all__ = ["RunRecord", "RunWriter", "atomic_write", "latest_runs", "list_runs", "load_run",
           "provenance", "read_metrics", "slug", "to_jsonable", "write_json"]
