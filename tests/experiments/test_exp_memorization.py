"""Smoke run of the memorization experiment (Zhang et al. 2017) on its quick profile."""

from __future__ import annotations

import json
import math

import torch

from genlab.data import DataSpec
from genlab.experiments import get, resolve_config, run_experiment
from genlab.experiments.memorization import CLAIMS, EXPERIMENT
from genlab.models import build_model
from genlab.runs import slug


def _weights(record, name):
    """The stored weights info (model spec, data spec, meta) and state dict of a variant."""
    stem = record.dir / "weights" / slug(name)  # "p_0.5": no with_suffix (it would drop ".5")
    info = json.loads(stem.parent.joinpath(stem.name + ".json").read_text())
    return info, torch.load(stem.parent / (stem.name + ".pt"), weights_only=True)


def test_quick_run_is_complete(record):
    assert record.status == "ok"
    for f in ("config.json", "metrics.jsonl", "result.json", "data.json", "tables.json"):
        assert (record.dir / f).is_file()
    assert {p.stem for p in record.figures} == {"learning_curves", "corruption", "regularization"}
    runs = record.data["runs"]
    assert {r["variant"] for r in record.metrics} == set(runs)
    for name, r in runs.items():  # final weights rebuild from their stored model and data spec
        info, state = _weights(record, name)
        build_model(info["model"]).load_state_dict(state)
        spec = DataSpec(**info["data"])
        assert spec.label_noise == r["variant"]["p"] and spec.inputs == r["variant"]["inputs"]
        assert (info["augmentation"] is not None) == (r["variant"]["shift"] > 0)
        assert info["optimizer"]["weight_decay"] == r["variant"]["weight_decay"]
    table = record.tables["table1"]
    assert len(table["rows"]) == 11 and "paper test (%)" in table["columns"]


def test_claims_are_measured(record, check_claims):
    claims = check_claims(record, [c.name for c in CLAIMS])
    assert all(c["paper"] and c["paper_value"] for c in claims.values())


def test_time_to_fit_is_first_epoch_reaching_target(record):
    target = record.config["fit_accuracy"]
    for r in record.data["runs"].values():
        accs = [h["train_acc"] for h in r["history"]]
        reached = [i for i, a in enumerate(accs) if a >= target]
        if reached:
            assert r["time_to_fit"] == reached[0] == len(accs) - 1  # training stops once fitted
        else:
            assert r["time_to_fit"] == "nan" and len(accs) == r["budget"] + 1


def test_regularizer_variants_get_their_own_budget(record):
    runs, cfg = record.data["runs"], record.config
    assert runs["augmentation p=1"]["budget"] == runs["dropout p=0"]["budget"] == cfg["reg_max_epochs"]
    assert runs["p=1"]["budget"] == runs["gaussian"]["budget"] == runs["mlp p=1"]["budget"] \
        == cfg["max_epochs"]


def test_augmentation_claim_is_the_error_closed_over_the_window(record):
    history = record.data["runs"]["augmentation p=1"]["history"]
    window = record.config["trend_window"]
    a0, a1 = history[max(0, len(history) - 1 - window)]["train_acc"], history[-1]["train_acc"]
    claim = next(c for c in record.result["claims"]
                 if c["name"] == "augmentation_does_not_stop_fitting")
    assert math.isclose(claim["value"], (a1 - a0) / (1 - a0), rel_tol=1e-9)


def test_test_labels_stay_true_and_corruption_is_nested(record):
    """The stored label specs share one corruption seed, so the corrupted sets nest in p."""
    specs = {p: DataSpec(**_weights(record, f"p={p:g}")[0]["data"]) for p in (0.0, 0.5, 1.0)}
    assert len({s.corruption_seed for s in specs.values()}) == 1
    full = {p: s.replace(n_train=None, n_test=None).load() for p, s in specs.items()}
    clean = full[0.0]
    changed = {}
    for p, ds in full.items():
        assert torch.equal(ds.y_test, clean.y_test) and torch.equal(ds.x_train, clean.x_train)
        changed[p] = ds.y_train != clean.y_train
    assert not changed[0.0].any()
    assert (changed[0.5] <= changed[1.0]).all()  # nested: corrupted at 0.5 ⇒ at 1
    assert 0.42 < float(changed[0.5].float().mean()) < 0.48  # ≈ p(1 − 1/K) of 4,000 labels
    assert 0.88 < float(changed[1.0].float().mean()) < 0.92


def test_same_seed_same_numbers_and_common_budget(tmp_path):
    exp = get("memorization")
    tiny = {"n_train": 20, "n_test": 20, "corruption": [0.0, 0.5, 1.0], "inputs": ["gaussian"],
            "max_epochs": 1, "reg_max_epochs": None}
    cfg = resolve_config(exp, "quick", tiny)
    a = run_experiment(exp, cfg, tmp_path / "a")
    b = run_experiment(exp, cfg, tmp_path / "b")
    assert a.result["summary"] == b.result["summary"]
    assert {r["budget"] for r in a.data["runs"].values()} == {1}  # None: the common budget
