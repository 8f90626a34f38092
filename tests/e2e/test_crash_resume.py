"""SIGKILL a search at any moment, run it again: nothing lost, nothing repeated,
and on the tabular benchmark exactly the proposals of an uninterrupted run."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from autokeras_nas.testing.cli import cli_command

pytestmark = pytest.mark.tf

PY = sys.executable


def _read(path: Path) -> dict:
    return json.loads(path.read_text())


def _spawn(command: list[str], cwd: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def _kill(proc: subprocess.Popen) -> None:
    """Kills the process (and its group) if it still runs; closes its pipe."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def _changed_since(path: Path, stamp: float) -> bool:
    try:
        return path.stat().st_mtime_ns != stamp
    except FileNotFoundError:
        return False


def _stamp(path: Path) -> float:
    return path.stat().st_mtime_ns if path.exists() else -1


@pytest.fixture(scope="module")
def table():
    from autokeras_nas.bench import NB201Table

    return NB201Table("cifar10")


def _straight_run(table, strategy: str, n: int, directory: Path) -> list[dict]:
    from autokeras_nas import plugins
    from autokeras_nas.bench.tabular_search import TabularTuner

    tuner = TabularTuner(strategy=plugins.load(strategy)(seed=7), max_trials=n, table=table,
                         directory=str(directory), project_name="straight", overwrite=True)
    tuner.search(verbose=0)
    return _read(directory / "straight" / "results.json")["trials"]


@pytest.mark.parametrize("strategy", ["random", "aging-evolution"])
def test_killed_and_resumed_tabular_search_makes_the_same_proposals(tmp_path, table, strategy):
    n = 24
    straight = _straight_run(table, strategy, n, tmp_path)
    out = tmp_path / "killed"
    command = [PY, "-m", "autokeras_nas.bench.tabular_search", "--strategy", strategy, "--seed", "7",
               "--max-trials", str(n), "--trial-seconds", "0.05", "--out", str(out)]
    rng = random.Random(strategy)
    kills, seen_at_kill = 0, []
    for _ in range(6):
        results = out / "results.json"
        stamp = _stamp(results)
        proc = _spawn(command)
        try:
            while proc.poll() is None and not _changed_since(results, stamp):
                time.sleep(0.01)  # until this run has started a trial
            if kills < 2 and proc.poll() is None:
                time.sleep(rng.uniform(0.0, 0.8))
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    kills += 1
                    proc.wait()
                    seen_at_kill.append([t["status"] for t in _read(results)["trials"]])
                    continue
            output, _ = proc.communicate(timeout=300)
        finally:
            _kill(proc)
        assert proc.returncode == 0, output[-2000:]
        break
    assert kills == 2
    assert all(statuses.count("completed") < n for statuses in seen_at_kill)  # killed mid-search
    resumed = _read(out / "results.json")["trials"]
    assert [t["trial_id"] for t in resumed] == [t["trial_id"] for t in straight]
    assert all(t["status"] == "completed" for t in resumed)
    assert [t["values"] for t in resumed] == [t["values"] for t in straight]
    assert [t["metrics"]["val_acc"] for t in resumed] == [t["metrics"]["val_acc"] for t in straight]
    assert [t["notes"] for t in resumed] == [t["notes"] for t in straight]


def test_killed_cli_search_resumes_the_interrupted_trial_and_loses_nothing(tmp_path):
    command = cli_command() + ["search", "--dataset", "digits", "--max-trials", "3", "--epochs", "2",
                "--seed", "4", "--out", "run"]
    results = tmp_path / "run" / "results.json"
    proc = _spawn(command, cwd=tmp_path)
    interrupted = None
    try:
        deadline = time.monotonic() + 300
        while interrupted is None and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
            try:
                trials = _read(results)["trials"]
            except (OSError, ValueError):
                continue
            statuses = [t["status"] for t in trials]
            if "completed" in statuses and statuses[-1] == "running":
                interrupted = trials[-1]
                os.killpg(proc.pid, signal.SIGKILL)
    finally:
        _kill(proc)
    assert interrupted is not None, "the search ended before it could be killed mid-trial"
    before = _read(results)["trials"]
    second = _spawn(command, cwd=tmp_path)
    try:
        output, _ = second.communicate(timeout=600)
    finally:
        _kill(second)
    assert second.returncode == 0, output[-3000:]
    assert "resuming the search" in output and "Traceback" not in output
    assert f"trial {interrupted['trial_id']}: start" in output  # re-run
    after = _read(results)["trials"]
    assert [t["trial_id"] for t in after] == ["0", "1", "2"]
    assert all(t["status"] == "completed" for t in after)
    assert len({json.dumps(t["values"], sort_keys=True) for t in after}) == 3
    pickles = [str(f) for f in (tmp_path / "run").rglob("*")
               if f.is_file() and (f.suffix in (".pkl", ".pickle") or f.read_bytes()[:1] == b"\x80")]
    assert pickles == []  # JSON and Keras files only
    for old in before:  # completed trials kept as they were, the interrupted one re-run
        new = next(t for t in after if t["trial_id"] == old["trial_id"])
        assert new["values"] == old["values"]
        if old["status"] == "completed":
            assert new["metrics"] == old["metrics"]
