import math

import pytest
from pydantic import Field

from genlab.errors import GenlabError
from genlab.experiments import (Experiment, ExperimentConfig, Result, available, check, get,
                                resolve_config, run_experiment)
from genlab.seeding import derive_seed


class _Cfg(ExperimentConfig):
    lr: float = Field(0.1, gt=0, description="learning rate")
    widths: list[int] = Field([4, 8], description="layer widths")
    fail: bool = Field(False, description="raise inside run")


def _run(cfg, ctx):
    ctx.log({"step": 0, "value": 1.0})
    if cfg.fail:
        raise RuntimeError("boom")
    return Result(claims=[check("c", "value is one", 1.0, ">=", 0.5)], summary={"lr": cfg.lr},
                  data={"y": [1, 2, 3]})


def _figures(record):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot(record.data["y"])
    return {"line": fig}


EXP = Experiment(name="toy", title="Toy", section="0", claim="a toy", config=_Cfg,
                 profiles={"quick": {"lr": 0.5}, "default": {}}, run=_run, figures=_figures)


def test_check_computes_verdict_from_value():
    assert check("a", "s", 2.0, ">=", 1.0).passed
    assert not check("a", "s", 0.5, ">=", 1.0).passed
    assert not check("a", "s", math.nan, "<=", 1.0).passed
    with pytest.raises(ValueError, match="allowed"):
        check("a", "s", 1.0, "==", 1.0)


def test_resolve_config_layers_profile_and_overrides():
    assert resolve_config(EXP, "quick").lr == 0.5
    assert resolve_config(EXP, "default").lr == 0.1
    cfg = resolve_config(EXP, "quick", {"lr": "0.25", "widths": "[1, 2]", "seed": "7"})
    assert (cfg.lr, cfg.widths, cfg.seed) == (0.25, [1, 2], 7)


@pytest.mark.parametrize("overrides, pattern", [
    ({"nope": "1"}, "unknown config key 'nope'.*allowed: seed, device, lr"),
    ({"lr": "-1"}, "bad value for 'lr': -1.*greater than 0"),
    ({"lr": "abc"}, "bad value for 'lr'"),
    ({"device": "tpu"}, "bad value for 'device'"),
])
def test_resolve_config_errors_are_one_line(overrides, pattern):
    with pytest.raises(GenlabError, match=pattern) as e:
        resolve_config(EXP, "quick", overrides)
    assert "\n" not in str(e.value)


def test_unknown_profile_and_experiment():
    with pytest.raises(GenlabError, match="allowed: quick, default"):
        resolve_config(EXP, "huge")
    with pytest.raises(GenlabError, match="allowed: .*descent"):
        get("nope")
    assert "descent" in available() and "regularization" in available()


def test_run_experiment_writes_complete_run(tmp_path):
    record = run_experiment(EXP, resolve_config(EXP, "quick"), tmp_path, profile="quick")
    assert record.status == "ok"
    assert record.result["claims"][0]["passed"] is True
    assert [f.name for f in record.figures] == ["line.png"]
    assert record.metrics == [{"step": 0, "value": 1.0}]
    assert record.config["lr"] == 0.5 and record.provenance["profile"] == "quick"


def test_failed_run_keeps_metrics_and_reason(tmp_path):
    with pytest.raises(RuntimeError):
        run_experiment(EXP, resolve_config(EXP, "quick", {"fail": "true"}), tmp_path)
    (run_dir,) = (tmp_path / "toy").iterdir()
    from genlab.runs import load_run

    record = load_run(run_dir)
    assert record.status == "failed" and "boom" in record.result["reason"]
    assert "RuntimeError: boom" in record.result["traceback"]
    assert record.metrics == [{"step": 0, "value": 1.0}]


def test_interrupted_run_is_marked(tmp_path):
    def interrupt(cfg, ctx):
        ctx.log({"step": 0})
        raise KeyboardInterrupt

    exp = Experiment(**{**EXP.__dict__, "run": interrupt})
    with pytest.raises(KeyboardInterrupt):
        run_experiment(exp, resolve_config(exp, "quick"), tmp_path)
    from genlab.runs import list_runs

    (record,) = list_runs(tmp_path)
    assert record.status == "interrupted" and len(record.metrics) == 1


def test_derived_seeds_are_stable_and_distinct():
    assert derive_seed(0, "init", 1) == derive_seed(0, "init", 1)
    assert len({derive_seed(s, n) for s in range(3) for n in ("a", "b")}) == 6
    assert 0 <= derive_seed(5, "x") < 2**63


class _Nested(ExperimentConfig):
    from genlab.train import OptimizerConfig as _Opt

    optimizer: _Opt = Field(_Opt(lr=0.01), description="the optimizer")


_NESTED = Experiment(name="nested", title="N", section="0", claim="n", config=_Nested,
                     profiles={"quick": {}}, run=_run, figures=_figures)


def test_dotted_keys_set_nested_fields_and_accepts_knows_them():
    from genlab.experiments import accepts

    cfg = resolve_config(_NESTED, "quick", {"optimizer.lr": "0.5", "optimizer.name": "sgd"})
    assert (cfg.optimizer.lr, cfg.optimizer.name) == (0.5, "sgd")
    with pytest.raises(GenlabError, match="bad value for 'optimizer.lr'"):
        resolve_config(_NESTED, "quick", {"optimizer.lr": "-2"})
    with pytest.raises(GenlabError, match="unknown config key 'optimizer.nope'.*allowed: name"):
        resolve_config(_NESTED, "quick", {"optimizer.nope": "1"})
    assert accepts(_NESTED, "optimizer.lr") and accepts(EXP, "lr")
    assert not accepts(EXP, "optimizer.lr") and not accepts(_NESTED, "lr")


def test_claim_spec_carries_the_paper_and_profile_marks_unexpected_claims(tmp_path):
    from genlab.experiments import ClaimSpec

    spec = ClaimSpec("big", "value ≥ 2", ">=", 2.0, paper="Someone 2017, Table 1",
                     paper_value="2.5", min_profile="default")
    claim = spec(3.0, "measured")
    assert claim.passed and claim.paper == "Someone 2017, Table 1" and claim.paper_value == "2.5"
    assert not spec(1.0).passed and spec(1.0, threshold=0.5).passed
    with pytest.raises(ValueError, match="min_profile"):
        ClaimSpec("x", "s", ">=", 1.0, min_profile="huge")

    def run(cfg, ctx):
        return Result(claims=[spec(3.0), check("small", "s", 1.0, ">=", 0.0)], data={"y": [1]})

    exp = Experiment(**{**EXP.__dict__, "run": run})
    quick = run_experiment(exp, resolve_config(exp, "quick"), tmp_path, profile="quick")
    assert [c["expected"] for c in quick.result["claims"]] == [False, True]
    default = run_experiment(exp, resolve_config(exp, "default"), tmp_path, profile="default")
    assert [c["expected"] for c in default.result["claims"]] == [True, True]


def test_figures_are_drawn_in_the_shared_style(tmp_path):
    import matplotlib.pyplot as plt

    from genlab.runs import FIGURE_STYLE

    seen = {}

    def figures(record):
        seen.update({k: plt.rcParams[k] for k in FIGURE_STYLE})
        return _figures(record)

    run_experiment(Experiment(**{**EXP.__dict__, "figures": figures}),
                   resolve_config(EXP, "quick"), out=tmp_path)
    assert seen == FIGURE_STYLE
    assert plt.rcParams["font.size"] != FIGURE_STYLE["font.size"]  # restored afterwards
