"""Smoke run of the Deep Image Prior experiment (quick profile) and its config checks."""

from __future__ import annotations


import numpy as np
import pytest

from genlab.errors import GenlabError
from genlab.experiments import get, resolve_config, run_experiment



def test_quick_run_is_complete_and_claims_are_measured(tmp_path, check_claims):
    exp = get("image_prior")
    small = {"size": 32, "denoise_iters": 150, "inpaint_iters": 40, "sr_iters": 60,
             "impedance_iters": 60, "impedance_size": 16, "es_window": 10, "es_patience": 50,
             "snapshots": "[50, 150]"}
    record = run_experiment(exp, resolve_config(exp, "quick", small), tmp_path)
    assert record.status == "ok"
    for f in ("config.json", "metrics.jsonl", "result.json", "provenance.json", "data.json",
              "arrays.npz"):
        assert (record.dir / f).is_file()
    names = {p.stem for p in record.figures}
    assert names == {"restorations", "curves", "snapshots", "impedance"}
    claims = {c["name"]: c for c in record.result["claims"]}
    assert set(claims) == {"denoise_rises", "denoise_peaks_then_falls", "early_stop_within_1db",
                           "sr_beats_bicubic", "natural_fits_faster", "impedance_order"}
    check_claims(record)
    s = record.result["summary"]
    assert set(s) == {"denoise", "inpaint", "text", "sr", "impedance_steps"}
    d = s["denoise"]["score"]
    assert claims["denoise_rises"]["value"] == pytest.approx(d["dip_best"] - d["observed"])
    assert record.arrays["clean"].shape == (32, 32, 3)
    assert np.isfinite(record.arrays["denoise.curve"]).sum() > 0
    assert any(r.get("task") == "impedance" for r in record.metrics)
    assert record.config["impedance_size"] == 16


def test_config_rejects_sizes_the_net_cannot_take():
    exp = get("image_prior")
    with pytest.raises(GenlabError, match="multiple"):
        resolve_config(exp, "quick", {"size": "60"})
    with pytest.raises(GenlabError, match="at least 64"):  # 5 levels: 1×1 at the bottom
        resolve_config(exp, "default", {"size": "32"})
    with pytest.raises(GenlabError, match="impedance_size"):
        resolve_config(exp, "quick", {"impedance_size": "20"})
    with pytest.raises(GenlabError, match="tasks"):
        resolve_config(exp, "quick", {"tasks": '["deblur"]'})
