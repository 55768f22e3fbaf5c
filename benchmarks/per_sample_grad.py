"""Per-sample gradients: ``vmap(grad)`` (genlab) against a Python loop.

Baselines, all in this process and timed round-robin: a plain PyTorch loop
(one forward + ``backward`` per example, the textbook way) and genlab's own loop
reference (``per_sample_grads_loop``, one ``torch.func.grad`` per example).
Issue target: vmap ≥ 10× faster than the loop.

Run: ``.venv/bin/python benchmarks/per_sample_grad.py [--batch 256] [--repeats 5]``.
"""

from __future__ import annotations

import argparse

import torch
from _timing import side_by_side

from genlab.measures import cross_entropy_loss, per_sample_grads, per_sample_grads_loop
from genlab.models import MLP, MnistCNN



def plain_loop(model, batch):
    """One backward per example, gradients copied out of ``.grad``."""
    x, y = batch
    out = []
    for i in range(len(x)):
        model.zero_grad(set_to_none=True)
        cross_entropy_loss(model(x[i:i + 1]), (x[i:i + 1], y[i:i + 1])).backward()
        out.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
    model.zero_grad(set_to_none=True)
    return torch.stack(out)  # (B, P)


def bench(name: str, model, batch, repeats: int, chunk: int | None) -> None:
    fns = {
        "python loop (backward)": lambda: plain_loop(model, batch),
        "genlab per_sample_grads_loop": lambda: per_sample_grads_loop(model, cross_entropy_loss,
                                                                      batch),
        "genlab per_sample_grads (vmap)": lambda: per_sample_grads(
            model, cross_entropy_loss, batch, chunk_size=chunk),
    }
    fast = per_sample_grads(model, cross_entropy_loss, batch, chunk_size=chunk)
    G = torch.cat([t.reshape(len(batch[0]), -1) for t in fast.values()], 1)
    ref = plain_loop(model, batch)
    err = float((G - ref).norm() / ref.norm())  # float32: a rare ReLU kink may flip
    times = side_by_side(fns, repeats)
    n = sum(p.numel() for p in model.parameters())
    print(f"\n{name}: {n:,} parameters, batch {len(batch[0])}, chunk {chunk}, "
          f"‖vmap − loop‖/‖loop‖ = {err:.1e}")
    base = times["python loop (backward)"]
    print(f"{'method':<34}{'time [ms]':>12}{'speed-up':>10}")
    for label, t in times.items():
        print(f"{label:<34}{1e3 * t:>12.1f}{base / t:>10.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(args.batch, 1, 28, 28, generator=g).to(args.device)
    y = torch.randint(0, 10, (args.batch,), generator=g).to(args.device)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")
    for name, model, chunk in (("MLP 784-32-10", MLP(784, [32], 10), None),
                               ("MLP 784-128-128-10", MLP(784, [128, 128], 10), None),
                               ("MnistCNN (lecture)", MnistCNN(0), 64)):
        bench(name, model.to(args.device), (x, y), args.repeats, chunk)


if __name__ == "__main__":
    main()
