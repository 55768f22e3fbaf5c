"""Smoke run of the memorization experiment (Zhang et al. 2017) on its quick profile."""

from __future__ import annotations


import torch

from genlab.data import load_dataset
from genlab.experiments import resolve_config
from genlab.experiments.memorization import EXPERIMENT, _variants, budget
from genlab.models import MLP, MnistCNN
from genlab.runs import slug



def test_quick_run_is_complete(record):
    assert record.status == "ok"
    for f in ("config.json", "metrics.jsonl", "result.json", "data.json"):
        assert (record.dir / f).is_file()
    names = {p.stem for p in record.figures}
    assert names == {"learning_curves", "corruption", "regularization"}
    cfg = EXPERIMENT.config(**record.config)
    variants = [v.name for v in _variants(cfg)]
    assert {r["variant"] for r in record.metrics} == set(variants)
    for v in variants:  # final weights load back into the right architecture
        state = torch.load(record.dir / "weights" / f"{slug(v)}.pt", weights_only=True)
        model = MLP(784, [cfg.mlp_hidden], 10) if v.startswith("mlp") else MnistCNN(
            dropout=cfg.dropout if v.startswith("dropout") else 0.0)
        model.load_state_dict(state)


def test_claims_are_measured(record, check_claims):
    claims = record.result["claims"]
    assert len(claims) == 9
    check_claims(record)


def test_time_to_fit_is_first_epoch_reaching_target(record):
    cfg = EXPERIMENT.config(**record.config)
    budgets = {v.name: budget(cfg, v) for v in _variants(cfg)}
    for name, r in record.data["runs"].items():
        accs = [h["train_acc"] for h in r["history"]]
        reached = [i for i, a in enumerate(accs) if a >= record.config["fit_accuracy"]]
        fit = r["time_to_fit"]
        if reached:
            assert fit == reached[0] == len(accs) - 1  # training stops once fitted
        else:
            assert fit == "nan" and len(accs) == budgets[name] + 1


def test_test_labels_stay_true_and_corruption_is_nested():
    from genlab.experiments._memo import variant_data

    class Ctx:  # the two Context methods variant_data uses
        device = torch.device("cpu")

        def generator(self, *names):
            return torch.Generator().manual_seed(hash(names) % 1000)

    ds = load_dataset("mnist", n_train=500, n_test=100)
    by_p = {}
    for p in (0.0, 0.4, 1.0):
        v = _variants(resolve_config(EXPERIMENT, "quick", {"corruption": [0.0, 0.4, 1.0]}))
        v = next(x for x in v if x.name == f"p={p:g}")
        x, y, xt, yt = variant_data(v, ds, Ctx())
        assert torch.equal(yt, ds.y_test) and torch.equal(x, ds.x_train)
        by_p[p] = y != ds.y_train
    assert not by_p[0.0].any()
    assert (by_p[0.4] <= by_p[1.0]).all()  # nested corruption
    assert 0.85 < float(by_p[1.0].float().mean()) < 0.95  # ≈ 1 − 1/K of labels change


def test_regularizer_variants_get_their_own_budget():
    cfg = resolve_config(EXPERIMENT, "default", {"max_epochs": 7, "reg_max_epochs": 11})
    got = {v.name: budget(cfg, v) for v in _variants(cfg)}
    assert got["augmentation p=1"] == got["dropout p=0"] == 11
    assert got["p=1"] == got["gaussian"] == got["mlp p=1"] == 7
    cfg = resolve_config(EXPERIMENT, "default", {"max_epochs": 7, "reg_max_epochs": None})
    assert budget(cfg, _variants(cfg)[-3]) == 7  # None: the common budget
