"""Smoke run of the flatness experiment (Keskar 2017, Dinh 2017) on its quick profile."""

from __future__ import annotations

import math

import pytest
import torch

from genlab.experiments import resolve_config, run_experiment
from genlab.experiments.flatness import EXPERIMENT, build_model



def test_quick_run_is_complete(record):
    assert record.status == "ok"
    assert {p.stem for p in record.figures} == {"interpolation", "spectral_density",
                                                "rescaling", "sb_vs_lb"}
    for name in ("small_batch", "large_batch"):  # weights load back into the architecture
        state = torch.load(record.dir / "weights" / f"{name}.pt", weights_only=True)
        build_model(record.config, 0).load_state_dict(state)
        for key in ("lambda_max", "trace", "eps_sharpness", "fn_sharpness", "test_acc"):
            assert math.isfinite(record.data["measures"][name][key])
    assert len(record.data["rescaling"]) == len(record.config["alphas"])
    assert {"small_batch_density", "large_batch_grid"} <= set(record.arrays)


def test_claims_are_measured(record, check_claims):
    claims = record.result["claims"]
    assert [c["name"] for c in claims] == ["lb_sharper", "lb_generalizes_worse",
                                           "rescaling_keeps_function", "naive_sharpness_moves",
                                           "invariant_measure_fixed"]
    check_claims(record)


def test_rejects_alphas_without_one(tmp_path):
    cfg = resolve_config(EXPERIMENT, "quick", {"alphas": "[0.1, 10, 100]"})
    with pytest.raises(ValueError, match="alphas"):
        run_experiment(EXPERIMENT, cfg, tmp_path)
