"""Double wells: Boltzmann masses by quadrature, the Laplace limit, and the Langevin
simulator's occupations and escape times against them.

Monte-Carlo bound fixed before running: Z = 4.5 standard errors (per-chain averages are
independent). Euler–Maruyama's O(h) bias is kept below one standard error by the step h.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.integrate
import torch

from genlab.dynamics import (
    DoubleWell,
    boltzmann_occupation,
    escape_times,
    langevin,
    laplace_occupation,
)

Z = 4.5
WELL_1D = DoubleWell([-0.8, 0.8], [0.0, 0.1], [4.0, 1.0], softness=0.1)
WELL_2D = DoubleWell([[-0.8, 0.0], [0.8, 0.2]], [0.0, 0.1], [[[4.0, 1.0], [1.0, 2.0]], [1.0, 3.0]],
                     softness=0.1)


def test_potential_gradient_and_minima():
    x = torch.randn(9, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    x.requires_grad_(True)
    auto = torch.autograd.grad(WELL_2D.energy(x).sum(), x)[0]
    x = x.detach()
    torch.testing.assert_close(WELL_2D.gradient(x), auto)
    for m, a, e, k in zip(WELL_2D.minima(), WELL_2D.centers, WELL_2D.energies,
                          WELL_2D.curvatures):
        torch.testing.assert_close(WELL_2D.gradient(m.location[None])[0],
                                   torch.zeros(2, dtype=torch.float64), atol=1e-12, rtol=0)
        # the smooth minimum moves the basins' minima by ~exp(−Δq/s): negligible here
        torch.testing.assert_close(m.location, a, atol=1e-6, rtol=0)
        assert m.energy == pytest.approx(float(e), abs=1e-6)
        torch.testing.assert_close(m.hessian, k, atol=1e-4, rtol=0)


def test_laplace_closed_form():
    """Equal depths: p_0/p_1 = √(k_1/k_0); in 2-D the ratio of √det."""
    p = laplace_occupation([0.0, 0.0], [torch.tensor([[4.0]]), torch.tensor([[1.0]])], 0.3)
    torch.testing.assert_close(p, torch.tensor([1 / 3, 2 / 3], dtype=torch.float64))
    p = laplace_occupation([0.0, 0.5], [torch.eye(2), torch.eye(2)], 0.25)
    assert float(p[0] / p[1]) == pytest.approx(np.exp(2.0))


def _numpy_potential(well):
    """The paraboloids q(x) (2,) and E(x) of ``well`` for a point x (d,), in plain numpy."""
    a, k, e = well.centers.numpy(), well.curvatures.numpy(), well.energies.numpy()

    def q(x):
        return np.array([e[i] + 0.5 * (x - a[i]) @ k[i] @ (x - a[i]) for i in range(2)])

    return q, lambda x: -well.softness * np.logaddexp(*(-q(x) / well.softness))


def _quad_masses(well, temperature, lo=-6.0, hi=6.0):
    """Reference masses by adaptive ``scipy.integrate`` quadrature (``quad`` along x_0,
    ``quad_vec`` across), on the potential written again in plain numpy, with break
    points at the roots in x_0 of q_0 − q_1 (a quadratic, found with numpy)."""
    q, energy = _numpy_potential(well)
    e0 = min(m.energy for m in well.minima())

    def along_x(rest):  # masses (2,) on the line x_1.. = rest
        f = lambda x0: float(np.diff(q(np.array([x0, *rest])))[0])  # noqa: E731
        c2, c1, c0 = (f(1) + f(-1)) / 2 - f(0), (f(1) - f(-1)) / 2, f(0)
        cuts = sorted(r.real for r in np.roots([c2, c1, c0]) if abs(r.imag) < 1e-12
                      and lo < r.real < hi)
        out = np.zeros(2)
        for left, right in zip([lo, *cuts], [*cuts, hi]):
            side = int(np.argmin(q(np.array([(left + right) / 2, *rest]))))
            out[side] += scipy.integrate.quad(lambda x0: np.exp(
                -(energy(np.array([x0, *rest])) - e0) / temperature),
                left, right, epsabs=0, epsrel=1e-9)[0]
        return out

    m = along_x([]) if well.dim == 1 else scipy.integrate.quad_vec(
        lambda y: along_x([y]), lo, hi, epsabs=0, epsrel=1e-7)[0]
    return torch.from_numpy(m / m.sum())


_SLOW = pytest.mark.slow  # nested adaptive quadrature in 2-D takes ~15 s


@pytest.mark.parametrize("well, temperature", [
    (WELL_1D, 0.05), (WELL_1D, 0.5), pytest.param(WELL_2D, 0.05, marks=_SLOW),
    pytest.param(WELL_2D, 0.5, marks=_SLOW)], ids=["1d-0.05", "1d-0.5", "2d-0.05", "2d-0.5"])
def test_boltzmann_quadrature(well, temperature):
    torch.testing.assert_close(boltzmann_occupation(well, temperature),
                               _quad_masses(well, temperature), atol=1e-6, rtol=0)


def test_boltzmann_low_temperature_is_laplace():
    for well in (WELL_1D, WELL_2D):
        torch.testing.assert_close(boltzmann_occupation(well, 0.01), well.laplace(0.01),
                                   atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="temperature must be positive"):
        boltzmann_occupation(WELL_1D, 0.0)


def _equilibrium_start(well, temperature, chains):
    """Chains placed at the minima in proportion to the exact masses."""
    p = boltzmann_occupation(well, temperature)
    n0 = round(chains * float(p[0]))
    m = [v.location for v in well.minima()]
    return torch.cat([m[0].expand(n0, well.dim), m[1].expand(chains - n0, well.dim)]), p


@pytest.mark.parametrize("well", [WELL_1D, WELL_2D], ids=["1d", "2d"])
def test_langevin_occupation_matches_boltzmann(well):
    """Started at the exact masses, the chains must stay there over several relaxation
    times (t = 5; mean escape time ≈ 1.4 at T = 0.5); a wrong temperature or noise
    scale would move them."""
    start, exact = _equilibrium_start(well, 0.5, 800)
    run = langevin(well, 0.5, 1e-3, chains=800, steps=5000, start=start, record_every=5,
                   generator=torch.Generator().manual_seed(0))
    assert run.records == 1000
    assert float(((run.fraction - exact) / run.fraction_stderr).abs().max()) < Z


def _mean_first_passage(well, temperature, x0, boundary):
    """τ(x0 → b) = (1/T)∫_{x0}^{b} e^{E(y)/T} ∫_{−∞}^{y} e^{−E(z)/T} dz dy (1-D, D = 1)."""
    energy = lambda v: _numpy_potential(well)[1](np.array([v]))  # noqa: E731
    inner = lambda y: scipy.integrate.quad(  # noqa: E731
        lambda z: np.exp(-energy(z) / temperature), -8.0, y, epsabs=0, epsrel=1e-10)[0]
    return scipy.integrate.quad(lambda y: np.exp(energy(y) / temperature) * inner(y), x0,
                                boundary, epsabs=0, epsrel=1e-8)[0] / temperature


def test_escape_time_matches_mean_first_passage_time():
    """Checking the basin only at the steps sees a crossing late; the discretely
    monitored boundary acts as one moved by 0.5826·√(2Th) (Broadie, Glasserman & Kou
    1997, "A continuity correction for discrete barrier options")."""
    t, h = 0.5, 2e-3
    times = escape_times(WELL_1D, t, h, basin=0, chains=600, max_steps=50_000,
                         generator=torch.Generator().manual_seed(1))
    assert not times.isnan().any()
    k, a, e = (WELL_1D.curvatures[:, 0, 0].numpy(), WELL_1D.centers[:, 0].numpy(),
               WELL_1D.energies.numpy())
    roots = np.roots([0.5 * (k[0] - k[1]), -(k[0] * a[0] - k[1] * a[1]),
                      0.5 * (k[0] * a[0] ** 2 - k[1] * a[1] ** 2) + e[0] - e[1]])
    boundary = float(roots[(roots > a[0]) & (roots < a[1])][0].real)
    exact = _mean_first_passage(WELL_1D, t, float(WELL_1D.minima()[0].location),
                                boundary + 0.5826 * np.sqrt(2 * t * h))
    stderr = float(times.std()) / 600**0.5
    assert abs(float(times.mean()) - exact) < Z * stderr


def test_bad_input():
    with pytest.raises(ValueError, match="positive definite"):
        DoubleWell([-1.0, 1.0], [0.0, 0.0], [1.0, -1.0])
    with pytest.raises(ValueError, match="positive"):
        langevin(WELL_1D, 0.0, 1e-3, chains=2, steps=2)
    with pytest.raises(ValueError, match="basin must be"):
        escape_times(WELL_1D, 0.5, 1e-3, basin=2, chains=2, max_steps=2)
