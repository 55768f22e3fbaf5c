"""genlab.dynamics against the machine's pace and against BackPACK (issue 10, Performance).

1. ``sgd_quadratic``: K chains of SGD on a d-dimensional quadratic with Gaussian noise,
   against the same update written as a bare batched-matmul loop in torch
   (``x = x @ A + randn(K, d) @ M``); target ≥ 0.8× its speed at K = 10⁴, d = 20.
   The issue's size is 10⁵ steps; ``--steps`` sets the timed length (default 10³,
   medians of round-robin repeats, same per-step cost).
2. ``gradient_noise`` (tr C and diag C) of the lecture CNN on 1,000 examples against
   BackPACK's ``Variance`` on the same batch: same answer, ≥ 1× its speed, no (B, P)
   matrix; peak memory of each in a fresh process.

Run: ``.venv/bin/python benchmarks/dynamics.py [--threads 1] [--steps 1000]
[--repeats 5] [--device cpu]``.
"""

from __future__ import annotations

import argparse

import torch
from _backpack import Methods, lecture_batch, peak_memory_mb, relative_error
from _timing import side_by_side

from genlab.dynamics import noise_model, sgd_quadratic
from genlab.models import MnistCNN


def _problem(d: int, device: str) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    a = torch.randn(d, d, generator=g, dtype=torch.float64)
    h = (a @ a.T / d + 0.1 * torch.eye(d, dtype=torch.float64)).to(device)
    return h, noise_model("hessian", h, trace=1.0)


def bench_simulator(chains: int, d: int, steps: int, repeats: int, device: str) -> None:
    h, c = _problem(d, device)
    lr, b = 0.5 / float(torch.linalg.eigvalsh(h).max()), 8
    step = (torch.eye(d, device=device) - lr * h.float())  # (d, d)
    lam, v = torch.linalg.eigh(c)
    kick = (-(lr / b**0.5) * (v * lam.clamp_min(0).sqrt()).T).float()  # (d, d)

    def bare() -> torch.Tensor:
        g = torch.Generator(device).manual_seed(1)
        x = torch.zeros(chains, d, device=device)
        for _ in range(steps):
            x = x @ step + torch.randn(chains, d, generator=g, device=device) @ kick
        return x

    def genlab() -> torch.Tensor:
        g = torch.Generator(device).manual_seed(1)
        return sgd_quadratic(h, c, lr, b, chains=chains, steps=steps, record_every=100,
                             generator=g).final

    times = side_by_side({"bare batched matmul loop": bare, "genlab sgd_quadratic": genlab},
                         repeats)
    ratio = times["bare batched matmul loop"] / times["genlab sgd_quadratic"]
    per_step = 1e6 * times["genlab sgd_quadratic"] / steps
    print(f"\nsgd_quadratic: {chains:,} chains × {steps:,} steps, d = {d}, {device}, float32, "
          f"moments recorded every 100 steps")
    for k, t in times.items():
        print(f"  {k:<28}{1e3 * t:>10.1f} ms")
    print(f"  genlab speed ÷ bare loop: {ratio:.2f} (target ≥ 0.8); {per_step:.0f} µs per "
          f"step, so 10⁵ steps take ≈ {per_step * 1e5 / 1e6:.0f} s")


def bench_noise(n: int, repeats: int) -> None:
    m = Methods(MnistCNN(0), lecture_batch(n))
    ours, ref = m.genlab_noise()[1], m.backpack_variance()[1]
    times = side_by_side({"BackPACK Variance": m.backpack_variance,
                          "genlab gradient_noise": m.genlab_noise,
                          "one ordinary gradient": m.gradient}, repeats)
    peak = {k: peak_memory_mb(f, n) for k, f in (("BackPACK Variance", "backpack_variance"),
                                                  ("genlab gradient_noise", "genlab_noise"),
                                                  ("one ordinary gradient", "gradient"))}
    base = times["genlab gradient_noise"]
    print(f"\ngradient noise (tr C, diag C), MnistCNN, {n} examples: relative difference of "
          f"diag C {relative_error(ours, ref):.1e}, tr C {float(ours.sum()):.6g} vs "
          f"{float(ref.double().sum()):.6g}")
    print(f"  {'method':<26}{'time [ms]':>10}{'genlab speed-up':>17}{'peak MB':>9}")
    for k, t in times.items():
        print(f"  {k:<26}{1e3 * t:>10.1f}{t / base:>17.2f}{peak[k]:>9.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: default)")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--skip-noise", action="store_true")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    bench_simulator(args.chains, 20, args.steps, args.repeats, args.device)
    if not args.skip_noise:
        bench_noise(1000, args.repeats)


if __name__ == "__main__":
    main()
