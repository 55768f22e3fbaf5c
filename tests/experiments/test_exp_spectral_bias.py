"""Smoke run of the spectral-bias experiment (Rahaman et al. 2019, Xu et al. 2019) on its
quick profile, and the stored numbers checked by independent routes."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from genlab.errors import GenlabError
from genlab.experiments import resolve_config, run_experiment
from genlab.experiments.spectral_bias import CLAIMS, EXPERIMENT
from genlab.models import build_model


def _weights(record, name):
    info = json.loads((record.dir / "weights" / f"{name}.json").read_text())
    model = build_model(info["model"])
    model.load_state_dict(torch.load(record.dir / "weights" / f"{name}.pt", weights_only=True))
    return model.eval(), info


def test_quick_run_is_complete(record):
    assert record.status == "ok"
    for f in ("config.json", "metrics.jsonl", "result.json", "data.json", "arrays.npz",
              "tables.json"):
        assert (record.dir / f).is_file()
    assert {p.stem for p in record.figures} == {"spectrum_dynamics", "fits", "bound_sweep",
                                                "noise", "mnist"}
    assert set(record.tables) == {"half_amplitude", "bound_sweep"}
    half = record.tables["half_amplitude"]["rows"]
    assert [r[0] for r in half[:-1]] == record.config["frequencies"]
    sweep = record.tables["bound_sweep"]["rows"]
    assert [r[0] for r in sweep] == ["none", *record.config["bounds"]]


def test_claims_are_measured_and_cite_the_papers(record, check_claims):
    claims = check_claims(record, [c.name for c in CLAIMS])
    for spec in CLAIMS:
        c = claims[spec.name]
        assert c["paper"].startswith(("Rahaman et al. 2019", "Xu et al. 2019")) and c["paper_value"]
        assert c["min_profile"] == spec.min_profile and c["threshold"] == spec.threshold


def test_curves_are_the_numpy_fft_of_the_stored_outputs(record):
    a, k = record.arrays, np.asarray(record.config["frequencies"])
    outputs = a["equal_outputs"].astype(np.float64)  # (T, N) of draw 0
    amp = np.abs(np.fft.rfft(outputs, axis=1))[:, k] * 2 / outputs.shape[1]  # A = 1
    np.testing.assert_allclose(amp, a["equal_draw_curves"][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(a["equal_draw_curves"].mean(0), a["equal_curves"], rtol=1e-12)


def test_half_amplitude_table_and_spearman_from_the_curves(record):
    from scipy.stats import spearmanr

    a, cfg = record.arrays, record.config
    its, curves = a["iterations"], a["equal_curves"]  # (T,), (T, K)
    first = [its[np.argmax(c >= 0.5)] if (c >= 0.5).any() else math.nan for c in curves.T]
    rows = record.tables["half_amplitude"]["rows"]
    assert [r[1] for r in rows[:-1]] == ["never" if math.isnan(t) else int(t) for t in first]
    never = cfg["steps"] + cfg["log_every"]
    rho = spearmanr(cfg["frequencies"], np.nan_to_num(first, nan=never)).statistic
    claim = next(c for c in record.result["claims"] if c["name"] == "order_equal_amplitudes")
    assert claim["value"] == pytest.approx(rho if np.ptp(np.nan_to_num(first, nan=never)) else 0)


def test_saved_weights_rebuild_the_final_fit(record):
    model, info = _weights(record, "equal_0")
    z = torch.arange(info["grid_points"], dtype=torch.float32).div(info["grid_points"])[:, None]
    with torch.no_grad():
        out = model(z).reshape(-1).numpy()
    np.testing.assert_allclose(out, record.arrays["equal_outputs"][-1], rtol=1e-5, atol=1e-6)
    _, cnn = _weights(record, "mnist_cnn")
    assert cnn["data"]["dataset"] == "mnist" and cnn["data"]["n_train"] == record.config[
        "mnist_train"]


def test_noise_claim_from_the_stored_fits(record):
    a = record.arrays
    best = ((a["noise_best_output"] - a["noise_clean"]) ** 2).mean()
    final = ((a["noise_final_output"] - a["noise_clean"]) ** 2).mean()
    claim = next(c for c in record.result["claims"] if c["name"] == "noise_learned_last")
    assert claim["value"] == pytest.approx(final / best, rel=1e-5)
    assert best == pytest.approx(a["noise_clean_mse"].min(), rel=1e-5)


def test_bound_holds_during_the_sweep(record):
    rows = record.data["sweep"]
    depth = record.config["depth"]
    for row in rows[1:]:  # measured ∏‖W_l‖₂ within the guaranteed s^L (estimate excess ≤ 1%)
        assert row["implied"] == pytest.approx(row["level"] ** (depth + 1))
        assert max(row["bounds"]) <= row["implied"] * 1.01


@pytest.mark.parametrize("key, value", [("frequencies", [5, 100]), ("bounds", [2.0, 4.0]),
                                        ("sweep_steps", 13)])
def test_bad_config_is_refused(key, value):
    with pytest.raises(GenlabError, match="frequencies|bounds|sweep_steps"):
        resolve_config(EXPERIMENT, "quick", {key: json.dumps(value)})


def test_same_seed_same_numbers(tmp_path):
    tiny = {"width": 8, "depth": 2, "steps": 40, "log_every": 10, "draws": 1, "rising_draws": 1,
            "sweep_steps": 20, "noise_steps": 30, "norm_logs": 2, "mnist_train": 40,
            "cnn_steps": 10, "cnn_channels": 2, "cnn_hidden": 8}
    cfg = resolve_config(EXPERIMENT, "quick", tiny)
    a = run_experiment(EXPERIMENT, cfg, tmp_path / "a").result
    b = run_experiment(EXPERIMENT, cfg, tmp_path / "b").result
    assert a["summary"] == b["summary"]
    assert [c["value"] for c in a["claims"]] == [c["value"] for c in b["claims"]]
