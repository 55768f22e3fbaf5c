import json

import pytest
import torch

from genlab.runs import RunWriter, latest_runs, list_runs, load_run, read_metrics


def _writer(root, **kw):
    return RunWriter(root, "demo", {"lr": 0.1, "seed": 3}, seed=3, device="cpu", **kw)


def test_run_directory_is_complete(tmp_path):
    w = _writer(tmp_path, profile="quick")
    w.log({"step": 0, "loss": 1.0})
    w.log({"step": 1, "loss": float("nan")})
    w.save_state("model", torch.nn.Linear(2, 1).state_dict())
    w.finish("ok", summary={"x": 1.5})
    run = load_run(w.dir)
    assert run.config == {"lr": 0.1, "seed": 3}
    assert run.status == "ok" and run.result["summary"] == {"x": 1.5}
    assert run.result["wall_time_s"] >= 0
    assert [m["step"] for m in run.metrics] == [0, 1]
    assert run.metrics[1]["loss"] == "nan"
    prov = run.provenance
    assert prov["seed"] == 3 and prov["device"] == "cpu" and prov["profile"] == "quick"
    assert prov["cpu_count"] >= 1 and prov["packages"]["torch"] == torch.__version__
    assert "commit" in prov and "dirty" in prov
    state = torch.load(w.dir / "weights" / "model.pt", weights_only=True)
    assert set(state) == {"weight", "bias"}


def test_run_ids_never_collide(tmp_path):
    dirs = {_writer(tmp_path).dir for _ in range(20)}
    assert len(dirs) == 20


def test_running_run_keeps_metrics_and_torn_line_is_skipped(tmp_path):
    w = _writer(tmp_path)
    w.log({"step": 0})
    w._metrics.flush()
    with open(w.dir / "metrics.jsonl", "a") as f:
        f.write('{"step": 1, "lo')  # a run killed mid-write
    assert read_metrics(w.dir / "metrics.jsonl") == [{"step": 0}]
    assert load_run(w.dir).status == "running"


def test_failed_run_records_reason(tmp_path):
    w = _writer(tmp_path)
    w.finish("failed", reason="Diverged: loss became nan")
    result = json.loads((w.dir / "result.json").read_text())
    assert result["status"] == "failed" and "nan" in result["reason"]


def test_latest_runs_picks_newest_finished(tmp_path):
    a = _writer(tmp_path)
    a.finish("ok")
    b = _writer(tmp_path)
    b.finish("failed", reason="x")
    assert latest_runs(tmp_path)["demo"].dir == a.dir
    assert latest_runs(tmp_path, finished_only=False)["demo"].dir == b.dir
    assert len(list_runs(tmp_path, "demo")) == 2


def test_load_run_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a run directory"):
        load_run(tmp_path)
    w = _writer(tmp_path)
    (w.dir / "result.json").write_text("{broken")
    with pytest.raises(ValueError, match="corrupt"):
        load_run(w.dir)


def test_weights_names_are_slugged(tmp_path):
    w = _writer(tmp_path)
    path = w.save_state("dropout p=0.5", torch.nn.Linear(1, 1).state_dict())
    assert path.name == "dropout_p_0.5.pt"


def test_files_respect_the_umask(tmp_path):
    """Files are readable by others as ``open`` would make them (0644 under umask 022),
    not private as ``mkstemp`` makes them."""
    import os
    import stat

    from genlab.runs import RunWriter

    mask = os.umask(0o022)
    os.umask(mask)
    w = RunWriter(tmp_path, "toy", {"seed": 0}, seed=0, device="cpu")
    w.save_state("m", {}, {"model": None})
    w.finish("ok")
    for path in (w.dir / "config.json", w.dir / "result.json", w.dir / "weights" / "m.pt",
                 w.dir / "weights" / "m.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask, path
