"""Sweeps: members, resume, aggregate over seeds, and the same numbers on both backends."""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import time

import pytest

from genlab.errors import GenlabError
from genlab.runs import load_run
from genlab.runs.aggregate import load_aggregate, verdict_over_seeds
from genlab.sweeps import parse_grid, parse_seeds, plan, run_sweep

SMALL = {"draws": 2, "max_degree": 5}
GRID = {"noise": [0.2, 0.3]}


def _sweep(out, **kwargs):
    lines = []
    d = run_sweep("regularization", seeds=[0, 1], grid=GRID, overrides=SMALL, out=out,
                  log=lines.append, **kwargs)
    return d, lines


def test_parsing_and_planning():
    assert parse_seeds("0-2,7") == [0, 1, 2, 7]
    assert parse_grid(["lr=0.1,0.2", "hidden=[64],[128]", "name=a,b"]) == {
        "lr": [0.1, 0.2], "hidden": [[64], [128]], "name": ["a", "b"]}
    members = plan("regularization", "quick", [0, 1], GRID, SMALL)
    assert len(members) == 4 and len({m.key for m in members}) == 4
    assert {(m.seed, m.grid["noise"]) for m in members} == {(s, n) for s in (0, 1)
                                                            for n in (0.2, 0.3)}
    for bad in ("x", "3-1", "-1", "0,0"):
        with pytest.raises(GenlabError, match="--seeds"):
            parse_seeds(bad)


def test_bad_grid_is_refused_before_anything_runs(tmp_path):
    with pytest.raises(GenlabError, match="unknown config key 'bogus'"):
        run_sweep("regularization", seeds=[0], grid={"bogus": [1]}, out=tmp_path)
    with pytest.raises(GenlabError, match="bad value for 'noise'"):
        run_sweep("regularization", seeds=[0], grid={"noise": [-1]}, out=tmp_path)
    assert not any(tmp_path.iterdir())


def test_local_sweep_aggregate_matches_the_member_runs(tmp_path):
    sweep_dir, _ = _sweep(tmp_path, workers=2)
    agg = load_aggregate(sweep_dir)
    assert [m["status"] for m in agg["members"]] == ["ok"] * 4
    assert (sweep_dir / "figures" / "regularization_noise.png").is_file()
    for group in agg["groups"]:
        runs = [load_run(m["run_dir"]) for m in agg["members"] if m["grid"] == group["grid"]]
        assert sorted(r.config["seed"] for r in runs) == [0, 1]
        for c in group["claims"]:
            claims = [next(x for x in r.result["claims"] if x["name"] == c["name"]) for r in runs]
            values = [x["value"] for x in claims]
            assert c["mean"] == pytest.approx(statistics.fmean(values))
            assert c["std"] == pytest.approx(statistics.stdev(values))
            assert c["holds_in"] == sum(x["passed"] for x in claims) and c["n"] == 2
            assert c["verdict"] == verdict_over_seeds([x["passed"] for x in claims])


def test_verdict_rule():
    assert verdict_over_seeds([True, True]) == "holds"
    assert verdict_over_seeds([False, False]) == "does not hold"
    assert verdict_over_seeds([True, False, True]) == "flips with the seed"


def test_resume_runs_only_missing_failed_or_unreadable_members(tmp_path):
    sweep_dir, _ = _sweep(tmp_path, workers=1)
    members = load_aggregate(sweep_dir)["members"]
    interrupted, corrupt = members[0]["run_dir"], members[1]["run_dir"]
    result = json.loads(open(f"{interrupted}/result.json").read())
    open(f"{interrupted}/result.json", "w").write(json.dumps({**result, "status": "interrupted"}))
    open(f"{corrupt}/result.json", "w").write("{ not json")
    _, lines = _sweep(tmp_path, workers=1)
    assert any("unreadable run" in line and corrupt in line for line in lines)
    assert "4 members: 2 already finished, 2 to run on local" in lines
    assert [m["status"] for m in load_aggregate(sweep_dir)["members"]] == ["ok"] * 4
    _, lines = _sweep(tmp_path, workers=1)
    assert "4 members: 4 already finished, 0 to run on local" in lines


def test_a_failing_member_is_recorded_and_the_sweep_goes_on(tmp_path, monkeypatch):
    from pydantic import Field

    import genlab.experiments as experiments
    sweep_plan = sys.modules["genlab.sweeps.plan"]
    from genlab.experiments import Experiment, ExperimentConfig, Result, check

    class Cfg(ExperimentConfig):
        fail: bool = Field(False, description="raise inside run")

    def run(cfg, ctx):
        if cfg.fail:
            raise RuntimeError("boom")
        return Result(claims=[check("c", "one", 1.0, ">=", 0.5)])

    toy = Experiment(name="toy", title="Toy", section="0", claim="toy", config=Cfg,
                     profiles={"quick": {}}, run=run, figures=lambda record: {})
    for module in (experiments, sweep_plan):
        monkeypatch.setattr(module, "available", lambda: ["toy"])
        monkeypatch.setattr(module, "get", lambda name: toy)
    # one worker: joblib runs the members in this process, where the toy is registered
    sweep_dir = run_sweep("toy", seeds=[0], grid={"fail": [True, False]}, out=tmp_path,
                          workers=1, log=lambda line: None)
    failed, ok = load_aggregate(sweep_dir)["members"]
    assert failed["status"] == "failed" and "RuntimeError: boom" in failed["reason"]
    assert load_run(failed["run_dir"]).status == "failed"
    assert ok["status"] == "ok"


def test_ray_backend_gives_the_same_numbers_as_the_local_pool(tmp_path):
    pytest.importorskip("ray")
    local, _ = _sweep(tmp_path / "local", workers=2)
    remote, _ = _sweep(tmp_path / "ray", backend="ray")
    values = [[c["values"] for g in load_aggregate(d)["groups"] for c in g["claims"]]
              for d in (local, remote)]
    assert values[0] == values[1]
    assert all(m["status"] == "ok" for m in load_aggregate(remote)["members"])


def test_killing_the_driver_loses_no_finished_member(tmp_path):
    cmd = [sys.executable, "-m", "genlab", "sweep", "regularization", "--seeds", "0-3",
           "--set", "draws=2", "--set", "max_degree=5", "--workers", "1", "--out",
           str(tmp_path)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 300
    try:
        while time.time() < deadline:
            aggs = list(tmp_path.glob("sweeps/*/aggregate.json"))
            if aggs and any(m["status"] == "ok" for m in json.loads(aggs[0].read_text())
                            ["members"]):
                break
            time.sleep(0.2)
        else:
            pytest.fail("no member finished in time")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    finished = sum(m["status"] == "ok" for m in json.loads(aggs[0].read_text())["members"])
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"4 members: {finished} already finished" in done.stderr or \
        f"4 members: {finished + 1} already finished" in done.stderr  # one may finish as killed
    assert [m["status"] for m in load_aggregate(aggs[0].parent)["members"]] == ["ok"] * 4


def test_longest_first_orders_members_by_their_stored_wall_time(tmp_path):
    from genlab.runs import write_json
    from genlab.sweeps.plan import Member, longest_first

    def stored(experiment, seconds, profile="quick", status="ok", started=0.0):
        d = tmp_path / experiment / f"run{started}"
        d.mkdir(parents=True)
        write_json(d / "config.json", {})
        write_json(d / "result.json", {"status": status, "wall_time_s": seconds})
        write_json(d / "provenance.json", {"profile": profile, "started": started})

    stored("a", 5.0)
    stored("b", 50.0)
    stored("b", 10.0, started=1.0)  # the newest run of b counts: 10 s
    stored("c", 99.0, profile="default")  # another profile: unknown at quick
    stored("d", 99.0, status="failed")  # not finished: unknown
    stored("e", 20.0)
    members = [Member(e, s, {}, {"seed": s}) for e in "abcde" for s in (0, 1)]
    order = [(m.experiment, m.seed) for m in longest_first(members, tmp_path, "quick")]
    assert order == [("c", 0), ("c", 1), ("d", 0), ("d", 1), ("e", 0), ("e", 1),
                     ("b", 0), ("b", 1), ("a", 0), ("a", 1)]
    assert longest_first(members, tmp_path / "empty", "quick") == members
