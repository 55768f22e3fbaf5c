"""Smoke run of the Gauss–Newton section on its quick profile, and its numbers against
independent answers: scipy's ARPACK on the rebuilt model's Hessian, per-example gradients
one at a time for the SNR."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.sparse.linalg
import torch

from genlab.data import DataSpec
from genlab.experiments import get, resolve_config
from genlab.measures import (
    HessianOperator,
    cross_entropy_loss,
    per_sample_grads_loop,
    vector_overlap,
)
from genlab.models import build_model

EXPERIMENT = get("gauss_newton")
QUICK_CLAIMS = ["early_overlap_high", "top_subspace_persists", "outliers_near_classes",
                "h_ggn_outliers_agree", "h_ggn_spaces_agree", "fisher_overlaps_hessian",
                "class_means_span_top", "snr_starts_above_one", "snr_ends_below_one",
                "dominant_only_stalls", "bulk_only_trains"]  # no CNN at quick


def test_quick_run_is_complete(record, check_claims):
    assert record.status == "ok"
    assert {p.stem for p in record.figures} == {"spectrum", "overlap", "snr", "ablation"}
    assert set(json.loads((record.dir / "tables.json").read_text())) == {
        "overlap", "outliers", "ablation"}
    claims = check_claims(record, QUICK_CLAIMS)
    assert all(c["paper"] and c["paper_value"] for c in claims.values())
    assert claims["bulk_only_trains"]["min_profile"] == "default"
    assert [s.name for s in EXPERIMENT.claims if s.name not in claims] == [
        "cnn_outliers_near_classes"]


def _rebuilt(record):
    """The final MLP, its training data and the measurement batch, rebuilt from the run."""
    info = json.loads((record.dir / "weights" / "mlp.json").read_text())
    model = build_model(info["model"])
    model.load_state_dict(torch.load(record.dir / "weights" / "mlp.pt", weights_only=True))
    ds = DataSpec(**info["data"]).load()
    idx = torch.tensor(record.data["measure_indices"])
    return model.eval(), ds, (ds.x_train[idx], ds.y_train[idx])


def test_last_checkpoint_against_arpack(record):
    """Top eigenvalues and the gradient's overlap with the outlier space, recomputed with
    scipy's eigsh (implicitly restarted Lanczos, a different solver and start)."""
    model, ds, batch = _rebuilt(record)
    last = record.data["mlp"][-1]
    assert last["step"] == record.config["steps"]
    op = HessianOperator(model, cross_entropy_loss, batch)
    vals, vecs = scipy.sparse.linalg.eigsh(op.to_scipy(), k=12, which="LA", tol=1e-8)
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    np.testing.assert_allclose(last["H"]["values"][:12], vals, rtol=2e-3)
    c = last["H"]["outliers"]
    assert c >= 1
    g = op.gradient()
    basis = torch.from_numpy(vecs[:, :c].T.copy())
    assert last["H"]["captured"][c - 1] == pytest.approx(vector_overlap(g, basis), abs=5e-3)
    with torch.no_grad():
        loss = float(cross_entropy_loss(model(ds.x_train), (None, ds.y_train)))
    assert last["train_loss"] == pytest.approx(loss, rel=1e-5)


def test_snr_from_per_example_gradients(record):
    """SNR = ‖ḡ‖²·B / tr C with C the covariance of gradients computed one example at a time."""
    model, _, batch = _rebuilt(record)
    per = per_sample_grads_loop(model, cross_entropy_loss, batch)
    G = torch.cat([per[n].reshape(len(batch[1]), -1) for n in per], 1).double()  # (N, P)
    mean = G.mean(0)
    trace = float((G - mean).square().sum(1).mean())
    b = record.config["batch_size"]
    last = record.data["mlp"][-1]
    assert last["trace_cov"] == pytest.approx(trace, rel=1e-4)
    assert last["snr"] == pytest.approx(float(mean @ mean) * b / trace, rel=1e-4)
    assert last["grad_norm_sq"] == pytest.approx(float(mean @ mean), rel=1e-4)


def test_records_are_consistent(record):
    mlp, k = record.data["mlp"], record.data["classes"]
    n = mlp[-1]["n_params"]
    assert mlp[-1]["random_overlap"] == pytest.approx(k / n)
    for r in mlp:
        for name in ("H", "G", "F"):
            cap = np.asarray(r[name]["captured"])
            assert len(cap) == record.config["top"] and np.all(np.diff(cap) >= -1e-6)
            assert cap[-1] <= 1 + 1e-5 and cap[k - 1] == pytest.approx(r[name]["overlap"],
                                                                       abs=1e-4)
        assert 0 <= r["minibatch"]["H"]["mean"] <= 1 and 0 <= r["class_mean_span"] <= 1 + 1e-9
    assert mlp[0]["persistence"] is None and all(0 <= r["persistence"] <= 1 + 1e-9
                                                 for r in mlp[1:])
    runs = {r["mode"]: r for r in record.data["ablation"]}
    assert list(runs) == ["sgd", "dominant", "bulk"]
    assert len({r["start_loss"] for r in runs.values()}) == 1  # one starting point
    assert runs["sgd"]["final_loss"] < runs["sgd"]["start_loss"]  # the yardstick: SGD trains
    assert runs["dominant"]["captured_mean"] is not None and runs["sgd"]["matvecs"] == 0


def test_config_rejects_what_breaks_the_ablation():
    from genlab.errors import GenlabError

    with pytest.raises(GenlabError, match="plain SGD"):
        resolve_config(EXPERIMENT, "quick", {"optimizer.name": "adam"})
    with pytest.raises(GenlabError, match="n_measure"):
        resolve_config(EXPERIMENT, "quick", {"n_measure": 5000})
    assert resolve_config(EXPERIMENT, "default").cnn
