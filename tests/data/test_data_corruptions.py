"""Zhang et al.'s randomization tests: statistics and structure of each corruption."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats

from genlab.data import corrupt_labels, gaussian_inputs, pixel_permutation, random_pixels, shuffle_pixels


def _within(measured: float, expected: float, n: int, sigmas: float = 5.0) -> bool:
    return abs(measured - expected) < sigmas * math.sqrt(expected * (1 - expected) / n)


@pytest.mark.parametrize("p", [0.2, 0.5, 1.0])
def test_label_noise_fraction(p):
    n, k = 20000, 10
    y = torch.arange(n) % k
    labels, mask = corrupt_labels(y, p, k, torch.Generator().manual_seed(0))
    assert labels.dtype == torch.int64 and mask.dtype == torch.bool
    changed = labels != y
    assert _within(changed.float().mean().item(), p * (1 - 1 / k), n)
    if p < 1:
        assert _within(mask.float().mean().item(), p, n)
    assert torch.equal(labels[~mask], y[~mask]) and not changed[~mask].any()
    # redrawn labels are uniform over the K classes
    assert stats.chisquare(torch.bincount(labels[mask], minlength=k).numpy()).pvalue > 1e-4


def test_label_noise_edge_cases_nesting_and_seed():
    y = torch.randint(10, (1000,), generator=torch.Generator().manual_seed(1))
    assert torch.equal(corrupt_labels(y, 0.0, 10, 3).labels, y)
    low, high = corrupt_labels(y, 0.2, 10, 3), corrupt_labels(y, 0.6, 10, 3)
    assert torch.equal(low.mask & high.mask, low.mask)  # nested in p
    assert torch.equal(corrupt_labels(y, 0.2, 10, 3).labels, low.labels)
    assert not torch.equal(corrupt_labels(y, 0.2, 10, 4).labels, low.labels)
    with pytest.raises(ValueError, match="0 <= p <= 1"):
        corrupt_labels(y, 1.5, 10, 3)


def _distinct_images(n: int, c: int, h: int, w: int) -> torch.Tensor:
    return torch.arange(n * c * h * w, dtype=torch.float32).reshape(n, c, h, w)  # every value unique


def test_shuffle_pixels_one_permutation_shared_by_train_and_test():
    x_train, x_test = _distinct_images(6, 3, 4, 5), _distinct_images(4, 3, 4, 5) + 1000
    out_train, perm = shuffle_pixels(x_train, torch.Generator().manual_seed(0))
    out_test, same = shuffle_pixels(x_test, permutation=perm)
    assert same is perm and sorted(perm.tolist()) == list(range(20)) and perm.tolist() != list(range(20))
    for x, out in ((x_train, out_train), (x_test, out_test)):
        ref = x.numpy().reshape(len(x), 3, 20)[:, :, perm.numpy()].reshape(x.shape)  # numpy fancy index
        np.testing.assert_array_equal(out.numpy(), ref)
    assert torch.equal(pixel_permutation(x_train, 0), shuffle_pixels(x_train, 0)[1])


def test_shuffle_pixels_flat_inputs_and_errors():
    x = torch.arange(12.0).reshape(2, 6)
    out, perm = shuffle_pixels(x, 1)
    np.testing.assert_array_equal(out.numpy(), x.numpy()[:, perm.numpy()])
    with pytest.raises(ValueError, match="pixels"):
        shuffle_pixels(x, permutation=torch.arange(5))
    with pytest.raises(ValueError, match="needs a generator"):
        shuffle_pixels(x)


def test_random_pixels_independent_permutation_per_image():
    n, c, side = 300, 2, 4
    x = _distinct_images(n, c, side, side)
    out = random_pixels(x, torch.Generator().manual_seed(0))
    flat_x, flat_out = x.reshape(n, c, -1), out.reshape(n, c, -1)
    perms = []
    for i in range(n):
        # recover the permutation from channel 0; channel 1 must follow it
        pos = {v: j for j, v in enumerate(flat_x[i, 0].tolist())}
        perm = [pos[v] for v in flat_out[i, 0].tolist()]
        assert sorted(perm) == list(range(side * side))
        assert torch.equal(flat_out[i, 1], flat_x[i, 1, perm])
        perms.append(tuple(perm))
    assert len(set(perms)) == n  # 16! permutations: repeats would mean a shared one
    # where pixel 0 lands is uniform over the 16 positions
    landing = [p.index(0) for p in perms]
    assert stats.chisquare(np.bincount(landing, minlength=16)).pvalue > 1e-4
    assert torch.equal(random_pixels(x, 5), random_pixels(x, 5))


@pytest.mark.parametrize("per_channel", [True, False])
def test_gaussian_inputs_match_mean_and_variance(per_channel):
    g = torch.Generator().manual_seed(0)
    means, stds = torch.tensor([0.1, 0.5, 0.9]), torch.tensor([0.05, 0.2, 0.3])
    x = torch.rand(500, 3, 8, 8, generator=g) ** 2 * stds[:, None, None] * 3 + means[:, None, None]
    out = gaussian_inputs(x, torch.Generator().manual_seed(1), per_channel=per_channel)
    assert out.shape == x.shape and out.dtype == x.dtype
    dims = (0, 2, 3) if per_channel else (0, 1, 2, 3)
    m_x, v_x = x.double().mean(dims), x.double().var(dims, unbiased=False)
    m_o, v_o = out.double().mean(dims), out.double().var(dims, unbiased=False)
    count = x.numel() // (3 if per_channel else 1)
    assert torch.all((m_o - m_x).abs() < 5 * v_x.sqrt() / math.sqrt(count))
    assert torch.all((v_o / v_x - 1).abs() < 5 * math.sqrt(2 / count))  # sd of a sample variance
    if not per_channel:  # global stats ignore the channel structure
        assert out.double().mean((0, 2, 3)).std() < 0.01
    assert abs(stats.kurtosis(out[:, 0].flatten().numpy())) < 0.1  # Gaussian, unlike x
    assert torch.equal(gaussian_inputs(x, 4), gaussian_inputs(x, 4))
