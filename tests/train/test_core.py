"""The training core against a bare PyTorch loop and exact gradient steps."""

import itertools

import pytest
import torch
import torch.nn.functional as F
from pydantic import ValidationError

from genlab.errors import Diverged
from genlab.models import MLP
from genlab.train import OptimizerConfig, batches, epoch, evaluate, fit, step


def _data(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, generator=g)
    return x, (x[:, 0] > 0).long()


def _bare_loop(model, x, y, opt, batch_size, epochs, gen):
    """The reference: a plain PyTorch loop with the same batch order."""
    for _ in range(epochs):
        for idx in torch.randperm(len(x), generator=gen).split(batch_size):
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam"])
def test_fit_matches_bare_loop(name):
    x, y = _data()
    a, b = MLP(5, [16], 2, seed=1), MLP(5, [16], 2, seed=1)
    opt = OptimizerConfig(name=name, lr=0.05)
    fit(a, opt.build(a.parameters()), x, y, epochs=3, batch_size=10,
        generator=torch.Generator().manual_seed(4))
    _bare_loop(b, x, y, opt.build(b.parameters()), 10, 3, torch.Generator().manual_seed(4))
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q)


def test_full_batch_step_is_exact_gradient_step():
    x, y = _data()
    model = MLP(5, [], 2, seed=0)
    w0 = [p.detach().clone() for p in model.parameters()]
    grads = torch.autograd.grad(F.cross_entropy(model(x), y), list(model.parameters()))
    loss = epoch(model, OptimizerConfig(name="sgd", lr=0.3).build(model.parameters()), x, y,
                 batch_size=None)
    for p, p0, g in zip(model.parameters(), w0, grads):
        torch.testing.assert_close(p, p0 - 0.3 * g)
    with torch.no_grad():
        assert loss == pytest.approx(float(F.cross_entropy(MLP(5, [], 2, seed=0)(x), y)))


def test_fit_records_every_epoch_and_evaluates():
    x, y = _data()
    model = MLP(5, [8], 2)
    logged = []
    recs = fit(model, OptimizerConfig(lr=0.01).build(model.parameters()), x, y, epochs=3,
               batch_size=16, eval_sets={"train": (x, y)}, log=logged.append)
    assert [r["epoch"] for r in recs] == [0, 1, 2, 3] and logged == recs
    assert recs[0]["train_loss_running"] != recs[0]["train_loss_running"]  # NaN before training
    assert recs[-1]["train_acc"] == evaluate(model, x, y)["acc"]
    assert recs[-1]["train_loss"] < recs[0]["train_loss"]


def test_batches_cover_each_epoch_or_draw_with_replacement():
    g = torch.Generator().manual_seed(0)
    epoch_batches = list(itertools.islice(batches(10, 4, g), 3))
    assert [len(b) for b in epoch_batches] == [4, 4, 2]
    assert sorted(torch.cat(epoch_batches).tolist()) == list(range(10))
    assert next(batches(10, None)) is None and next(batches(10, 20)) is None
    drawn = torch.cat(list(itertools.islice(batches(3, 50, g, replacement=True), 4)))
    assert len(drawn) == 200 and set(drawn.tolist()) == {0, 1, 2}  # repeats: with replacement
    with pytest.raises(ValueError, match="batch_size"):
        next(batches(10, 0))


def test_schedule_and_step():
    x, y = _data(20)
    model = MLP(5, [8], 2)
    cfg = OptimizerConfig(name="sgd", lr=0.1, schedule="step")
    opt = cfg.build(model.parameters())
    sched = cfg.scheduler(opt, 40)
    for _ in range(2):
        epoch(model, opt, x, y, batch_size=1, scheduler=sched)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.001)
    assert OptimizerConfig().scheduler(opt, 10) is None
    before = float(F.cross_entropy(model(x), y).detach())
    loss = step(model, opt, F.cross_entropy, x, y)
    assert float(loss) == pytest.approx(before) and not loss.requires_grad


def test_divergence_raises_clear_error():
    x, y = _data()
    model = MLP(5, [8], 2)
    with torch.no_grad():
        model[1].weight.fill_(float("nan"))
    with pytest.raises(Diverged, match="training loss became nan"):
        epoch(model, OptimizerConfig(name="sgd", lr=0.1).build(model.parameters()), x, y,
              batch_size=8)


def test_evaluate_restores_mode_and_config_validates():
    x, y = _data()
    model = MLP(5, [8], 2, dropout=0.5).train()
    evaluate(model, x, y)
    assert model.training
    with pytest.raises(ValidationError, match="name"):
        OptimizerConfig(name="lbfgs")
    with pytest.raises(ValidationError, match="greater than 0"):
        OptimizerConfig(lr=-1)
    assert OptimizerConfig(lr=0.1).replace(name="sgd").name == "sgd"
    with pytest.raises(ValidationError):
        OptimizerConfig().replace(schedule="linear")
    adam = OptimizerConfig().build(model.parameters())
    assert isinstance(adam, torch.optim.Adam) and adam.defaults["fused"]


def test_gradient_clipping_is_part_of_the_optimizer():
    x, y = _data()
    a, b = MLP(5, [8], 2, seed=3), MLP(5, [8], 2, seed=3)
    opt = OptimizerConfig(name="sgd", lr=0.5, clip_grad_norm=0.01).build(a.parameters())
    step(a, opt, F.cross_entropy, x, y)
    loss = F.cross_entropy(b(x), y)
    grads = torch.autograd.grad(loss, list(b.parameters()))
    norm = torch.sqrt(sum((g ** 2).sum() for g in grads))
    assert norm > 0.01  # the clip is active
    for p, q, g in zip(a.parameters(), b.parameters(), grads):
        torch.testing.assert_close(p, q - 0.5 * g * 0.01 / norm, rtol=1e-5, atol=1e-7)
