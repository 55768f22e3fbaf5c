"""The lecture as one static web page, built only from stored runs."""

from __future__ import annotations

import shutil
import time
from html import escape
from pathlib import Path

from ..runs import RunRecord, atomic_write, latest_runs

__all__ = ["build_report"]

_CSS = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{margin-bottom:.2em} section{border-top:1px solid #ddd;padding-top:1em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
.pass{color:#176f2c;font-weight:600} .fail{color:#b3261e;font-weight:600}
.meta{color:#666;font-size:.85em} img{max-width:100%;margin:.4em 0;border:1px solid #eee}
.missing{color:#666;font-style:italic}
"""


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {_fmt(x)}" for k, x in v.items())
    if isinstance(v, list):
        return ", ".join(_fmt(x) for x in v)
    return str(v)


def _claims_table(run: RunRecord) -> str:
    rows = []
    for c in run.result.get("claims", []):
        cls, word = ("pass", "holds") if c["passed"] else ("fail", "does not hold")
        rows.append(f"<tr><td>{escape(c['statement'])}<div class=meta>{escape(c['detail'])}"
                    f"</div></td><td>{_fmt(c['value'])}</td><td>{escape(c['op'])} "
                    f"{_fmt(c['threshold'])}</td><td class={cls}>{word}</td></tr>")
    return ("<table><tr><th>claim</th><th>measured</th><th>threshold</th><th>verdict</th></tr>"
            + "".join(rows) + "</table>")


def _summary_table(run: RunRecord) -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(_fmt(v))}</td></tr>"
                   for k, v in run.result.get("summary", {}).items())
    return f"<details><summary>key numbers</summary><table>{rows}</table></details>"


def _section(name: str, run: RunRecord, out: Path) -> str:
    from ..experiments import get

    exp = get(name)
    fig_dir = out / "figures" / name
    fig_dir.mkdir(parents=True, exist_ok=True)
    imgs = []
    for fig in run.figures:
        shutil.copy2(fig, fig_dir / fig.name)
        imgs.append(f'<img src="figures/{escape(name)}/{escape(fig.name)}" '
                    f'alt="{escape(name)}: {escape(fig.stem)}">')
    prov = run.provenance
    meta = (f"run {escape(run.dir.name)} · profile {escape(str(prov.get('profile')))} · "
            f"seed {prov.get('seed')} · {escape(str(prov.get('device')))} · "
            f"{run.result.get('wall_time_s', '?')} s · commit "
            f"{escape(str(prov.get('commit'))[:10])}{' (dirty)' if prov.get('dirty') else ''}")
    return (f'<section id="{escape(name)}"><h2>§{escape(exp.section)} {escape(exp.title)}</h2>'
            f"<p>{escape(exp.claim)}</p>{_claims_table(run)}{_summary_table(run)}"
            f"{''.join(imgs)}<p class=meta>{meta}</p></section>")


def build_report(runs: Path | str, out: Path | str) -> Path:
    """Write ``out/index.html`` from the newest finished run of each experiment in ``runs``.

    Args:
        runs: the run store directory.
        out: output directory; figures are copied under ``out/figures/<experiment>/``.

    Returns:
        The path of the page.
    """
    from ..experiments import available

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    latest = latest_runs(runs)
    sections, missing = [], []
    for name in available():
        if name in latest:
            sections.append(_section(name, latest[name], out))
        else:
            missing.append(name)
    held = sum(c["passed"] for r in latest.values() for c in r.result.get("claims", []))
    total = sum(len(r.result.get("claims", [])) for r in latest.values())
    toc = "".join(f'<li><a href="#{n}">{escape(n)}</a></li>' for n in latest if n in available())
    note = (f'<p class=missing>Not run yet: {escape(", ".join(missing))}.</p>' if missing
            else "")
    page = (f"<!doctype html><html><head><meta charset=utf-8><title>genlab: the lecture"
            f"</title><style>{_CSS}</style></head><body><h1>Why do over-parameterized "
            f"networks generalize?</h1><p class=meta>Built {time.strftime('%Y-%m-%d %H:%M')} "
            f"from {escape(str(runs))}: {held} of {total} claims hold.</p><ol>{toc}</ol>{note}"
            + "".join(sections) + "</body></html>")
    path = out / "index.html"
    atomic_write(path, page)
    return path
