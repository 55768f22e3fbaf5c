"""Smoke run of the Deep Image Prior section (quick profile) and its config checks."""

from __future__ import annotations

import numpy as np
import pytest

from genlab.errors import GenlabError
from genlab.experiments import get, resolve_config

EXPERIMENT = get("image_prior")


def test_quick_run_is_complete_and_claims_are_measured(record, check_claims):
    assert record.status == "ok"
    for f in ("config.json", "metrics.jsonl", "result.json", "provenance.json", "data.json",
              "arrays.npz", "tables.json"):
        assert (record.dir / f).is_file(), f
    assert {p.stem for p in record.figures} == {"restorations", "curves", "snapshots",
                                                "impedance"}
    claims = check_claims(record, [c.name for c in EXPERIMENT.claims])
    s = record.result["summary"]
    assert set(s) == {"denoise", "inpaint", "text", "sr", "impedance_steps"}
    d = s["denoise"]["score"]
    assert claims["denoise_rises"]["value"] == pytest.approx(d["dip_best"] - d["observed"])
    size = record.config["size"]
    assert record.arrays["clean"].shape == (size, size, 3)
    curve = record.arrays["denoise.curve"]  # (5, evaluations): step, loss, score, avg, wmv
    assert curve.shape[0] == 5 and np.isfinite(curve[2]).all()
    assert curve[2].max() == pytest.approx(d["dip_best"])
    assert any(r.get("task") == "impedance" for r in record.metrics)


def test_config_rejects_sizes_the_net_cannot_take():
    with pytest.raises(GenlabError, match="multiple"):
        resolve_config(EXPERIMENT, "quick", {"size": "60"})
    with pytest.raises(GenlabError, match="at least 64"):  # 5 levels: 1×1 at the bottom
        resolve_config(EXPERIMENT, "default", {"size": "32"})
    with pytest.raises(GenlabError, match="impedance_size"):
        resolve_config(EXPERIMENT, "quick", {"impedance_size": "20"})
    with pytest.raises(GenlabError, match="tasks"):
        resolve_config(EXPERIMENT, "quick", {"tasks": '["deblur"]'})
