"""The frequency principle on MNIST by the filtering method (Xu et al. 2019,
arXiv:1901.06523): the lecture's CNN fits embedded digits with full-batch Adam, and
every few iterations its softmax outputs and the one-hot labels are split, at the
training images, into a low- and a high-frequency part by a Gaussian filter over
input space; e_low and e_high are the relative errors of the two parts."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ...data import DataSpec
from ...measures.filtering import filtered_errors, low_pass_operator, median_sq_distance
from ...models import MnistCNN
from ...train import check_finite, step
from ..base import Context
from . import Config

__all__ = ["HALF", "first_below", "frequency_principle"]

#: The level at which a band counts as half converged (relative error ≤ ½).
HALF = 0.5


def first_below(iterations: list[int], values: list[float], level: float = HALF) -> float:
    """The first logged iteration at which ``values`` ≤ ``level`` (NaN if never)."""
    return next((float(t) for t, v in zip(iterations, values) if v <= level), math.nan)


def _data(cfg: Config, ctx: Context) -> tuple[DataSpec, torch.Tensor, torch.Tensor]:
    spec = DataSpec(dataset="mnist", source=cfg.data_dir, n_train=cfg.mnist_train, n_test=100,
                    subset_seed=ctx.seed_for("mnist"))
    ds = spec.load()
    return spec, ds.x_train.to(ctx.device), ds.y_train.to(ctx.device)


def frequency_principle(cfg: Config, ctx: Context) -> dict:
    """Fit the CNN and record e_low, e_high and the training accuracy over iterations.

    Returns:
        A JSON-ready dict: ``iterations``, ``e_low``, ``e_high``, ``train_acc`` (lists),
        ``delta`` (the filter width, squared pixel units), ``delta_fraction``,
        ``low_energy`` / ``high_energy`` (the squared norms of the labels' two parts over
        theirs; the parts are not orthogonal, so these need not sum to 1), ``n_train``.
    """
    spec, x, y = _data(cfg, ctx)
    median = median_sq_distance(x.cpu())
    op = low_pass_operator(x.cpu(), cfg.filter_width * median)  # (N, N)
    onehot = F.one_hot(y.cpu(), 10).double()  # (N, 10)
    low = op @ onehot
    model = MnistCNN(ctx.seed_for("cnn"), channels=cfg.cnn_channels,
                     hidden=cfg.cnn_hidden).to(ctx.device)
    opt = cfg.optimizer.build(model.parameters())
    rec: dict = {"iterations": [], "e_low": [], "e_high": [], "train_acc": []}
    for t in ctx.track(range(cfg.cnn_steps + 1), "mnist cnn", total=cfg.cnn_steps + 1):
        if t % cfg.cnn_log_every == 0 or t == cfg.cnn_steps:
            with torch.no_grad():
                logits = model(x)  # (N, 10)
            check_finite(float(logits.abs().max()), "CNN outputs")
            e_low, e_high = filtered_errors(logits.softmax(1).cpu(), onehot, op)
            acc = float((logits.argmax(1) == y).double().mean())
            for key, v in zip(("iterations", "e_low", "e_high", "train_acc"), (t, e_low, e_high,
                                                                              acc)):
                rec[key].append(v)
            ctx.log({"fit": "mnist_cnn", "step": t, "e_low": e_low, "e_high": e_high,
                     "train_acc": acc})
        if t < cfg.cnn_steps:
            step(model, opt, F.cross_entropy, x, y)
    ctx.save_state("mnist_cnn", model, data=spec, loss="cross_entropy")
    return {**rec, "delta": cfg.filter_width * median, "delta_fraction": cfg.filter_width,
            "low_energy": float(low.square().sum() / onehot.square().sum()),
            "high_energy": float((onehot - low).square().sum() / onehot.square().sum()),
            "n_train": len(y)}
