"""Fixtures shared by the whole suite."""

from __future__ import annotations

import math
import operator

import pytest
import torch

_OPS = {"<=": operator.le, ">=": operator.ge, ">": operator.gt, "<": operator.lt}


@pytest.fixture(autouse=True, scope="session")
def _one_thread():
    """One intra-op thread for the whole run.

    The tests use small tensors; with two threads on a shared 2-core machine they
    oversubscribe the cores and ran 8–30× slower under load (measured while
    several test runs shared the machine).
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _check_claims(record, names=None):
    """Every claim has a finite measured value and the verdict its comparison gives."""
    claims = record.result["claims"]
    if names is not None:
        assert [c["name"] for c in claims] == list(names)
    for c in claims:
        assert isinstance(c["passed"], bool) and math.isfinite(c["value"]), c
        assert c["passed"] == _OPS[c["op"]](c["value"], c["threshold"]), c
    return {c["name"]: c for c in claims}


@pytest.fixture
def check_claims():
    """``check_claims(record, names=None) -> {name: claim}``, asserting each is measured."""
    return _check_claims


@pytest.fixture(scope="module")
def record(request, tmp_path_factory):
    """The quick-profile run of the test module's ``EXPERIMENT``, made once per module."""
    from genlab.experiments import resolve_config, run_experiment

    exp = request.module.EXPERIMENT
    return run_experiment(exp, resolve_config(exp, "quick", {}), tmp_path_factory.mktemp("runs"))
