"""Sweeps against running the same members one process at a time.

1. 20 quick ``descent`` runs (seeds 0–19): ``genlab sweep --backend local --workers 2``
   against 20 sequential ``genlab run`` processes (target: the sweep ≥ 1.7× faster:
   start-up amortized, both cores used).
2. The same sweep on Ray's local mode against the local pool (target: ≤ 1.3× the time),
   and Ray's start-up cost (``ray.init`` of a local cluster, then one trivial task).

Each variant writes a fresh run store in a temporary directory; times are wall-clock
seconds of the whole command, measured in this session, on a quiet machine if possible.

    .venv/bin/python benchmarks/sweep.py [--members 20]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time


def _wall(cmd: list[str]) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def _ray_startup() -> tuple[float, float]:
    code = ("import time, ray; t = time.perf_counter(); ray.init(include_dashboard=False, "
            "log_to_driver=False); a = time.perf_counter() - t; t = time.perf_counter(); "
            "ray.get(ray.remote(lambda: 1).remote()); print(a, time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout.split()
    return float(out[-2]), float(out[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=20)
    ap.add_argument("--experiment", default="descent")
    args = ap.parse_args()
    genlab = [sys.executable, "-m", "genlab"]
    n = args.members
    times = {}
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        for seed in range(n):
            _wall([*genlab, "run", args.experiment, "--seed", str(seed), "--threads", "1",
                   "--out", f"{tmp}/seq"])
        times["sequential"] = time.perf_counter() - t
        for backend in ("local", "ray"):
            times[backend] = _wall([*genlab, "sweep", args.experiment, "--seeds", f"0-{n - 1}",
                                    "--backend", backend, "--workers", "2", "--threads", "1",
                                    "--out", f"{tmp}/{backend}"])
    init, task = _ray_startup()
    print(f"{n} quick {args.experiment} runs, wall seconds:")
    for k, v in times.items():
        print(f"  {k:>10}: {v:7.1f} s")
    print(f"  sequential / local sweep = {times['sequential'] / times['local']:.2f}× "
          "(target ≥ 1.7)")
    print(f"  ray / local sweep        = {times['ray'] / times['local']:.2f}× (target ≤ 1.3)")
    print(f"  Ray start-up: ray.init {init:.1f} s, first task {task:.2f} s")


if __name__ == "__main__":
    main()
