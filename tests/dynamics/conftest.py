"""Shared helpers of the dynamics tests: random SPD matrices in float64."""

from __future__ import annotations

import pytest
import torch


def _spd(d: int, seed: int, floor: float = 0.2) -> torch.Tensor:
    """A random symmetric positive-definite, non-diagonal matrix (d, d)."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(d, d, generator=g, dtype=torch.float64)
    return a @ a.T / d + floor * torch.eye(d, dtype=torch.float64)


@pytest.fixture
def spd():
    """Factory: spd(d, seed) -> a random SPD matrix."""
    return _spd
