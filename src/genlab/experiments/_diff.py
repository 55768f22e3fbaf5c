"""Helpers of the difficulty experiment: one-epoch seed ensembles and noisy-label runs."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from ..data import Dataset, corrupt_labels, gaussian_inputs
from ..measures.critical import critical_samples, dispersion_index
from ..models import MLP, seeded
from ..train import evaluate, make_optimizer, train
from ..train.ensemble import train_seeds
from .base import Context

__all__ = ["csr", "noisy_run", "one_epoch_accuracy"]

CONDITIONS = ("real", "randX", "randY")


def _mlp(ds: Dataset, hidden: Sequence[int], seed: int, dropout: float = 0.0) -> MLP:
    return MLP(ds.x_train[0].numel(), list(hidden), ds.num_classes, seed=seed, dropout=dropout)


def condition_data(cond: str, x: Tensor, y: Tensor, k: int, ctx: Context) -> tuple[Tensor, Tensor]:
    """Arpit's conditions: real data, random inputs (randX: Gaussian inputs with the
    data's statistics, labels kept) or random labels (randY: inputs kept)."""
    if cond == "randX":
        return gaussian_inputs(x, ctx.generator("randX")), y
    if cond == "randY":
        return x, corrupt_labels(y, 1.0, k, ctx.generator("randY")).labels
    return x, y


def one_epoch_accuracy(cond: str, ds: Dataset, n: int, runs: int, hidden: Sequence[int],
                       ctx: Context, *, batch_size: int, lr: float, n_fit: int | None = None,
                       method: str = "auto") -> dict:
    """Per-example training accuracy after one epoch, over ``runs`` independent runs.

    Each run has its own init and data order (seed ensemble, :func:`train_seeds`),
    trains one epoch on the first ``n_fit`` training examples (default ``n``) and
    is scored on the first ``n`` of them.

    Returns:
        ``{"correct": (R, n) bool tensor, "dispersion": D, "mean_acc": p̄, "member": model 0}``.
    """
    n_fit = n if n_fit is None else n_fit
    x, y = condition_data(cond, ds.x_train[:n_fit], ds.y_train[:n_fit], ds.num_classes, ctx)
    x, y = x.to(ctx.device), y.to(ctx.device)
    seeds = [ctx.seed_for("init", r) for r in range(runs)]
    gens = [ctx.generator("order", cond, r) for r in range(runs)]
    ens, _ = train_seeds(lambda s: _mlp(ds, hidden, s), seeds, x, y, generators=gens,
                         method=method, epochs=1, batch_size=batch_size, lr=lr)
    with torch.no_grad():
        correct = torch.cat([(ens(xb).argmax(-1) == yb) for xb, yb in
                             zip(x[:n].split(1024), y[:n].split(1024))], dim=1).cpu()  # (R, n)
    return {"correct": correct, "dispersion": dispersion_index(correct),
            "mean_acc": float(correct.double().mean()), "member": ens.member(0)}


def csr(model, x: Tensor, radius: float, ctx: Context, tag, steps: int) -> tuple[float, float]:
    """Critical sample ratio (and its standard error) of ``model`` on points ``x``."""
    res = critical_samples(model, x, radius, generator=ctx.generator("lass", *tag),
                           steps=steps, clamp=(0.0, 1.0))
    return res.ratio, res.stderr


def noisy_run(name: str, p: float, ds: Dataset, ctx: Context, *, hidden: Sequence[int],
              dropout: float, epochs: int, batch_size: int, lr: float, radius: float,
              csr_points: int, csr_every: int, csr_steps: int) -> dict:
    """Train an MLP on labels corrupted with probability p; track patterns vs memorization.

    Every epoch: validation accuracy (true labels), and training accuracy on the
    clean examples and on the noisy ones (label actually changed; accuracy w.r.t.
    the noisy label, i.e. how much of the noise is memorized). Every
    ``csr_every`` epochs: the critical sample ratio on ``csr_points`` validation points.

    Returns:
        ``{"name", "p", "dropout", "history": [...], "model": trained module}``.
    """
    dev = ctx.device
    corr = corrupt_labels(ds.y_train, p, ds.num_classes, ctx.generator("noise"))
    x, y = ds.x_train.to(dev), corr.labels.to(dev)
    noisy = (corr.labels != ds.y_train).to(dev)  # (N,) actually changed
    xv, yv = ds.x_test.to(dev), ds.y_test.to(dev)
    xc = xv[:csr_points]
    model = _mlp(ds, hidden, ctx.seed_for("init", "noisy"), dropout).to(dev)
    opt = make_optimizer(model.parameters(), "adam", lr)
    order = ctx.generator("order", "noisy", name)
    history = []
    for epoch in ctx.track(range(epochs + 1), name, total=epochs + 1):
        if epoch:
            with seeded(ctx.seed_for("dropout", name, epoch)):  # dropout uses the global RNG
                train(model, x, y, optimizer=opt, epochs=1, batch_size=batch_size,
                      generator=order)
        rec = {"variant": name, "epoch": epoch, **_split_acc(model, x, y, noisy),
               "val_acc": evaluate(model, xv, yv)["acc"]}
        if epoch % csr_every == 0 or epoch == epochs:
            rec["csr"], rec["csr_se"] = csr(model, xc, radius, ctx, (name, epoch), csr_steps)
        ctx.log(rec)
        history.append(rec)
    return {"name": name, "p": p, "dropout": dropout, "noisy_fraction": float(noisy.float().mean()),
            "history": history, "model": model}


@torch.no_grad()
def _split_acc(model, x: Tensor, y: Tensor, noisy: Tensor) -> dict[str, float]:
    """Training accuracy (w.r.t. the training labels) overall, on clean and on noisy examples."""
    model.eval()
    pred = torch.cat([model(xb).argmax(-1) for xb in x.split(2048)])  # (N,)
    model.train()
    hit = (pred == y).double()
    out = {"train_acc": float(hit.mean())}
    out["clean_acc"] = float(hit[~noisy].mean()) if (~noisy).any() else float("nan")
    out["noisy_acc"] = float(hit[noisy].mean()) if noisy.any() else float("nan")
    return out
