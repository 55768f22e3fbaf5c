"""Ghost Batch Normalization forward + backward against plain batch norm on the same batch.

Rows, timed round-robin in one process (``_timing.side_by_side`` once per round, for
``--rounds`` rounds; the median and the minimum over rounds are reported: on a busy
shared machine the minimum is the least-contended time), each one training-mode
forward and one backward to the input and the affine parameters, running statistics
updated where the layer keeps them:

- ``nn.BatchNorm`` over the whole batch (the baseline, ratio 1);
- genlab's ``GhostBatchNorm`` (one native batch-norm call on a free view of the batch);
- the chunked loop people usually write: ``nn.BatchNorm`` on each ghost batch, then ``cat``;
- contiguous ghost batches in one call, through a transposed copy of the batch.

Issue target: GhostBatchNorm ≤ 1.2× batch norm (a chunked loop measured 3–4× in a probe).

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/ghost_bn.py [--rounds 200] [--device cpu]``.
"""

from __future__ import annotations

import argparse
import statistics

import torch
import torch.nn.functional as F
from _timing import side_by_side
from torch import nn

from genlab.models import GhostBatchNorm1d, GhostBatchNorm2d

CASES = [  # name, input shape, ghost batch size
    ("1d  B=1024 C=512", (1024, 512), 128),
    ("1d  B=1024 C=512", (1024, 512), 32),
    ("2d  B=128 C=16 32x32", (128, 16, 32, 32), 32),
]


def _transposed_copy(bn: nn.Module, g: int):
    """Contiguous ghost batches [B/g, g, ...] normalized in one call via a transposed copy."""
    def forward(x):
        k, c, rest = x.shape[0] // g, x.shape[1], x.shape[2:]
        xt = x.view(k, g, c, *rest).transpose(0, 1).reshape(g, k * c, *rest)  # copy
        y = F.batch_norm(xt, None, None, bn.weight.repeat(k), bn.bias.repeat(k), True, 0.0, bn.eps)
        return y.view(g, k, c, *rest).transpose(0, 1).reshape(x.shape)  # copy back
    return forward


def _chunked(bn: nn.Module, g: int):
    return lambda x: torch.cat([bn(chunk) for chunk in x.split(g)])


def _step(layer, x, dy, params):
    """One training forward and the backward to the input and the affine parameters."""
    return lambda: torch.autograd.grad(layer(x), [x, *params], dy)


def bench(name: str, shape: tuple[int, ...], g: int, rounds: int, device: str) -> None:
    plain_cls, ghost_cls = (nn.BatchNorm1d, GhostBatchNorm1d) if len(shape) < 4 else \
        (nn.BatchNorm2d, GhostBatchNorm2d)
    plain = plain_cls(shape[1], device=device)
    ghost = ghost_cls(shape[1], ghost_batch_size=g, device=device)
    x = torch.randn(shape, device=device, requires_grad=True)
    dy = torch.randn(shape, device=device)
    rows = {
        "nn.BatchNorm (whole batch)": plain,
        "genlab GhostBatchNorm": ghost,
        "chunked loop + cat": _chunked(plain, g),
        "contiguous, transposed copy": _transposed_copy(plain, g),
    }
    params = list(plain.parameters())
    fns = {label: _step(layer, x, dy, list(ghost.parameters()) if layer is ghost else params)
           for label, layer in rows.items()}
    times: dict[str, list[float]] = {label: [] for label in rows}
    for _ in range(rounds):  # each round: every row once after a warm-up, round-robin
        for label, t in side_by_side(fns, 1).items():
            times[label].append(t)
    med = {label: statistics.median(ts) for label, ts in times.items()}
    best = {label: min(ts) for label, ts in times.items()}
    base = "nn.BatchNorm (whole batch)"
    print(f"\n{name}, ghost batch {g} ({shape[0] // g} ghost batches)")
    print(f"{'method':<30}{'median [ms]':>12}{'× BN':>7}{'min [ms]':>10}{'× BN':>7}")
    for label in rows:
        print(f"{label:<30}{1e3 * med[label]:>12.3f}{med[label] / med[base]:>7.2f}"
              f"{1e3 * best[label]:>10.3f}{best[label] / best[base]:>7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=200)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"device {args.device}, {torch.get_num_threads()} thread(s), torch {torch.__version__}, "
          f"{args.rounds} round-robin rounds; min = least-contended time on a shared machine")
    for name, shape, g in CASES:
        bench(name, shape, g, args.rounds, args.device)


if __name__ == "__main__":
    main()
