"""Deep Image Prior iterations per second: genlab's skip net and fit loop vs plain PyTorch.

Baseline: the same encoder–decoder written the way the DIP reference code does
(a recursive ``nn.Sequential`` with a concat module) trained by a bare Adam loop.
Measured in one process, interleaved, median of ``--repeats``:

* ``plain``: bare loop on the plain net;
* ``genlab``: :class:`genlab.models.skip.SkipNet` trained by
  ``genlab.experiments._images.dip.fit_dip`` (jitter + output average, no scoring);
* ``genlab+eval``: the same with the experiment's bookkeeping (PSNR of output and
  average every step, ES-WMV window);
* each of the above with ``channels_last`` memory format, and with 1 vs 2 threads.

Run: ``.venv/bin/python benchmarks/dip.py [--size 128 --channels 16 --levels 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch import nn

from genlab.experiments._images.dip import fit_dip
from genlab.measures.image_quality import psnr
from genlab.models.skip import SkipNet, noise_input


class _Concat(nn.Module):
    def __init__(self, *branches: nn.Module):
        super().__init__()
        self.branches = nn.ModuleList(branches)

    def forward(self, x):
        return torch.cat([b(x) for b in self.branches], dim=1)


def _cba(c_in, c_out, k, stride=1):
    return [nn.Conv2d(c_in, c_out, k, stride, k // 2, padding_mode="reflect" if k > 1 else "zeros"),
            nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2)]


def plain_skip(c_z: int, c: int, levels: int, s: int = 4, out: int = 3) -> nn.Module:
    """The DIP skip net as a recursive Sequential (reference-code style), built inside out."""
    inner = None
    for i in reversed(range(levels)):
        c_in = c_z if i == 0 else c
        deeper = [*_cba(c_in, c, 3, 2), *_cba(c, c, 3)]
        if inner is not None:
            deeper.append(inner)
        deeper.append(nn.Upsample(scale_factor=2, mode="bilinear"))
        inner = nn.Sequential(_Concat(nn.Sequential(*_cba(c_in, s, 1)), nn.Sequential(*deeper)),
                              nn.BatchNorm2d(s + c), *_cba(s + c, c, 3), *_cba(c, c, 1))
    return nn.Sequential(inner, nn.Conv2d(c, out, 1), nn.Sigmoid())


def _plain_loop(net, z, target, iters, lr=0.01, jitter=1 / 30):
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    g = torch.Generator().manual_seed(0)
    for _ in range(iters):
        out = net(z + jitter * torch.randn(z.shape, generator=g))
        loss = ((out - target) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def _time(fn, iters) -> float:
    t = time.perf_counter()
    fn(iters)
    return iters / (time.perf_counter() - t)  # iterations per second


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--channels", type=int, default=16)
    ap.add_argument("--levels", type=int, default=5)
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    c, L, S = a.channels, a.levels, a.size
    z = noise_input(32, S, S, generator=torch.Generator().manual_seed(0))
    target = torch.rand(1, 3, S, S, generator=torch.Generator().manual_seed(1))
    clean = target[0]
    nets = {"plain": plain_skip(32, c, L), "genlab": SkipNet(32, 3, channels=c, levels=L)}
    n_plain = sum(p.numel() for p in nets["plain"].parameters())
    n_gen = sum(p.numel() for p in nets["genlab"].parameters())
    assert n_plain == n_gen, (n_plain, n_gen)
    print(f"skip net {L} levels × {c} ch, {S}×{S}, {n_gen:,} parameters (both)")

    def runner(kind, cl):
        mf = torch.channels_last if cl else torch.contiguous_format
        net = (plain_skip(32, c, L) if kind == "plain" else SkipNet(32, 3, channels=c, levels=L))
        net = net.to(memory_format=mf)
        zz, tt = z.to(memory_format=mf), target.to(memory_format=mf)
        if kind == "plain":
            return lambda n: _plain_loop(net, zz, tt, n)
        extra = ({"score": lambda o: psnr(clean, o[0]), "es_window": 20}
                 if kind == "genlab+eval" else {})
        return lambda n: fit_dip(net, zz, tt, iterations=n, lr=0.01,
                                 generator=torch.Generator().manual_seed(0), **extra)

    results: dict[tuple, list[float]] = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        cases = [(k, cl) for k in ("plain", "genlab", "genlab+eval") for cl in (False, True)]
        fns = {case: runner(*case) for case in cases}
        for fn in fns.values():
            fn(3)  # warm-up
        for _ in range(a.repeats):  # interleaved so load changes hit every case alike
            for case, fn in fns.items():
                results.setdefault((threads, *case), []).append(_time(fn, a.iters))
    med = {k: statistics.median(v) for k, v in results.items()}
    base = med[(1, "plain", False)]
    print(f"{'threads':>7} {'loop':>12} {'layout':>14} {'it/s':>8} {'vs plain(1 thr)':>16}")
    for (thr, kind, cl), v in med.items():
        print(f"{thr:>7} {kind:>12} {'channels_last' if cl else 'contiguous':>14} {v:8.2f} "
              f"{v / base:16.2f}")
    for thr in (1, 2):
        plain = med[(thr, "plain", False)]
        print(f"threads={thr}: genlab / plain = {med[(thr, 'genlab', False)] / plain:.3f}; "
              f"genlab+eval / plain = {med[(thr, 'genlab+eval', False)] / plain:.3f}; "
              f"channels_last / contiguous (genlab) = "
              f"{med[(thr, 'genlab', True)] / med[(thr, 'genlab', False)]:.3f}")
    ratio = med[(2, "genlab", False)] / med[(1, "genlab", False)]
    print(f"2 threads / 1 thread (genlab) = {ratio:.3f}")


if __name__ == "__main__":
    main()
