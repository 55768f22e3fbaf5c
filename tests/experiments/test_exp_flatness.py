"""Smoke run of the flatness experiment (Keskar 2017, Dinh 2017) on its quick profile,
and the stop-at-a-target-loss rule it relies on."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest
import torch

from genlab.errors import GenlabError
from genlab.experiments import get, resolve_config
from genlab.models import build_model

EXPERIMENT = get("flatness")
CLAIM_NAMES = ["equal_training_loss", "lb_sharper", "lb_sharper_10x", "lb_generalizes_worse",
               "rescaling_keeps_function", "naive_sharpness_moves", "eps_sharpness_moves",
               "invariant_measure_fixed"]


def test_quick_run_is_complete(record):
    assert record.status == "ok"
    assert {p.stem for p in record.figures} == {"training", "interpolation", "sb_vs_lb",
                                                "spectral_density", "rescaling"}
    runs = record.data["runs"]
    assert [(r["regime"], r["pair"]) for r in runs] == [("small_batch", 0), ("large_batch", 0)]
    for r in runs:
        for key in ("lambda_max", "trace", "fn_sharpness", "test_acc", "epochs", "distance"):
            assert math.isfinite(r[key]), key
        assert len(r["eps_sharpness"]) == len(record.config["epsilons"])
        # the stopping rule: the last check is the first below the target (or the cap)
        losses = [loss for _, loss in r["curve"]]
        assert losses[-1] == pytest.approx(r["train_loss"], rel=1e-6)
        assert all(loss >= record.config["target_loss"] for loss in losses[:-1])
    assert len(record.data["rescaling"]) == len(record.config["alphas"])
    assert {"small_batch_density", "large_batch_grid"} <= set(record.arrays)
    assert {"keskar_f1", "runs", "rescaling"} <= set(json.loads(
        (record.dir / "tables.json").read_text()))


def test_weights_rebuild_with_their_data(record):
    """Each saved model is rebuilt from its spec and gives the stored training loss."""
    from genlab.data import DataSpec
    from genlab.train import evaluate

    r = record.data["runs"][1]
    info = json.loads((record.dir / "weights" / "large_batch_0.json").read_text())
    model = build_model(info["model"])
    model.load_state_dict(torch.load(record.dir / "weights" / "large_batch_0.pt",
                                     weights_only=True))
    ds = DataSpec(**info["data"]).load()
    loss = evaluate(model, ds.x_train, ds.y_train)["loss"]
    assert loss == pytest.approx(r["train_loss"], rel=1e-5)
    assert info["batch_size"] == record.config["large_batch"]


def test_claims_are_measured(record, check_claims):
    claims = check_claims(record, CLAIM_NAMES)
    for c in claims.values():
        assert c["paper"] and c["paper_value"], c["name"]
    assert claims["equal_training_loss"]["threshold"] == record.config["target_loss"]
    assert claims["lb_sharper_10x"]["min_profile"] == "full"  # Keskar's scale
    assert claims["lb_generalizes_worse"]["min_profile"] == "default"


@pytest.mark.parametrize("overrides, fragment", [
    ({"alphas": "[0.1, 10, 100]"}, "alphas must include 1.0"),
    ({"small_batch": "500", "large_batch": "100"}, "small_batch must be smaller"),
])
def test_rejects_inconsistent_configs(overrides, fragment):
    with pytest.raises(GenlabError, match=fragment):
        resolve_config(EXPERIMENT, "quick", overrides)


def test_config_module_imports_no_torch():
    """``genlab list`` imports every section's ``__init__``: the config must stay light."""
    code = ("import sys, genlab.experiments.flatness as f; "
            "print(f.Config().optimizer.name, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["adam", "False"]


def test_a_run_that_misses_the_target_is_marked(tmp_path):
    """With an epoch cap too small to reach the target loss, the equal-loss claim fails
    and the comparisons say that their minima are not at equal loss."""
    from genlab.experiments import run_experiment

    tiny = {"n_train": 200, "n_test": 100, "hidden": "[16]", "max_epochs": 0.5,
            "alphas": "[1, 10, 100]", "trace_samples": 2, "fn_directions": 2, "slq_vectors": 1,
            "slq_steps": 4, "interp_points": 3, "sharp_iter": 2, "sharp_restarts": 1}
    record = run_experiment(EXPERIMENT, resolve_config(EXPERIMENT, "quick", tiny), tmp_path)
    claims = {c["name"]: c for c in record.result["claims"]}
    assert not claims["equal_training_loss"]["passed"]
    assert claims["equal_training_loss"]["value"] > record.config["target_loss"]
    assert all(not r["reached"] and r["epochs"] >= 0.5 for r in record.data["runs"])
    for name in ("lb_sharper", "lb_sharper_10x", "lb_generalizes_worse"):
        assert claims[name]["detail"].startswith("NOT AT EQUAL LOSS"), name
