"""The section's tables: iterations to half amplitude by frequency, and the bound sweep."""

from __future__ import annotations

import math

from ..base import Table
from . import Config

__all__ = ["tables"]


def _when(t: float) -> int | str:
    return "never" if math.isnan(t) else int(t)


def _half_table(cfg: Config, orders: dict, profiles: dict) -> Table:
    eq, ri = orders["equal"], orders["rising"]
    rows = [[k, _when(float(eq["half"][i])), round(float(eq["curves"].amplitudes[-1, i]), 3),
             profiles["rising"][i], _when(float(ri["half"][i])),
             round(float(ri["curves"].amplitudes[-1, i]), 3)]
            for i, k in enumerate(cfg.frequencies)]
    rows.append(["Spearman ρ", round(eq["rho"], 3), "", "", round(ri["rho"], 3), ""])
    return Table(
        caption=f"Iterations until the normalized amplitude |f̃(k)|/A (averaged over {cfg.draws} "
                f"phase draws, {cfg.rising_draws or cfg.draws} for rising amplitudes) first "
                f"reaches ½, logged every {cfg.log_every}; 'never' = not "
                f"within {cfg.steps} iterations. Rahaman et al. 2019, Fig. 1, show the same "
                "order as a heat map, without numbers.",
        columns=["k", "equal A = 1: iterations to ½", "equal: final |f̃|/A", "rising: A",
                 "rising: iterations to ½", "rising: final |f̃|/A"],
        rows=rows)


def _sweep_table(cfg: Config, rows: list[dict]) -> Table:
    def guaranteed(r: dict) -> float | str:
        return "none" if math.isinf(r["implied"]) else float(f"{r['implied']:.4g}")

    return Table(
        caption=f"Weight bound '{cfg.constraint}' after every step: the Lipschitz bound it "
                f"guarantees, the one measured (∏‖W_l‖₂) after {cfg.sweep_steps} iterations, and "
                f"the highest frequency whose normalized amplitude reached ½ within them "
                f"({cfg.sweep_draws} phase draw(s), equal amplitudes; 0 = none).",
        columns=["bound level", "guaranteed bound", "measured ∏‖W_l‖₂", "highest learned k",
                 "final training MSE"],
        rows=[["none" if r["level"] is None else r["level"], guaranteed(r),
               float(f"{r['lipschitz']:.4g}"), int(r["highest"]), float(f"{r['train_mse']:.3g}")]
              for r in rows])


def tables(cfg: Config, orders: dict, rows: list[dict], profiles: dict) -> dict[str, Table]:
    """``half_amplitude`` and ``bound_sweep``."""
    return {"half_amplitude": _half_table(cfg, orders, profiles),
            "bound_sweep": _sweep_table(cfg, rows)}
