"""Smoke run of the difficulty experiment (Arpit et al. 2017) on its quick profile."""

from __future__ import annotations


import numpy as np
import pytest
import torch

from genlab.experiments import resolve_config, run_experiment
from genlab.experiments.difficulty import EXPERIMENT
from genlab.measures.critical import dispersion_index
from genlab.models import MLP



def test_quick_run_is_complete(record):
    assert record.status == "ok"
    for f in ("config.json", "metrics.jsonl", "result.json", "data.json", "arrays.npz"):
        assert (record.dir / f).is_file()
    assert {p.stem for p in record.figures} == {"per_example", "csr", "label_noise"}
    cfg = record.config
    weights = sorted(p.stem for p in (record.dir / "weights").glob("*.pt"))
    assert len(weights) == 3 + len(cfg["noise"]) + 3
    state = torch.load(record.dir / "weights" / "random_labels.pt", weights_only=True)
    MLP(784, cfg["hidden"], 10).load_state_dict(state)


def test_claims_are_measured(record, check_claims):
    claims = record.result["claims"]
    assert len(claims) == 5
    check_claims(record)


def test_stored_accuracies_reproduce_dispersion(record):
    cfg = record.config
    for cond, info in record.data["one_epoch"].items():
        correct = record.arrays[f"correct_{cond}"]
        assert correct.shape == (cfg["runs"], cfg["n_examples"])
        assert info["dispersion"] == pytest.approx(dispersion_index(torch.from_numpy(correct)))
        assert info["mean_acc"] == pytest.approx(correct.mean())
    # the runs are independent: not every run makes the same predictions
    assert np.any(record.arrays["correct_real"].std(0) > 0)


def test_noise_runs_track_clean_and_noisy_parts(record):
    runs = record.data["runs"]
    clean = runs["noise=0"]
    assert clean["noisy_fraction"] == 0
    assert all(isinstance(h["noisy_acc"], str) for h in clean["history"])  # NaN: no noisy part
    rnd = runs["random labels"]
    assert 0.85 < rnd["noisy_fraction"] < 0.95  # p = 1 changes ≈ 1 − 1/K of the labels
    epochs = record.config["epochs"]
    assert [h["epoch"] for h in rnd["history"]] == list(range(epochs + 1))
    assert all("csr" in h for h in rnd["history"] if h["epoch"] % record.config["csr_every"] == 0)


def test_same_seed_same_numbers(tmp_path):
    tiny = {"n_train": 200, "n_val": 50, "n_examples": 100, "runs": 3, "noise": [0.0, 0.4],
            "epochs": 2, "csr_points": 20, "csr_every": 1, "csr_steps": 3, "radii": [0.05, 0.1]}
    cfg = resolve_config(EXPERIMENT, "quick", tiny)
    a = run_experiment(EXPERIMENT, cfg, tmp_path / "a")
    b = run_experiment(EXPERIMENT, cfg, tmp_path / "b")
    assert a.result["summary"] == b.result["summary"]
    assert np.array_equal(a.arrays["correct_real"], b.arrays["correct_real"])
