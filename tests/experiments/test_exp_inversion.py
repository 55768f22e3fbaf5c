"""Smoke run of the layer-wise inversion experiment (quick profile) and its config checks."""

from __future__ import annotations

import math

import pytest

from genlab.errors import GenlabError
from genlab.experiments import get, resolve_config, run_experiment



def test_quick_run_is_complete_and_claims_are_measured(tmp_path, check_claims):
    exp = get("inversion")
    cfg = resolve_config(exp, "quick", {"layers": '["conv1_2", "conv3_3", "fc8"]',
                                        "n_images": 2, "steps": 60, "train_epochs": 0.5})
    record = run_experiment(exp, cfg, tmp_path)
    assert record.status == "ok"
    for f in ("config.json", "metrics.jsonl", "result.json", "provenance.json", "data.json",
              "arrays.npz", "weights/trained.pt"):
        assert (record.dir / f).is_file()
    assert {p.stem for p in record.figures} == {"grid_trained", "grid_random", "quality"}
    claims = record.result["claims"]
    assert [c["name"] for c in claims] == ["most_layers_keep_input", "drop_only_near_top",
                                           "random_net_keeps_input"]
    check_claims(record)
    rows = record.data["rows"]["trained"]
    ok = [r["ssim"] >= cfg.ssim_threshold for r in rows]
    assert claims[0]["value"] == pytest.approx(sum(ok) / 3)
    assert record.arrays["recs_random"].shape == (3, 2, 1, 32, 32)
    assert all(math.isfinite(r["feature_rel_error"]) for r in rows)


def test_bad_config_and_missing_weights(tmp_path):
    exp = get("inversion")
    with pytest.raises(GenlabError, match="unknown layers"):
        resolve_config(exp, "quick", {"layers": '["conv1_1", "conv9_9"]'})
    cfg = resolve_config(exp, "quick", {"weights": str(tmp_path / "vgg16.pt")})
    with pytest.raises(GenlabError, match="no VGG16 weights file"):
        run_experiment(exp, cfg, tmp_path)
