"""random_shift against a naive zero-padded translation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from genlab.data import random_shift


def naive_shift(image: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """out[:, i, j] = image[:, i - dy, j - dx], zero outside (by slicing)."""
    out = np.zeros_like(image)
    h, w = image.shape[-2:]
    out[:, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        image[:, max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
    return out


def test_each_output_is_a_zero_padded_translation():
    m, n = 2, 400
    x = torch.arange(1, n * 2 * 6 * 7 + 1, dtype=torch.float32).reshape(n, 2, 6, 7)  # unique, nonzero
    before = x.clone()
    out = random_shift(x, m, torch.Generator().manual_seed(0))
    assert torch.equal(x, before) and out.shape == x.shape
    seen = set()
    for i in range(n):
        matches = [(dy, dx) for dy in range(-m, m + 1) for dx in range(-m, m + 1)
                   if np.array_equal(out[i].numpy(), naive_shift(x[i].numpy(), dy, dx))]
        assert len(matches) == 1
        seen.add(matches[0])
    assert len(seen) == (2 * m + 1) ** 2  # every offset occurs


def test_hand_checked_shifts():
    from genlab.data.augment import _shift_axis

    x = torch.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    down = _shift_axis(x, 2, torch.tensor([1]))
    assert down[0, 0].tolist() == [[0, 0, 0], [1, 2, 3], [4, 5, 6]]
    left = _shift_axis(x, 3, torch.tensor([-2]))
    assert left[0, 0].tolist() == [[3, 0, 0], [6, 0, 0], [9, 0, 0]]
    assert torch.equal(random_shift(x, 0, 0), x)


def test_1d_signals_shift_by_at_most_max_shift():
    out = random_shift(torch.ones(200, 1, 10), 3, 2)  # (N, C, L): a 1-D shift
    zeros = (10 - out.sum(-1)).flatten().round().int()  # |s| zeros shifted in
    assert set(zeros.tolist()) == {0, 1, 2, 3}


def test_seeded_and_errors():
    x = torch.rand(8, 1, 5, 5, generator=torch.Generator().manual_seed(0))
    assert torch.equal(random_shift(x, 2, 3), random_shift(x, 2, 3))
    assert not torch.equal(random_shift(x, 2, 3), random_shift(x, 2, 4))
    with pytest.raises(ValueError, match="max_shift"):
        random_shift(x, -1, 0)
    with pytest.raises(ValueError, match="spatial"):
        random_shift(torch.zeros(3, 4), 1, 0)
