"""Spectral-bias training cost: a bare full-batch loop vs the same loop with the output
spectrum logged, vs the `spectral_bias` experiment's loop, and with each weight
constraint applied after every step.

Rahaman et al. (2019)'s setting: a 6 × 256 ReLU MLP, 200 grid points of [0, 1), target
Σ sin(2π k z + φ_k) for k = 5, 10, …, 50, full-batch fused Adam. Each variant trains its
own copy for ``--chunk`` steps per repeat, round-robin in one process; we report the
bare loop's iterations/s, each variant's speed relative to it, and one spectrum
evaluation in units of one step. The ``experiment`` variant is the loop of the
`spectral_bias` experiment (``genlab.train.step`` on the optimizer its config builds; the
output recorded every 50 steps, its spectrum taken afterwards in one batched FFT, and
``lipschitz_bound(tol=1e-5)`` ten times per run: once per ``--exp-chunk`` steps, a tenth of
the default profile's 6,000); target: ≥ 0.95× the bare loop. Then the cost of one logged
step: the forward pass it records, the FFT of its output, and both together
(``network_spectrum``), in training steps.
``--probe N`` then trains N steps logging the spectrum every 100 and prints the
iterations to half amplitude per frequency.

    .venv/bin/python benchmarks/spectral_bias.py [--repeats 5] [--chunk 100] [--exp-chunk 600]
        [--probe 6000]
"""

from __future__ import annotations

import argparse
import math
import time

import torch
from _timing import side_by_side
from scipy.stats import spearmanr

from genlab.measures import (amplitude_spectrum, iterations_to_reach, learning_curves,
                             lipschitz_bound, network_spectrum, sine_target, unit_grid)
from genlab.models import MLP
from genlab.train import OptimizerConfig, constrain, step

FREQUENCIES = list(range(5, 55, 5))


def _setup(lr: float, kind: str | None = None, level: float = 4.0):
    z = unit_grid(200)  # (200, 1)
    y = sine_target(FREQUENCIES, 1.0, generator=torch.Generator().manual_seed(0))(z)[:, None]
    model = MLP(1, [256] * 6, 1, seed=0)
    after = constrain(model, kind, level) if kind else None
    opt = torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    return model, opt, z, y, after


def _loop(model, opt, z, y, steps: int, after=None, log_every: int = 0, log=None) -> None:
    """The bare loop, plus a constraint after each step and a spectrum every log_every."""
    for t in range(steps):
        if log_every and t % log_every == 0:
            log(t, network_spectrum(model, z))
        loss = ((model(z) - y) ** 2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if after is not None:
            after()


def _mse(out, y):
    return ((out - y) ** 2).mean()


def _experiment_loop(model, opt, z, y, steps: int, log_every: int = 50) -> None:
    """The experiment's loop: library step, the output and its loss kept every log_every
    steps, one batched FFT of the kept outputs, one Lipschitz bound per call."""
    outs = []
    lipschitz_bound(model, tol=1e-5)
    for t in range(steps):
        if t % log_every == 0:
            with torch.no_grad():
                out = model(z)  # (N, 1)
            float(_mse(out, y))  # the experiment checks the logged loss (a host sync)
            outs.append(out.reshape(-1))
        step(model, opt, _mse, z, y)
    amplitude_spectrum(torch.stack(outs).double())  # (T, F)


def _experiment_state(lr: float):
    model, _, z, y, _ = _setup(lr)
    return model, OptimizerConfig(name="adam", lr=lr).build(model.parameters()), z, y


def experiment(args) -> None:
    """The experiment's loop against the bare one, each on its own copy, per step."""
    bare, exp = _setup(args.lr)[:4], _experiment_state(args.lr)
    sec = side_by_side({"bare": lambda: _loop(*bare, args.exp_chunk),
                        "experiment": lambda: _experiment_loop(*exp, args.exp_chunk)},
                       args.repeats, clock=args.clock)
    print(f"  experiment loop      {args.exp_chunk / sec['experiment']:7.1f} it/s   ratio to bare "
          f"{sec['bare'] / sec['experiment']:.3f}   ({args.repeats} repeats of "
          f"{args.exp_chunk} steps)")


def logged_step(args) -> None:
    """One logged step's cost (forward, FFT of one output, both) in training steps."""
    model, opt, z, y, _ = _setup(args.lr)
    with torch.no_grad():
        out = model(z).reshape(-1)

    def forward():
        with torch.no_grad():
            model(z)

    t = side_by_side({"step": lambda: _loop(model, opt, z, y, 1), "forward": forward,
                      "fft": lambda: amplitude_spectrum(out),
                      "network_spectrum": lambda: network_spectrum(model, z)}, args.repeats * 20,
                     clock=args.clock)
    print("  one logged step, in training steps: " + ", ".join(
        f"{k} {t[k] / t['step']:.3f}" for k in ("forward", "fft", "network_spectrum"))
          + f"; logged every 50 steps: {t['network_spectrum'] / t['step'] / 50:.2%} overhead")


def speed(args) -> None:
    variants = {"bare": None, "logged": None, "clip": "clip", "rescale": "rescale",
                "spectral_norm": "spectral_norm"}
    state = {name: _setup(args.lr, kind, 0.05 if kind == "clip" else 4.0)
             for name, kind in variants.items()}
    fns = {name: (lambda s=s, name=name: _loop(*s[:4], args.chunk, after=s[4],
                                               log_every=args.chunk if name == "logged" else 0,
                                               log=lambda *_: None))
           for name, s in state.items()}
    sec = side_by_side(fns, args.repeats, clock=args.clock)
    print(f"6x256 MLP, 200 points, full-batch fused Adam, {torch.get_num_threads()} thread(s), "
          f"{args.repeats} repeats of {args.chunk} steps (medians, "
          f"{'CPU' if args.clock is time.process_time else 'wall'} time)")
    print(f"  bare loop: {args.chunk / sec['bare']:.1f} it/s")
    labels = {"logged": f"spectrum every {args.chunk}", "clip": "clip 0.05",
              "rescale": "rescale 4.0", "spectral_norm": "spectral_norm 4.0"}
    for name, label in labels.items():
        print(f"  {label:20s} {args.chunk / sec[name]:7.1f} it/s   ratio to bare "
              f"{sec['bare'] / sec[name]:.3f}")


def probe(args) -> None:
    model, opt, z, y, _ = _setup(args.lr)
    its, spectra = [], []
    _loop(model, opt, z, y, args.probe + 1, log_every=100,
          log=lambda step, s: (its.append(step), spectra.append(s)))
    curves = learning_curves(its, spectra, FREQUENCIES, [1.0] * len(FREQUENCIES))
    half = iterations_to_reach(curves, 0.5)
    rho = spearmanr(FREQUENCIES, half.nan_to_num(math.inf).numpy()).statistic
    print(f"probe: lr {args.lr}, {args.probe} steps; iterations to half amplitude "
          f"(rank correlation with k: {rho:.2f})")
    for k, t, a in zip(FREQUENCIES, half.tolist(), curves.amplitudes[-1].tolist()):
        print(f"  k = {k:2d}: {'never' if math.isnan(t) else int(t):>6}   final {a:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--exp-chunk", type=int, default=600,
                        help="steps per repeat of the experiment-loop comparison")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                        help="time each call by this process's CPU time (steadier on a shared "
                             "machine; one thread, CPU only) or by the wall clock")
    parser.add_argument("--probe", type=int, default=0, help="steps of the half-amplitude probe")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    args.clock = time.process_time if args.clock == "cpu" else time.perf_counter
    speed(args)
    experiment(args)
    logged_step(args)
    if args.probe:
        probe(args)


if __name__ == "__main__":
    main()
