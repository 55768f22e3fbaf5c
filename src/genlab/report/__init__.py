"""The lecture as a web page, built only from stored runs."""

from .html import build_report

__all__ = ["build_report"]
