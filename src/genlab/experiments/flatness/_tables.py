"""The section's tables: Keskar's F1 numbers beside the measured ones, every run, and
Dinh's rescaling."""

from __future__ import annotations

from ..base import Table
from . import KESKAR_F1_ACCURACY, KESKAR_F1_SHARPNESS, Config
from ._claims import mean_std, pairs

__all__ = ["tables"]


def _keskar(cfg: Config, runs: list[dict]) -> Table:
    sb, lb = pairs(runs)
    both = lambda f, fmt=".3g": [mean_std([f(r) for r in rs], fmt) for rs in (sb, lb)]  # noqa: E731
    train_sb, train_lb, test_sb, test_lb = KESKAR_F1_ACCURACY
    rows = [["train accuracy (%)", f"{train_sb}", f"{train_lb}",
             *both(lambda r: 100 * r["train_acc"], ".2f")],
            ["test accuracy (%)", f"{test_sb}", f"{test_lb}",
             *both(lambda r: 100 * r["test_acc"], ".2f")]]
    for i, eps in enumerate(cfg.epsilons):
        paper = KESKAR_F1_SHARPNESS.get(eps, ("—", "—"))
        rows.append([f"ε-sharpness, ε = {eps:g}", f"{paper[0]}", f"{paper[1]}",
                     *both(lambda r, i=i: r["eps_sharpness"][i])])
    rows += [["λ_max of the Hessian", "—", "—", *both(lambda r: r["lambda_max"])],
             ["training loss reached", "until it ceased to improve", "(same)",
              *both(lambda r: r["train_loss"], ".4g")],
             ["epochs to reach it", "—", "—", *both(lambda r: r["epochs"])],
             ["‖w − w₀‖", "SB/LB ratio 3–10", "(§3)", *both(lambda r: r["distance"])]]
    return Table(caption=f"Keskar et al. 2017, network F1 (fully connected, 60,000 MNIST "
                 f"digits; Tables 2–3, mean ± std over 5 trials) beside this run (mean ± std "
                 f"over {len(sb)} pairs; SB batch {sb[0]['batch']}, LB batch {lb[0]['batch']}; "
                 f"every run stopped at training loss < {cfg.target_loss:g})",
                 columns=["quantity", "paper SB", "paper LB", "measured SB", "measured LB"],
                 rows=rows)


def _runs(runs: list[dict]) -> Table:
    rows = [[r["pair"], r["regime"].replace("_", " "), r["batch"], round(r["epochs"], 2),
             r["steps"], "yes" if r["reached"] else "NO", r["train_loss"], r["train_acc"],
             r["test_acc"], r["eps_sharpness"][0], r["lambda_max"]] for r in runs]
    return Table(caption="every run: epochs and steps to the target training loss, the loss "
                 "and accuracies reached, ε-sharpness (first ε) and λ_max",
                 columns=["pair", "regime", "batch", "epochs", "steps", "reached target",
                          "train loss", "train acc", "test acc", "ε-sharpness", "λ_max"],
                 rows=rows)


def _rescaling(rows: list[dict]) -> Table:
    return Table(caption="Dinh et al. 2017: W1 → αW1, b1 → αb1, W2 → W2/α applied to the "
                 "first small-batch minimum: the function stays, naive sharpness moves",
                 columns=["α", "max |f_α − f| / max |f|", "λ_max", "ε-sharpness",
                          "filter-normalized sharpness"],
                 rows=[[r["alpha"], r["output_change"], r["lambda_max"], r["eps_sharpness"],
                        r["fn_sharpness"]] for r in rows])


def tables(cfg: Config, runs: list[dict], rows: list[dict]) -> dict[str, Table]:
    """name → :class:`~genlab.experiments.Table` of the run."""
    return {"keskar_f1": _keskar(cfg, runs), "runs": _runs(runs), "rescaling": _rescaling(rows)}
