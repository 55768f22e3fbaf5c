"""The section's tables: overlaps over steps, outliers and operator agreement, the ablation."""

from __future__ import annotations

from ..base import Table
from . import Config
from ._claims import h_ggn_difference

__all__ = ["tables"]


def _pm(v: dict) -> str:
    return f"{v['mean']:.3f} ± {v['stderr']:.3f}"


def _overlap(cfg: Config, mlp: list[dict], k: int) -> Table:
    rows = [[r["step"], r["train_loss"], r["train_acc"], r["H"]["overlap"],
             _pm(r["minibatch"]["H"]), r["G"]["overlap"], r["F"]["overlap"],
             _pm(r["minibatch"]["F"]), r["persistence"], r["snr"]] for r in mlp]
    return Table(caption=f"MLP ({mlp[-1]['n_params']:,} parameters): the fraction ‖P_k g‖²/‖g‖² "
                 f"of the full-batch gradient ḡ and of minibatch gradients g_B (B = "
                 f"{cfg.batch_size}, mean ± s.e. over {cfg.minibatches}) in the top-{k} "
                 f"eigenspace of H, G and F; persistence: overlap of H's top-{k} space with "
                 f"the previous checkpoint's; SNR = ‖ḡ‖²/(tr C/B). A random {k}-dimensional "
                 f"subspace captures {mlp[-1]['random_overlap']:.1e}.",
                 columns=["step", "train loss", "train acc", "ḡ in top-k(H)", "g_B in top-k(H)",
                          "ḡ in top-k(G)", "ḡ in top-k(F)", "g_B in top-k(F)", "persistence",
                          "SNR"], rows=rows)


def _spectrum_rows(name: str, records: list[dict], k: int) -> list[list]:
    rows = []
    for r in records:
        h = r["H"]["values"]
        rows.append([name, r["step"], r["train_loss"], h[0], h[k - 2], h[k - 1], h[k],
                     r["H"]["outliers"], round(r["H"]["gap_ratio"], 2), r["G"]["outliers"],
                     r["F"]["outliers"], h_ggn_difference(r, k), r["outlier_space_H_G"],
                     r["subspace_vs_H"]["F"], r["class_mean_span"],
                     f"{r['H']['matvecs']}/{r['G']['matvecs']}/{r['F']['matvecs']}"])
    return rows


def _outliers(mlp: list[dict], cnn: list[dict], k: int) -> Table:
    rows = _spectrum_rows("MLP", mlp, k) + _spectrum_rows("CNN", cnn, k)
    return Table(caption=f"Outliers of the Hessian H, the Gauss–Newton matrix G and the "
                 f"empirical Fisher F ({k} classes; rule: the largest ratio λ_i/λ_(i+1) among "
                 f"the top 20, if ≥ the threshold), H against G over H's outliers, the top-{k} "
                 f"spaces of H and F, the share of H's top-{k} space spanned by the class-mean "
                 f"gradients, and the Lanczos products of each solve (each warm-started)",
                 columns=["model", "step", "train loss", "λ₁(H)", f"λ_{k - 1}(H)",
                          f"λ_{k}(H)", f"λ_{k + 1}(H)", "outliers H", "gap ratio H",
                          "outliers G", "outliers F", "max |λ(H) − λ(G)|/λ(H)",
                          "overlap H–G (outliers)", f"overlap H–F (top-{k})", "class-mean span",
                          "products H/G/F"], rows=rows)


def _ablation(cfg: Config, runs: list[dict], k: int) -> Table:
    rows = [[r["mode"], r["start_loss"], r["final_loss"], r["start_loss"] - r["final_loss"],
             r["progress"], r["test_acc"], r["captured_mean"], r["refreshes"], r["matvecs"]]
            for r in runs]
    return Table(caption=f"The ablation (Song, Ahn & Yun 2024): from the MLP at step "
                 f"{cfg.ablation_start}, {cfg.ablation_steps} more SGD steps with the same "
                 f"minibatches, the update unchanged (sgd), projected onto H's top-{k} space "
                 f"(dominant) or onto its complement (bulk); the space is recomputed every "
                 f"{cfg.ablation_refresh} steps. Paper (MLP on MNIST-5k): Dom-SGD stops "
                 f"decreasing the loss, Bulk-SGD matches SGD.",
                 columns=["update", "training loss at start", "at end", "decrease",
                          "fraction of SGD's decrease", "test accuracy",
                          f"g_B norm² in top-{k} (mean)", "subspace refreshes",
                          "Hessian-vector products"], rows=rows)


def tables(cfg: Config, parts: dict) -> dict[str, Table]:
    """name → :class:`~genlab.experiments.Table`."""
    k = parts["classes"]
    return {"overlap": _overlap(cfg, parts["mlp"], k),
            "outliers": _outliers(parts["mlp"], parts["cnn"], k),
            "ablation": _ablation(cfg, parts["ablation"], k)}
