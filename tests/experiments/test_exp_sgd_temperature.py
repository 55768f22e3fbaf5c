"""Smoke run of the SGD-temperature section on its quick profile, and its wiring against
independent answers (numpy's least squares, scipy's Lyapunov solver, the rebuilt network)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.linalg
import torch

from genlab.data import linear_regression
from genlab.experiments import get
from genlab.models import build_model
from genlab.seeding import derive_seed

EXPERIMENT = get("sgd_temperature")
CLAIM_NAMES = ["discrete_lyapunov_fits", "continuous_fits_small_step",
               "continuous_breaks_large_step", "rescale_keeps_temperature",
               "trace_proportional_to_ratio", "rescale_breaks_large_step", "shuffling_smaller",
               "shuffling_explained", "occupation_is_boltzmann", "laplace_at_low_temperature",
               "deep_narrow_wins_cold", "wide_wins_hot", "anisotropic_noise_escapes_faster",
               "lambda_max_set_by_ratio", "lambda_max_falls_with_ratio",
               "test_accuracy_set_by_ratio", "gd_edge_of_stability"]


def test_quick_run_is_complete(record, check_claims):
    assert record.status == "ok"
    assert {p.stem for p in record.figures} == {"covariance", "lyapunov_error", "temperature",
                                                "basins", "network"}
    assert set(json.loads((record.dir / "tables.json").read_text())) == {
        "lyapunov", "rescaling", "proportional", "shuffling", "basins", "escape", "network",
        "network_spread"}
    claims = check_claims(record, CLAIM_NAMES)
    assert claims["gd_edge_of_stability"]["min_profile"] == "default"
    assert all(c["paper"] and c["paper_value"] for c in claims.values())


def test_line_fit_is_the_descent_data(record):
    """Hessian, noise and optimum of the stored problem from the same generator and seed."""
    cfg = record.config
    x, y = linear_regression(cfg["n"], 2.0, -1.0, cfg["noise"], derive_seed(cfg["seed"], "data"),
                             interval=(0.0, 2.0), dtype=torch.float64)
    design = np.hstack([x.numpy(), np.ones((cfg["n"], 1))])
    w = np.linalg.lstsq(design, y.numpy().ravel(), rcond=None)[0]
    g = design * (design @ w - y.numpy().ravel())[:, None]  # per-example gradients (N, 2)
    d = record.data
    np.testing.assert_allclose(d["optimum"], w, rtol=1e-12)
    np.testing.assert_allclose(d["hessian"], design.T @ design / cfg["n"], rtol=1e-12)
    np.testing.assert_allclose(d["noise"], np.cov(g.T, bias=True), rtol=1e-9, atol=1e-15)


def test_predictions_solve_their_equations(record):
    h, c = np.asarray(record.data["hessian"]), np.asarray(record.data["noise"])
    for r in record.data["runs"]:
        lr, b = r["lr"], r["batch_size"]
        disc = scipy.linalg.solve_discrete_lyapunov(np.eye(2) - lr * h, lr**2 / b * c)
        cont = scipy.linalg.solve_continuous_lyapunov(h, lr / b * c)
        np.testing.assert_allclose(r["predictions"]["discrete"], disc, rtol=1e-9)
        np.testing.assert_allclose(r["predictions"]["continuous"], cont, rtol=1e-9)
        assert r["errors"]["discrete"] == pytest.approx(
            np.linalg.norm(np.asarray(r["covariance"]) - disc) / np.linalg.norm(disc), rel=1e-6)


def test_network_runs_stop_at_the_target_and_rebuild(record):
    from genlab.data import DataSpec
    from genlab.train import evaluate

    runs = record.data["network"]["runs"]
    target = record.config["target_loss"]
    cfg = record.config
    for r in runs:  # each run stopped at the target loss or at its budget, not before
        spent = r["steps"] >= cfg["gd_max_steps"] if r["gd"] else r["epochs"] >= cfg["max_epochs"]
        assert (r["train_loss"] < target) or spent, r["name"]
    assert sum(r["gd"] for r in runs) == len(record.config["gd_lrs"])
    r = runs[0]
    info = json.loads((record.dir / "weights" / f"{r['name']}.json").read_text())
    model = build_model(info["model"])
    model.load_state_dict(torch.load(record.dir / "weights" / f"{r['name']}.pt",
                                     weights_only=True))
    ds = DataSpec(**info["data"]).load()
    assert evaluate(model, ds.x_train, ds.y_train)["loss"] == pytest.approx(r["train_loss"],
                                                                            rel=1e-5)
    assert info["lr"] == r["lr"] and info["batch_size"] == r["batch_size"]


def test_occupations_are_fractions(record):
    occ = record.data["occupation"]
    for row in occ["rows"]:
        assert 0 <= row["measured"] <= 1 and 0 < row["boltzmann"] < 1
    deep = occ["wells"]["deep_narrow"]
    assert deep["energies"][1] - deep["energies"][0] == pytest.approx(
        record.config["depth_gap"], abs=1e-3)
    assert math.isfinite(deep["crossover"])


def test_only_plain_sgd_has_this_temperature():
    from genlab.errors import GenlabError
    from genlab.experiments import resolve_config

    with pytest.raises(GenlabError, match="plain SGD"):
        resolve_config(EXPERIMENT, "quick", {"optimizer.name": "momentum"})
    assert resolve_config(EXPERIMENT, "full").n_train + resolve_config(EXPERIMENT, "full").n_test \
        <= 5000  # the embedded digits
