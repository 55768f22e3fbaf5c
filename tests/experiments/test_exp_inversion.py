"""Smoke run of the inversion section (quick profile), its stored model and its config checks."""

from __future__ import annotations

import math

import pytest
import torch

from genlab.errors import GenlabError
from genlab.experiments import get, resolve_config, run_experiment

EXPERIMENT = get("inversion")


def test_quick_run_is_complete_and_claims_are_measured(record, check_claims):
    assert record.status == "ok"
    for f in ("config.json", "metrics.jsonl", "result.json", "provenance.json", "data.json",
              "arrays.npz", "tables.json", "weights/trained.pt", "weights/trained.json"):
        assert (record.dir / f).is_file(), f
    assert {p.stem for p in record.figures} == {"grid_trained", "grid_random", "layers",
                                                "pre_images"}
    claims = check_claims(record, [c.name for c in EXPERIMENT.claims])
    rows = record.data["rows"]["trained"]
    conv = [r["identified"] for r in rows if not r["layer"].startswith("fc")]
    assert claims["conv_layers_keep_input"]["value"] == pytest.approx(min(conv))
    layers, cfg = record.data["layers"], record.config
    assert record.arrays["recs_random"].shape == (len(layers), 4, 1, 32, 32)
    assert all(math.isfinite(r["feature_error"]) and 0 <= r["identified"] <= 1 for r in rows)
    assert record.data["chance"] == pytest.approx(1 / cfg["candidates"])


def test_stored_vgg_rebuilds_with_its_data(record):
    from genlab.data import DataSpec
    from genlab.models import build_model

    info = json_load(record.dir / "weights" / "trained.json")
    model = build_model(info["model"])
    model.load_state_dict(torch.load(record.dir / "weights" / "trained.pt", weights_only=True))
    data = DataSpec(**info["data"]).load()
    assert data.x_test.shape[-1] == record.config["image_size"] == model.input_size
    with torch.no_grad():
        acc = float((model.eval()(data.x_test).argmax(1) == data.y_test).double().mean())
    assert acc == pytest.approx(record.result["summary"]["test_accuracy"], abs=2 / len(data.y_test))


def json_load(path):
    import json

    return json.loads(path.read_text())


def test_bad_config_and_missing_weights(tmp_path):
    with pytest.raises(GenlabError, match="unknown layers"):
        resolve_config(EXPERIMENT, "quick", {"layers": '["conv1_1", "conv9_9"]'})
    with pytest.raises(GenlabError, match="multiple of 32"):
        resolve_config(EXPERIMENT, "quick", {"image_size": "48"})
    with pytest.raises(GenlabError, match="subset"):
        resolve_config(EXPERIMENT, "quick", {"dip_layers": '["fc6"]'})
    cfg = resolve_config(EXPERIMENT, "quick", {"weights": str(tmp_path / "vgg16.pt")})
    with pytest.raises(GenlabError, match="no VGG16 weights file"):
        run_experiment(EXPERIMENT, cfg, tmp_path)


@pytest.mark.slow
def test_user_vgg16_checkpoint_path(tmp_path):
    """The ``weights`` path end to end, with a random full-size VGG16 state dict (528 MB)."""
    from genlab.models import VGG16

    torch.save(VGG16(seed=5).state_dict(), tmp_path / "vgg16.pt")
    cfg = resolve_config(EXPERIMENT, "quick", {
        "weights": str(tmp_path / "vgg16.pt"), "layers": '["conv1_2", "fc8"]', "steps": 2,
        "candidates": 4, "sources": 2, "dip_layers": '["conv1_2"]', "dip_steps": 2})
    record = run_experiment(EXPERIMENT, cfg, tmp_path / "runs")
    assert record.status == "ok" and "vgg16.pt" in record.data["source"]
    assert record.arrays["recs_trained"].shape == (2, 2, 3, 32, 32)  # RGB natural crops
    assert not (record.dir / "weights").exists()  # the user's weights are not copied
