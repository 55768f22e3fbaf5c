"""``genlab measure``: stored weights are rebuilt with their model and data specs and measured."""

from __future__ import annotations

import json

import pytest
import torch

from genlab.data import DataSpec
from genlab.measures import cross_entropy_loss, gradient_moments
from genlab.models import MLP
from genlab.runs import RunWriter
from genlab.runs.measure import load_weights, measure_run

SPECS = {"clean": DataSpec(dataset="digits", n_train=60, n_test=30, subset_seed=1),
         "random": DataSpec(dataset="digits", n_train=60, n_test=30, subset_seed=1,
                            label_noise=1.0, corruption_seed=5)}


@pytest.fixture
def run_dir(tmp_path):
    w = RunWriter(tmp_path, "toy", {"seed": 0}, seed=0, device="cpu")
    for i, (name, spec) in enumerate(SPECS.items()):
        model = MLP(64, [5], 10, seed=i)
        info = {"model": {"class": "genlab.models.mlp.MLP",
                          "kwargs": {"in_features": 64, "hidden": [5], "out_features": 10,
                                     "seed": i}},
                "data": spec.model_dump()}
        w.save_state(name, model.state_dict(), info)
    w.finish("ok")
    return w.dir


def test_measures_each_model_on_its_own_training_data(run_dir):
    out = measure_run(run_dir, ["noise", "hessian"], n_samples=40, batch_size=20, top_k=2)
    assert set(out.results["noise"]) == {"clean", "random"}
    for i, (name, spec) in enumerate(SPECS.items()):
        ds = spec.load()
        direct = gradient_moments(MLP(64, [5], 10, seed=i), cross_entropy_loss,
                                  (ds.x_train[:40], ds.y_train[:40]))
        assert out.results["noise"][name]["trace_cov"] == pytest.approx(direct.trace_cov,
                                                                        rel=1e-5)
    assert "labels redrawn with p = 1" in out.data["random"]
    stored = json.loads((run_dir / "measures" / "hessian.json").read_text())
    assert len(stored["clean"]["top_eigenvalues"]) == 2 and stored["meta"]["n_samples"] == 40


def test_capped_sample_count_is_reported(run_dir):
    out = measure_run(run_dir, "noise", weights=["clean"], n_samples=500)
    assert out.notes == ["clean: --n-samples 500 capped at the 60 training examples it was "
                         "trained on"]


def test_load_weights_rebuilds_the_model(run_dir):
    model, info = load_weights(run_dir, "random")
    reference = MLP(64, [5], 10, seed=1)
    x = torch.rand(3, 64)
    torch.testing.assert_close(model(x), reference.eval()(x))
    assert info["data"]["label_noise"] == 1.0


def test_errors(run_dir, tmp_path):
    with pytest.raises(ValueError, match="allowed: hessian, sharpness, noise"):
        measure_run(run_dir, "curvature")
    with pytest.raises(ValueError, match="no weights 'm3'"):
        measure_run(run_dir, "noise", weights=["m3"])
    with pytest.raises(FileNotFoundError):
        measure_run(tmp_path / "nowhere", "noise")
    (run_dir / "weights" / "clean.json").unlink()
    with pytest.raises(ValueError, match="no model spec"):
        measure_run(run_dir, "noise", weights=["clean"])


def test_weights_without_a_data_spec_are_skipped_unless_named(run_dir):
    info = json.loads((run_dir / "weights" / "random.json").read_text())
    (run_dir / "weights" / "random.json").write_text(json.dumps({**info, "data": None}))
    out = measure_run(run_dir, "noise", n_samples=20)
    assert set(out.results["noise"]) == {"clean"}
    assert out.notes == ["random: trained on data no DataSpec describes; skipped"]
    with pytest.raises(ValueError, match="'random' carry no data spec"):
        measure_run(run_dir, "noise", weights=["random"])
    (run_dir / "weights" / "clean.json").write_text(json.dumps({**info, "data": None}))
    with pytest.raises(ValueError, match="carry no data spec"):
        measure_run(run_dir, "noise")
