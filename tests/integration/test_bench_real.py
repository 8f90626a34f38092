"""`autokeras-nas bench real`: tiny real runs, each in its own process, one at a time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

CLI = [sys.executable, "-m", "autokeras_nas.cli", "bench", "real"]
BUDGET_S = 5
#: Ours, a KerasTuner peer (kt-random and kt-bayes differ from it only in the KerasTuner
#: class they make), and one that fails.
SEARCHERS = ["random", "kt-hyperband", "aging-evolution:early_stopping=bogus"]


def _real(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def digits_bench(tmp_path_factory) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path_factory.mktemp("real")
    proc = _real("--dataset", "digits", "--budget", f"{BUDGET_S}s", "--repeats", "1",
                 "--seed", "3", "--searchers", ",".join(SEARCHERS), "--json",
                 str(out / "real.json"), "--out", str(out / "runs"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc, json.loads((out / "real.json").read_text())


def test_every_searcher_runs_once_and_one_at_a_time(digits_bench) -> None:
    proc, payload = digits_bench
    runs = payload["runs"]
    assert [(r["searcher"], r["seed"]) for r in runs] == [(s, 3) for s in SEARCHERS]
    spans = sorted((r["started_at"], r["ended_at"]) for r in runs)
    assert all(end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))
    assert "one after another" in proc.stdout and "otherwise idle" in proc.stdout
    for searcher in SEARCHERS:
        assert any(line.startswith(searcher + "  ") for line in proc.stdout.splitlines())


def test_a_failing_run_is_reported_in_one_line_and_the_others_still_run(digits_bench) -> None:
    proc, payload = digits_bench
    failed = [r for r in payload["runs"] if r["status"] != "ok"]
    assert [r["searcher"] for r in failed] == [SEARCHERS[-1]]
    assert "bogus" in failed[0]["error"] and "\n" not in failed[0]["error"]
    assert f"failed: {SEARCHERS[-1]} seed 3: " in proc.stdout


def test_runs_record_trials_accuracies_and_a_rising_curve(digits_bench) -> None:
    _, payload = digits_bench
    for run in (r for r in payload["runs"] if r["status"] == "ok"):
        assert run["trials"] >= 1, run
        assert 0 <= run["best_val_accuracy"] <= 1 and 0 <= run["test_accuracy"] <= 1, run
        times, bests = np.array(run["curve"]).T
        assert np.all(np.diff(times) >= 0) and np.all(np.diff(bests) >= 0), run
        assert bests[-1] == pytest.approx(run["best_val_accuracy"]), run
        assert times[-1] <= run["wall_s"], run
        assert run["time_to_within_s"] <= run["wall_s"], run
        # The budget stops new trials: the last starts before it, so it ends
        # well before twice the budget plus a few epochs on this tiny data.
        assert run["wall_s"] < 4 * BUDGET_S + 60, run


def test_time_to_hyperband_is_hyperbands_own_time_to_its_best(digits_bench) -> None:
    _, payload = digits_bench
    runs = {r["searcher"]: r for r in payload["runs"]}
    hyperband = runs["kt-hyperband"]
    best = hyperband["best_val_accuracy"]
    assert hyperband["time_to_hyperband_s"] == next(t for t, b in hyperband["curve"] if b >= best)
    run = runs["random"]
    reached = run["best_val_accuracy"] >= best
    assert (run["time_to_hyperband_s"] is not None) == reached, run


def test_dtw_1nn_on_italy_power_demand(tmp_path: Path) -> None:
    proc = _real("--dataset", "ucr:ItalyPowerDemand", "--searchers", "dtw-1nn", "--budget",
                 "10s", "--repeats", "1", "--json", str(tmp_path / "r.json"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run,) = json.loads((tmp_path / "r.json").read_text())["runs"]
    # The UCR archive lists 0.950 for 1-NN with full-window DTW on this problem.
    assert run["status"] == "ok" and 0.93 <= run["test_accuracy"] <= 0.97, run
    assert run["best_val_accuracy"] is None and run["time_to_within_s"] is None


@pytest.mark.filterwarnings("ignore:DtwDist requires package 'numba'")
def test_dtw_pairwise_equals_sktimes_dtw() -> None:
    from sktime.dists_kernels import DtwDist

    from autokeras_nas.bench.real_peers import dtw_pairwise

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(4, 2, 7)), rng.normal(size=(3, 2, 9))
    np.testing.assert_allclose(dtw_pairwise(a, b), DtwDist().transform(a, b), rtol=1e-10)
    assert np.allclose(np.diag(dtw_pairwise(a, a)), 0)
