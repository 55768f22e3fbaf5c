"""fit_until against the plain training core, its stop rule and per-epoch augmentation."""

import math

import pytest
import torch

from genlab.models import MLP
from genlab.train import OptimizerConfig, evaluate, first_epoch, fit, fit_until


def _data(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 5, generator=g)
    return x, (x[:, 0] > 0).long()


def _never(rec):
    return False


def test_without_stop_it_is_fit_with_the_training_set_evaluated():
    x, y = _data()
    xt, yt = _data(32, seed=1)
    a, b = MLP(5, [16], 2, seed=3), MLP(5, [16], 2, seed=3)
    opt = OptimizerConfig(lr=0.01)
    got = fit_until(a, opt.build(a.parameters()), x, y, stop=_never, max_epochs=3,
                    batch_size=10, generator=torch.Generator().manual_seed(5),
                    eval_sets={"test": (xt, yt)})
    want = fit(b, opt.build(b.parameters()), x, y, epochs=3, batch_size=10,
               generator=torch.Generator().manual_seed(5),
               eval_sets={"train": (x, y), "test": (xt, yt)})
    assert [r["epoch"] for r in got] == [0, 1, 2, 3]
    for r, s in zip(got, want):
        assert r.keys() == s.keys()
        for k in r:
            assert r[k] == pytest.approx(s[k], nan_ok=True), k
    for p, q in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(p, q)


def test_stops_at_the_first_record_that_satisfies_stop():
    x, y = _data()
    model = MLP(5, [32], 2, seed=0)
    logged = []
    target = lambda r: r["train_acc"] >= 0.95  # noqa: E731
    recs = fit_until(model, OptimizerConfig(lr=0.05).build(model.parameters()), x, y,
                     stop=target, max_epochs=200, batch_size=8,
                     generator=torch.Generator().manual_seed(0), log=logged.append)
    assert logged == recs and target(recs[-1])
    assert not any(target(r) for r in recs[:-1])
    assert first_epoch(recs, target) == recs[-1]["epoch"] < 200
    assert recs[-1]["train_acc"] == evaluate(model, x, y)["acc"]


def test_a_model_that_already_fits_is_not_trained():
    x, y = _data()
    model = MLP(5, [8], 2)
    before = [p.detach().clone() for p in model.parameters()]
    recs = fit_until(model, OptimizerConfig(lr=0.1).build(model.parameters()), x, y,
                     stop=lambda r: True, max_epochs=5, batch_size=8)
    assert len(recs) == 1 and math.isnan(recs[0]["train_loss_running"])
    for p, q in zip(model.parameters(), before):
        assert torch.equal(p, q)


def test_augmentation_is_redrawn_each_epoch_and_evaluation_uses_the_originals():
    x, y = _data()
    seen = []

    def augment(inputs):
        seen.append(inputs)
        return inputs + 0.1 * len(seen)  # a different transform every epoch

    model = MLP(5, [8], 2, seed=2)
    recs = fit_until(model, OptimizerConfig(lr=0.01).build(model.parameters()), x, y,
                     stop=_never, max_epochs=3, batch_size=16, augment=augment)
    assert len(seen) == 3 and all(s is x for s in seen)  # once per epoch, on the originals
    final = evaluate(model, x, y)
    assert recs[-1]["train_loss"] == pytest.approx(final["loss"])
    assert recs[-1]["train_acc"] == final["acc"]


def test_first_epoch_is_nan_when_never_reached_and_bad_budget_is_refused():
    recs = [{"epoch": 0, "train_acc": 0.1}, {"epoch": 1, "train_acc": 0.5}]
    assert math.isnan(first_epoch(recs, lambda r: r["train_acc"] >= 0.99))
    assert first_epoch(recs, lambda r: r["train_acc"] >= 0.5) == 1.0
    model = MLP(5, [4], 2)
    with pytest.raises(ValueError, match="max_epochs"):
        fit_until(model, OptimizerConfig().build(model.parameters()), *_data(), stop=_never,
                  max_epochs=-1, batch_size=4)
