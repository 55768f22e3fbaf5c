"""Top-20 Hessian eigenpairs of the lecture CNN along training: tolerance and warm starts.

The ``gauss_newton`` experiment measures the top-20 eigenpairs of the Hessian of the
lecture CNN (MnistCNN, 808,666 parameters) on 1,000 training examples at log-spaced
steps of plain SGD (η = 0.1, B = 64). This benchmark trains that CNN the same way and,
at each checkpoint, runs :func:`genlab.measures.top_eigen` (k = 20) four ways:

- ``converged``: the reference, Lanczos run to full convergence (relative eigenvalue
  error ``--ref-tol``, 1e-9 by default: the float32 products' accuracy);
- ``cold, gradient start``: at the experiment's tolerance (``--tol``, 1e-3), started
  from the loss gradient (``top_eigen``'s default);
- ``cold, random start``: the same from a random vector;
- ``warm``: the same, started from the previous checkpoint's 20 eigenvectors (``v0=``);
- ``warm + gradient``: from those vectors and the current gradient (``v0`` of 21 rows),
  as the experiment does.

For each it prints the Hessian-vector products, the time, the largest relative error of
the 20 eigenvalues against the reference and the overlap of the top-10 eigenspace with
the reference's (``subspace_overlap``). The four solves at a checkpoint run one after
the other on the same operator type (one thread): compare products and time ratios, not
absolute times (other processes share the machine).

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/curvature_training.py``
(``--examples 256 --steps 100 300`` for a short check).
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from _timing import sync

from genlab.data import DataSpec
from genlab.measures import (
    HessianOperator,
    cross_entropy_loss,
    subspace_overlap,
    top_eigen,
)
from genlab.models import MnistCNN
from genlab.train import OptimizerConfig, batches, step


def _solve(model, batch, k: int, tol: float, v0, max_steps: int, seed: int = 0):
    """(Eigen, seconds) of top-k of the Hessian, the operator built inside the timing."""
    sync()
    t = time.perf_counter()
    op = HessianOperator(model, cross_entropy_loss, batch)
    if isinstance(v0, tuple):  # (previous vectors, "+ gradient"): both in the start
        v0 = torch.cat([v0[0], op.gradient()[None]])
    eig = top_eigen(op, k, tol=tol, v0=v0, max_steps=max_steps,
                    generator=torch.Generator().manual_seed(seed))
    sync()
    return eig, time.perf_counter() - t


def _row(name: str, tol: float, eig, seconds: float, ref, ref_seconds: float) -> str:
    err = float(((eig.values - ref.values) / ref.values).abs().max())
    ov = subspace_overlap(eig.vectors[:10], ref.vectors[:10])
    return (f"{name:<24}{tol:>7.0e}{eig.matvecs:>6}{seconds:>9.1f}{ref_seconds / seconds:>10.2f}×"
            f"{err:>12.1e}{ov:>10.4f}{'' if eig.converged else '  (step cap)':>12}")


def _checkpoint(model, batch, args, previous) -> dict:
    """Print the solves at this checkpoint; return {(name, tol): (Eigen, seconds)}."""
    n = sum(p.numel() for p in model.parameters())
    random_v0 = torch.randn(n, generator=torch.Generator().manual_seed(1))
    ref, t_ref = _solve(model, batch, args.k, args.ref_tol, None, args.ref_steps)
    runs = {}
    for tol in args.tols:
        runs["cold, gradient start", tol] = _solve(model, batch, args.k, tol, None,
                                                   args.max_steps)
        runs["cold, random start", tol] = _solve(model, batch, args.k, tol, random_v0,
                                                 args.max_steps)
        if previous is not None:
            runs["warm", tol] = _solve(model, batch, args.k, tol, previous, args.max_steps)
            runs["warm + gradient", tol] = _solve(model, batch, args.k, tol,
                                                  (previous, "+ gradient"), args.max_steps)
    print(f"{'':<24}{'tol':>7}{'HVPs':>6}{'time [s]':>9}{'vs conv.':>11}{'max rel err':>12}"
          f"{'top-10 ov':>10}")
    print(f"{'converged (reference)':<24}{args.ref_tol:>7.0e}{ref.matvecs:>6}{t_ref:>9.1f}"
          f"{1:>10.2f}×{0:>12.1e}{1:>10.4f}{'' if ref.converged else '  (step cap)':>12}")
    for (name, tol), (eig, t) in runs.items():
        print(_row(name, tol, eig, t, ref, t_ref))
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--examples", type=int, default=1000, help="examples of the Hessian")
    parser.add_argument("--steps", type=int, nargs="+", default=[30, 173, 1000],
                        help="SGD steps of the checkpoints (ascending)")
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--tols", type=float, nargs="+", default=[1e-2, 1e-3],
                        help="tolerances of the cold and warm solves (warm starts chain from "
                        "the smallest)")
    parser.add_argument("--ref-tol", type=float, default=1e-9)
    parser.add_argument("--max-steps", type=int, default=400)
    parser.add_argument("--ref-steps", type=int, default=600)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    ds = DataSpec(dataset="mnist", n_train=4000, n_test=100).load()
    x, y = ds.x_train, ds.y_train
    pick = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:args.examples]
    batch = (x[pick], y[pick])
    model = MnistCNN(0)
    opt = OptimizerConfig(name="sgd", lr=0.1).build(model.parameters())
    order = batches(len(x), 64, torch.Generator().manual_seed(2))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); MnistCNN, "
          f"{args.examples} examples, top-{args.k}, reference tol {args.ref_tol:g}")
    previous, done, totals = None, 0, {}
    for target in args.steps:
        for _ in range(target - done):
            idx = next(order)
            step(model, opt, F.cross_entropy, x[idx], y[idx])
        done = target
        print(f"\n== checkpoint: step {target}")
        runs = _checkpoint(model, batch, args, previous)
        for (name, tol), (eig, t) in runs.items():
            if previous is not None and name != "cold, random start":
                total = totals.setdefault((name, tol), [0, 0.0])
                total[0] += eig.matvecs
                total[1] += t
        tol = min(args.tols)
        previous = runs.get(("warm", tol), runs["cold, gradient start", tol])[0].vectors
    for tol in args.tols:
        if ("warm", tol) in totals:
            (pc, tc), (pw, tw) = totals["cold, gradient start", tol], totals["warm", tol]
            print(f"\ntol {tol:g}, over the checkpoints after the first: cold (gradient start) "
                  f"{pc} HVPs / {tc:.1f} s, warm {pw} HVPs / {tw:.1f} s: warm starts save "
                  f"{1 - pw / pc:.0%} of the products and {1 - tw / tc:.0%} of the time")


if __name__ == "__main__":
    main()
