"""One experiment per lecture section; see :mod:`genlab.experiments.base` for the contract.

The registry lists every planned section in lecture order; a section appears in
``genlab list`` as soon as its package ``genlab/experiments/<name>/`` exists and
defines ``EXPERIMENT`` in its ``__init__.py``.
"""

from __future__ import annotations

import importlib
import importlib.util

from ..errors import GenlabError
from .base import (PROFILES, Claim, ClaimSpec, Context, Experiment, ExperimentConfig, Result,
                   Table, accepts, check, resolve_config, run_experiment)

__all__ = ["PROFILES", "Claim", "ClaimSpec", "Context", "Experiment", "ExperimentConfig",
           "LECTURE_ORDER", "Result", "Table", "accepts", "available", "check", "get",
           "resolve_config", "run_experiment"]

LECTURE_ORDER = ("inversion", "descent", "regularization", "memorization", "difficulty",
                 "image_prior", "flatness", "batch_gap", "gauss_newton", "sgd_temperature",
                 "spectral_bias")


def available() -> list[str]:
    """Names of the experiments that exist, in lecture order."""
    return [n for n in LECTURE_ORDER if importlib.util.find_spec(f"{__name__}.{n}") is not None]


def get(name: str) -> Experiment:
    """The experiment called ``name``; a :class:`GenlabError` lists the known ones."""
    if name not in available():
        raise GenlabError(f"unknown experiment {name!r}; allowed: {', '.join(available())}")
    return importlib.import_module(f"{__name__}.{name}").EXPERIMENT
