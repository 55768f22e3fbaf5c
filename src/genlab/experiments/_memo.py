"""Helpers of the memorization experiment: variants, their data, and fitting to 99%."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from torch import Tensor, nn

from ..data import (Dataset, corrupt_labels, gaussian_inputs, random_pixels, random_shift,
                    shuffle_pixels)
from ..models import MLP, MnistCNN, seeded
from ..train import evaluate, make_optimizer, train
from .base import Context

__all__ = ["Variant", "fit_variant", "make_model", "variant_data"]

INPUTS = ("real", "shuffled_pixels", "random_pixels", "gaussian")
#: Evaluation batch: the same numbers as any other batch size (eval mode, no batch
#: statistics), but ~1.7× faster than 2048 on one CPU core (cache-sized activations).
EVAL_BATCH = 512


@dataclass(frozen=True)
class Variant:
    """One training condition of Zhang et al.'s randomization tests.

    Attributes:
        name: unique label used in metrics, data and weight files.
        group: "labels", "inputs", "regularizers" or "model" (which figure/claim uses it).
        p: label-corruption probability (1.0 = random labels).
        inputs: one of ``INPUTS``.
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


def make_model(v: Variant, ds: Dataset, hidden_mlp: int, seed: int) -> nn.Module:
    """The lecture CNN, or an MLP with one hidden layer of ``hidden_mlp`` units."""
    c, h = ds.input_shape[0], ds.input_shape[-1]
    if v.model == "mlp":
        return MLP(c * h * h, [hidden_mlp], ds.num_classes, seed=seed, dropout=v.dropout)
    return MnistCNN(seed, in_channels=c, image_size=h, num_classes=ds.num_classes,
                    dropout=v.dropout)


def variant_data(v: Variant, ds: Dataset, ctx: Context) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """Train and test tensors of a variant; every corruption is drawn once and kept fixed.

    Labels are corrupted with one generator for every p, so the corrupted sets are
    nested in p; the test labels stay true (test accuracy measures generalization).
    Input corruptions are applied to train and test alike (one pixel permutation for
    both in "shuffled_pixels").
    """
    x, y, xt, yt = ds.x_train, ds.y_train, ds.x_test, ds.y_test
    if v.p > 0:
        y = corrupt_labels(y, v.p, ds.num_classes, ctx.generator("labels")).labels
    if v.inputs == "shuffled_pixels":
        x, perm = shuffle_pixels(x, ctx.generator("pixels"))
        xt, _ = shuffle_pixels(xt, permutation=perm)
    elif v.inputs == "random_pixels":
        x, xt = random_pixels(x, ctx.generator("pixels")), random_pixels(xt, ctx.generator("pixels", "test"))
    elif v.inputs == "gaussian":
        x, xt = gaussian_inputs(x, ctx.generator("gauss")), gaussian_inputs(xt, ctx.generator("gauss", "test"))
    dev = ctx.device
    return x.to(dev), y.to(dev), xt.to(dev), yt.to(dev)


def fit_variant(v: Variant, ds: Dataset, ctx: Context, *, max_epochs: int, batch_size: int,
                lr: float, fit_acc: float, hidden_mlp: int, test_every: int = 1) -> dict:
    """Train one variant with Adam until train accuracy ≥ ``fit_acc`` or ``max_epochs``.

    Logs one metrics record per epoch (with ``variant``) and saves the final weights.
    Train loss and accuracy are measured every epoch, test ones every ``test_every``
    epochs and at the end.

    Returns:
        ``{"variant": asdict(v), "history": [...per epoch...], "time_to_fit": epochs
        or NaN, "final": last record}``.
    """
    x, y, xt, yt = variant_data(v, ds, ctx)
    init = ctx.seed_for("init", v.model)  # same init for every variant of one model
    model = make_model(v, ds, hidden_mlp, init).to(ctx.device)
    opt = make_optimizer(model.parameters(), "adam", lr, weight_decay=v.weight_decay)
    order, shifts = ctx.generator("order"), ctx.generator("shift", v.name)
    with seeded(ctx.seed_for("dropout", v.name)):  # dropout masks draw from the global RNG
        history, fit = _epochs(v, model, opt, (x, y, xt, yt), ctx, order, shifts, max_epochs,
                               batch_size, fit_acc, test_every)
    ctx.save_state(v.name, model)
    return {"variant": asdict(v), "history": history, "time_to_fit": fit, "final": history[-1]}


def _epochs(v: Variant, model: nn.Module, opt, data, ctx: Context, order, shifts,
            max_epochs: int, batch_size: int, fit_acc: float,
            test_every: int) -> tuple[list[dict], float]:
    """The epoch loop of :func:`fit_variant`: (per-epoch records, time to fit or NaN)."""
    x, y, xt, yt = data
    history, fit = [], math.nan
    for epoch in ctx.track(range(max_epochs + 1), v.name, total=max_epochs + 1):
        if epoch > 0:
            xe = random_shift(x, v.shift, shifts) if v.shift else x
            train(model, xe, y, optimizer=opt, epochs=1, batch_size=batch_size, generator=order)
        rec = {"variant": v.name, "epoch": epoch}
        ev = evaluate(model, x, y, batch_size=EVAL_BATCH)  # the full train set, every epoch
        rec.update({f"train_{k}": val for k, val in ev.items()})
        done = rec["train_acc"] >= fit_acc or epoch == max_epochs
        if done or epoch % test_every == 0:
            ev = evaluate(model, xt, yt, batch_size=EVAL_BATCH)
            rec.update({f"test_{k}": val for k, val in ev.items()})
        ctx.log(rec)
        history.append(rec)
        if rec["train_acc"] >= fit_acc:
            fit = float(epoch)
        if done:
            break
    return history, fit
