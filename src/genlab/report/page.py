"""Gather what the page shows, as plain dicts: each section's run, claims, figures, text.

Only stored runs are read. When a sweep over seeds (without a grid) covers a section,
its claims are shown judged over seeds (mean ± std, holds in k of n, the verdict rule
of :mod:`genlab.runs.aggregate`) and its figures come from the sweep's first seed;
otherwise the newest finished run of the section is shown alone.
"""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

from ..runs import RunRecord, latest_runs, load_run
from ..runs.aggregate import claim_verdict
from .text import arxiv_link, page_text, section_text

__all__ = ["collect"]


def _figure(path: Path) -> dict[str, str]:
    data = base64.b64encode(path.read_bytes()).decode()
    return {"name": path.stem, "src": f"data:image/png;base64,{data}"}


def _claim_row(claim: dict, over_seeds: dict | None, seed: int | None = None) -> dict[str, Any]:
    """One row of a claims table; with ``over_seeds``, the sweep's mean ± std and verdict,
    and the detail line of the run shown (seed ``seed``) says which seed it is from."""
    source = over_seeds or claim
    css, word = claim_verdict(source)
    detail = claim["detail"]
    if over_seeds:
        measured = f"{over_seeds['mean']:.4g} ± {over_seeds['std']:.2g}"
        extra = f"holds in {over_seeds['holds_in']} of {over_seeds['n']} seeds"
        if detail and seed is not None:
            detail = f"seed {seed}: {detail}"
    else:
        measured, extra = f"{claim['value']:.4g}", ""
    return {"name": claim["name"], "statement": claim["statement"], "detail": detail,
            "measured": measured, "seeds": extra,
            "threshold": f"{claim['op']} {claim['threshold']:.4g}", "css": css, "verdict": word,
            "paper": claim.get("paper", ""), "paper_value": claim.get("paper_value", "")}


def _sweeps(root: Path) -> dict[str, dict[str, Any]]:
    """Per experiment, the newest seeds-only sweep group with every member finished."""
    found: dict[str, tuple[float, dict]] = {}
    for path in root.glob("sweeps/*/aggregate.json"):
        try:
            agg = json.loads(path.read_text())
        except (json.JSONDecodeError, OSError):
            continue
        if agg["spec"].get("grid"):
            continue
        for group in agg["groups"]:
            members = [m for m in agg["members"] if m["experiment"] == group["experiment"]]
            if any(m["status"] != "ok" for m in members):
                continue
            first = min(members, key=lambda m: m["seed"])
            # a run lives at <store>/<experiment>/<run-id>; the stored path may be relative
            # to wherever the sweep was started
            run = root / group["experiment"] / Path(first["run_dir"]).name
            entry = {**group, "first_run": run, "profile": agg["spec"]["profile"]}
            if group["experiment"] not in found or agg["updated"] > found[group["experiment"]][0]:
                found[group["experiment"]] = (agg["updated"], entry)
    return {k: v for k, (_, v) in found.items()}


def _section(name: str, run: RunRecord, sweep: dict | None) -> dict[str, Any]:
    from ..experiments import get

    exp = get(name)
    text = section_text(name)
    over = {c["name"]: c for c in sweep["claims"]} if sweep else {}
    seed = run.config.get("seed")
    claims = [_claim_row(c, over.get(c["name"]), seed) for c in run.result.get("claims", [])]
    order = {name: i for i, name in enumerate(run.result.get("figures", []))}
    paths = sorted(run.figures, key=lambda p: order.get(p.name, len(order)))
    figures = [{**_figure(p), "caption": text.figures.get(p.stem, "")} for p in paths]
    prov = run.provenance
    counts = {k: sum(c["css"] == k for c in claims) for k in ("pass", "fail", "flip",
                                                              "unexpected")}
    return {
        "name": name, "title": exp.title, "section": exp.section, "claim": exp.claim,
        "text": text, "claims": claims, "figures": figures, "counts": counts,
        "tables": list(run.tables.values()), "seeds": len(sweep["seeds"]) if sweep else 1,
        "profile": prov.get("profile") or "custom",
        "meta": {"run": run.dir.name, "seed": prov.get("seed"), "device": prov.get("device"),
                 "wall": run.result.get("wall_time_s"), "commit": str(prov.get("commit"))[:10],
                 "dirty": bool(prov.get("dirty"))}}


def _references(sections: list[dict], *texts) -> list[dict[str, str]]:
    seen: dict[str, None] = {}
    for t in [*texts, *(s["text"] for s in sections)]:
        for ref in t.references:
            seen.setdefault(ref)
    return [{"text": ref, "link": arxiv_link(ref)} for ref in sorted(seen)]


def collect(root: Path | str) -> dict[str, Any]:
    """Everything the template needs, from the run store ``root``."""
    from ..experiments import available

    root = Path(root)
    latest, sweeps = latest_runs(root), _sweeps(root)
    sections, missing = [], []
    for name in available():
        if name in sweeps:
            sections.append(_section(name, load_run(sweeps[name]["first_run"]), sweeps[name]))
        elif name in latest:
            sections.append(_section(name, latest[name], None))
        else:
            missing.append(name)
    intro, closing = page_text("intro"), page_text("closing")
    profiles = sorted({s["profile"] for s in sections})
    seeds = sorted({s["seeds"] for s in sections})
    totals = {k: sum(s["counts"][k] for s in sections) for k in ("pass", "fail", "flip",
                                                                 "unexpected")}
    return {"sections": sections, "missing": missing, "intro": intro, "closing": closing,
            "profiles": profiles, "seeds": seeds, "totals": totals,
            "references": _references(sections, intro, closing),
            "built": time.strftime("%Y-%m-%d %H:%M"), "root": str(root)}
