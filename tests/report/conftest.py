"""A small run store (two quick sections, one of them swept over seeds) and its page."""

from __future__ import annotations

import pytest

TINY = {"descent": {"chains": 4, "burn_in": 0.3, "record": 0.3, "gd_steps": 50},
        "regularization": {"draws": 2, "max_degree": 5}}


@pytest.fixture(scope="session")
def store(tmp_path_factory):
    from genlab.experiments import get, resolve_config, run_experiment
    from genlab.sweeps import run_sweep

    root = tmp_path_factory.mktemp("store")
    exp = get("descent")
    run_experiment(exp, resolve_config(exp, "quick", TINY["descent"]), root, profile="quick")
    run_sweep("regularization", seeds=[0, 1], overrides=TINY["regularization"], out=root,
              workers=1, log=lambda line: None)
    return root


@pytest.fixture(scope="session")
def page(store, tmp_path_factory):
    from genlab.report import build_report

    return build_report(store, tmp_path_factory.mktemp("report"))
