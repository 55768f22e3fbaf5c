"""Run the memorization section: train every variant until fitted, then check the claims."""

from __future__ import annotations

from dataclasses import asdict

from torch import nn

from ...data import Dataset, DataSpec, random_shift
from ...models import MLP, MnistCNN, seeded
from ...train import first_epoch, fit_until
from ..base import Context, Result
from . import Config
from ._claims import claims
from ._tables import tables
from ._variants import Variant, budget, variants

__all__ = ["run"]


def data_spec(cfg: Config, v: Variant, ctx: Context) -> DataSpec:
    """The data variant ``v`` trains on.

    Every variant shares the subset seed and the corruption seed, so the label
    corruptions of the different p are nested (one uniform draw per example, redrawn
    where it falls below p) and the input corruptions are one fixed draw.
    """
    return DataSpec(dataset=cfg.dataset, source=cfg.data_dir, n_train=cfg.n_train,
                    n_test=cfg.n_test, subset_seed=ctx.seed_for("subset") % 2**31,
                    label_noise=v.p, inputs=v.inputs,
                    corruption_seed=ctx.seed_for("corruption") % 2**31)


def _model(v: Variant, ds: Dataset, cfg: Config, seed: int) -> nn.Module:
    """The lecture CNN, or an MLP with one hidden layer of ``mlp_hidden`` units."""
    c, h = ds.input_shape[0], ds.input_shape[-1]
    if v.model == "mlp":
        return MLP(c * h * h, [cfg.mlp_hidden], ds.num_classes, seed=seed, dropout=v.dropout)
    return MnistCNN(seed, in_channels=c, image_size=h, num_classes=ds.num_classes,
                    dropout=v.dropout)


def fit_variant(v: Variant, cfg: Config, ctx: Context) -> dict:
    """Train one variant until its training accuracy reaches ``fit_accuracy`` or its budget ends.

    Every variant of one model starts from the same initialization and sees the same
    batch order; augmentation redraws its shifts every epoch, and dropout masks come
    from a seeded global RNG. Logs one metrics record per epoch (with ``variant``) and
    saves the final weights with their data spec.

    Returns:
        ``{"variant", "budget", "history": [per-epoch records], "time_to_fit": epochs
        or NaN, "final": last record}``.
    """
    spec = data_spec(cfg, v, ctx)
    ds = spec.load()
    x, y, xt, yt = (t.to(ctx.device) for t in (ds.x_train, ds.y_train, ds.x_test, ds.y_test))
    model = _model(v, ds, cfg, ctx.seed_for("init", v.model)).to(ctx.device)
    opt_cfg = cfg.optimizer.replace(weight_decay=v.weight_decay) if v.weight_decay else cfg.optimizer
    shifts = ctx.generator("shift", v.name)
    augment = (lambda inputs: random_shift(inputs, v.shift, shifts)) if v.shift else None
    fitted = lambda rec: rec["train_acc"] >= cfg.fit_accuracy  # noqa: E731
    epochs = budget(cfg, v)
    with seeded(ctx.seed_for("dropout", v.name)):  # dropout masks draw from the global RNG
        history = fit_until(model, opt_cfg.build(model.parameters()), x, y, stop=fitted,
                            max_epochs=epochs, batch_size=cfg.batch_size,
                            generator=ctx.generator("order"), augment=augment,
                            eval_sets={"test": (xt, yt)},
                            log=lambda rec: ctx.log({"variant": v.name, **rec}),
                            progress=ctx.progress, description=v.name)
    augmentation = {"random_shift": v.shift} if v.shift else None
    ctx.save_state(v.name, model, data=spec, loss="cross_entropy", augmentation=augmentation,
                   optimizer=opt_cfg.model_dump(), batch_size=cfg.batch_size)
    return {"variant": asdict(v), "budget": epochs, "history": history,
            "time_to_fit": first_epoch(history, fitted), "final": history[-1],
            "n_train": len(x), "n_test": len(xt), "source": ds.source}


def run(cfg: Config, ctx: Context) -> Result:
    if 0.0 not in cfg.corruption or 1.0 not in cfg.corruption:
        raise ValueError("corruption must include 0 and 1 (true and random labels)")
    runs = {v.name: fit_variant(v, cfg, ctx) for v in variants(cfg)}
    summary = {**{k: runs["p=0"][k] for k in ("n_train", "n_test", "source")},
               **{f"{k} test_acc": r["final"]["test_acc"] for k, r in runs.items()},
               **{f"{k} epochs_to_fit": r["time_to_fit"] for k, r in runs.items()}}
    return Result(claims=claims(cfg, runs), summary=summary, tables=tables(cfg, runs),
                  data={"runs": runs, "corruption": sorted(cfg.corruption),
                        "inputs": list(cfg.inputs), "fit_accuracy": cfg.fit_accuracy})
