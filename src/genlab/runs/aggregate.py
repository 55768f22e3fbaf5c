"""Claims judged over seeds: the aggregate of a sweep's member runs.

For each grid point and each claim: the measured value's mean ± standard deviation
over seeds, in how many seeds the claim holds (k of n), and a verdict over seeds by a
rule fixed before any result was seen:

- ``holds``: the claim holds in every seed;
- ``does not hold``: it holds in none;
- ``flips with the seed``: it holds in some seeds and not in others.

Beside the verdict, ``mean_clears`` says whether the mean clears the threshold by two
standard errors (mean − 2·SE ≥ threshold for ``>=``), a second, softer reading that
the report may show; it never replaces the verdict.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .store import RunRecord

__all__ = ["VERDICTS", "aggregate_claims", "claim_verdict", "load_aggregate",
           "verdict_over_seeds"]

VERDICTS = ("holds", "does not hold", "flips with the seed")


def verdict_over_seeds(passed: Sequence[bool]) -> str:
    """The over-seeds verdict of one claim from its per-seed verdicts (see module doc)."""
    if not passed:
        raise ValueError("no seeds to judge")
    k = sum(passed)
    return VERDICTS[0] if k == len(passed) else VERDICTS[1] if k == 0 else VERDICTS[2]


def _mean_clears(mean: float, se: float, op: str, threshold: float) -> bool:
    if not math.isfinite(mean):
        return False
    return mean - 2 * se >= threshold if op in (">=", ">") else mean + 2 * se <= threshold


def _summarize(claims: list[dict]) -> dict[str, Any]:
    values = [c["value"] for c in claims]
    finite = [v for v in values if math.isfinite(v)]
    n = len(values)
    mean = statistics.fmean(finite) if finite else math.nan
    std = statistics.stdev(finite) if len(finite) > 1 else 0.0
    se = std / math.sqrt(len(finite)) if finite else math.nan
    first = claims[0]
    passed = [bool(c["passed"]) for c in claims]
    return {"name": first["name"], "statement": first["statement"], "op": first["op"],
            "threshold": first["threshold"], "paper": first.get("paper", ""),
            "paper_value": first.get("paper_value", ""),
            "expected": all(c.get("expected", True) for c in claims),
            "n": n, "mean": mean, "std": std, "stderr": se, "values": values,
            "holds_in": sum(passed), "verdict": verdict_over_seeds(passed),
            "mean_clears": _mean_clears(mean, se, first["op"], first["threshold"])}


def aggregate_claims(members: Iterable[tuple[dict[str, Any], RunRecord]]) -> list[dict]:
    """Group finished member runs by (experiment, grid point) and summarize each claim.

    Args:
        members: pairs (``{"experiment", "grid": {key: value}, "seed"}``, the member's run).

    Returns:
        One entry per (experiment, grid point): ``{"experiment", "grid", "seeds", "claims":
        [per-claim summary]}``, in the order the groups first appear.
    """
    groups: dict[str, dict[str, Any]] = {}
    for member, record in members:
        key = json.dumps([member["experiment"], member["grid"]], sort_keys=True)
        group = groups.setdefault(key, {"experiment": member["experiment"],
                                        "grid": member["grid"], "seeds": [], "runs": []})
        group["seeds"].append(member["seed"])
        group["runs"].append(record)
    out = []
    for group in groups.values():
        by_name: dict[str, list[dict]] = {}
        for record in group.pop("runs"):
            for claim in record.result.get("claims", []):
                by_name.setdefault(claim["name"], []).append(claim)
        group["claims"] = [_summarize(claims) for claims in by_name.values()]
        out.append(group)
    return out


def load_aggregate(sweep_dir: str | Path) -> dict[str, Any]:
    """A sweep directory's ``aggregate.json`` (spec, member statuses and claim summaries).

    Raises:
        FileNotFoundError: ``sweep_dir`` is not a sweep directory.
    """
    path = Path(sweep_dir) / "aggregate.json"
    if not path.is_file():
        raise FileNotFoundError(f"{sweep_dir} is not a sweep directory (no aggregate.json)")
    return json.loads(path.read_text())


def claim_verdict(claim: dict) -> tuple[str, str]:
    """(kind, words) of a run's claim or of a claim judged over seeds: kind is "pass",
    "fail", "flip" or "unexpected" (declared for a larger profile); words as printed
    ("holds", "does not hold", "flips with the seed", "not expected at this profile (…)")."""
    word = claim.get("verdict") or ("holds" if claim["passed"] else "does not hold")
    if not claim.get("expected", True):
        return "unexpected", f"not expected at this profile ({word})"
    return {"holds": "pass", "does not hold": "fail"}.get(word, "flip"), word
