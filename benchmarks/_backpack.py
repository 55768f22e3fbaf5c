"""Gradient moments of the lecture CNN: genlab against BackPACK (shared by the benchmarks).

BackPACK (Dangel, Kunstner & Hennig 2020, arXiv:1912.10985; ``backpack-for-pytorch``)
treats a mean-reduced loss's per-example gradients as g_i/B: its ``SumGradSquared`` is
Σ_i (g_i/B)² and its ``Variance`` is diag C / B². Both are rescaled here to genlab's
convention (g_i the gradient of example i's own loss).

Peak memory: ``python benchmarks/_backpack.py METHOD BATCH`` runs one method once in a
fresh process and prints its peak resident set at a second call above the resident set after set-up
(imports, model, data): free heap memory is returned first (``malloc_trim``), the
kernel's peak counter is reset (``/proc/self/clear_refs``, Linux ≥ 4.0) and large
blocks are mmapped (``MALLOC_MMAP_THRESHOLD_``) so that freed tensors leave the count.
:func:`peak_memory_mb` calls it.
"""

from __future__ import annotations

import copy
import ctypes
import os
import subprocess
import sys
from pathlib import Path

import torch

from genlab.dynamics import gradient_noise
from genlab.measures import cross_entropy_loss, gradient_moments
from genlab.models import MnistCNN


def lecture_batch(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Random 28×28 images and labels (n,) (the timing does not depend on the pixels)."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


class Methods:
    """The compared computations on one model and batch, each a zero-argument call
    returning (diag second moment, diag covariance) in genlab's convention (P,)."""

    def __init__(self, model: torch.nn.Module, batch: tuple[torch.Tensor, torch.Tensor]):
        from backpack import extend  # imported here: only the benchmarks need BackPACK

        self.model, self.batch, self.n = model, batch, len(batch[0])
        self.bp_model = extend(copy.deepcopy(model))
        self.bp_loss = extend(torch.nn.CrossEntropyLoss())

    def _backpack(self, extension) -> list[torch.Tensor]:
        from backpack import backpack

        self.bp_model.zero_grad()
        loss = self.bp_loss(self.bp_model(self.batch[0]), self.batch[1])
        with backpack(extension):
            loss.backward()
        return list(self.bp_model.parameters())

    def backpack_variance(self):
        from backpack.extensions import Variance

        ps = self._backpack(Variance())
        return None, torch.cat([p.variance.flatten() for p in ps]) * self.n**2

    def backpack_sgs(self):
        from backpack.extensions import SumGradSquared

        ps = self._backpack(SumGradSquared())
        return torch.cat([p.sum_grad_squared.flatten() for p in ps]) * self.n, None

    def genlab_moments(self):
        m = gradient_moments(self.model, cross_entropy_loss, self.batch)
        return m.second_moment, m.variance

    def genlab_noise(self):
        noise = gradient_noise(self.model, cross_entropy_loss, self.batch)
        return None, noise.diagonal

    def gradient(self):
        """One ordinary gradient of the batch loss: the reference cost."""
        self.model.zero_grad(set_to_none=True)
        cross_entropy_loss(self.model(self.batch[0]), self.batch).backward()
        self.model.zero_grad(set_to_none=True)
        return None, None


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    a, b = a.double(), b.double()
    return float((a - b).norm() / b.norm())


def peak_memory_mb(method: str, batch: int) -> float:
    """Peak-RSS growth (MB) of one call of ``Methods.<method>`` in a fresh process."""
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "131072"}
    out = subprocess.run([sys.executable, str(Path(__file__)), method, str(batch)],
                         capture_output=True, text=True, check=True, env=env)
    return float(out.stdout.strip().splitlines()[-1])


def _status_kib(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {key} in /proc/self/status")


def _measure(method: str, batch: int) -> None:
    torch.set_num_threads(1)
    methods = Methods(MnistCNN(0), lecture_batch(batch))
    getattr(methods, method)()  # warm-up: lazy initialization is not the method's memory
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    Path("/proc/self/clear_refs").write_text("5")  # reset the peak to the current RSS
    before = _status_kib("VmRSS")
    getattr(methods, method)()
    print((_status_kib("VmHWM") - before) / 1024)


if __name__ == "__main__":
    _measure(sys.argv[1], int(sys.argv[2]))
