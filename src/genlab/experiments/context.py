"""What a running experiment may touch: :class:`Context`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import GenlabError
from ..runs import RunWriter
from ..seeding import derive_seed

if TYPE_CHECKING:
    import torch

    from ..data import DataSpec

__all__ = ["Context", "check_device"]


def check_device(device: str) -> None:
    """Raise :class:`GenlabError` if ``device`` names CUDA on a machine without it."""
    import torch

    if device.startswith("cuda") and not torch.cuda.is_available():
        raise GenlabError(f"device {device!r} requested but CUDA is not available here; "
                          "allowed: cpu")


class Context:
    """A run's directory, device, seeds, profile and progress display.

    Args:
        writer: the run directory being written.
        config: the resolved config (its ``seed`` and ``device`` are used).
        progress: show progress bars.
        profile: the profile the config came from (None: a custom config).
    """

    def __init__(self, writer: RunWriter, config: Any, *, progress: bool = False,
                 profile: str | None = None):
        import torch

        check_device(config.device)
        self.writer, self.seed, self.profile = writer, config.seed, profile
        self.device = torch.device(config.device)
        self.progress = progress

    @property
    def dir(self) -> Path:
        return self.writer.dir

    def seed_for(self, *names: Any) -> int:
        """An integer seed for the random source named by ``names`` (e.g. ``"init", 3``)."""
        return derive_seed(self.seed, *names)

    def generator(self, *names: Any, device: str | torch.device = "cpu") -> torch.Generator:
        """A fresh ``torch.Generator`` seeded for the random source named by ``names``."""
        import torch

        return torch.Generator(device=device).manual_seed(self.seed_for(*names))

    def log(self, record: dict[str, Any]) -> None:
        """Append one metrics record to ``metrics.jsonl``."""
        self.writer.log(record)

    def save_state(self, name: str, model: torch.nn.Module, data: DataSpec | None = None,
                   **meta: Any) -> Path:
        """Save ``model``'s weights as ``weights/<name>.pt`` with what rebuilds it.

        Beside the weights, ``weights/<name>.json`` holds the model's class and
        constructor arguments (:func:`genlab.models.model_spec`; ``null`` for a model
        that does not record them), the :class:`~genlab.data.DataSpec` it was trained
        on, and ``meta`` (e.g. ``loss="cross_entropy"``, training-time augmentation).
        """
        from ..models import model_spec

        try:
            spec = model_spec(model)
        except ValueError:
            spec = None
        info = {"model": spec, "data": None if data is None else data.model_dump(), **meta}
        return self.writer.save_state(name, model.state_dict(), info)

    def track(self, iterable: Iterable, description: str, total: int | None = None):
        """Iterate with a progress bar when the run shows progress."""
        from ..train.progress import track

        return track(iterable, description, total=total, enabled=self.progress)
