import pytest
import torch
import torch.nn.functional as F

from genlab.errors import Diverged
from genlab.models import MLP
from genlab.train import evaluate, make_optimizer, make_scheduler, train


def _data(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, generator=g)
    return x, (x[:, 0] > 0).long()


def _bare_loop(model, x, y, opt, batch_size, steps, gen):
    """The reference: a plain PyTorch loop with the same batch order."""
    done = 0
    while done < steps:
        for idx in torch.randperm(len(x), generator=gen).split(batch_size):
            loss = F.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
            if done == steps:
                return


@pytest.mark.parametrize("opt_name", ["sgd", "momentum", "adam"])
def test_train_matches_bare_loop(opt_name):
    x, y = _data()
    a, b = MLP(5, [16], 2, seed=1), MLP(5, [16], 2, seed=1)
    train(a, x, y, optimizer=make_optimizer(a.parameters(), opt_name, 0.05), epochs=2.5,
          batch_size=10, generator=torch.Generator().manual_seed(4))
    _bare_loop(b, x, y, make_optimizer(b.parameters(), opt_name, 0.05), 10, 18,
               torch.Generator().manual_seed(4))
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q)


def test_full_batch_gd_is_exact_gradient_step():
    x, y = _data()
    model = MLP(5, [], 2, seed=0)
    w0 = [p.detach().clone() for p in model.parameters()]
    loss = F.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, list(model.parameters()))
    train(model, x, y, optimizer=make_optimizer(model.parameters(), "sgd", 0.3), steps=1)
    for p, p0, g in zip(model.parameters(), w0, grads):
        torch.testing.assert_close(p, p0 - 0.3 * g)


def test_records_schedule_and_evaluation():
    x, y = _data()
    model = MLP(5, [8], 2)
    logged = []
    recs = train(model, x, y, optimizer=make_optimizer(model.parameters(), "adam", 0.01),
                 epochs=3, batch_size=16, eval_sets={"train": (x, y)}, log=logged.append)
    assert [r["step"] for r in recs] == [0, 4, 8, 12] and logged == recs
    assert recs[-1]["epoch"] == 3.0
    assert recs[-1]["train_acc"] == evaluate(model, x, y)["acc"]
    assert recs[-1]["train_loss"] < recs[0]["train_loss"]


def test_stop_and_online_and_lr_schedule():
    x, y = _data(20)
    model = MLP(5, [8], 2)
    opt = make_optimizer(model.parameters(), "sgd", 0.1)
    sched = make_scheduler(opt, "step", 40)
    recs = train(model, x, y, optimizer=opt, epochs=2, batch_size=1, scheduler=sched,
                 eval_every=10)
    assert [r["step"] for r in recs] == [0, 10, 20, 30, 40]
    assert recs[-1]["lr"] == pytest.approx(0.001)
    recs = train(model, x, y, optimizer=opt, epochs=5, batch_size=4, eval_sets={"t": (x, y)},
                 stop=lambda r: r["step"] >= 5)
    assert recs[-1]["step"] == 5


def test_divergence_raises_clear_error():
    x, y = _data()
    model = MLP(5, [8], 2)
    with torch.no_grad():
        model[1].weight.fill_(float("nan"))
    with pytest.raises(Diverged, match="nan at step"):
        train(model, x, y, optimizer=make_optimizer(model.parameters(), "sgd", 0.1), epochs=1)


def test_evaluate_restores_mode_and_bad_optimizer():
    x, y = _data()
    model = MLP(5, [8], 2, dropout=0.5).train()
    evaluate(model, x, y)
    assert model.training
    with pytest.raises(ValueError, match="allowed: sgd, momentum, adam"):
        make_optimizer(model.parameters(), "lbfgs")
    with pytest.raises(ValueError, match="> 0"):
        make_optimizer(model.parameters(), "sgd", -1)
    with pytest.raises(ValueError, match="allowed: constant"):
        make_scheduler(make_optimizer(model.parameters()), "linear", 10)
