"""Per-sample gradients and their moments: genlab against a Python loop and BackPACK.

1. ``vmap(grad)`` per-example gradients against a plain PyTorch loop (one forward +
   ``backward`` per example) and genlab's loop reference; target: vmap ≥ 10× the loop.
2. ``gradient_moments`` (mean, diagonal second moment and covariance, trace) on the
   lecture CNN at batch 256 and 1,000 against BackPACK 1.7.1's ``Variance`` and
   ``SumGradSquared`` (issue 8: ≥ 1× BackPACK's speed, same results, peak memory ≤ 2×
   that of one ordinary gradient of the batch), with an ordinary gradient as the yardstick.

Timings are medians of round-robin repeats in this process (ratios, not absolute
times); peak memory is measured in a fresh process per method (``_backpack.py``).

Run: ``.venv/bin/python benchmarks/per_sample_grad.py [--batch 256] [--repeats 5]
[--threads 1] [--moments-only]``.
"""

from __future__ import annotations

import argparse

import torch
from _backpack import Methods, lecture_batch, peak_memory_mb, relative_error
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


def bench_moments(batch: int, repeats: int) -> None:
    """The BackPACK table: time and peak memory relative to genlab, and agreement."""
    m = Methods(MnistCNN(0), lecture_batch(batch))
    second, var = m.genlab_moments()
    bp_second, bp_var = m.backpack_sgs()[0], m.backpack_variance()[1]
    times = side_by_side({"BackPACK Variance": m.backpack_variance,
                          "BackPACK SumGradSquared": m.backpack_sgs,
                          "genlab gradient_moments": m.genlab_moments,
                          "one ordinary gradient": m.gradient}, repeats)
    memory = {"BackPACK Variance": "backpack_variance", "BackPACK SumGradSquared": "backpack_sgs",
              "genlab gradient_moments": "genlab_moments", "one ordinary gradient": "gradient"}
    peak = {k: peak_memory_mb(v, batch) for k, v in memory.items()}
    ours = times["genlab gradient_moments"]
    print(f"\nMnistCNN (808,666 parameters), batch {batch}: genlab vs BackPACK, relative "
          f"difference: second moment {relative_error(second, bp_second):.1e}, "
          f"variance {relative_error(var, bp_var):.1e}")
    print(f"{'method':<26}{'time [ms]':>10}{'genlab speed-up':>17}{'peak MB':>9}"
          f"{'÷ gradient':>11}")
    for k, t in times.items():
        print(f"{k:<26}{1e3 * t:>10.1f}{t / ours:>17.2f}{peak[k]:>9.0f}"
              f"{peak[k] / peak['one ordinary gradient']:>11.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--moments-only", action="store_true", help="only the BackPACK table")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    g = torch.Generator().manual_seed(0)
    x = torch.rand(args.batch, 1, 28, 28, generator=g).to(args.device)
    y = torch.randint(0, 10, (args.batch,), generator=g).to(args.device)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {args.device}")
    if args.device == "cpu":
        for batch in (args.batch, 1000):
            bench_moments(batch, args.repeats)
    if args.moments_only:
        return
    for name, model, chunk in (("MLP 784-32-10", MLP(784, [32], 10), None),
                               ("MLP 784-128-128-10", MLP(784, [128, 128], 10), None),
                               ("MnistCNN (lecture)", MnistCNN(0), 64)):
        bench(name, model.to(args.device), (x, y), args.repeats, chunk)


if __name__ == "__main__":
    main()
