"""The page's content, read as HTML: sections, claims beside the papers, over-seeds verdicts."""

from __future__ import annotations

import re

from genlab.report import render
from genlab.report.text import arxiv_link, parse


def test_page_is_one_file_with_embedded_figures(page):
    html = page.read_text()
    assert list(page.parent.iterdir()) == [page]
    assert html.count("data:image/png;base64,") >= 4
    assert not re.search(r'src="(?!data:)', html)  # nothing loaded from elsewhere


def test_sections_claims_and_seeds(page):
    html = page.read_text()
    assert html.index('id="descent"') < html.index('id="regularization"')
    assert "Mandt, Hoffman &amp; Blei 2017" in html  # the paper beside the claim
    assert "holds in 2 of 2 seeds" in html or "holds in 0 of 2 seeds" in html
    section = html[html.index('id="regularization"'):]
    assert 'class="detail">seed 0: ' in section  # the detail shown is the first seed's
    assert "Profile <b>quick</b>" in html and "1, 2 seeds per section" in html
    assert "arxiv.org/abs/1704.04289" in html  # references with arXiv links
    assert "Not run yet:" in html


def test_autoescape_and_markdown_parts():
    text = parse("## question\nWhy *this*?\n## figure curves\nLook.\n## references\n"
                 "- A 2020. T. arXiv:2001.01234\n")
    assert text.get("question") == "<p>Why <em>this</em>?</p>"
    assert text.figures == {"curves": "<p>Look.</p>"}
    assert arxiv_link(text.references[0]) == "https://arxiv.org/abs/2001.01234"
    context = {"sections": [], "missing": ["<script>"], "intro": text, "closing": text,
               "profiles": ["quick"], "seeds": [1], "references": [],
               "totals": {"pass": 0, "fail": 0, "flip": 0, "unexpected": 0},
               "built": "now", "root": "<b>runs</b>"}
    html = render(context)
    assert "&lt;script&gt;" in html and "&lt;b&gt;runs&lt;/b&gt;" in html


def test_a_sweep_started_elsewhere_is_found_from_any_directory(tmp_path, monkeypatch):
    from genlab.report import build_report
    from genlab.sweeps import run_sweep

    (tmp_path / "a").mkdir()
    monkeypatch.chdir(tmp_path / "a")
    run_sweep("regularization", seeds=[0], overrides={"draws": 2, "max_degree": 5},
              out="runs", workers=1, log=lambda line: None)  # stores paths relative to a/
    monkeypatch.chdir(tmp_path)
    html = build_report(tmp_path / "a" / "runs", tmp_path / "report").read_text()
    assert "holds in" in html and 'id="regularization"' in html
