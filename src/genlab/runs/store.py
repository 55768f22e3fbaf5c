"""Run directories: ``runs/<experiment>/<run-id>/`` with config, metrics, result, figures.

Every file is written atomically (temporary file + ``os.replace``) except
``metrics.jsonl``, which is appended one flushed line per record so an interrupted
run keeps every step it logged. ``result.json`` exists from the start with
``status: running`` and is replaced when the run ends (``ok``, ``failed`` or
``interrupted``, with the reason).
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import tempfile
import time
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

from .figstyle import save_figure
from .provenance import provenance

__all__ = ["RunRecord", "RunWriter", "atomic_write", "latest_runs", "list_runs", "load_run",
           "read_metrics", "slug", "to_jsonable", "write_json"]


def to_jsonable(obj: Any) -> Any:
    """Convert numpy/torch scalars and arrays to plain JSON values; NaN/inf become strings."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if hasattr(obj, "tolist"):  # numpy / torch arrays and scalars
        return to_jsonable(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return str(obj)  # "nan", "inf": JSON has no literal for them
    if isinstance(obj, Path):
        return str(obj)
    return obj


def slug(name: str) -> str:
    """``name`` as a file name: runs of characters other than ``[A-Za-z0-9._-]`` become ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: The process's umask, read once: files get mode 0666 & ~umask (0644 by default),
#: as ``open`` would give them (``mkstemp`` alone makes them private, 0600).
_FILE_MODE = 0o666 & ~_umask()


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never half.

    The file gets the mode ``open`` would give it (0644 under the usual umask).
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data.encode() if isinstance(data, str) else data)
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj: Any) -> None:
    """Write ``obj`` (see :func:`to_jsonable`) as indented JSON, atomically."""
    atomic_write(path, json.dumps(to_jsonable(obj), indent=2) + "\n")


class RunWriter:
    """Creates one run directory and writes into it.

    Args:
        root: the run store (``runs/``); created if missing.
        experiment: experiment name, the first directory level.
        config: the resolved config, saved as ``config.json``.
        seed: the run seed (saved in the provenance).
        device: the device the run uses (saved in the provenance).
        meta: more provenance fields (e.g. the profile name).
    """

    def __init__(self, root: Path | str, experiment: str, config: dict, *, seed: int,
                 device: str, **meta: Any):
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.run_id = f"{stamp}-s{seed}-{secrets.token_hex(3)}"  # unique even for parallel runs
        self.dir = Path(root) / experiment / self.run_id
        self.dir.mkdir(parents=True, exist_ok=False)
        (self.dir / "figures").mkdir()
        self.experiment = experiment
        self._t0 = time.perf_counter()
        write_json(self.dir / "config.json", config)
        write_json(self.dir / "provenance.json",
                    provenance(seed=seed, device=device, started=time.time(), **meta))
        self._result: dict[str, Any] = {"experiment": experiment, "run_id": self.run_id,
                                        "status": "running"}
        write_json(self.dir / "result.json", self._result)
        self._metrics = open(self.dir / "metrics.jsonl", "a", buffering=1)

    def log(self, record: dict[str, Any]) -> None:
        """Append one record (a step's metrics) to ``metrics.jsonl`` and flush it."""
        self._metrics.write(json.dumps(to_jsonable(record)) + "\n")

    def save_figure(self, name: str, fig) -> Path:
        """Save a matplotlib figure as ``figures/<name>.png`` and close it."""
        return save_figure(fig, self.dir / "figures" / f"{name}.png")

    def save_state(self, name: str, state_dict: dict, info: dict | None = None) -> Path:
        """Save a model's state dict as ``weights/<slug>.pt`` (load with ``weights_only=True``).

        The file name is ``name`` made shell-friendly: runs of characters other than
        letters, digits, ``.``, ``_`` and ``-`` become ``_`` (``"p=0.5"`` → ``p_0.5``).
        ``info`` (what rebuilds the model and its data) goes to ``weights/<slug>.json``.
        """
        import io

        import torch

        name = slug(name)
        (self.dir / "weights").mkdir(exist_ok=True)
        buf = io.BytesIO()
        torch.save({k: v.detach().cpu() for k, v in state_dict.items()}, buf)
        path = self.dir / "weights" / f"{name}.pt"
        atomic_write(path, buf.getvalue())
        if info is not None:
            write_json(path.with_suffix(".json"), info)
        return path

    def save_json(self, name: str, obj: Any) -> Path:
        """Save ``obj`` as ``<name>.json`` in the run directory."""
        path = self.dir / f"{name}.json"
        write_json(path, obj)
        return path

    def save_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Save named arrays to ``arrays.npz`` (for figures that need more than JSON)."""
        import io

        import numpy as np

        buf = io.BytesIO()
        np.savez_compressed(buf, **{k: np.asarray(v) for k, v in arrays.items()})
        atomic_write(self.dir / "arrays.npz", buf.getvalue())

    def update_result(self, **fields: Any) -> None:
        """Merge ``fields`` into ``result.json`` and rewrite it."""
        self._result.update(fields)
        write_json(self.dir / "result.json", self._result)

    def finish(self, status: str, *, reason: str | None = None, **fields: Any) -> None:
        """Close the metrics file and write the final ``result.json``."""
        self._metrics.close()
        if reason is not None:
            fields["reason"] = reason
        self.update_result(**fields, status=status,
                           wall_time_s=round(time.perf_counter() - self._t0, 3))


def read_metrics(path: Path | str) -> list[dict[str, Any]]:
    """Read ``metrics.jsonl``; a torn last line (a killed run) is skipped."""
    records = []
    path = Path(path)
    if not path.exists():
        return records
    for line in path.read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


@dataclass
class RunRecord:
    """A stored run, read back: what ``genlab show``, figures and the report use."""

    dir: Path
    config: dict[str, Any]
    result: dict[str, Any]
    provenance: dict[str, Any] = field(default_factory=dict)

    @property
    def experiment(self) -> str:
        return self.dir.parent.name

    @property
    def status(self) -> str:
        return self.result.get("status", "unknown")

    @cached_property
    def metrics(self) -> list[dict[str, Any]]:
        return read_metrics(self.dir / "metrics.jsonl")

    @cached_property
    def data(self) -> dict[str, Any]:
        """The experiment's stored records for its figures (``data.json``)."""
        path = self.dir / "data.json"
        return json.loads(path.read_text()) if path.exists() else {}

    @cached_property
    def tables(self) -> dict[str, Any]:
        """The experiment's result tables (``tables.json``): name → caption, columns, rows."""
        path = self.dir / "tables.json"
        return json.loads(path.read_text()) if path.exists() else {}

    @cached_property
    def arrays(self) -> dict[str, np.ndarray]:
        path = self.dir / "arrays.npz"
        if not path.exists():
            return {}
        import numpy as np

        with np.load(path) as z:
            return {k: z[k] for k in z.files}

    @property
    def figures(self) -> list[Path]:
        return sorted((self.dir / "figures").glob("*.png"))


def load_run(path: Path | str) -> RunRecord:
    """Read a run directory; raises ``FileNotFoundError`` if it is not one."""
    path = Path(path)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path} is not a run directory (no config.json)")

    def read(name: str) -> dict:
        p = path / name
        try:
            return json.loads(p.read_text()) if p.exists() else {}
        except json.JSONDecodeError as e:
            raise ValueError(f"{p} is corrupt: {e}") from None

    return RunRecord(path, read("config.json"), read("result.json"), read("provenance.json"))


def list_runs(root: Path | str, experiment: str | None = None) -> list[RunRecord]:
    """All runs under ``root`` (optionally one experiment's), oldest first."""
    root = Path(root)
    pattern = f"{experiment}/*/config.json" if experiment else "*/*/config.json"
    runs = [load_run(p.parent) for p in root.glob(pattern)]
    return sorted(runs, key=lambda r: (r.provenance.get("started", 0.0), r.dir.name))


def latest_runs(root: Path | str, *, finished_only: bool = True) -> dict[str, RunRecord]:
    """The newest run of each experiment (by default the newest that finished ``ok``)."""
    latest: dict[str, RunRecord] = {}
    for run in list_runs(root):
        if finished_only and run.status != "ok":
            continue
        latest[run.experiment] = run  # list is oldest first, so the last one wins
    return latest
