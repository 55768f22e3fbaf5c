"""The batch_gap section: a quick smoke run, its bookkeeping checked against the stored weights."""

import math

import pytest
import torch

from genlab.errors import GenlabError
from genlab.experiments import get, resolve_config, run_experiment
from genlab.models import build_model
from genlab.runs.measure import load_weights

EXPERIMENT = get("batch_gap")
NAMES = ["gap_exists", "each_fix_helps", "fixes_close_gap", "diffusion_log_fit",
         "log_beats_power", "matched_distance"]


def test_quick_run_measures_every_claim(record, check_claims):
    assert record.status == "ok"
    claims = check_claims(record, NAMES)
    assert all(c["min_profile"] == "default" for c in claims.values())  # quick cannot show them
    assert sorted(p.stem for p in (record.dir / "figures").glob("*.png")) == [
        "diffusion", "lr_schedules", "test_error"]
    assert set(record.tables) == {"variants", "diffusion_fits", "layer_fits", "temperature"}
    assert [row[0] for row in record.tables["variants"]["rows"]] == ["SB", "LB", "+LR", "+GBN",
                                                                    "+RA"]


def test_variants_follow_the_rules(record):
    cfg = record.config
    ratio = cfg["large_batch"] / cfg["small_batch"]
    v = {s["name"]: s for s in record.data["variants"]}
    lr0 = cfg["optimizer"]["lr"]
    assert v["SB"]["plan"]["lr"] == v["LB"]["plan"]["lr"] == lr0
    for name in ("+LR", "+GBN", "+RA"):  # √(B_L/B_S)
        assert v[name]["plan"]["lr"] == pytest.approx(lr0 * math.sqrt(ratio))
    assert v["+GBN"]["ghost"] == v["+RA"]["ghost"] == cfg["ghost_batch"]
    assert v["+RA"]["plan"]["epochs"] == cfg["epochs"] * ratio
    n = record.data["n_train"]
    assert v["SB"]["updates"] == cfg["epochs"] * math.ceil(n / cfg["small_batch"])
    assert v["+RA"]["updates"] == cfg["epochs"] * ratio * math.ceil(n / cfg["large_batch"])
    assert v["LB"]["updates"] == cfg["epochs"] * math.ceil(n / cfg["large_batch"])


@pytest.mark.parametrize("name, variant", [("sb", "SB"), ("ra", "+RA")])
def test_recorded_distance_is_that_of_the_stored_weights(record, name, variant):
    """The last recorded ‖w_t − w_0‖ of seed 0 equals the distance between the stored trained
    weights and a fresh model built from the stored spec (its seeded initialization)."""
    trained, info = load_weights(record.dir, name)
    initial = build_model(info["model"])
    with torch.no_grad():
        sq = sum(((p - q) ** 2).sum() for p, q in zip(trained.parameters(), initial.parameters()))
    summary = next(s for s in record.data["variants"] if s["name"] == variant)
    assert summary["steps"][-1] == summary["updates"]
    assert float(sq.sqrt()) == pytest.approx(summary["distance_seeds"][0][-1], rel=1e-5)
    assert info["data"]["dataset"] == "mnist" and info["variant"] == variant


def test_paired_variants_share_their_initialization(record):
    sb, _ = load_weights(record.dir, "sb")
    gbn_info = load_weights(record.dir, "gbn")[1]
    assert gbn_info["model"]["kwargs"]["ghost_batch_size"] == record.config["ghost_batch"]
    a = build_model(load_weights(record.dir, "lb")[1]["model"])
    b = build_model(gbn_info["model"])
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)


@pytest.mark.parametrize("overrides", [{"large_batch": 32}, {"milestones": [1.5, 1.0]},
                                       {"ghost_batch": 256}, {"milestones": [2.0]}])
def test_bad_configs_are_refused(overrides):
    with pytest.raises(GenlabError):
        resolve_config(EXPERIMENT, "quick", overrides)


@pytest.mark.parametrize("large_batch, message", [
    (33, "ghost batch"),  # 4,000 % 33 = 7 is fine, but each batch of 33 leaves 33 % 32 = 1
    (1333, "last batch of one"),  # 4,000 = 3 · 1,333 + 1
])
def test_a_batch_of_one_example_is_refused_before_training(tmp_path, large_batch, message):
    cfg = resolve_config(EXPERIMENT, "quick", {"large_batch": large_batch})
    with pytest.raises(GenlabError, match=message):
        run_experiment(EXPERIMENT, cfg, tmp_path)
