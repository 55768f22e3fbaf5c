"""The filtering method (Xu et al. 2019): Gaussian low-pass on scattered points, checked
against explicit float64 sums, its two limits, and the errors of a hand-made fit."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from genlab.measures.filtering import (filtered_errors, low_pass_operator, median_sq_distance,
                                       split_frequencies)


def _points(n=7, p=3, seed=0):
    return torch.from_numpy(np.random.default_rng(seed).standard_normal((n, p)))


def test_operator_matches_explicit_gaussian_sums():
    x, delta = _points(), 0.8
    xs = x.numpy()
    expected = np.empty((len(xs), len(xs)))
    for i in range(len(xs)):
        g = np.array([math.exp(-np.sum((xs[i] - xj) ** 2) / (2 * delta)) for xj in xs])
        expected[i] = g / g.sum()
    np.testing.assert_allclose(low_pass_operator(x, delta).numpy(), expected, rtol=1e-12)


def test_images_are_flattened_per_point():
    x = _points(5, 12).reshape(5, 1, 3, 4)
    torch.testing.assert_close(low_pass_operator(x, 2.0), low_pass_operator(x.reshape(5, 12), 2.0))


def test_limits_identity_and_mean():
    x = _points()
    values = torch.from_numpy(np.random.default_rng(1).standard_normal((7, 2)))
    low, high = split_frequencies(values, low_pass_operator(x, 1e-6))
    torch.testing.assert_close(low, values)  # tiny width: nothing is averaged
    assert high.abs().max() < 1e-12
    low, high = split_frequencies(values, low_pass_operator(x, 1e9))
    torch.testing.assert_close(low, values.mean(0).expand_as(values), rtol=0, atol=1e-8)
    torch.testing.assert_close(low + high, values)


def test_constant_has_no_high_frequencies():
    low, high = split_frequencies(torch.full((7,), 3.0), low_pass_operator(_points(), 0.5))
    torch.testing.assert_close(low, torch.full((7,), 3.0, dtype=torch.float64))
    assert high.abs().max() < 1e-12


def test_median_sq_distance_by_hand():
    x = torch.tensor([[0.0], [1.0], [3.0]])  # pair distances² 1, 9, 4
    assert median_sq_distance(x) == 4.0


def test_errors_of_a_fit_that_has_only_the_low_part():
    x = _points(9, 2, seed=3)
    op = low_pass_operator(x, 0.7)
    y = torch.from_numpy(np.random.default_rng(2).standard_normal((9, 3)))
    y_low, y_high = split_frequencies(y, op)
    # h = y_low + y_high/2: its low part is S y_low + S y_high / 2, not exactly y_low
    h = y_low + y_high / 2
    e_low, e_high = filtered_errors(h, y, op)
    h_low = op @ h
    assert e_low == pytest.approx(float((y_low - h_low).norm() / y_low.norm()), rel=1e-12)
    assert e_high == pytest.approx(float((y_high - (h - h_low)).norm() / y_high.norm()),
                                   rel=1e-12)
    assert filtered_errors(y, y, op) == (0.0, 0.0)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="delta"):
        low_pass_operator(_points(), 0.0)
    with pytest.raises(ValueError, match="operator"):
        split_frequencies(torch.zeros(4), torch.eye(3))
    with pytest.raises(ValueError, match="shape"):
        filtered_errors(torch.zeros(3), torch.zeros(3, 1), torch.eye(3))
    with pytest.raises(ValueError, match="2 points"):
        median_sq_distance(torch.zeros(1, 3))
