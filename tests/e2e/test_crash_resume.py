"""SIGKILL a search at any moment, run it again: nothing lost, nothing repeated,
and on the tabular benchmark exactly the proposals of an uninterrupted run."""

from __future__ import annotations

import gc
import json
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest
from autokeras_nas import plugins
from autokeras_nas.testing.processes import kill, kill_when

pytestmark = pytest.mark.tf


def _read(path: Path) -> dict:
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def table():
    from autokeras_nas.bench import NB201Table

    return NB201Table("cifar10")


@pytest.fixture
def tabular_search(fork_server):
    """`run(ARGS)` -> the finished `python -m autokeras_nas.bench.tabular_search ARGS`
    (a CompletedProcess: exit code, stdout, stderr), each run a process of its
    own forked from the suite's interpreter that imported TensorFlow once."""
    def run(args: list[str], timeout: float = 600) -> subprocess.CompletedProcess:
        return fork_server.run(args, target="autokeras_nas.bench.tabular_search:main",
                               prog="tabular_search", timeout=timeout)

    return run


@contextmanager
def frozen_gc():
    """Objects alive now (TensorFlow's modules) left out of the garbage
    collection `NasTuner` runs after every trial, which scans them all."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


#: Every installed strategy, so that a new one is covered without a change here.
STRATEGIES = sorted(plugins.available())
#: POPNAS's generic mode with a short random start and patience, so that the
#: run has random, model-based and restarted phases.
PARAMS = {"popnas": {"n_init": 4, "restart_patience": 5}, "pnas": {"n_init": 4, "restart_patience": 5}}
#: The one-shot strategies: a supernet (trial 0), 19 estimates and 3
#: retrains (trials 20-22), so that the last kill lands in the retrain phase.
PARAMS.update({name: {"candidates": 19, "top_k": 3}
               for name in ("spos", "random-ws", "oneshot", "enas", "darts", "snas", "gdas",
                            "proxyless", "smash")})
#: zero-cost ranks by the table's only proxy.
PARAMS["zero-cost"] = {"proxies": "synflow", "candidates": 19, "top_k": 3}
#: freedarts: the saliency trial (trial 0), then 23 retrains of the cells it named.
PARAMS["freedarts"] = {"top_k": 23}
N_TRIALS = 24
#: Final trials before each kill, spread over the whole run: aging evolution's
#: random start (3) and mutations (7: its first), POPNAS's random start (3),
#: model (7, 10, 17, 20) and restart (13, 15), NASH's steps (13, 17: between
#: two; 3, 7, 10, 15, 20: inside one).
KILLS = (3, 7, 10, 13, 15, 17, 20)


def _straight_run(table, strategy: str, n: int, directory: Path,
                  early_stopping: str | None = None, epochs: int = 1) -> list[dict]:
    from autokeras_nas.bench.tabular_search import TabularTuner

    tuner = TabularTuner(strategy=plugins.load(strategy)(seed=7, **PARAMS.get(strategy, {})),
                         max_trials=n, table=table, directory=str(directory),
                         project_name="straight", overwrite=True, early_stopping=early_stopping)
    with frozen_gc():
        tuner.search(verbose=0, epochs=epochs)
    return _read(directory / "straight" / "results.json")["trials"]


def _kill_plan(strategy: str) -> list[tuple[int, str]]:
    """Each kill point once per strategy, shifted by strategy so that every
    point meets several phases."""
    from autokeras_nas.bench.tabular_search import CRASH_POINTS

    shift = STRATEGIES.index(strategy)
    points = CRASH_POINTS[shift % len(CRASH_POINTS):] + CRASH_POINTS[:shift % len(CRASH_POINTS)]
    return list(zip(KILLS, points))


def _landing(straight: list[dict], k: int) -> str:
    """Where a kill after k final trials lands, from the uninterrupted run's notes."""
    before, after = straight[k - 1]["notes"], straight[k]["notes"]
    phase = after.get("origin", "trial")
    if "step" in after and before.get("step") != after["step"]:
        phase += " (between steps)"
    return phase


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_search_killed_at_every_moment_makes_the_proposals_of_an_uninterrupted_run(
        tmp_path, table, tabular_search, strategy):
    """SIGKILL after k final trials, for several k and every moment of a trial
    (`CRASH_POINTS`), each resume in a new process: the same trials, values,
    architectures, parents, epochs and notes, in order, as without a kill."""
    straight = _straight_run(table, strategy, N_TRIALS, tmp_path)
    plan = _kill_plan(strategy)
    assert len(straight) > max(KILLS), "the run ends before the last kill"
    out = tmp_path / "killed"
    command = ["--strategy", strategy, "--seed", "7", "--max-trials", str(N_TRIALS),
               "--out", str(out)]
    command += [f"--param={k}={json.dumps(v)}" for k, v in PARAMS.get(strategy, {}).items()]
    command += [f"--crash-at={k}:{point}" for k, point in plan]
    proc = tabular_search(command)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    kills = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith('{"killed"')]
    # Each kill landed where it was meant to: the trials started and final in oracle.json.
    assert [(r["killed"], r["started"], r["final"]) for r in kills] == [
        (f"{k}:{p}", k + (p not in ("created-file", "ended")), k + (p in ("oracle-saved", "told")))
        for k, p in plan]
    landings = [_landing(straight, k) for k in KILLS]
    print(strategy, list(zip((f"{k}:{p}" for k, p in plan), landings)))
    # Every phase the run goes through from the first kill on meets a kill;
    # a strategy that works in steps is killed between two of them too.
    phases = {t["notes"].get("origin", "trial") for t in straight[min(KILLS):]}
    assert {landing.split(" (")[0] for landing in landings} == phases
    if any("step" in t["notes"] for t in straight):
        assert any(landing.endswith("(between steps)") for landing in landings)
    resumed = _read(out / "results.json")["trials"]
    assert [t["trial_id"] for t in resumed] == [t["trial_id"] for t in straight]
    for field in ("status", "values", "arch", "parent_id", "epochs", "notes", "metrics"):
        assert [t[field] for t in resumed] == [t[field] for t in straight], field
    state = _read(out / "oracle.json")
    assert state["end_order"] == state["start_order"]  # nothing final ran again
    assert set(state["run_times"].values()) == {1}


def test_a_search_under_promotions_killed_at_every_moment_resumes_exactly(
        tmp_path, table, tabular_search):
    """The same under promotion scheduling (`--early-stopping asha`, rungs at
    1, 3 and 9 epochs), with aging evolution, which ranks its population by
    the promoted trials' results: the same trials, promotions, epochs and
    notes, in order, as without a kill, and the scheduler's state."""
    strategy = "aging-evolution"
    straight = _straight_run(table, strategy, N_TRIALS, tmp_path, early_stopping="asha", epochs=9)
    promoted = [t for t in straight if t["continues"] is not None]
    assert {t["epochs"] for t in promoted} == {2, 6}
    assert any(t["notes"].get("origin") == "mutation" for t in straight)
    plan = _kill_plan(strategy)
    out = tmp_path / "killed"
    command = ["--strategy", strategy, "--seed", "7", "--max-trials", str(N_TRIALS),
               "--out", str(out), "--early-stopping", "asha", "--epochs", "9"]
    command += [f"--crash-at={k}:{point}" for k, point in plan]
    proc = tabular_search(command)
    assert proc.returncode == 0, proc.stderr[-3000:]
    kills = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith('{"killed"')]
    assert len(kills) == len(plan)
    landings = {straight[k]["notes"].get("origin") for k in KILLS}
    assert "promotion" in landings and "mutation" in landings, landings
    resumed = _read(out / "results.json")["trials"]
    assert [t["trial_id"] for t in resumed] == [t["trial_id"] for t in straight]
    for field in ("status", "values", "parent_id", "continues", "epochs", "notes", "metrics"):
        assert [t[field] for t in resumed] == [t[field] for t in straight], field
    straight_state = _read(tmp_path / "straight" / "oracle.json")["nas"]["scheduler"]
    assert _read(out / "oracle.json")["nas"]["scheduler"] == straight_state


def _cli_trials(directory: Path) -> list[tuple[str, str, str]]:
    return [(t["trial_id"], json.dumps(t["values"], sort_keys=True), t["status"])
            for t in _read(directory / "results.json")["trials"]]


CLI_SEARCH = ["search", "--dataset", "digits", "--max-trials", "3", "--epochs", "1", "--seed", "4"]


def test_killed_cli_search_resumes_the_interrupted_trial_and_loses_nothing(
        tmp_path, monkeypatch, fork_server):
    """Also the README's promise: the same trials and values as an
    uninterrupted run (this one in this process, with click's runner)."""
    from click.testing import CliRunner

    from autokeras_nas.cli import main

    monkeypatch.chdir(tmp_path)
    with frozen_gc():
        straight = CliRunner().invoke(main, CLI_SEARCH + ["--out", "straight"])
    assert straight.exit_code == 0, (straight.output[-3000:], straight.exception)
    command = CLI_SEARCH + ["--out", "run"]  # `autokeras-nas ...`, forked by `fork_server`
    results = tmp_path / "run" / "results.json"
    proc = fork_server.start(command, cwd=tmp_path, merge_stderr=True)
    interrupted = None

    def mid_trial() -> bool:
        nonlocal interrupted
        try:
            trials = _read(results)["trials"]
        except (OSError, ValueError):
            return False
        statuses = [t["status"] for t in trials]
        if "completed" in statuses and statuses[-1] == "running":
            interrupted = trials[-1]
        return interrupted is not None

    kill_when(proc, mid_trial)
    assert interrupted is not None, "the search ended before it could be killed mid-trial"
    before = _read(results)["trials"]
    second = fork_server.start(command, cwd=tmp_path, merge_stderr=True)
    try:
        output, _ = second.communicate(timeout=600)
    finally:
        kill(second)
    assert second.returncode == 0, output[-3000:]
    assert "resuming the search" in output and "Traceback" not in output
    assert f"trial {interrupted['trial_id']}: start" in output  # re-run
    after = _read(results)["trials"]
    assert [t["trial_id"] for t in after] == ["0", "1", "2"]
    assert all(t["status"] == "completed" for t in after)
    assert _cli_trials(tmp_path / "run") == _cli_trials(tmp_path / "straight")
    assert len({json.dumps(t["values"], sort_keys=True) for t in after}) == 3
    pickles = [str(f) for f in (tmp_path / "run").rglob("*")
               if f.is_file() and (f.suffix in (".pkl", ".pickle") or f.read_bytes()[:1] == b"\x80")]
    assert pickles == []  # JSON and Keras files only
    for old in before:  # completed trials kept as they were, the interrupted one re-run
        new = next(t for t in after if t["trial_id"] == old["trial_id"])
        assert new["values"] == old["values"]
        if old["status"] == "completed":
            assert new["metrics"] == old["metrics"]
