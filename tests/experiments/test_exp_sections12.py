"""Smoke runs of lecture sections 1–2 on their quick profiles, and their numerics."""

import numpy as np
import pytest

from genlab.experiments import get, resolve_config, run_experiment
from genlab.models import legendre_features as features
from genlab.models import ridge_fit


@pytest.mark.parametrize("name", ["descent", "regularization"])
def test_quick_run_is_complete_and_claims_are_measured(name, tmp_path, check_claims):
    exp = get(name)
    record = run_experiment(exp, resolve_config(exp, "quick"), tmp_path)
    assert record.status == "ok"
    for f in ("config.json", "metrics.jsonl", "result.json", "provenance.json", "data.json"):
        assert (record.dir / f).is_file()
    assert record.figures and record.metrics
    assert len(check_claims(record)) == 3


def test_same_seed_same_numbers(tmp_path):
    exp = get("descent")
    cfg = resolve_config(exp, "quick", {"chains": 4, "gd_steps": 50, "burn_in": 0.5,
                                        "record": 0.5})
    a = run_experiment(exp, cfg, tmp_path / "a").result["summary"]
    b = run_experiment(exp, cfg, tmp_path / "b").result["summary"]
    assert a == b


def test_descent_optimum_is_least_squares(tmp_path):
    exp = get("descent")
    record = run_experiment(exp, resolve_config(exp, "quick", {"chains": 4, "burn_in": 0.5,
                                                               "record": 0.5}), tmp_path)
    d = record.data
    m = d["moments"]
    # normal equations of E(a, b): [[xx, x], [x, 1]] θ = [xy, y]
    theta = np.linalg.solve([[m["xx"], m["x"]], [m["x"], 1.0]], [m["xy"], m["y"]])
    np.testing.assert_allclose(d["optimum"], theta, rtol=1e-10)
    assert record.result["summary"]["gd_rel_error"] < 1e-6


def test_ridge_fit_matches_normal_equations():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(size=15), rng.normal(size=15)
    phi = features(x, 5)
    lam = 0.01
    w = ridge_fit(phi, y, lam)
    expected = np.linalg.solve(phi.T @ phi / 15 + lam * np.eye(6), phi.T @ y / 15)
    np.testing.assert_allclose(w, expected, rtol=1e-8)
    np.testing.assert_allclose(features(np.array([0.0, 1.0]), 2),
                               [[1, -1, 1], [1, 1, 1]])  # P0, P1, P2 at ∓1
