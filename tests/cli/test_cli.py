import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from genlab.cli import _configs, app

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
    (["run", "descent", "--device", "cuda:3"], ["CUDA is not available"]),
    (["run", "all", "--set", "bogus=1"], ["unknown config key 'bogus' for all"]),
    (["run", "descent", "--set", "bogus=1"], ["unknown config key 'bogus'", "allowed:"]),
    (["run", "descent", "--set", "n=abc"], ["bad value for 'n'"]),
    (["run", "descent", "--set", "lr"], ["--set expects key=value"]),
    (["run", "descent", "--profile", "huge"], ["unknown profile 'huge'", "quick"]),
    (["run", "descent", "--device", "tpu"], ["bad value for 'device'"]),
    (["show", "/nonexistent/run"], ["not a run directory"]),
    (["measure", "/nonexistent/run", "--device", "cuda"], ["CUDA is not available"]),
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
    assert 'id="regularization-error_vs_degree"' in page and "data:image/png;base64," in page


def test_measure_command(tmp_path):
    import torch

    from genlab.data import DataSpec
    from genlab.models import MLP, model_spec
    from genlab.runs import RunWriter

    w = RunWriter(tmp_path, "toy", {"seed": 0}, seed=0, device="cpu")
    model = MLP(64, [8], 10)
    spec = DataSpec(dataset="digits", n_train=50, n_test=20)
    w.save_state("mlp", model.state_dict(), {"model": model_spec(model),
                                             "data": spec.model_dump()})
    w.finish("ok")
    bad = runner.invoke(app, ["measure", str(w.dir), "--what", "curvature"])
    _one_line_error(bad, "unknown measure 'curvature'", "allowed: hessian")
    ok = runner.invoke(app, ["measure", str(w.dir), "--what", "noise", "--what", "hessian",
                             "--n-samples", "80", "--threads", "1"])
    assert ok.exit_code == 0, ok.output
    text = " ".join(ok.output.split())
    assert "trace_cov" in text and "top_eigenvalues" in text  # list values are printed
    assert "capped at the 50 training examples" in text and "50 training examples of digits" in text
    assert (w.dir / "measures" / "noise.json").is_file()
    stored = torch.load(w.dir / "weights" / "mlp.pt", weights_only=True)  # left in place
    assert set(stored) == set(model.state_dict())


def test_show_takes_an_experiment_folder_and_shows_its_newest_run(tmp_path):
    for seed in ("1", "2"):
        result = runner.invoke(app, ["run", "regularization", "--out", str(tmp_path), "--seed",
                                     seed, "--set", "draws=2", "--set", "max_degree=4"])
        assert result.exit_code == 0, result.output
    shown = runner.invoke(app, ["show", str(tmp_path / "regularization")])
    assert shown.exit_code == 0, shown.output
    assert "-s2-" in shown.output and "profile: quick" in shown.output


def test_set_applies_to_the_experiments_that_have_the_key():
    configs = dict((e.name, c) for e, c in _configs("all", "quick", {"chains": "32"}))
    assert configs["descent"].chains == 32 and not hasattr(configs["regularization"], "chains")


@pytest.mark.parametrize("args, fragment", [
    (["run", "descent", "--threads", "0"], "Invalid value for '--threads'"),
    (["run", "descent", "--bogus"], "No such option: --bogus")])
def test_usage_errors_are_one_line_exit_2(args, fragment):
    proc = subprocess.run([sys.executable, "-m", "genlab", *args], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and fragment in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def test_list_and_help_do_not_import_torch():
    code = ("import sys; from genlab.cli import main; sys.argv = ['genlab', '{}'];\n"
            "try: main()\nexcept SystemExit: pass\n"
            "assert 'torch' not in sys.modules and 'matplotlib' not in sys.modules")
    for command in ("list", "--help"):
        proc = subprocess.run([sys.executable, "-c", code.format(command)], capture_output=True,
                              text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr


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


def test_ctrl_c_exits_130_and_keeps_the_run(tmp_path, monkeypatch):
    import genlab.experiments as experiments
    from genlab.experiments import Experiment, ExperimentConfig
    from genlab.runs import list_runs

    def run(cfg, ctx):
        ctx.log({"step": 0})
        raise KeyboardInterrupt

    toy = Experiment(name="toy", title="Toy", section="0", claim="interrupted",
                     config=ExperimentConfig, profiles={"quick": {}}, run=run,
                     figures=lambda record: {})
    monkeypatch.setattr(experiments, "available", lambda: ["toy"])
    monkeypatch.setattr(experiments, "get", lambda name: toy)
    result = runner.invoke(app, ["run", "toy", "--out", str(tmp_path)])
    assert result.exit_code == 130
    (record,) = list_runs(tmp_path)
    assert record.status == "interrupted" and len(record.metrics) == 1


def test_several_experiments_in_parallel_processes(tmp_path):
    result = runner.invoke(app, ["run", "descent,regularization", "--workers", "2", "--out",
                                 str(tmp_path), "--set", "draws=2", "--set", "chains=4",
                                 "--set", "burn_in=0.3", "--set", "record=0.3"])
    assert result.exit_code == 0, result.output
    assert {p.name for p in tmp_path.iterdir()} == {"descent", "regularization"}
    assert result.output.count("stored in") == 2
