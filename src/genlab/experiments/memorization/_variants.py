"""The training conditions of the memorization section and their epoch budgets."""

from __future__ import annotations

from dataclasses import dataclass

from . import Config

__all__ = ["REGULARIZERS", "Variant", "budget", "variants"]

#: The explicit regularizers, each switched on alone (and all together at p = 0).
REGULARIZERS = ("weight_decay", "dropout", "augmentation")


@dataclass(frozen=True)
class Variant:
    """One training condition of Zhang et al.'s randomization tests.

    Attributes:
        name: unique label used in metrics, data and weight files.
        group: "labels", "inputs", "regularizers" or "model" (which figure/claim uses it).
        p: label-corruption probability (1.0 = random labels).
        inputs: "real" or an input corruption of :data:`genlab.data.INPUT_CORRUPTIONS`.
        model: "cnn" (the lecture's) or "mlp" (similar size).
        weight_decay: L2 coefficient (0 = none).
        dropout: dropout probability (0 = none).
        shift: max random shift in pixels per epoch (0 = no augmentation).
    """

    name: str
    group: str
    p: float = 0.0
    inputs: str = "real"
    model: str = "cnn"
    weight_decay: float = 0.0
    dropout: float = 0.0
    shift: int = 0


def variants(cfg: Config) -> list[Variant]:
    """Every variant of a run, in training order.

    Label corruption p (Zhang Fig. 1b–c), input corruptions with true labels (Fig. 1a),
    each regularizer alone on true and on random labels plus all of them on true labels
    (Table 1, §3), and an MLP of the CNN's size on true and random labels (Table 1).
    """
    vs = [Variant(f"p={p:g}", "labels", p=p) for p in cfg.corruption]
    vs += [Variant(kind, "inputs", inputs=kind) for kind in cfg.inputs]
    regs = {"weight_decay": {"weight_decay": cfg.weight_decay}, "dropout": {"dropout": cfg.dropout},
            "augmentation": {"shift": cfg.max_shift}}
    for reg in REGULARIZERS:
        vs += [Variant(f"{reg} p={p:g}", "regularizers", p=p, **regs[reg]) for p in (0.0, 1.0)]
    everything = {k: v for kw in regs.values() for k, v in kw.items()}
    vs.append(Variant("all p=0", "regularizers", **everything))
    vs += [Variant(f"mlp p={p:g}", "model", p=p, model="mlp") for p in (0.0, 1.0)]
    return vs


def budget(cfg: Config, v: Variant) -> int:
    """The epoch budget of variant ``v``: longer for the regularizer variants."""
    if v.group == "regularizers":
        return max(cfg.reg_max_epochs or cfg.max_epochs, cfg.max_epochs)
    return cfg.max_epochs
