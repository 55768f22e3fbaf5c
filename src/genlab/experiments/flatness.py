"""Lecture section 3 (the continued mystery): flat minima and the ReLU rescaling.

Claim 1 (Keskar, Mudigere, Nocedal, Smelyanskiy & Tang 2017, "On large-batch
training for deep learning: generalization gap and sharp minima", ICLR,
arXiv:1609.04836): the same network trained with large batches ends in a sharper
minimum than with small batches: its ε-sharpness is larger (Keskar's Table 3
ratios are 5–50×), as is the top Hessian eigenvalue, and it generalizes worse.

Claim 2 (Dinh, Pascanu, Bengio & Bengio 2017, "Sharp minima can generalize for
deep nets", ICML, arXiv:1703.04933): for a ReLU network, W1 → αW1, b1 → αb1,
W2 → W2/α leaves the function unchanged yet moves naive sharpness (λ_max,
ε-sharpness) by orders of magnitude; flatness needs a reparametrization-invariant
definition, e.g. sharpness along filter-normalized directions (Li et al. 2018).
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field

from .. import measures as M
from ..data import load_dataset
from ..models import MLP, MnistCNN
from ..train import evaluate, make_optimizer, train
from ._flatness_figures import figures
from .base import Context, Experiment, ExperimentConfig, Result, check

__all__ = ["EXPERIMENT", "Config", "build_model", "figures", "run"]


class Config(ExperimentConfig):
    data_dir: str | None = Field(None, description="directory of the full MNIST IDX files; "
                                 "None = the 5,000 embedded digits")
    n_train: int | None = Field(2000, ge=32, description="training examples (None = all)")
    n_test: int | None = Field(1000, ge=32, description="test examples (None = all)")
    model: Literal["mlp", "cnn"] = Field("mlp", description="architecture: ReLU MLP or the "
                                         "lecture CNN (808,666 parameters)")
    hidden: list[int] = Field([256], min_length=1, description="hidden widths of the MLP")
    small_batch: int = Field(32, ge=1, description="batch size of the small-batch (SB) run")
    large_batch: int = Field(1000, ge=1, description="batch size of the large-batch (LB) run "
                             "(Keskar: 10% of the training set)")
    epochs: float = Field(40, gt=0, description="training epochs of both runs")
    lr: float = Field(1e-3, gt=0, description="Adam learning rate of both runs")
    n_measure: int = Field(1000, ge=16, description="training examples the measures see")
    measure_batch: int = Field(500, ge=1, description="batch size of the measure passes")
    eig_tol: float = Field(1e-3, gt=0, description="relative residual of the Lanczos λ_max")
    trace_samples: int = Field(30, ge=2, description="Hutchinson probes for tr(H)")
    epsilon: float = Field(1e-3, gt=0, description="Keskar's box size ε (relative)")
    sharp_iter: int = Field(10, ge=1, description="L-BFGS-B iterations of ε-sharpness")
    fn_radius: float = Field(0.2, gt=0, description="largest step t along a filter-normalized "
                             "direction (invariant sharpness)")
    fn_directions: int = Field(8, ge=2, description="filter-normalized directions")
    slq_vectors: int = Field(3, ge=1, description="probe vectors of the spectral density")
    slq_steps: int = Field(40, ge=2, description="Lanczos steps per probe of the density")
    interp_points: int = Field(21, ge=3, description="points of the SB→LB interpolation, "
                               "t ∈ [−0.5, 1.5]")
    alphas: list[float] = Field([1e-2, 1e-1, 1.0, 1e1, 1e2], min_length=3,
                                description="rescaling factors α (1 included)")


PROFILES = {
    "quick": {"n_train": 512, "n_test": 500, "hidden": [64], "small_batch": 16,
              "large_batch": 256, "epochs": 20, "n_measure": 512, "measure_batch": 512,
              "trace_samples": 10, "fn_directions": 4, "slq_vectors": 2, "slq_steps": 20,
              "interp_points": 9, "sharp_iter": 5},
    "default": {},
    "full": {"data_dir": "data/mnist", "n_train": None, "n_test": None, "model": "cnn",
             "small_batch": 256, "large_batch": 6000, "epochs": 100, "n_measure": 10000},
}


def build_model(cfg: dict, seed: int) -> torch.nn.Module:
    """The run's architecture with the init of ``seed`` (also used by ``genlab measure``)."""
    if cfg["model"] == "cnn":
        return MnistCNN(seed)
    return MLP(784, cfg["hidden"], 10, seed=seed)


def _fit(cfg: Config, ctx: Context, name: str, batch: int, ds) -> torch.nn.Module:
    model = build_model(cfg.model_dump(), ctx.seed_for("init")).to(ctx.device)  # same init
    train(model, ds.x_train, ds.y_train, optimizer=make_optimizer(model.parameters(), "adam",
                                                                  cfg.lr),
          epochs=cfg.epochs, batch_size=batch, generator=ctx.generator("order", name),
          eval_sets={"train": (ds.x_train, ds.y_train), "test": (ds.x_test, ds.y_test)},
          log=lambda r: ctx.log({"run": name, **r}), progress=ctx.progress, description=name)
    ctx.save_state(name, model)
    return model.eval()


def _measure(cfg: Config, ctx: Context, model, batches, name: str) -> tuple[dict, dict]:
    gen = lambda *k: ctx.generator("measure", *k)  # noqa: E731  same draws for every model
    op = M.HessianOperator(model, M.cross_entropy_loss, batches)
    lam = float(M.top_eigen(op, k=1, tol=cfg.eig_tol, generator=gen("eig")).values[0])
    tr = M.hutchinson_trace(op, cfg.trace_samples, generator=gen("trace"))
    sharp = M.epsilon_sharpness(model, M.cross_entropy_loss, batches, epsilon=cfg.epsilon,
                                max_iter=cfg.sharp_iter, generator=gen("sharp"))
    inv = M.filter_normalized_sharpness(model, M.cross_entropy_loss, batches, generator=gen("fn"),
                                        radius=cfg.fn_radius, num_directions=cfg.fn_directions)
    out = {"lambda_max": lam, "trace": tr.value, "trace_se": tr.stderr,
           "eps_sharpness": sharp.value, "fn_sharpness": inv.value, "fn_sharpness_se": inv.stderr}
    sd = M.spectral_density(op, cfg.slq_vectors, cfg.slq_steps, generator=gen("slq"))
    arrays = {f"{name}_nodes": sd.nodes.numpy(), f"{name}_weights": sd.weights.numpy(),
              f"{name}_grid": sd.grid.numpy(), f"{name}_density": sd.density.numpy()}
    return out, arrays


def _rescaling(cfg: Config, ctx: Context, model, batches, x_test) -> list[dict]:
    first, second = M.homogeneous_pairs(model)[0]
    gen = lambda *k: ctx.generator("rescale", *k)  # noqa: E731  same draws for every α
    with torch.no_grad():
        ref = model(x_test)
    rows = []
    for alpha in cfg.alphas:
        m = M.rescale_relu(model, first, second, alpha)
        with torch.no_grad():
            change = float((m(x_test) - ref).abs().max() / ref.abs().max())
        op = M.HessianOperator(m, M.cross_entropy_loss, batches)
        rows.append({
            "alpha": alpha, "output_change": change,
            "lambda_max": float(M.top_eigen(op, k=1, tol=cfg.eig_tol, generator=gen("eig"))
                                .values[0]),
            "eps_sharpness": M.epsilon_sharpness(m, M.cross_entropy_loss, batches,
                                                 epsilon=cfg.epsilon, max_iter=cfg.sharp_iter,
                                                 generator=gen("sharp")).value,
            "fn_sharpness": M.filter_normalized_sharpness(
                m, M.cross_entropy_loss, batches, generator=gen("fn"), radius=cfg.fn_radius,
                num_directions=cfg.fn_directions).value})
        ctx.log({"run": "rescale", **rows[-1]})
    return rows


def _claims(cfg: Config, res: dict, rows: list[dict]) -> list:
    sb, lb = res["small_batch"], res["large_batch"]
    ratio = lb["eps_sharpness"] / max(sb["eps_sharpness"], 1e-12)
    lam_ratio = lb["lambda_max"] / max(sb["lambda_max"], 1e-12)
    lams = [r["lambda_max"] for r in rows]
    ref = next(r["fn_sharpness"] for r in rows if r["alpha"] == 1.0)
    inv_dev = max(abs(r["fn_sharpness"] - ref) for r in rows) / max(abs(ref), 1e-12)
    return [
        check("lb_sharper", "the large-batch minimum is sharper: ε-sharpness LB/SB ≥ 5 (Keskar)",
              ratio, ">=", 5.0, f"ε-sharpness SB {sb['eps_sharpness']:.3g}, LB "
              f"{lb['eps_sharpness']:.3g} (ε = {cfg.epsilon:g}); λ_max SB {sb['lambda_max']:.3g}, "
              f"LB {lb['lambda_max']:.3g}, ratio {lam_ratio:.3g}"),
        check("lb_generalizes_worse", "large batches generalize worse: test acc SB − LB ≥ 0",
              sb["test_acc"] - lb["test_acc"], ">=", 0.0,
              f"test acc SB {sb['test_acc']:.4f}, LB {lb['test_acc']:.4f}"),
        check("rescaling_keeps_function", "the rescaled network computes the same function",
              max(r["output_change"] for r in rows), "<=", 1e-5,
              "max |f_α(x) − f(x)| / max |f(x)| over the test set and α"),
        check("naive_sharpness_moves", "rescaling moves naive λ_max by ≥ 100×",
              max(lams) / min(lams), ">=", 100.0, "max/min λ_max over α = "
              + ", ".join(f"{a:g}" for a in cfg.alphas)),
        check("invariant_measure_fixed", "filter-normalized sharpness changes ≤ 1% under "
              "rescaling", inv_dev, "<=", 0.01, f"max relative deviation from α = 1 ({ref:.4g})"),
    ]


def run(cfg: Config, ctx: Context) -> Result:
    if cfg.model == "cnn" and cfg.hidden != Config.model_fields["hidden"].default:
        raise ValueError("hidden applies to the MLP only; the CNN is the lecture's")
    if 1.0 not in cfg.alphas:
        raise ValueError("alphas must include 1.0 (the reference of the invariance claim)")
    ds = load_dataset("mnist", source=cfg.data_dir, n_train=cfg.n_train, n_test=cfg.n_test,
                      seed=ctx.seed_for("subset") % 2**31).to(ctx.device)
    x, y = ds.x_train[:cfg.n_measure], ds.y_train[:cfg.n_measure]
    batches = list(zip(x.split(cfg.measure_batch), y.split(cfg.measure_batch)))
    models, res, arrays = {}, {}, {}
    for name, batch in (("small_batch", cfg.small_batch), ("large_batch", cfg.large_batch)):
        models[name] = _fit(cfg, ctx, name, batch, ds)
        res[name], arr = _measure(cfg, ctx, models[name], batches, name)
        res[name].update({f"{s}_{k}": v for s, (xe, ye) in
                          (("train", (ds.x_train, ds.y_train)), ("test", (ds.x_test, ds.y_test)))
                          for k, v in evaluate(models[name], xe, ye).items()})
        arrays.update(arr)
    ts = torch.linspace(-0.5, 1.5, cfg.interp_points)
    test_batches = list(zip(ds.x_test.split(cfg.measure_batch), ds.y_test.split(cfg.measure_batch)))
    interp = {s: M.interpolate(models["small_batch"], models["large_batch"], M.cross_entropy_loss,
                               b, ts, metrics={"accuracy": M.accuracy})
              for s, b in (("train", batches), ("test", test_batches))}
    rows = _rescaling(cfg, ctx, models["small_batch"], batches, ds.x_test)
    data = {"measures": res, "rescaling": rows, "interpolation": {
        "t": ts.tolist(), **{f"{s}_{k}": (v.loss if k == "loss" else v.metrics["accuracy"]).tolist()
                             for s, v in interp.items() for k in ("loss", "accuracy")}}}
    summary = {f"{n} {k}": v for n, r in res.items() for k, v in r.items()}
    summary["n_train"], summary["n_test"], summary["source"] = ds.n_train, ds.n_test, ds.source
    return Result(claims=_claims(cfg, res, rows), summary=summary, data=data, arrays=arrays)


EXPERIMENT = Experiment(
    name="flatness", title="Flat minima and the ReLU rescaling", section="3",
    claim="large batches find sharper minima; rescaling changes naive sharpness but not the "
          "function, while filter-normalized sharpness is invariant",
    config=Config, profiles=PROFILES, run=run, figures=figures)
