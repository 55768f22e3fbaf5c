"""Label-noise runs: patterns first, memorization after (Arpit et al. 2017, §4–5)."""

from __future__ import annotations

import math

import numpy as np
from torch import Tensor, nn

from ...data import DataSpec
from ...measures.critical import critical_samples
from ...models import seeded
from ...train import epoch, evaluate
from ..base import Context
from . import Config
from ._one_epoch import digest, mlp_maker

__all__ = ["csr", "noisy_run", "peak_vs_fit"]


def csr(model: nn.Module, x: Tensor, radius: float, ctx: Context, tag: tuple,
        steps: int) -> tuple[float, float]:
    """Critical sample ratio (and its standard error) of ``model`` on points ``x``."""
    res = critical_samples(model, x, radius, generator=ctx.generator("lass", *tag),
                           steps=steps, clamp=(0.0, 1.0))
    return res.ratio, res.stderr


def _split_acc(model: nn.Module, x: Tensor, y: Tensor, noisy: Tensor) -> dict[str, float]:
    """Training accuracy (w.r.t. the training labels) on the clean and on the noisy
    examples, and overall (their count-weighted mean)."""
    out, hits = {}, 0
    for key, mask in (("clean_acc", ~noisy), ("noisy_acc", noisy)):
        n = int(mask.sum())
        out[key] = evaluate(model, x[mask], y[mask])["acc"] if n else math.nan
        hits += round(out[key] * n) if n else 0
    out["train_acc"] = hits / len(y)
    return out


def noisy_run(cfg: Config, name: str, spec: DataSpec, clean_y: Tensor, ctx: Context, *,
              dropout: float = 0.0) -> dict:
    """Train an MLP on ``spec``'s (noisy) labels; track patterns against memorization.

    Every epoch: validation accuracy (true labels), and training accuracy on the
    clean examples and on the noisy ones (label actually changed; accuracy w.r.t. the
    noisy label, i.e. how much of the noise is memorized). Every ``csr_every`` epochs:
    the critical sample ratio on ``csr_points`` validation points.

    Returns:
        ``{"name", "p", "dropout", "noisy_fraction", "history", "model", "digest"}``.
    """
    dev = ctx.device
    ds = spec.load()
    x, y = ds.x_train.to(dev), ds.y_train.to(dev)
    noisy = (ds.y_train != clean_y).to(dev)  # (N,) label actually changed
    xv, yv = ds.x_test.to(dev), ds.y_test.to(dev)
    model = mlp_maker(cfg, x[0].numel(), ds.num_classes, dropout)(
        ctx.seed_for("init", "noisy")).to(dev)
    opt = cfg.optimizer.build(model.parameters())
    order = ctx.generator("order", "noisy", name)
    history = []
    for e in ctx.track(range(cfg.epochs + 1), name, total=cfg.epochs + 1):
        if e:
            with seeded(ctx.seed_for("dropout", name, e)):  # dropout draws from the global RNG
                epoch(model, opt, x, y, batch_size=cfg.batch_size, generator=order)
        rec = {"variant": name, "epoch": e, **_split_acc(model, x, y, noisy),
               "val_acc": evaluate(model, xv, yv)["acc"]}
        if e % cfg.csr_every == 0 or e == cfg.epochs:
            rec["csr"], rec["csr_se"] = csr(model, xv[:cfg.csr_points], cfg.radius, ctx,
                                            (name, e), cfg.csr_steps)
        ctx.log(rec)
        history.append(rec)
    return {"name": name, "p": spec.label_noise, "dropout": dropout,
            "noisy_fraction": float(noisy.float().mean()), "history": history,
            "model": model, "digest": digest(x, y)}


def peak_vs_fit(h: list[dict]) -> dict:
    """Epoch and value of the validation peak, the final value, and the first epoch at
    which half of the noisy labels are fitted (NaN if never)."""
    peak = int(np.argmax([e["val_acc"] for e in h]))
    half = next((e["epoch"] for e in h if e["noisy_acc"] >= 0.5), math.nan)
    return {"peak_epoch": h[peak]["epoch"], "peak_val_acc": h[peak]["val_acc"],
            "final_val_acc": h[-1]["val_acc"], "noisy_half_fitted_epoch": half}
