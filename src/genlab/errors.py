"""Errors a user can cause; the CLI prints them as one line and exits with code 2."""

from __future__ import annotations

__all__ = ["Diverged", "GenlabError"]


class GenlabError(Exception):
    """A problem the user can fix: bad config, missing data, unknown name."""


class Diverged(GenlabError):
    """Training produced a NaN or infinite loss."""
