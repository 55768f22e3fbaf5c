"""The lecture's words: each section's ``lecture.md`` beside its code, plus the page's own.

A section's text lives in ``genlab/experiments/<name>/lecture.md``, split by second-level
headings into parts the page places around the evidence::

    ## question        the question the section asks
    ## experiment      what the experiment does
    ## figure NAME     what to look for in figure NAME (one part per figure)
    ## meaning         what the measured verdict means for the argument
    ## next            how it leads to the next section
    ## references      one "- ..." line per paper, with its arXiv identifier

The introduction and the closing section are ``genlab/report/text/{intro,closing}.md``.
Markdown is rendered with Python-Markdown; the texts are the project's own, so the
rendered HTML is trusted by the template.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources

__all__ = ["SectionText", "page_text", "section_text"]

_HEADING = re.compile(r"^## +(.+?)\s*$", re.M)
_ARXIV = re.compile(r"arXiv:(\d{4}\.\d{4,5})")


@dataclass
class SectionText:
    """A section's rendered parts (HTML strings) and its references (plain text lines)."""

    parts: dict[str, str] = field(default_factory=dict)
    figures: dict[str, str] = field(default_factory=dict)
    references: list[str] = field(default_factory=list)

    def get(self, key: str) -> str:
        return self.parts.get(key, "")


def _render(text: str) -> str:
    import markdown

    return markdown.markdown(text.strip(), extensions=["extra", "sane_lists"])


def parse(source: str) -> SectionText:
    """Split a lecture text by its ``## `` headings and render each part."""
    out = SectionText()
    pieces = _HEADING.split(source)
    for heading, body in zip(pieces[1::2], pieces[2::2]):
        heading = heading.strip().lower()
        if heading == "references":
            out.references = [line.strip()[2:].strip() for line in body.splitlines()
                              if line.strip().startswith("- ")]
        elif heading.startswith("figure "):
            out.figures[heading.removeprefix("figure ").strip()] = _render(body)
        else:
            out.parts[heading] = _render(body)
    return out


def section_text(experiment: str) -> SectionText:
    """The parsed ``lecture.md`` of an experiment (empty if it has none)."""
    path = resources.files("genlab.experiments") / experiment / "lecture.md"
    return parse(path.read_text(encoding="utf-8")) if path.is_file() else SectionText()


def page_text(name: str) -> SectionText:
    """The parsed ``genlab/report/text/<name>.md`` (the introduction or the closing)."""
    return parse((resources.files("genlab.report") / "text" / f"{name}.md")
                 .read_text(encoding="utf-8"))


def arxiv_link(reference: str) -> str | None:
    """The arxiv.org address of the first ``arXiv:NNNN.NNNNN`` in a reference, if any."""
    m = _ARXIV.search(reference)
    return f"https://arxiv.org/abs/{m.group(1)}" if m else None
