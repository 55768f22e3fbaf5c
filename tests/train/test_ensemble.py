"""The vmapped seed ensemble against training each member alone."""

from __future__ import annotations

import json

import pytest
import torch
from torch import nn

from genlab.models import MLP
from genlab.train import (Ensemble, OptimizerConfig, choose_method, evaluate_ensemble, fit,
                          make_ensemble, time_methods, train_ensemble, train_seeds)
from genlab.train import _method


def _data(n=37, d=6, k=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)  # (N, D)
    y = torch.randint(0, k, (n,), generator=g)  # (N,)
    return x, y


def _make(seed: int) -> nn.Module:
    return MLP(6, [8, 5], 3, seed=seed).double()


def _gens(seeds):
    return [torch.Generator().manual_seed(100 + s) for s in seeds]


@pytest.mark.parametrize("opt,batch,epochs,wd", [("adam", 8, 2, 0.0), ("momentum", 5, 2, 1e-3),
                                                  ("sgd", None, 3, 0.0)])
def test_members_match_separate_runs(opt, batch, epochs, wd):
    x, y = _data()
    seeds = [3, 7, 11]
    ens = make_ensemble(_make, seeds)
    cfg = OptimizerConfig(name=opt, lr=0.05, weight_decay=wd)
    recs = train_ensemble(ens, x, y, generators=_gens(seeds), optimizer=cfg, epochs=epochs,
                          batch_size=batch, eval_sets={"train": (x, y)})
    for r, (seed, g) in enumerate(zip(seeds, _gens(seeds))):
        model = _make(seed)
        alone = fit(model, cfg.build(model.parameters()), x, y, epochs=epochs, batch_size=batch,
                    generator=g, eval_sets={"train": (x, y)})
        for k, v in model.state_dict().items():
            torch.testing.assert_close(ens.state_dict(r)[k], v, rtol=1e-10, atol=1e-10)
        assert [a["epoch"] for a in alone] == [b["epoch"] for b in recs]
        for a, b in zip(alone, recs):
            assert b["train_loss"][r] == pytest.approx(a["train_loss"], rel=1e-9)
            assert b["train_acc"][r] == pytest.approx(a["train_acc"])
    # the members really differ (own init, own order)
    assert not torch.allclose(ens.state_dict(0)["1.weight"], ens.state_dict(1)["1.weight"])


def test_float32_members_match_within_float_tolerance():
    x, y = _data(n=50)
    x = x.float()
    make = lambda s: MLP(6, [32], 3, seed=s)  # noqa: E731
    seeds = [0, 1, 2]
    cfg = OptimizerConfig(lr=1e-2)
    ens, _ = train_seeds(make, seeds, x, y, generators=_gens(seeds), optimizer=cfg,
                         method="vmap", batch_size=8, epochs=2)
    for r, seed in enumerate(seeds):
        model = make(seed)
        fit(model, cfg.build(model.parameters()), x, y, epochs=2, batch_size=8,
            generator=_gens(seeds)[r])
        for k, v in model.state_dict().items():
            torch.testing.assert_close(ens.state_dict(r)[k], v, rtol=1e-4, atol=1e-5)


def test_train_seeds_methods_agree():
    x, y = _data(n=30)
    seeds = [0, 1]
    out = {m: train_seeds(_make, seeds, x, y, generators=_gens(seeds), method=m, batch_size=7,
                          epochs=2, eval_sets={"train": (x, y)}, optimizer=OptimizerConfig())
           for m in ("vmap", "sequential")}
    (ev, rv), (es, rs) = out["vmap"], out["sequential"]
    assert len(rv) == len(rs) == 3
    for a, b in zip(rv, rs):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-9)
    for r in range(2):
        for k, v in es.state_dict(r).items():
            torch.testing.assert_close(ev.state_dict(r)[k], v)


def test_forward_member_and_evaluate_match_the_module():
    x, y = _data()
    ens = make_ensemble(_make, [4, 5])
    out = ens(x)  # (R, N, K)
    assert out.shape == (2, len(x), 3)
    for r, seed in enumerate([4, 5]):
        model = _make(seed)
        torch.testing.assert_close(out[r], model(x).detach())
        torch.testing.assert_close(ens.member(r)(x), model(x))
        ev = evaluate_ensemble(ens, x, y, batch_size=10)
        loss = nn.functional.cross_entropy(model(x), y).detach()
        assert float(ev["loss"][r]) == pytest.approx(float(loss), rel=1e-10)
        assert float(ev["acc"][r]) == pytest.approx(float((model(x).argmax(1) == y).double().mean()))
    sd = ens.state_dict(0)
    assert all(v.is_contiguous() and v.untyped_storage().nbytes() == v.nbytes for v in sd.values())


def test_dropout_members_draw_their_own_masks():
    x, _ = _data()
    ens = make_ensemble(lambda s: MLP(6, [64], 3, seed=0, dropout=0.5).double(), [0, 0])
    out = ens(x, train=True)  # same weights, different masks
    assert not torch.allclose(out[0], out[1])
    torch.testing.assert_close(ens(x)[0], ens(x)[1])  # eval mode: no dropout


def test_errors():
    x, y = _data()
    with pytest.raises(ValueError, match="generator"):
        train_ensemble(make_ensemble(_make, [0, 1]), x, y, generators=_gens([0]),
                       optimizer=OptimizerConfig())
    with pytest.raises(ValueError, match="method"):
        train_seeds(_make, [0], x, y, generators=_gens([0]), method="magic",
                    optimizer=OptimizerConfig())
    with pytest.raises(ValueError, match="batch norm"):
        bn = make_ensemble(lambda s: MLP(6, [4], 3, seed=s, batch_norm=True).double(), [0, 1])
        train_ensemble(bn, x, y, generators=_gens([0, 1]), optimizer=OptimizerConfig())
    with pytest.raises(ValueError, match="seed"):
        make_ensemble(_make, [])
    assert isinstance(make_ensemble(_make, [0]), Ensemble)


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty choice cache (file and in-process memo) for one test."""
    monkeypatch.setenv("GENLAB_CACHE_DIR", str(tmp_path))
    monkeypatch.setattr(_method, "_MEMO", {})
    return tmp_path / "ensemble_methods.json"


def _fake_timings(monkeypatch, seconds):
    calls = []

    def fake(*args, **kwargs):
        calls.append(args[1])
        return dict(seconds)
    monkeypatch.setattr(_method, "time_methods", fake)
    return calls


@pytest.mark.parametrize("seconds,expected", [({"sequential": 2.0, "vmap": 1.0}, "vmap"),
                                              ({"sequential": 1.0, "vmap": 3.0}, "sequential")])
def test_choice_is_the_measured_faster_and_is_remembered(cache, monkeypatch, seconds, expected):
    x, y = _data()
    kw = dict(optimizer=OptimizerConfig(), batch_size=8)
    calls = _fake_timings(monkeypatch, seconds)
    assert choose_method(_make, 5, x, y, **kw) == expected
    assert choose_method(_make, 5, x, y, **kw) == expected and calls == [5]  # memo
    entry = next(iter(json.loads(cache.read_text()).values()))
    assert entry == {"method": expected, "seconds_per_member_step": seconds}
    monkeypatch.setattr(_method, "_MEMO", {})  # a new process: the file decides, no probe
    assert choose_method(_make, 5, x, y, **kw) == expected and calls == [5]
    choose_method(_make, 6, x, y, **kw)  # another member count is another question
    choose_method(_make, 5, x, y, optimizer=OptimizerConfig(name="sgd"), batch_size=8)
    assert calls == [5, 6, 5]


def test_one_member_or_batch_norm_never_probes(cache, monkeypatch):
    x, y = _data()
    calls = _fake_timings(monkeypatch, {"sequential": 9.0, "vmap": 1.0})
    kw = dict(optimizer=OptimizerConfig(), batch_size=8)
    assert choose_method(_make, 1, x, y, **kw) == "sequential"
    bn = lambda s: MLP(6, [4], 3, seed=s, batch_norm=True).double()  # noqa: E731
    assert choose_method(bn, 10, x, y, **kw) == "sequential"
    assert calls == [] and not cache.exists()


def test_probe_measures_both_and_leaves_the_random_state(cache):
    x, y = _data(n=40)
    drop = lambda s: MLP(6, [16], 3, seed=s, dropout=0.5).double()  # noqa: E731
    state = torch.get_rng_state()
    seconds = time_methods(drop, 3, x, y, optimizer=OptimizerConfig(), batch_size=8, steps=1)
    assert torch.equal(torch.get_rng_state(), state)
    assert set(seconds) == {"sequential", "vmap"} and all(v > 0 for v in seconds.values())
    assert time_methods(drop, 2, x, y, optimizer=OptimizerConfig(), batch_size=None,
                        steps=1)["vmap"] > 0  # full batch
    assert choose_method(drop, 3, x, y, optimizer=OptimizerConfig(), batch_size=8) in seconds
    assert torch.equal(torch.get_rng_state(), state)


def test_auto_trains_with_the_chosen_method(cache, monkeypatch):
    x, y = _data(n=30)
    seeds = [0, 1]
    _fake_timings(monkeypatch, {"sequential": 2.0, "vmap": 1.0})
    kw = dict(generators=_gens(seeds), batch_size=7, optimizer=OptimizerConfig())
    auto, _ = train_seeds(_make, seeds, x, y, method="auto", **kw)
    kw["generators"] = _gens(seeds)
    vm, _ = train_seeds(_make, seeds, x, y, method="vmap", **kw)
    for r in range(2):
        for k, v in vm.state_dict(r).items():
            assert torch.equal(auto.state_dict(r)[k], v)
