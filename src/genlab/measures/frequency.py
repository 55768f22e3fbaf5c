"""The Fourier spectrum of a network's output along a 1-D path, and how it is learned.

Rahaman et al. (2019), "On the Spectral Bias of Neural Networks", ICML,
arXiv:1806.08734, fit a ReLU network to f(z) = Σ_i A_i sin(2π k_i z + φ_i) on a grid
of [0, 1) and plot, against training iteration, the normalized amplitude
|f̃_θ(k_i)| / A_i of each target frequency (their Fig. 1): low frequencies are
learned first. This module computes those quantities from any model.

Amplitude convention (:func:`amplitude_spectrum`): for N real samples x_j, j < N,
with discrete Fourier transform X_k = Σ_j x_j e^{−2πi jk/N} (``torch.fft.rfft``),
the amplitude at integer frequency k is a_k = |X_k| · 2/N for 0 < k < N/2, and
|X_k| / N for k = 0 (the mean) and k = N/2 (N even). Then x_j = c + A sin(2π k j/N + φ)
with integer 0 < k < N/2 gives exactly a_0 = |c| and a_k = A, whatever φ.

Leakage: a sinusoid whose frequency is not an integer number of cycles over the
path (or any function whose periodic extension jumps, e.g. the output along a line
from a to b with f(a) ≠ f(b)) spreads over all bins: at half-integer frequency the two
nearest bins carry ≈ 2/π ≈ 0.64 of the amplitude and the rest decays like 1/|k − f|.
Learning curves remain comparable across training, as the leakage is the same
function of the output at every logged step, but amplitudes are then not A_i.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.func import functional_call

from ._func import _mode

__all__ = [
    "SineSum",
    "SpectralCurves",
    "amplitude_spectrum",
    "amplitudes_at",
    "highest_reached",
    "iterations_to_reach",
    "learning_curves",
    "line_inputs",
    "network_spectrum",
    "sine_target",
    "unit_grid",
]


def unit_grid(n: int = 200, *, dtype: torch.dtype = torch.float32) -> Tensor:
    """The grid z_j = j/n, j = 0..n−1, of [0, 1) as a column (n, 1) of model inputs."""
    if n < 2:
        raise ValueError(f"grid size must be >= 2, got {n}")
    return (torch.arange(n, dtype=torch.float64) / n).to(dtype).unsqueeze(1)


def line_inputs(a: Tensor, b: Tensor, n: int) -> Tensor:
    """Points x(t) = a + t (b − a) at t = j/n, j = 0..n−1, on the line from a towards b.

    ``b`` itself is excluded (t < 1), so a closed path (b = a + period) is sampled
    periodically. Along an open segment f(b) ≠ f(a) in general: see the module
    note on leakage.

    Args:
        a, b: two inputs of the same shape (e.g. two images (1, 28, 28)).
        n: number of points.

    Returns:
        (n, *a.shape) inputs, ready for the model.
    """
    if a.shape != b.shape:
        raise ValueError(f"line ends differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
    if n < 2:
        raise ValueError(f"number of points must be >= 2, got {n}")
    t = torch.arange(n, dtype=a.dtype, device=a.device) / n  # (n,)
    t = t.reshape(n, *([1] * a.ndim))
    return a.unsqueeze(0) + t * (b - a).unsqueeze(0)  # (n, *a.shape)


def amplitude_spectrum(values: Tensor) -> Tensor:
    """Amplitude a_k of each integer frequency k = 0..N//2 of samples along the last axis.

    ``|rfft(values)|`` scaled by 2/N, and by 1/N at k = 0 and at the Nyquist
    frequency k = N/2 (N even): so a sampled sinusoid A sin(2π k j/N + φ) with
    integer 0 < k < N/2 has a_k = A exactly (see the module docstring). At the
    Nyquist bin only |A sin φ| is visible.

    Args:
        values: (..., N) real samples on a uniform periodic grid.

    Returns:
        (..., N//2 + 1) amplitudes, in the dtype of ``values`` (float).
    """
    n = values.shape[-1]
    scale = torch.full((n // 2 + 1,), 2.0 / n, dtype=torch.float64, device=values.device)
    scale[0] = 1.0 / n
    if n % 2 == 0:
        scale[-1] = 1.0 / n
    spectrum = torch.fft.rfft(values, dim=-1).abs()  # (..., N//2 + 1)
    return spectrum * scale.to(spectrum.dtype)


def network_spectrum(model: nn.Module, inputs: Tensor, *, train_mode: bool = False) -> Tensor:
    """The amplitude spectrum of a model's output along ordered inputs (a grid or a line).

    Args:
        model: any network; called once on ``inputs`` without gradients.
        inputs: (N, ...) points in order along the path (:func:`unit_grid`, :func:`line_inputs`).
        train_mode: run the model in train mode (dropout, batch statistics); each
            submodule's mode is restored afterwards.

    Returns:
        (N//2 + 1,) for a scalar output ((N,) or (N, 1)); (C, N//2 + 1) per output
        channel for C > 1 outputs (e.g. logits along a line between two digits).
    """
    copies = {n: b.clone() for n, b in model.named_buffers()} if train_mode else {}
    with torch.no_grad(), _mode(model, train_mode):  # batch-norm statistics go to copies
        out = functional_call(model, copies, (inputs,))  # (N, ...)
    out = out.reshape(out.shape[0], -1)  # (N, C)
    spectrum = amplitude_spectrum(out.T)  # (C, N//2 + 1)
    return spectrum[0] if spectrum.shape[0] == 1 else spectrum


def _frequency_index(frequencies: Sequence[int] | Tensor, size: int) -> Tensor:
    k = torch.as_tensor(frequencies, dtype=torch.float64).reshape(-1)  # (K,)
    if not torch.equal(k, k.round()) or (k < 0).any() or (k >= size).any():
        raise ValueError(f"frequencies must be integers in [0, {size - 1}], got {k.tolist()}")
    return k.long()


def amplitudes_at(spectrum: Tensor, frequencies: Sequence[int] | Tensor,
                  reference: Sequence[float] | Tensor | None = None) -> Tensor:
    """Amplitudes at chosen integer frequencies, optionally divided by reference amplitudes.

    With ``reference`` = the target's A_i this is Rahaman's normalized amplitude
    |f̃_θ(k_i)| / A_i (1 = the frequency is fully learned).

    Args:
        spectrum: (..., F) from :func:`amplitude_spectrum` or :func:`network_spectrum`.
        frequencies: K integer frequencies k_i < F.
        reference: K amplitudes A_i > 0, or None for raw amplitudes.

    Returns:
        (..., K) amplitudes.
    """
    idx = _frequency_index(frequencies, spectrum.shape[-1])
    out = spectrum[..., idx.to(spectrum.device)]  # (..., K)
    if reference is None:
        return out
    ref = torch.as_tensor(reference, dtype=out.dtype, device=out.device).reshape(-1)
    if ref.shape != idx.shape or (ref <= 0).any():
        raise ValueError(f"reference must be {idx.numel()} positive amplitudes, got {ref.tolist()}")
    return out / ref


@dataclass(frozen=True)
class SineSum:
    """f(z) = Σ_i A_i sin(2π k_i z + φ_i): Rahaman's target, each (K,) float64."""

    frequencies: Tensor
    amplitudes: Tensor
    phases: Tensor

    def __call__(self, z: Tensor) -> Tensor:
        """Values (N,) at points z (N,) or (N, 1), in the dtype and on the device of z."""
        k, a, phi = (t.to(device=z.device, dtype=torch.float64)
                     for t in (self.frequencies, self.amplitudes, self.phases))
        zz = z.reshape(-1, 1).to(torch.float64)  # (N, 1)
        return (torch.sin(2 * math.pi * k * zz + phi) @ a).to(z.dtype)  # (N,)


def sine_target(frequencies: Sequence[float] | Tensor, amplitudes: Sequence[float] | Tensor,
                *, generator: torch.Generator) -> SineSum:
    """Rahaman's target with phases φ_i drawn uniformly from [0, 2π) by ``generator``.

    Args:
        frequencies: K frequencies k_i (cycles per unit of z; integers for exact spectra
            on :func:`unit_grid`).
        amplitudes: K amplitudes A_i, or one value for all (e.g. 1.0).
        generator: the phase random source (CPU).

    Returns:
        :class:`SineSum`; call it on :func:`unit_grid` to get the targets.
    """
    k = torch.as_tensor(frequencies, dtype=torch.float64).reshape(-1)
    a = torch.as_tensor(amplitudes, dtype=torch.float64).reshape(-1)
    if a.numel() not in (1, k.numel()):
        raise ValueError(f"need 1 or {k.numel()} amplitudes, got {a.numel()}")
    a = a.expand_as(k).clone()
    phases = 2 * math.pi * torch.rand(k.numel(), generator=generator, dtype=torch.float64)
    return SineSum(k, a, phases)


@dataclass
class SpectralCurves:
    """Per-frequency learning curves: ``amplitudes`` (T, K) normalized |f̃(k_i)|/A_i at
    ``iterations`` (T,), for ``frequencies`` (K,)."""

    iterations: Tensor
    frequencies: Tensor
    amplitudes: Tensor


def learning_curves(iterations: Sequence[int] | Tensor, spectra: Sequence[Tensor] | Tensor,
                    frequencies: Sequence[int] | Tensor,
                    reference: Sequence[float] | Tensor) -> SpectralCurves:
    """Stack spectra logged during training into normalized per-frequency curves.

    Args:
        iterations: T increasing iteration numbers at which the spectra were logged.
        spectra: T spectra (F,) from :func:`network_spectrum`, or one (T, F) tensor.
        frequencies: the K target frequencies k_i.
        reference: the K target amplitudes A_i.

    Returns:
        :class:`SpectralCurves` (the heat map of Rahaman's Fig. 1 is ``amplitudes.T``).
    """
    its = torch.as_tensor(iterations, dtype=torch.float64).reshape(-1)  # (T,)
    stacked = spectra if isinstance(spectra, Tensor) else torch.stack(list(spectra))  # (T, F)
    if stacked.ndim != 2 or stacked.shape[0] != its.numel():
        raise ValueError(f"need {its.numel()} spectra of shape (F,), got {tuple(stacked.shape)}")
    if (its.diff() <= 0).any():
        raise ValueError("iterations must be strictly increasing")
    amps = amplitudes_at(stacked.to(torch.float64).cpu(), frequencies, reference)  # (T, K)
    k = torch.as_tensor(frequencies, dtype=torch.float64).reshape(-1)
    return SpectralCurves(its, k, amps)


def iterations_to_reach(curves: SpectralCurves, fraction: float = 0.5) -> Tensor:
    """The first logged iteration at which each frequency's normalized amplitude ≥ fraction.

    The resolution is the logging interval; a curve that crosses and falls back
    still counts at its first crossing.

    Returns:
        (K,) float64 iterations, NaN for a frequency that never reaches ``fraction``.
    """
    if not 0 < fraction:
        raise ValueError(f"fraction must be > 0, got {fraction}")
    reached = curves.amplitudes >= fraction  # (T, K)
    first = reached.to(torch.int8).argmax(dim=0)  # (K,) first True (0 if none)
    out = curves.iterations[first].clone()
    out[~reached.any(dim=0)] = math.nan
    return out


def highest_reached(curves: SpectralCurves, fraction: float = 0.5) -> float:
    """The highest frequency whose normalized amplitude reached ``fraction`` at some
    logged iteration (the "highest learned frequency" within the budget); NaN if none."""
    hit = ~iterations_to_reach(curves, fraction).isnan()  # (K,)
    return float(curves.frequencies[hit].max()) if hit.any() else math.nan
