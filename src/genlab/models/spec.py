"""Models that remember how they were built, so stored weights can be rebuilt exactly.

A class decorated with :func:`recorded` keeps the arguments it was constructed with;
:func:`model_spec` turns them into a JSON-ready ``{"class": ..., "kwargs": ...}`` and
:func:`build_model` builds the same architecture from it. The run store writes the spec
beside every weights file, so ``genlab measure RUN_DIR`` never guesses an architecture.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from typing import Any

from torch import nn

__all__ = ["build_model", "model_spec", "recorded"]

#: Modules a stored spec may name (a spec file must not import arbitrary code).
_ALLOWED = ("genlab.", "torch.nn.")


def recorded(cls: type[nn.Module]) -> type[nn.Module]:
    """Class decorator: instances keep their constructor arguments for :func:`model_spec`."""
    init = cls.__init__
    signature = inspect.signature(init)

    @functools.wraps(init)
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        if type(self) is cls:  # a subclass records its own arguments
            bound = signature.bind(self, *args, **kwargs)
            bound.apply_defaults()
            arguments = dict(bound.arguments)
            arguments.pop(next(iter(signature.parameters)))  # self
            self._genlab_init = arguments

    cls.__init__ = __init__
    return cls


def _qualname(obj: type) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def _encode(value: Any) -> Any:
    if isinstance(value, type):
        return {"__class__": _qualname(value)}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ValueError(f"cannot record constructor argument {value!r} of type "
                     f"{type(value).__name__}; allowed: JSON values and classes")


def _import(path: str) -> Any:
    if not path.startswith(_ALLOWED):
        raise ValueError(f"refusing to import {path!r}; allowed: {', '.join(_ALLOWED)}*")
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"cannot import {path!r}: {e}") from None


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__class__"}:
            return _import(value["__class__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def model_spec(model: nn.Module) -> dict[str, Any]:
    """``{"class": dotted name, "kwargs": constructor arguments}`` of a recorded model.

    Raises:
        ValueError: the model's class is not decorated with :func:`recorded`.
    """
    arguments = getattr(model, "_genlab_init", None)
    if arguments is None or type(model).__module__ == "builtins":
        raise ValueError(f"{type(model).__name__} does not record its constructor arguments; "
                         "decorate its class with genlab.models.recorded")
    return {"class": _qualname(type(model)), "kwargs": _encode(arguments)}


def build_model(spec: dict[str, Any]) -> nn.Module:
    """A freshly built model of the architecture in ``spec`` (see :func:`model_spec`).

    Raises:
        ValueError: the spec names a class outside genlab and ``torch.nn``, or is malformed.
    """
    try:
        cls, kwargs = _import(spec["class"]), _decode(spec.get("kwargs", {}))
    except (KeyError, TypeError):
        raise ValueError(f"not a model spec (needs 'class' and 'kwargs'): {spec!r}") from None
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        raise ValueError(f"{spec['class']} is not a torch.nn.Module")
    return cls(**kwargs)
