"""Named seeds derived from one run seed, so every random source is explicit and stable."""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["derive_seed"]


def derive_seed(seed: int, *names: Any) -> int:
    """A 63-bit seed derived from the run seed and a name path (e.g. ``"init", 3``).

    Stable across processes and machines (SHA-256 of ``"seed/name/..."``), so the
    same run seed gives the same numbers, and distinct names give independent streams.
    """
    digest = hashlib.sha256("/".join(map(str, (seed, *names))).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1
