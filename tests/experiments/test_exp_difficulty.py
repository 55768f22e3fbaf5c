"""Smoke run of the difficulty experiment (Arpit et al. 2017) on its quick profile."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch

from genlab.data import DataSpec
from genlab.experiments import resolve_config, run_experiment
from genlab.experiments.difficulty import CLAIMS, EXPERIMENT
from genlab.measures.critical import dispersion_index
from genlab.models import build_model
from genlab.train import evaluate


@pytest.fixture(scope="module", autouse=True)
def _own_choice_cache(tmp_path_factory):
    """Measure the seed-ensemble method into a fresh cache, not the user's."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GENLAB_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        yield


def _weights(record) -> dict[str, tuple[dict, dict]]:
    """name → (model info json, state dict) of every saved model."""
    out = {}
    for info in sorted((record.dir / "weights").glob("*.json")):
        state = torch.load(info.with_suffix(".pt"), weights_only=True)
        out[info.stem] = (json.loads(info.read_text()), state)
    return out


def _rebuild(info: dict, state: dict) -> torch.nn.Module:
    model = build_model(info["model"])
    model.load_state_dict(state)
    return model


def _digest(x: torch.Tensor, y: torch.Tensor) -> str:
    h = hashlib.sha256(x.contiguous().numpy().tobytes())
    h.update(y.numpy().astype(np.int64).tobytes())
    return h.hexdigest()[:16]


def test_quick_run_is_complete(record):
    assert record.status == "ok"
    for f in ("config.json", "metrics.jsonl", "result.json", "data.json", "arrays.npz",
              "tables.json"):
        assert (record.dir / f).is_file()
    assert {p.stem for p in record.figures} == {"per_example", "csr", "label_noise"}
    assert len(_weights(record)) == 3 + len(record.config["noise"]) + 3
    assert record.data["ensemble_method"] in ("vmap", "sequential")
    tables = json.loads((record.dir / "tables.json").read_text())
    assert [r[0] for r in tables["dispersion"]["rows"]] == ["real", "randX", "randY"]


def test_claims_are_measured_and_cite_the_paper(record, check_claims):
    claims = check_claims(record, [c.name for c in CLAIMS])
    for c in claims.values():
        assert c["paper"].startswith("Arpit et al. 2017") and c["paper_value"]
        assert c["min_profile"] == next(s.min_profile for s in CLAIMS if s.name == c["name"])


def _within(correct: np.ndarray, labels: np.ndarray) -> float:
    """D_within from per-class sums (an independent route to the same number)."""
    runs = correct.shape[0]
    p_x = correct.mean(0)
    counts = np.bincount(labels)
    means = np.bincount(labels, weights=p_x) / np.maximum(counts, 1)
    spread = ((p_x - means[labels]) ** 2).sum()
    m = counts * runs
    null = ((counts - 1) * means * (1 - means) * m / np.maximum(m - 1, 1))[counts > 0].sum()
    return spread / (null / runs)


def test_stored_accuracies_reproduce_both_dispersion_indices(record):
    cfg = record.config
    for cond, info in record.data["one_epoch"].items():
        correct = record.arrays[f"correct_{cond}"]
        labels = record.arrays[f"labels_{cond}"]
        assert correct.shape == (cfg["runs"], cfg["n_examples"]) and labels.shape == (
            cfg["n_examples"],)
        assert info["D"] == pytest.approx(dispersion_index(torch.from_numpy(correct)))
        assert info["D_within"] == pytest.approx(_within(correct.astype(float), labels))
        assert info["mean_acc"] == pytest.approx(correct.mean())
    # the runs are independent: not every run makes the same predictions
    assert np.any(record.arrays["correct_real"].std(0) > 0)


def test_data_specs_rebuild_exactly_what_was_trained_on(record):
    runs = record.data["runs"]
    for name, (info, state) in _weights(record).items():
        spec = DataSpec(**info["data"])
        ds = spec.load()
        assert _digest(ds.x_train, ds.y_train) == info["train_digest"], name
        model = _rebuild(info, state)
        if name.startswith("one_epoch_"):
            cond = name.removeprefix("one_epoch_").removesuffix("_run0")
            assert np.array_equal(ds.y_train[:record.config["n_examples"]].numpy(),
                                  record.arrays[f"labels_{cond}"])
            continue
        run = next(r for n, r in runs.items() if n.replace("=", "_").replace(" ", "_") == name)
        clean = spec.replace(label_noise=0.0).load().y_train
        noisy = ds.y_train != clean
        last = run["history"][-1]
        assert evaluate(model, ds.x_test, ds.y_test)["acc"] == last["val_acc"]
        if noisy.any():
            assert evaluate(model, ds.x_train[noisy], ds.y_train[noisy])["acc"] == last[
                "noisy_acc"]
        assert evaluate(model, ds.x_train[~noisy], ds.y_train[~noisy])["acc"] == last[
            "clean_acc"]


def test_conditions_differ_only_where_they_should(record):
    specs = {n: DataSpec(**i["data"]) for n, (i, _) in _weights(record).items()}
    real, rand_x, rand_y = (specs[f"one_epoch_{c}_run0"].load() for c in ("real", "randX",
                                                                           "randY"))
    assert torch.equal(rand_x.y_train, real.y_train) and torch.equal(rand_y.x_train, real.x_train)
    x = rand_x.x_train
    assert abs(float(x.mean() - real.x_train.mean())) < 1e-3
    assert float(x.std()) == pytest.approx(float(real.x_train.std()), rel=1e-2)
    assert (rand_y.y_train != real.y_train).float().mean() > 0.8


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
    for h in rnd["history"]:  # overall = count-weighted clean and noisy parts
        f = rnd["noisy_fraction"]
        assert h["train_acc"] == pytest.approx(f * h["noisy_acc"] + (1 - f) * h["clean_acc"])


def test_same_seed_same_numbers(tmp_path):
    tiny = {"n_train": 200, "n_val": 50, "n_examples": 100, "runs": 3, "noise": [0.0, 0.4],
            "epochs": 2, "csr_points": 20, "csr_every": 1, "csr_steps": 3, "radii": [0.05, 0.1]}
    cfg = resolve_config(EXPERIMENT, "quick", tiny)
    a = run_experiment(EXPERIMENT, cfg, tmp_path / "a")
    b = run_experiment(EXPERIMENT, cfg, tmp_path / "b")
    assert a.result["summary"] == b.result["summary"]
    assert a.data["ensemble_method"] == b.data["ensemble_method"]
    assert np.array_equal(a.arrays["correct_real"], b.arrays["correct_real"])
