import os

import pytest
from typer.testing import CliRunner

from genlab.cli import app

runner = CliRunner()


def _one_line_error(result, *fragments):
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    text = " ".join(result.output.split())  # undo the console's wrapping
    for fragment in fragments:
        assert fragment in text, text


def test_list_shows_experiments():
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 0
    assert "descent" in result.output and "regularization" in result.output


@pytest.mark.parametrize("args, fragments", [
    (["run", "nope"], ["unknown experiment 'nope'", "allowed:", "descent"]),
    (["run", "descent", "--set", "lr=-1"], ["bad value for 'lr'", "greater than 0"]),
    (["run", "descent", "--set", "bogus=1"], ["unknown config key 'bogus'", "allowed:"]),
    (["run", "descent", "--set", "n=abc"], ["bad value for 'n'"]),
    (["run", "descent", "--set", "lr"], ["--set expects key=value"]),
    (["run", "descent", "--profile", "huge"], ["unknown profile 'huge'", "quick"]),
    (["run", "descent", "--device", "tpu"], ["bad value for 'device'"]),
    (["show", "/nonexistent/run"], ["not a run directory"]),
    (["report", "--runs", "/nonexistent/runs"], ["does not exist"]),
])
def test_bad_input_is_one_clear_line(args, fragments):
    _one_line_error(runner.invoke(app, args), *fragments)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_output(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    _one_line_error(runner.invoke(app, ["run", "regularization", "--out", str(locked / "x")]),
                    "cannot create output directory")


def test_unwritable_output_path_is_a_file(tmp_path):
    target = tmp_path / "file"
    target.write_text("")
    _one_line_error(runner.invoke(app, ["run", "regularization", "--out", str(target)]),
                    "cannot create output directory")


def test_run_show_report_end_to_end(tmp_path):
    runs, report = tmp_path / "runs", tmp_path / "report"
    result = runner.invoke(app, ["run", "regularization", "--out", str(runs), "--seed", "2",
                                 "--set", "draws=3", "--set", "max_degree=6"])
    assert result.exit_code == 0, result.output
    (run_dir,) = (runs / "regularization").iterdir()
    shown = runner.invoke(app, ["show", str(run_dir)])
    assert shown.exit_code == 0 and "draws" in shown.output and "status: ok" in shown.output
    made = runner.invoke(app, ["report", "--runs", str(runs), "--out", str(report)])
    assert made.exit_code == 0, made.output
    page = (report / "index.html").read_text()
    assert "Under/over-fitting and weight decay" in page and "Not run yet" in page
    assert (report / "figures" / "regularization" / "error_vs_degree.png").is_file()


def test_measure_command(tmp_path):
    import torch

    from genlab.models import MLP
    from genlab.runs import RunWriter

    w = RunWriter(tmp_path, "toy", {"seed": 0, "n_train": 64, "n_test": 10}, seed=0,
                  device="cpu")
    w.save_state("mlp", MLP(784, [8], 10).state_dict())
    w.finish("ok")
    bad = runner.invoke(app, ["measure", str(w.dir), "--what", "curvature"])
    _one_line_error(bad, "unknown measure 'curvature'", "allowed: hessian")
    ok = runner.invoke(app, ["measure", str(w.dir), "--what", "noise", "--n-samples", "32"])
    assert ok.exit_code == 0, ok.output
    assert "trace_cov" in ok.output and (w.dir / "measures" / "noise.json").is_file()
    stored = torch.load(w.dir / "weights" / "mlp.pt", weights_only=True)  # left in place
    assert set(stored) == set(MLP(784, [8], 10).state_dict())


def test_diverging_run_fails_cleanly_and_keeps_its_record(tmp_path, monkeypatch):
    import genlab.experiments as experiments
    from genlab.errors import Diverged
    from genlab.experiments import Experiment, ExperimentConfig
    from genlab.runs import list_runs

    def run(cfg, ctx):
        ctx.log({"step": 0, "loss": 1.0})
        raise Diverged("loss became nan at step 3 (lr too large?)")

    toy = Experiment(name="toy", title="Toy", section="0", claim="diverges",
                     config=ExperimentConfig, profiles={"quick": {}}, run=run,
                     figures=lambda record: {})
    monkeypatch.setattr(experiments, "available", lambda: ["toy"])
    monkeypatch.setattr(experiments, "get", lambda name: toy)
    result = runner.invoke(app, ["run", "toy", "--out", str(tmp_path)])
    _one_line_error(result, "toy: loss became nan at step 3")
    (record,) = list_runs(tmp_path)
    assert record.status == "failed" and "nan" in record.result["reason"]
    assert record.metrics == [{"step": 0, "loss": 1.0}]
