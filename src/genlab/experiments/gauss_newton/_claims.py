"""The measured claims of the section (their specs, thresholds and papers are in ``__init__``)."""

from __future__ import annotations

import itertools
import math

from ..base import Claim
from . import (
    BULK_TRAINS,
    CLASS_MEANS,
    CNN_OUTLIERS,
    DOMINANT_STALLS,
    EARLY_OVERLAP,
    FISHER,
    H_GGN_SPACES,
    H_GGN_VALUES,
    OUTLIERS,
    PERSISTS,
    SNR_DIFFUSION,
    SNR_DRIFT,
    Config,
)

__all__ = ["claims", "h_ggn_difference", "persistence_pairs"]


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else math.nan


def _at(records: list[dict], key) -> str:
    return ", ".join(f"step {r['step']}: {key(r):.3g}" for r in records)


def persistence_pairs(records: list[dict], start: int) -> list[dict]:
    """The checkpoints whose predecessor is at step ≥ ``start`` (their ``persistence`` is
    the overlap of H's top-k space with the predecessor's)."""
    return [r for prev, r in itertools.pairwise(records) if prev["step"] >= start]


def h_ggn_difference(rec: dict, k: int) -> float:
    """max_i |λ_i(H) − λ_i(G)| / λ_i(H) over H's outliers (the top k if it has none)."""
    c = rec["H"]["outliers"] or k
    return max(abs(h - g) / abs(h) for h, g in zip(rec["H"]["values"][:c], rec["G"]["values"][:c]))


def _overlap(cfg: Config, mlp: list[dict], k: int) -> list[Claim]:
    lo, hi = cfg.early_steps
    early = [r for r in mlp if lo <= r["step"] <= hi]
    pairs = persistence_pairs(mlp, cfg.persist_from)
    base = mlp[-1]["random_overlap"]
    later = [r for r in mlp if r["step"] > hi]
    return [
        EARLY_OVERLAP(_mean([r["H"]["overlap"] for r in early]),
                      f"steps {lo}–{hi}: {_at(early, lambda r: r['H']['overlap'])} (training "
                      f"loss {_at(early, lambda r: r['train_loss'])}); later: "
                      f"{_at(later, lambda r: r['H']['overlap'])}; minibatch gradients in the "
                      f"window: {_at(early, lambda r: r['minibatch']['H']['mean'])}; random "
                      f"{k}-space: {base:.2g}"),
        PERSISTS(_mean([r["persistence"] for r in pairs]),
                 f"overlap with the previous checkpoint's top-k space: "
                 f"{_at(mlp[1:], lambda r: r['persistence'])}; mean over those after step "
                 f"{cfg.persist_from}; random: {base:.2g}"),
    ]


def _outliers(records: list[dict], spec, k: int, label: str) -> Claim:
    last = records[-1]
    counts = ", ".join(f"step {r['step']}: {r['H']['outliers']} (λ ratio "
                       f"{r['H']['gap_ratio']:.2f})" for r in records)
    return spec(abs(last["H"]["outliers"] - k),
                f"{label}: {last['H']['outliers']} outliers of H at step {last['step']} for "
                f"{k} classes (G: {last['G']['outliers']}, F: {last['F']['outliers']}); H over "
                f"training: {counts}")


def _structure(mlp: list[dict], k: int) -> list[Claim]:
    last = mlp[-1]
    c = last["H"]["outliers"]
    return [
        H_GGN_VALUES(h_ggn_difference(last, k), f"over H's {c} outliers at step "
                     f"{last['step']}; at every step: "
                     f"{_at(mlp, lambda r: h_ggn_difference(r, k))} (the residual term fades "
                     f"as the loss falls)"),
        H_GGN_SPACES(last["outlier_space_H_G"], f"top-{c} spaces at step {last['step']}; "
                     f"over training: {_at(mlp, lambda r: r['outlier_space_H_G'])}"),
        FISHER(last["subspace_vs_H"]["F"], f"top-k spaces at step {last['step']}; over "
               f"training: {_at(mlp, lambda r: r['subspace_vs_H']['F'])}; F's top eigenvalue "
               f"{last['F']['values'][0]:.3g} vs H's {last['H']['values'][0]:.3g}"),
        CLASS_MEANS(last["class_mean_span"], f"over training: "
                    f"{_at(mlp, lambda r: r['class_mean_span'])}"),
    ]


def _snr(mlp: list[dict], batch_size: int) -> list[Claim]:
    peak = max(mlp, key=lambda r: r["snr"])
    listed = _at(mlp, lambda r: r["snr"])
    return [
        SNR_DRIFT(mlp[0]["snr"], f"B = {batch_size}; step 0: {mlp[0]['snr']:.3g}; largest "
                  f"{peak['snr']:.3g} at step {peak['step']}; all: {listed}"),
        SNR_DIFFUSION(mlp[-1]["snr"], f"B = {batch_size}; all: {listed}"),
    ]


def _ablation(cfg: Config, runs: list[dict]) -> list[Claim]:
    by = {r["mode"]: r for r in runs}
    text = "; ".join(f"{m}: loss {r['start_loss']:.4f} → {r['final_loss']:.4f}"
                     for m, r in by.items())
    removed = by["bulk"]["captured_mean"]
    detail = (f"from step {cfg.ablation_start}, {cfg.ablation_steps} steps, subspace refreshed "
              f"every {cfg.ablation_refresh}; {text}; the top-k space held on average "
              f"{removed:.2f} of the bulk run's minibatch-gradient norm² (removed)")
    return [DOMINANT_STALLS(by["dominant"]["progress"], detail),
            BULK_TRAINS(by["bulk"]["progress"], detail)]


def claims(cfg: Config, parts: dict) -> list[Claim]:
    """All claims, in the order of ``CLAIMS``; the CNN's only when the CNN was trained."""
    mlp, cnn, k = parts["mlp"], parts["cnn"], parts["classes"]
    out = _overlap(cfg, mlp, k) + [_outliers(mlp, OUTLIERS, k, "MLP")]
    if cnn:
        out.append(_outliers(cnn, CNN_OUTLIERS, k, "CNN"))
    return out + _structure(mlp, k) + _snr(mlp, cfg.batch_size) + _ablation(cfg, parts["ablation"])
