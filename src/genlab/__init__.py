"""genlab: why do over-parameterized deep networks generalize?

A library of diagnostics for any PyTorch model (:mod:`genlab.measures`) and
experiments that reproduce the lecture's phenomena (:mod:`genlab.experiments`).
"""

__version__ = "0.1.0"
__all__ = ["__version__"]
