"""Side-by-side timing shared by the benchmarks (run them as scripts from the repo root)."""

from __future__ import annotations

import statistics
import time

import torch


def sync() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def side_by_side(fns: dict, repeats: int, clock=time.perf_counter) -> dict:
    """Median seconds of each zero-argument function, timed round-robin (one call of
    each per round, after one warm-up call each) so that load from other processes
    hits them alike; CUDA work is synchronized inside each timing. ``clock`` may be
    ``time.process_time`` (this process's CPU time: steadier on a shared machine for
    one-thread CPU work, meaningless for GPU work)."""
    fns = {k: (lambda fn=fn: (fn(), sync())) for k, fn in fns.items()}
    for fn in fns.values():
        fn()
    times: dict = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t = clock()
            fn()
            times[name].append(clock() - t)
    return {name: statistics.median(ts) for name, ts in times.items()}
