"""Seed ensembles: R independent training runs of one architecture, run as one.

The R members are stacked with ``torch.func.stack_module_state`` and run with
``vmap`` over ``functional_call``; each member has its own initialization (its
seed) and its own data order (its generator). Summing the R member losses and
back-propagating gives every member its own gradient, because the members share
no parameter; Adam and SGD act elementwise, so one (fused) optimizer over the
stacked tensors takes exactly the R separate steps. Member r therefore follows
the same trajectory, up to float rounding, as ``train(make_model(seeds[r]), ...,
generator=generators[r])`` run alone (``tests/train/test_ensemble.py``).

Arpit et al. (2017), "A Closer Look at Memorization in Deep Networks" (ICML,
arXiv:1706.05394), use 100 such runs per measurement. Which way is faster depends on
the device and the model; :func:`~genlab.train.choose_method` measures it, and
``benchmarks/ensemble.py`` reports both against the machine's bare matrix-product rate.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

from ..errors import Diverged
from .core import LossFn, check_finite, fit
from .optim import OptimizerConfig
from .progress import track

__all__ = ["Ensemble", "evaluate_ensemble", "make_ensemble", "train_ensemble", "train_seeds"]

METHODS = ("auto", "vmap", "sequential")


@dataclass
class Ensemble:
    """R copies of one architecture as stacked tensors.

    Attributes:
        template: a copy of member 0 on the meta device; gives the architecture and mode.
        params: name → stacked parameter, (R, *shape); leaf tensors that require grad
            (after training, possibly with permuted strides: see ``train_ensemble``).
        buffers: name → stacked buffer, (R, *shape).
    """

    template: nn.Module
    params: dict[str, Tensor]
    buffers: dict[str, Tensor]

    @property
    def size(self) -> int:
        """The number of members R."""
        return next(iter(self.params.values())).shape[0]

    def state_dict(self, r: int) -> dict[str, Tensor]:
        """Member ``r``'s weights as a state dict (contiguous detached copies)."""
        return {k: v[r].detach().clone(memory_format=torch.contiguous_format)
                for k, v in {**self.params, **self.buffers}.items()}

    def member(self, r: int) -> nn.Module:
        """Member ``r`` as a stand-alone module (a copy, on the ensemble's device)."""
        device = next(iter(self.params.values())).device
        model = copy.deepcopy(self.template).to_empty(device=device)
        model.load_state_dict(self.state_dict(r))
        return model

    def forward(self, x: Tensor, *, shared: bool = True, train: bool = False) -> Tensor:
        """Every member's outputs.

        Args:
            x: inputs (N, ...) fed to every member (``shared``), or (R, N, ...) one batch each.
            shared: whether ``x`` is one batch for all members.
            train: run in train mode (dropout active, independently per member).

        Returns:
            Outputs (R, N, K).
        """
        self.template.train(train)

        def one(p, b, xb):
            return functional_call(self.template, (p, b), (xb,))

        in_dims = (0, 0, None if shared else 0)
        return vmap(one, in_dims=in_dims, randomness="different")(self.params, self.buffers, x)

    __call__ = forward


def make_ensemble(make_model: Callable[[int], nn.Module], seeds: Sequence[int],
                  device: str | torch.device = "cpu") -> Ensemble:
    """Build R members ``make_model(seed)`` and stack them.

    Args:
        make_model: seed → freshly initialized module (e.g. ``lambda s: MLP(784, [256], 10, seed=s)``).
        seeds: one init seed per member.
        device: where the stacked tensors live.

    Returns:
        An :class:`Ensemble` whose stacked parameters are leaves that require grad.

    Raises:
        ValueError: no seeds.
    """
    if len(seeds) == 0:
        raise ValueError("an ensemble needs at least one seed")
    return _stack([make_model(int(s)).to(device) for s in seeds])


def _has_batch_norm(model: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


def _stack(models: Sequence[nn.Module]) -> Ensemble:
    """Stack built (or trained) members into an :class:`Ensemble`."""
    params, buffers = stack_module_state(list(models))  # each (R, *shape)
    template = copy.deepcopy(models[0]).to("meta")
    return Ensemble(template, params, buffers)


def _orders(n: int, batch_size: int | None, generators: Sequence[torch.Generator], device):
    """One epoch of (R, B) index tensors: each member's own shuffled order, as
    :func:`~genlab.train.epoch` draws it; ``[None]`` for the full batch."""
    if batch_size is None or batch_size >= n:
        return [None]
    perms = torch.stack([torch.randperm(n, generator=g) for g in generators])  # (R, n)
    return perms.to(device).split(batch_size, dim=1)


def _grad_orders(ens: Ensemble, x: Tensor, y: Tensor, loss_fn: LossFn) -> dict[str, list[int]]:
    """For each parameter, the dimension order in which its gradient is contiguous.

    Under vmap a linear layer's weight gradient arrives transposed in memory.
    Autograd would copy it into the parameter's layout on every step, and the
    fused optimizer would copy again, which together cost as much as the matrix
    products; one probe backward on two examples finds the gradients' layouts so
    that training can keep its leaves in them instead.
    """
    out = ens(x[:2], train=True)  # (R, 2, K)
    losses = vmap(loss_fn, in_dims=(0, None))(out, y[:2]).sum()
    grads = torch.autograd.grad(losses, list(ens.params.values()))
    orders = {}
    for name, g in zip(ens.params, grads):
        order = sorted(range(g.dim()), key=lambda d: -g.stride(d))
        orders[name] = order if g.permute(order).is_contiguous() else list(range(g.dim()))
    return orders


def _inverse(order: list[int]) -> list[int]:
    return sorted(range(len(order)), key=order.__getitem__)


@torch.no_grad()
def evaluate_ensemble(ens: Ensemble, x: Tensor, y: Tensor, *, loss_fn: LossFn = F.cross_entropy,
                      batch_size: int = 2048) -> dict[str, Tensor]:
    """Per-member mean loss and accuracy on ``(x, y)`` in eval mode.

    Returns:
        ``{"loss": (R,), "acc": (R,)}`` tensors.
    """
    loss, correct = 0.0, 0
    for i in range(0, len(x), batch_size):
        out = ens(x[i:i + batch_size])  # (R, b, K)
        yb = y[i:i + batch_size]
        loss = loss + vmap(loss_fn, in_dims=(0, None))(out, yb).double() * len(yb)
        correct = correct + (out.argmax(-1) == yb).sum(1)
    return {"loss": loss / len(x), "acc": correct.double() / len(x)}


def _check_members(rec: dict) -> None:
    for key, values in rec.items():
        if key.endswith("_loss"):
            bad = [r for r, v in enumerate(values) if not math.isfinite(v)]
            if bad:
                raise Diverged(f"{key.removesuffix('_loss')} loss of member {bad[0]} became "
                               f"{values[bad[0]]} (learning rate too large?)")


def train_ensemble(ens: Ensemble, x: Tensor, y: Tensor, *, generators: Sequence[torch.Generator],
                   optimizer: OptimizerConfig, epochs: int = 1, batch_size: int | None = None,
                   loss_fn: LossFn = F.cross_entropy,
                   eval_sets: Mapping[str, tuple[Tensor, Tensor]] | None = None,
                   log: Callable[[dict], None] | None = None,
                   progress: bool = False) -> list[dict]:
    """Train every member of ``ens`` at once (vmap), each on its own data order.

    Args:
        ens: the stacked members (trained in place).
        x, y: the training set, (N, ...) and (N,), on the ensemble's device.
        generators: one batch-order generator per member.
        optimizer: the optimizer, built once over the stacked parameters (Adam and
            SGD act elementwise, so this is R separate optimizers).
        epochs: passes over the data.
        batch_size: M; ``None`` or ``>= N`` is full-batch.
        loss_fn: ``loss_fn(outputs, targets)``, a mean over the batch.
        eval_sets: name → ``(x, y)`` evaluated per member at epoch 0 and after each epoch.
        log: called with each record.
        progress: show a progress bar.

    Returns:
        Records ``{"epoch", "<set>_loss": [R floats], "<set>_acc": [R floats]}``.

    Raises:
        Diverged: some member's evaluated loss became NaN or infinite.
    """
    if len(generators) != ens.size:
        raise ValueError(f"need one generator per member: got {len(generators)} for {ens.size}")
    if _has_batch_norm(ens.template):
        raise ValueError("batch norm cannot be trained stacked (its running statistics update in "
                         "place); allowed: models without batch norm, or method='sequential'")
    n = len(x)
    layout = _grad_orders(ens, x, y, loss_fn)
    # the optimizer's leaves: each parameter permuted so that its gradient is contiguous
    leaves = {k: p.detach().permute(layout[k]).contiguous().requires_grad_()
              for k, p in ens.params.items()}

    inverse = {k: _inverse(o) for k, o in layout.items()}  # fixed: computed once

    def views() -> dict[str, Tensor]:  # the parameters in their own shapes, as views of leaves
        return {k: v.permute(inverse[k]) for k, v in leaves.items()}

    opt = optimizer.build(leaves.values())
    per_member = vmap(loss_fn)
    records: list[dict] = []
    ens.params = views()
    for e in track(range(epochs + 1), "ensemble", total=epochs + 1, enabled=progress):
        running = torch.zeros((), device=x.device)  # the members' summed losses, on device
        for idx in _orders(n, batch_size, generators, x.device) if e else ():
            ens.params = views()
            if idx is None:
                out, yb = ens(x, train=True), y.expand(ens.size, n)  # (R, N, K), (R, N)
            else:
                out, yb = ens(x[idx], shared=False, train=True), y[idx]  # (R, B, K), (R, B)
            loss = per_member(out, yb).sum()  # members share nothing: d(sum)/dθ_r = dL_r/dθ_r
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            running += loss.detach()
        check_finite(float(running), "the members' summed training loss")
        rec: dict = {"epoch": e}
        for name, (xe, ye) in (eval_sets or {}).items():
            rec.update({f"{name}_{k}": v.tolist() for k, v in
                        evaluate_ensemble(ens, xe, ye, loss_fn=loss_fn).items()})
        _check_members(rec)
        records.append(rec)
        if log is not None:
            log(rec)
    ens.params = {k: v.detach().requires_grad_() for k, v in views().items()}
    return records


def _merge(runs: list[list[dict]]) -> list[dict]:
    """Per-member :func:`~genlab.train.fit` records → one record per epoch with per-member lists."""
    merged = []
    for recs in zip(*runs):
        rec: dict = {"epoch": recs[0]["epoch"]}
        for key in recs[0]:
            if key.endswith(("_loss", "_acc")) and key != "train_loss_running":
                rec[key] = [r[key] for r in recs]
        merged.append(rec)
    return merged


def train_seeds(make_model: Callable[[int], nn.Module], seeds: Sequence[int], x: Tensor,
                y: Tensor, *, generators: Sequence[torch.Generator], optimizer: OptimizerConfig,
                method: str = "auto", epochs: int = 1, batch_size: int | None = None,
                loss_fn: LossFn = F.cross_entropy,
                eval_sets: Mapping[str, tuple[Tensor, Tensor]] | None = None,
                log: Callable[[dict], None] | None = None,
                progress: bool = False) -> tuple[Ensemble, list[dict]]:
    """Train R members ``make_model(seeds[r])``, stacked (vmap) or one after the other.

    Both methods give the same members (up to float rounding) and the same records.

    Args:
        make_model: seed → freshly initialized module, already of the right architecture.
        seeds: one init seed per member.
        x, y: the training set on the target device.
        generators: one batch-order generator per member.
        optimizer: the optimizer of every member.
        method: "vmap", "sequential", or "auto": the one measured faster for this
            model, data and device (:func:`~genlab.train.choose_method`).
        epochs, batch_size, loss_fn, eval_sets, log, progress: as in :func:`train_ensemble`.

    Returns:
        ``(ensemble, records)``: the trained members stacked, and per-epoch records
        with one value per member for each ``<set>_loss`` / ``<set>_acc``.
    """
    if method not in METHODS:
        raise ValueError(f"unknown ensemble method {method!r}; allowed: {', '.join(METHODS)}")
    if len(generators) != len(seeds):
        raise ValueError(f"need one generator per seed: got {len(generators)} for {len(seeds)}")
    if method == "auto":
        from ._method import choose_method

        method = choose_method(make_model, len(seeds), x, y, optimizer=optimizer,
                               batch_size=batch_size, loss_fn=loss_fn)
    common = dict(epochs=epochs, batch_size=batch_size, loss_fn=loss_fn, eval_sets=eval_sets)
    if method == "vmap":
        ens = make_ensemble(make_model, seeds, x.device)
        records = train_ensemble(ens, x, y, generators=generators, optimizer=optimizer, log=log,
                                 progress=progress, **common)
        return ens, records
    models, runs = [], []
    for seed, g in track(list(zip(seeds, generators)), "members", enabled=progress):
        model = make_model(int(seed)).to(x.device)
        runs.append(fit(model, optimizer.build(model.parameters()), x, y, generator=g, **common))
        models.append(model)
    records = _merge(runs)
    for rec in records:
        _check_members(rec)
        if log is not None:
            log(rec)
    return _stack(models), records
