"""Seed ensembles against the machine's limit: GFLOP/s of sequential and stacked training.

Case (a), the ``difficulty`` MLP (784 → 256 → 256 → 10, 269,322 parameters), Adam,
batch 32, one epoch on ``--n`` examples, R = ``--members``. The useful work is the
matrix products of forward and backward (counted by ``torch.utils.flop_counter``).
The yardstick is the same products as bare ``torch.mm`` calls — the shapes and memory
layouts captured from one training step — timed in the same process. Rows:

  bare mm          the step's matrix products alone: the machine's rate for these shapes
  fwd+bwd          one member's forward and backward, no optimizer step
  Adam step        one member's optimizer step alone (elementwise, memory-bound)
  sequential       R members one after the other (``train_seeds(method="sequential")``)
  stacked          R members at once (``method="vmap"``), and a smaller stack

Each row gives seconds per member-step, GFLOP/s, and the share of the bare-mm rate
(target ≥ 70% for the MLP). Then what :func:`genlab.train.choose_method` picks and
whether that is the faster of the two measured here.

Case (b), the lecture CNN (808,666 parameters), 16 members: sequential against stacked.

GPU check (only with ``--device cuda``): R = 100 stacked members in ≤ 10× the time of
one run — a GPU target: on a CPU, R members cost R× the arithmetic.

Timing: functions are timed round-robin (one call of each per round, after a warm-up
call) and the median is kept. On a CPU the clock is this process's CPU time (one
thread: load from other processes does not count; the machine these numbers come from
is shared); on CUDA, wall time with synchronization.

Run: ``python benchmarks/ensemble.py [--repeats 3] [--threads 1] [--device cpu]``.
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import FlopCounterMode

from _timing import side_by_side

from genlab.models import MLP, MnistCNN
from genlab.train import OptimizerConfig, choose_method, train_seeds

ADAM = OptimizerConfig(name="adam", lr=1e-3)
BATCH = 32


def _clock(device: torch.device):
    """CPU time of this process on a CPU; wall time (synchronized by side_by_side) on CUDA."""
    return time.perf_counter if device.type == "cuda" else time.process_time


def _data(n: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """n real digits from the embedded set (repeated if n is larger) on ``device``."""
    from genlab.data import load_dataset

    ds = load_dataset("mnist")
    idx = torch.arange(n) % ds.n_train
    return ds.x_train[idx].to(device), ds.y_train[idx].to(device)


class _Products(TorchDispatchMode):
    """Records the matrix products (mm, addmm, bmm) of the code run under it."""

    def __init__(self):
        super().__init__()
        self.calls: list[tuple] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        aten = torch.ops.aten
        if func in (aten.mm.default, aten.addmm.default, aten.bmm.default):
            a, b = args[-2:]
            self.calls.append(((tuple(a.shape), a.stride()), (tuple(b.shape), b.stride())))
        return func(*args, **(kwargs or {}))


def _one_step(model, x, y):
    loss = F.cross_entropy(model(x[:BATCH]), y[:BATCH])
    loss.backward()


def step_flops(make, x, y) -> int:
    """Matrix-product (and convolution) flops of one member's forward and backward step."""
    with FlopCounterMode(display=False) as counter:
        _one_step(make(0).to(x.device), x, y)
    return counter.get_total_flops()


def bare_products(make, x, y, steps: int):
    """``steps`` replays of one training step's matrix products as bare ``torch.mm``."""
    rec = _Products()
    with rec:
        _one_step(make(0).to(x.device), x, y)
    g = torch.Generator(device=x.device).manual_seed(0)

    def tensor(shape, stride):
        t = torch.empty_strided(shape, stride, device=x.device)
        return t.copy_(torch.randn(shape, generator=g, device=x.device))
    pairs = [(tensor(*a), tensor(*b)) for a, b in rec.calls]

    def run():
        for _ in range(steps):
            for a, b in pairs:
                torch.mm(a, b) if a.dim() == 2 else torch.bmm(a, b)
    return run


def _parts(make, x, y, steps: int) -> dict:
    model = make(0).to(x.device)
    opt = ADAM.build(model.parameters())
    _one_step(model, x, y)

    def fwd_bwd():
        for i in range(steps):
            xb, yb = x[i * BATCH:(i + 1) * BATCH], y[i * BATCH:(i + 1) * BATCH]
            model.zero_grad(set_to_none=True)
            F.cross_entropy(model(xb), yb).backward()

    def adam():
        for _ in range(steps):
            opt.step()
    return {"fwd+bwd (1 member)": (fwd_bwd, 1), "Adam step (1 member)": (adam, 1)}


def _train(make, members: int, method: str, x, y):
    def run():
        gens = [torch.Generator().manual_seed(100 + s) for s in range(members)]
        train_seeds(make, list(range(members)), x, y, generators=gens, optimizer=ADAM,
                    method=method, epochs=1, batch_size=BATCH)
    return run


def _report(name: str, t: dict, work: dict, steps: int, flops: int, bare: str | None) -> None:
    print(f"\n{name}: {steps} steps of batch {BATCH}, {flops / 1e6:.2f} MFLOP per member-step")
    print(f"  {'':<24} {'ms/member-step':>15} {'GFLOP/s':>9} {'of bare mm':>11}")
    for k, sec in t.items():
        per = sec / (work[k] * steps)
        share = f"{t[bare] / steps / per:10.0%}" if bare else ""
        print(f"  {k:<24} {1e3 * per:15.3f} {flops / per / 1e9:9.1f} {share:>11}")


def _bound(parts: dict, bare: float, device: torch.device) -> None:
    """What the parts of one member's step allow, in units of the bare-mm time.

    On a CPU the Adam update costs about the same per parameter stacked or not (it is
    arithmetic- and memory-bound, not launch-bound), so one member's Adam time bounds
    every method; on a GPU stacking also batches the launches, and the bound does not apply.
    """
    fb, adam = parts["fwd+bwd (1 member)"], parts["Adam step (1 member)"]
    print(f"  parts of one member-step, × the bare-mm time: fwd+bwd {fb / bare:.2f}×, "
          f"Adam step {adam / bare:.2f}×")
    if device.type == "cuda":
        return
    print(f"  ceilings: sequential ≤ bare/(fwd+bwd + Adam) = {bare / (fb + adam):.0%}; any "
          f"method that still takes Adam steps ≤ bare/(bare + Adam) = {bare / (bare + adam):.0%}")


def bench_mlp(x, y, members: int, small: int, repeats: int) -> None:
    make = lambda s: MLP(784, [256, 256], 10, seed=s)  # noqa: E731
    steps = -(-len(x) // BATCH)
    parts = _parts(make, x, y, steps)
    fns = {"bare mm": (bare_products(make, x, y, steps), 1), **parts,
           f"sequential R={members}": (_train(make, members, "sequential", x, y), members),
           f"stacked R={members}": (_train(make, members, "vmap", x, y), members),
           f"stacked R={small}": (_train(make, small, "vmap", x, y), small)}
    t = side_by_side({k: f for k, (f, _) in fns.items()}, repeats, _clock(x.device))
    rows = {k: v for k, v in t.items() if k not in parts}
    _report(f"(a) difficulty MLP 784-256-256-10, R = {members}", rows,
            {k: w for k, (_, w) in fns.items()}, steps, step_flops(make, x, y), "bare mm")
    _bound({k: t[k] for k in parts}, t["bare mm"], x.device)
    _choice(make, members, x, y, t[f"sequential R={members}"], t[f"stacked R={members}"])


def _choice(make, members, x, y, seq: float, stacked: float) -> None:
    pick = choose_method(make, members, x, y, optimizer=ADAM, batch_size=BATCH)
    faster = "vmap" if stacked < seq else "sequential"
    print(f"  sequential / stacked = {seq / stacked:.2f}×; choose_method picks {pick!r}, "
          f"faster here: {faster!r} ({'agrees' if pick == faster else 'DISAGREES'})")


def bench_cnn(x, y, members: int, repeats: int) -> None:
    make = lambda s: MnistCNN(s)  # noqa: E731
    steps = -(-len(x) // BATCH)
    fns = {f"sequential R={members}": _train(make, members, "sequential", x, y),
           f"stacked R={members}": _train(make, members, "vmap", x, y)}
    t = side_by_side(fns, repeats, _clock(x.device))
    _report(f"(b) lecture CNN, R = {members}", t, dict.fromkeys(t, members), steps,
            step_flops(make, x, y), None)
    _choice(make, members, x, y, *t.values())


def gpu_check(x, y, members: int, repeats: int) -> None:
    """The GPU target: R stacked members within 10× one run."""
    make = lambda s: MLP(784, [256, 256], 10, seed=s)  # noqa: E731
    t = side_by_side({"one run": _train(make, 1, "sequential", x, y),
                      "stacked": _train(make, members, "vmap", x, y)}, repeats,
                     _clock(x.device))
    ratio = t["stacked"] / t["one run"]
    print(f"\nGPU check: {members} stacked members take {ratio:.2f}× one run "
          f"(target ≤ 10): {'holds' if ratio <= 10 else 'fails'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--n", type=int, default=4000, help="examples in the epoch (the "
                    "difficulty default: 4,000)")
    ap.add_argument("--members", type=int, default=100)
    ap.add_argument("--small", type=int, default=16, help="members of the smaller stack")
    ap.add_argument("--skip-cnn", action="store_true")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    x, y = _data(args.n, device)
    print(f"device {device}, torch threads {torch.get_num_threads()}, torch {torch.__version__}; "
          f"clock: {'wall' if device.type == 'cuda' else 'process CPU time'}")
    bench_mlp(x, y, args.members, args.small, args.repeats)
    if not args.skip_cnn:
        bench_cnn(x, y, 16, args.repeats)
    if device.type == "cuda":
        gpu_check(x, y, 100, args.repeats)
    else:
        print("\nGPU check (100 stacked members ≤ 10× one run): skipped, no CUDA device")


if __name__ == "__main__":
    main()
