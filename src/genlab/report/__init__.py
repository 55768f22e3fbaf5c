"""The lecture as one self-contained web page, built only from stored runs.

:func:`build_report` renders ``templates/page.html.j2`` (Jinja2, autoescape on) with
what :func:`genlab.report.page.collect` gathers: each section's narrative
(``lecture.md`` beside its code), claims beside the papers' numbers, result tables,
and its figures embedded as PNG data, so the page is one file with no network request.
"""

from __future__ import annotations

from pathlib import Path

from ..runs import atomic_write

__all__ = ["build_report", "render"]


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "—" if value is None else str(value)


def render(context: dict) -> str:
    """The page's HTML for a context from :func:`genlab.report.page.collect`."""
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(loader=PackageLoader("genlab.report", "templates"),
                      autoescape=select_autoescape(["html", "j2"], default=True),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["cell"] = _cell
    return env.get_template("page.html.j2").render(**context)


def build_report(runs: Path | str, out: Path | str) -> Path:
    """Write ``out/index.html`` from the run store ``runs``.

    Each section shows its newest finished run, or, where a sweep over seeds covers
    it, its claims judged over seeds. The page embeds its figures: it is one file to
    share.

    Returns:
        The path of the page.
    """
    from .page import collect

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "index.html"
    atomic_write(path, render(collect(runs)))
    return path
