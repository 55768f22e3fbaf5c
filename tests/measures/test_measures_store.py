"""``measure_run``: measures a stored run's weights and writes them beside it."""

from __future__ import annotations

import json

import pytest
import torch

from genlab.measures import cross_entropy_loss, gradient_moments, measure_run, model_from_state
from genlab.models import MLP, MnistCNN


@pytest.mark.parametrize("make,shape", [
    (lambda: MnistCNN(3), (1, 28, 28)),
    (lambda: MnistCNN(3, channels=2, hidden=7, dropout=0.2), (1, 28, 28)),
    (lambda: MnistCNN(1, in_channels=3, image_size=32, num_classes=4), (3, 32, 32)),
    (lambda: MLP(20, [5, 4], 3), (20,)),
    (lambda: MLP(20, [6], 2, batch_norm=True), (20,)),
    (lambda: MLP(9, [], 2), (9,))])
def test_model_from_state_round_trip(make, shape):
    model = make().eval()
    clone = model_from_state(model.state_dict()).eval()
    x = torch.randn(4, *shape, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(clone(x), model(x))


def test_model_from_state_rejects_foreign_weights():
    with pytest.raises(ValueError, match="build_model"):
        model_from_state(torch.nn.GRU(3, 4).state_dict())


@pytest.fixture
def run_dir(tmp_path):
    d = tmp_path / "runs" / "toy" / "run-1"
    (d / "weights").mkdir(parents=True)
    (d / "config.json").write_text(json.dumps({"seed": 0}))
    for i in (1, 2):
        torch.save(MLP(6, [5], 3, seed=i).state_dict(), d / "weights" / f"m{i}.pt")
    g = torch.Generator().manual_seed(0)
    data = (torch.randn(40, 6, generator=g), torch.randint(0, 3, (40,), generator=g))
    return d, data


def test_measure_run_writes_results(run_dir):
    d, data = run_dir
    res = measure_run(d, ["noise", "hessian"], data=data, n_samples=32, batch_size=32, top_k=2)
    assert set(res) == {"noise", "hessian"} and set(res["noise"]) == {"m1", "m2"}
    stored = json.loads((d / "measures" / "noise.json").read_text())
    assert stored["meta"]["n_samples"] == 32
    direct = gradient_moments(MLP(6, [5], 3, seed=2), cross_entropy_loss,
                              (data[0][:32], data[1][:32]))
    assert stored["m2"]["trace_cov"] == pytest.approx(direct.trace_cov, rel=1e-5)
    hess = json.loads((d / "measures" / "hessian.json").read_text())["m1"]
    assert len(hess["top_eigenvalues"]) == 2 and hess["trace_stderr"] > 0


def test_measure_run_errors(run_dir, tmp_path):
    d, data = run_dir
    with pytest.raises(ValueError, match="allowed: hessian, sharpness, noise"):
        measure_run(d, "curvature", data=data)
    with pytest.raises(ValueError, match="no weights 'm3'"):
        measure_run(d, "noise", weights=["m3"], data=data)
    with pytest.raises(FileNotFoundError):
        measure_run(tmp_path / "nowhere", "noise", data=data)
