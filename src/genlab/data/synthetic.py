"""Synthetic regression sets for lecture sections 1 (gradient descent) and 2 (over-fitting)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import torch
from torch import Tensor

from .dataset import Regression, Samples, as_generator

__all__ = ["TARGET_FUNCTIONS", "linear_regression", "polynomial_regression", "target_function"]

#: Named target functions f(x) for :func:`polynomial_regression`.
TARGET_FUNCTIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "sin": lambda x: torch.sin(2 * math.pi * x),  # one period on [0, 1] (Bishop 2006, §1.1)
    "cubic": lambda x: x ** 3 - x,
    "runge": lambda x: 1.0 / (1.0 + 25.0 * x ** 2),  # Runge's function on [-1, 1]
    "abs": lambda x: x.abs(),
}


def target_function(fn: str) -> Callable[[Tensor], Tensor]:
    """The noiseless target f named ``fn`` (a key of ``TARGET_FUNCTIONS``)."""
    if fn not in TARGET_FUNCTIONS:
        raise ValueError(f"unknown target function {fn!r}; allowed: {', '.join(TARGET_FUNCTIONS)}")
    return TARGET_FUNCTIONS[fn]


def _check(noise: float, interval: tuple[float, float], *sizes: int) -> None:
    if not noise >= 0:
        raise ValueError(f"noise={noise!r} is out of range; allowed: noise >= 0")
    if not interval[0] < interval[1]:
        raise ValueError(f"interval={interval!r} is empty; allowed: (low, high) with low < high")
    for n in sizes:
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"sample size {n!r} is out of range; allowed: a positive int")


def _uniform(n: int, interval: tuple[float, float], g: torch.Generator, dtype: torch.dtype) -> Tensor:
    low, high = interval
    return low + (high - low) * torch.rand(n, 1, generator=g, dtype=dtype)  # (n, 1)


def linear_regression(n: int, a: float = 2.0, b: float = -1.0, noise: float = 0.5, seed: int = 0, *,
                      interval: tuple[float, float] = (-1.0, 1.0),
                      dtype: torch.dtype = torch.float32) -> Samples:
    """Samples of y = a·x + b + ε, x ~ U(interval), ε ~ N(0, noise²), for the loss surface E(a, b).

    Args:
        n: number of samples.
        a: true slope.
        b: true intercept.
        noise: standard deviation of ε.
        seed: same seed -> same samples.
        interval: (low, high) of the uniform x.
        dtype: floating dtype of x and y (float64 for exact least-squares checks).

    Returns:
        ``Samples(x, y)``, both (n, 1).
    """
    _check(noise, interval, n)
    g = as_generator(seed)
    x = _uniform(n, interval, g, dtype)  # (n, 1)
    y = a * x + b + noise * torch.randn(n, 1, generator=g, dtype=dtype)  # (n, 1)
    return Samples(x, y)


def polynomial_regression(n_train: int, n_test: int, fn: str = "sin", noise: float = 0.3,
                          seed: int = 0, *, interval: tuple[float, float] = (0.0, 1.0),
                          dtype: torch.dtype = torch.float32) -> Regression:
    """Samples of y = f(x) + ε for curve fitting (under/over-fitting vs model degree).

    The default is Bishop's example: f(x) = sin(2πx) on [0, 1] (Bishop 2006,
    *Pattern Recognition and Machine Learning*, §1.1). Train and test x are drawn
    independently from U(interval); both carry noise ε ~ N(0, noise²), so the best
    achievable test MSE is ``noise²``. Use :func:`target_function` for the clean f.

    Args:
        n_train: training samples.
        n_test: test samples.
        fn: target function name, one of ``TARGET_FUNCTIONS`` ("sin", "cubic", "runge", "abs").
        noise: standard deviation of ε.
        seed: same seed -> same samples.
        interval: (low, high) of the uniform x.
        dtype: floating dtype.

    Returns:
        A :class:`Regression` with x and y tensors shaped (N, 1).
    """
    f = target_function(fn)
    _check(noise, interval, n_train, n_test)
    g = as_generator(seed)
    x_train = _uniform(n_train, interval, g, dtype)  # (n_train, 1)
    x_test = _uniform(n_test, interval, g, dtype)  # (n_test, 1)
    y_train = f(x_train) + noise * torch.randn(n_train, 1, generator=g, dtype=dtype)
    y_test = f(x_test) + noise * torch.randn(n_test, 1, generator=g, dtype=dtype)
    return Regression(x_train, y_train, x_test, y_test, name=fn, noise=float(noise))
