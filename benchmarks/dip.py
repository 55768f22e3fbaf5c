"""Deep Image Prior steps per second: genlab's skip net and fit loop vs plain PyTorch.

Baseline: the same encoder–decoder written the way the DIP reference code does
(a recursive ``nn.Sequential`` with a concat module) trained by a bare Adam loop.
Timed in one process, round-robin, median of ``--repeats`` (``_timing.side_by_side``):

* ``plain``: bare loop on the plain net;
* ``genlab``: :class:`genlab.models.SkipNet` fitted by :func:`genlab.images.fit_dip`
  (jitter + output average, no scoring);
* ``genlab+eval``: the same with the experiment's bookkeeping
  (:class:`genlab.images.DipRecorder`: PSNR of output and average every step, ES-WMV);
* each of the above with ``channels_last`` memory format, with 1 and 2 threads.

Run: ``PYTHONPATH=src python benchmarks/dip.py [--size 128 --channels 16 --levels 5]``.
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

from _timing import side_by_side
from genlab.images import DipRecorder, EsWmv, fit_dip, psnr
from genlab.models import SkipNet, noise_input


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


def _plain_loop(net, z, target, steps, lr=0.01, jitter=1 / 30):
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    g = torch.Generator().manual_seed(0)
    for _ in range(steps):
        out = net(z + jitter * torch.randn(z.shape, generator=g))
        loss = ((out - target) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def _runner(kind: str, channels_last: bool, a, z, target, steps: int):
    mf = torch.channels_last if channels_last else torch.contiguous_format
    c, levels = a.channels, a.levels
    net = plain_skip(32, c, levels) if kind == "plain" else SkipNet(32, 3, channels=c,
                                                                     levels=levels)
    net = net.to(memory_format=mf)
    zz, tt = z.to(memory_format=mf), target.to(memory_format=mf)
    if kind == "plain":
        return lambda: _plain_loop(net, zz, tt, steps)

    def fit():
        rec = (DipRecorder(lambda o: psnr(target[0], o[0]), early_stop=EsWmv(20, 1000))
               if kind == "genlab+eval" else None)
        fit_dip(net, zz, tt, steps=steps, generator=torch.Generator().manual_seed(0),
                callback=rec)
    return fit


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--channels", type=int, default=16)
    ap.add_argument("--levels", type=int, default=5)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    S = a.size
    z = noise_input(32, S, S, generator=torch.Generator().manual_seed(0))
    target = torch.rand(1, 3, S, S, generator=torch.Generator().manual_seed(1))
    n_plain = sum(p.numel() for p in plain_skip(32, a.channels, a.levels).parameters())
    n_gen = sum(p.numel() for p in SkipNet(32, 3, channels=a.channels, levels=a.levels).parameters())
    assert n_plain == n_gen, (n_plain, n_gen)
    print(f"skip net {a.levels} levels × {a.channels} ch, {S}×{S}, {n_gen:,} parameters (both)")
    med = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        cases = [(k, cl) for k in ("plain", "genlab", "genlab+eval") for cl in (False, True)]
        fns = {case: _runner(*case, a, z, target, a.steps) for case in cases}
        for case, seconds in side_by_side(fns, a.repeats).items():
            med[(threads, *case)] = a.steps / seconds  # steps per second
    base = med[(1, "plain", False)]
    print(f"{'threads':>7} {'loop':>12} {'layout':>14} {'steps/s':>8} {'vs plain(1 thr)':>16}")
    for (thr, kind, cl), v in med.items():
        print(f"{thr:>7} {kind:>12} {'channels_last' if cl else 'contiguous':>14} {v:8.2f} "
              f"{v / base:16.2f}")
    for thr in (1, 2):
        plain = med[(thr, "plain", False)]
        print(f"threads={thr}: genlab / plain = {med[(thr, 'genlab', False)] / plain:.3f}; "
              f"genlab+eval / plain = {med[(thr, 'genlab+eval', False)] / plain:.3f}")


if __name__ == "__main__":
    main()
