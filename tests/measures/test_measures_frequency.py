"""Fourier spectra of outputs: exact amplitudes of sine sums, numpy's FFT, leakage,
learning curves and iterations to a fraction of the target amplitude."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from genlab.measures import (
    SineSum,
    SpectralCurves,
    amplitude_spectrum,
    amplitudes_at,
    highest_reached,
    iterations_to_reach,
    learning_curves,
    line_inputs,
    network_spectrum,
    sine_target,
    unit_grid,
)
from genlab.models import MLP


def _sines(n, terms, offset=0.0):
    """A hand-built sum c + Σ A sin(2π k j/n + φ) over j < n, float64."""
    j = np.arange(n)
    return offset + sum(a * np.sin(2 * np.pi * k * j / n + p) for k, a, p in terms)


@pytest.mark.parametrize("n", [200, 201])
def test_known_sine_sum_has_exact_amplitudes(n):
    terms = [(3, 0.7, 0.3), (17, 1.5, 2.0), (50, 0.2, -1.1), (99, 0.9, 0.4)]
    spectrum = amplitude_spectrum(torch.from_numpy(_sines(n, terms, offset=-0.4)))
    expected = np.zeros(n // 2 + 1)
    expected[0] = 0.4
    for k, a, _ in terms:
        expected[k] = a
    np.testing.assert_allclose(spectrum.numpy(), expected, atol=1e-12)


def test_nyquist_bin_sees_only_the_sine_of_the_phase():
    n, a, phi = 64, 2.0, 0.5
    spectrum = amplitude_spectrum(torch.from_numpy(_sines(n, [(n // 2, a, phi)])))
    assert spectrum[-1].item() == pytest.approx(abs(a * math.sin(phi)), abs=1e-12)


def test_amplitude_spectrum_matches_numpy_fft_batched():
    x = np.random.default_rng(0).standard_normal((3, 2, 50))
    ref = np.abs(np.fft.rfft(x, axis=-1)) * 2 / 50
    ref[..., 0] /= 2
    ref[..., -1] /= 2  # N even: the Nyquist bin
    np.testing.assert_allclose(amplitude_spectrum(torch.from_numpy(x)).numpy(), ref, rtol=1e-12)


def test_non_integer_frequency_leaks_as_the_dirichlet_kernel():
    """A sinusoid at f = 5.5 cycles spreads over every bin; the DFT of e^{iθ} e^{2πifj/N}
    at bin k is e^{iθ} (1 − e^{2πi(f−k)}) / (1 − e^{2πi(f−k)/N}) (a geometric sum)."""
    n, f, a, phi = 200, 5.5, 1.0, 0.8
    j = np.arange(n)
    spectrum = amplitude_spectrum(torch.from_numpy(a * np.sin(2 * np.pi * f * j / n + phi)))
    k = np.arange(n // 2 + 1)

    def geometric(freq):
        return (1 - np.exp(2j * np.pi * (freq - k))) / (1 - np.exp(2j * np.pi * (freq - k) / n))

    dft = a * (np.exp(1j * phi) * geometric(f) - np.exp(-1j * phi) * geometric(-f)) / 2j
    expected = np.abs(dft) * 2 / n
    expected[[0, -1]] /= 2
    np.testing.assert_allclose(spectrum.numpy(), expected, atol=1e-12)
    assert 0.55 < spectrum[5] < 0.75 and 0.55 < spectrum[6] < 0.75  # ≈ 2/π, not A = 1
    assert spectrum[20] > 0.01  # leakage far from f, decaying like 1/|k − f|
    power = spectrum[0] ** 2 + spectrum[1:-1].square().sum() / 2 + spectrum[-1] ** 2
    assert power.item() == pytest.approx(  # Parseval: leakage moves power, keeps it
        np.mean((a * np.sin(2 * np.pi * f * j / n + phi)) ** 2), rel=1e-12)


def test_sine_target_on_grid_gives_its_amplitudes_back():
    target = sine_target(range(5, 55, 5), [0.1 * i for i in range(1, 11)],
                         generator=torch.Generator().manual_seed(3))
    z = unit_grid(200, dtype=torch.float64)  # (200, 1)
    values = target(z)  # (200,)
    manual = sum(a * torch.sin(2 * math.pi * k * z[:, 0] + p) for k, a, p in
                 zip(target.frequencies, target.amplitudes, target.phases))
    torch.testing.assert_close(values, manual)
    normalized = amplitudes_at(amplitude_spectrum(values), target.frequencies.long(),
                               target.amplitudes)
    torch.testing.assert_close(normalized, torch.ones(10, dtype=torch.float64))
    again = sine_target(range(5, 55, 5), 1.0, generator=torch.Generator().manual_seed(3))
    assert torch.equal(again.phases, target.phases)
    assert ((0 <= target.phases) & (target.phases < 2 * math.pi)).all()


def test_grid_and_line_inputs():
    z = unit_grid(4)
    assert z.shape == (4, 1) and z[:, 0].tolist() == [0.0, 0.25, 0.5, 0.75]
    a, b = torch.zeros(2, 3), torch.ones(2, 3) * 4
    line = line_inputs(a, b, 4)  # (4, 2, 3)
    assert line.shape == (4, 2, 3)
    assert line[:, 0, 0].tolist() == [0.0, 1.0, 2.0, 3.0]  # b excluded
    with pytest.raises(ValueError, match="shape"):
        line_inputs(a, torch.zeros(3), 4)


def test_network_spectrum_of_a_known_function_and_mode_restored():
    class Cosine(nn.Module):  # f(z) = 0.3 + 2 cos(2π 7 z): a_0 = 0.3, a_7 = 2
        def forward(self, z):
            return 0.3 + 2 * torch.cos(2 * math.pi * 7 * z)

    model = Cosine().train()
    spectrum = network_spectrum(model, unit_grid(64, dtype=torch.float64))
    expected = torch.zeros(33, dtype=torch.float64)
    expected[0], expected[7] = 0.3, 2.0
    torch.testing.assert_close(spectrum, expected)
    assert model.training


def test_network_spectrum_per_output_channel_on_a_line():
    model = MLP(6, [8], 3, seed=0)
    line = line_inputs(torch.zeros(2, 3), torch.ones(2, 3), 20)  # (20, 2, 3)
    spectrum = network_spectrum(model, line)
    with torch.no_grad():
        out = model(line)  # (20, 3)
    assert spectrum.shape == (3, 11)
    torch.testing.assert_close(spectrum[1], amplitude_spectrum(out[:, 1]))


def test_learning_curves_and_iterations_to_half_amplitude():
    spectra = torch.zeros(4, 11, dtype=torch.float64)
    spectra[:, 2] = torch.tensor([0.0, 0.2, 0.6, 0.2])  # A = 0.5: 1/2 at 200, then falls
    spectra[:, 5] = torch.tensor([0.0, 0.1, 0.3, 1.1])  # A = 2: reaches 1/2 at 300
    spectra[:, 9] = torch.tensor([0.0, 0.0, 0.05, 0.25])  # A = 1: never
    curves = learning_curves([0, 100, 200, 300], list(spectra), [2, 5, 9], [0.5, 2.0, 1.0])
    assert isinstance(curves, SpectralCurves)
    torch.testing.assert_close(curves.amplitudes[:, 0], torch.tensor([0, 0.4, 1.2, 0.4],
                                                                     dtype=torch.float64))
    times = iterations_to_reach(curves, 0.5)
    assert times[:2].tolist() == [200.0, 300.0] and math.isnan(times[2])
    assert iterations_to_reach(curves, 0.2)[2] == 300.0
    assert highest_reached(curves, 0.5) == 5.0
    assert math.isnan(highest_reached(curves, 5.0))


def test_bad_input_raises():
    spectrum = torch.zeros(11)
    with pytest.raises(ValueError, match="integers"):
        amplitudes_at(spectrum, [2.5])
    with pytest.raises(ValueError, match="integers"):
        amplitudes_at(spectrum, [11])
    with pytest.raises(ValueError, match="positive"):
        amplitudes_at(spectrum, [2, 3], [1.0, 0.0])
    with pytest.raises(ValueError, match="increasing"):
        learning_curves([0, 0], [spectrum, spectrum], [2], [1.0])
    with pytest.raises(ValueError, match="spectra"):
        learning_curves([0, 1, 2], [spectrum, spectrum], [2], [1.0])
    with pytest.raises(ValueError, match="amplitudes"):
        sine_target([5, 10, 15], [1.0, 2.0], generator=torch.Generator())
    with pytest.raises(ValueError, match="grid size"):
        unit_grid(1)


def test_sine_sum_is_a_plain_record():
    s = SineSum(torch.tensor([1.0]), torch.tensor([2.0]), torch.tensor([0.0]))
    assert s(torch.tensor([0.25])).item() == pytest.approx(2.0)
