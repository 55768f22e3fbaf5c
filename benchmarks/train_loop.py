"""genlab's training loop vs a bare PyTorch loop: the lecture CNN on embedded MNIST.

Batch 32, fused Adam, one epoch per repeat; the two loops alternate in one process
with the same data, init and batch order, and we report the median samples/s of
each and their ratio (target: genlab / bare ≥ 0.95).

    .venv/bin/python benchmarks/train_loop.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from genlab.data import load_dataset
from genlab.models import MnistCNN
from genlab.train import OptimizerConfig, epoch


def bare(model, x, y, batch_size, gen):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True)
    model.train()
    for idx in torch.randperm(len(x), generator=gen).split(batch_size):
        loss = F.cross_entropy(model(x[idx]), y[idx])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def genlab_loop(model, x, y, batch_size, gen):
    epoch(model, OptimizerConfig(lr=1e-3).build(model.parameters()), x, y,
          batch_size=batch_size, generator=gen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    data = load_dataset("mnist")
    x, y = data.x_train, data.y_train
    loops = {"bare": bare, "genlab": genlab_loop}
    speed: dict[str, list[float]] = {k: [] for k in loops}
    for r in range(args.repeats + 1):  # repeat 0 is a warm-up
        for name, loop in loops.items():
            model = MnistCNN(0)
            t = time.perf_counter()
            loop(model, x, y, args.batch_size, torch.Generator().manual_seed(r))
            if r:
                speed[name].append(len(x) / (time.perf_counter() - t))
    med = {k: statistics.median(v) for k, v in speed.items()}
    print(f"lecture CNN, {len(x)} samples/epoch, batch {args.batch_size}, fused Adam, "
          f"{torch.get_num_threads()} threads, {args.repeats} repeats")
    for k, v in med.items():
        print(f"  {k:7s} {v:9.0f} samples/s  (min {min(speed[k]):.0f}, max {max(speed[k]):.0f})")
    print(f"  ratio genlab/bare = {med['genlab'] / med['bare']:.3f}")


if __name__ == "__main__":
    main()
