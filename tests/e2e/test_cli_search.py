"""`autokeras-nas search` end to end, in a process of its own, on the real digits data.

The commands run in processes forked by the `fork_server` fixture from an
interpreter that imported TensorFlow once, through click's runner
(`forked_cli_runs`): the first search in one, then the other commands one
after another in another (the console script itself is run by
tests/e2e/test_cli_report_export.py and test_cli_search_options.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from autokeras_nas.testing import assert_no_pickles
from autokeras_nas.testing.forkserver import forked_cli_runs

pytestmark = pytest.mark.tf

COST_METRICS = ("train_time_s", "params", "latency_ms", "epochs")
ARGS = ["search", "--dataset", "digits", "--strategy", "random", "--max-trials", "3",
        "--epochs", "1", "--out", "tmp"]


@pytest.fixture(scope="module")
def searched(fork_server, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[Path, subprocess.CompletedProcess]:
    """`autokeras-nas ARGS`, finished in a process of its own: (its working
    directory, the run: exit code, stdout, stderr)."""
    cwd = tmp_path_factory.mktemp("cli")
    [run] = forked_cli_runs(fork_server, ARGS, cwd=cwd)
    return cwd, subprocess.CompletedProcess(ARGS, run["code"], run["stdout"],
                                            run["stderr"] + (run["exception"] or ""))


def test_search_exits_cleanly_and_prints_a_leaderboard(searched) -> None:
    _, proc = searched
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert sum(line.startswith("trial ") and ": start" in line for line in lines) == 3
    assert sum(line.startswith("trial ") and ": completed" in line for line in lines) == 3
    header = next(line for line in lines if line.startswith("rank"))
    assert header.split()[:8] == ["rank", "trial", "status", "val_accuracy", "epochs", "params",
                                  "latency_ms", "train_time_s"]
    assert any(line.startswith("1 ") for line in lines)
    assert "test accuracy" in proc.stdout
    out = searched[0] / "tmp"
    assert f"every trial: {out.resolve() / 'results.json'} (leaderboard and plots: " \
        f"autokeras-nas report {out.resolve()})" in lines


def test_results_json_has_every_trial_with_costs(searched) -> None:
    cwd, proc = searched
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((cwd / "tmp" / "results.json").read_text())
    assert results["strategy"] == "random"
    assert len(results["trials"]) == 3
    for trial in results["trials"]:
        assert trial["status"] == "completed"
        for name in (*COST_METRICS, "val_accuracy"):
            assert name in trial["metrics"], (name, trial["metrics"])
        assert trial["metrics"]["epochs"] == 1
        assert trial["metrics"]["params"] > 0
    assert len(results["best_trial_ids"]) == 3


def test_best_model_reloads_and_matches_the_summary(searched) -> None:
    import keras

    from autokeras_nas.data import load_dataset

    cwd, proc = searched
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = cwd / "tmp"
    summary = json.loads((out / "summary.json").read_text())
    results = json.loads((out / "results.json").read_text())
    assert summary["dataset"] == "digits" and summary["strategy"] == "random"
    assert summary["best_trial_id"] == results["best_trial_ids"][0]
    assert summary["wall_time_s"] > 0
    model = keras.models.load_model(out / "best_model.keras")
    ds = load_dataset("digits", seed=0)
    predictions = model.predict(ds.x_test, verbose=0)
    assert predictions.shape == (len(ds.y_test), 10)
    accuracy = float(np.mean(predictions.argmax(-1) == ds.y_test))
    assert accuracy == pytest.approx(summary["test_accuracy"], abs=1e-6)
    assert accuracy > 0.1  # better than chance after one epoch
    _, val_accuracy = model.evaluate(ds.x_val, ds.y_val, verbose=0)
    assert val_accuracy == pytest.approx(summary["val_accuracy"], abs=1e-4)


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


#: Damaged copies of the finished search, each resumed with --max-trials 5.
DAMAGES = {
    "oracle.json is corrupted": lambda d: (d / "oracle.json").write_text("{not json"),
    "oracle.json is missing": lambda d: (d / "oracle.json").unlink(),
    "trial_1/trial.json lacks": lambda d: (d / "trial_1" / "trial.json").write_text('{"a": 1}'),
}


#: `bench nash --budget`, seconds.
NASH_BUDGET_S = 4

#: Commands of the tests below, one search (or bench) each, in their own directories.
RUNS = {
    "ae": ["search", "--dataset", "digits", "--strategy", "aging-evolution",
           "--param", "population_size=4", "--max-trials", "7", "--epochs", "3",
           "--early-stopping", "asha", "--out", "ae"],
    # NASH's default space; 2 neighbours a step (the default 4 needs 6 trials):
    # the start network, one step (its continuation and a morphed child), the final.
    "nash": ["search", "--dataset", "digits", "--strategy", "nash", "--param", "n_neigh=2",
             "--max-trials", "4", "--out", "nash"],
    # The budget is spent twice (NASH, then its start network for the same time).
    "bench-nash": ["bench", "nash", "--dataset", "digits", "--budget", str(NASH_BUDGET_S),
                   "--json", "nash.json"],
    # --param k=2: 2 cells kept per step, so 2 one-block cells leave room for
    # 2 two-block ones within 4 trials (the default k=8 would need 10).
    "pnas": ["search", "--dataset", "digits", "--strategy", "pnas", "--param", "k=2",
             "--max-trials", "4", "--epochs", "1", "--out", "pnas"],
}


@pytest.fixture(scope="module")
def runs(searched, fork_server,
         tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict, dict]]:
    """One after another in one process forked by `fork_server` (click's
    runner), each in a directory of its own: `RUNS`; the finished search of `searched` run
    again ("rerun"); each damaged copy of it (`DAMAGES`, by its expected
    message) resumed once.
    Name -> (its directory, its run: code, stdout, stderr, exception, the
    directory's files before the run for a damaged copy, else None)."""
    import shutil

    cwd, first = searched
    assert first.returncode == 0, first.stderr[-3000:]
    root = tmp_path_factory.mktemp("runs")
    commands = {}
    for name, args in RUNS.items():
        (root / name).mkdir()
        # one working directory per command: `--json nash.json` and `--out` are relative
        commands[name] = (root / name, [*args[:-1], str(root / name / args[-1])], None)
    commands["rerun"] = (cwd, [*ARGS[:-1], str(cwd / "tmp")], None)
    for n, (expected, damage) in enumerate(DAMAGES.items()):
        out = root / f"damaged{n}" / "tmp"
        shutil.copytree(cwd / "tmp", out)
        damage(out)
        commands[expected] = (out, [*ARGS[:-2], "--max-trials", "5", "--out", str(out)],
                              _snapshot(out))
    done = forked_cli_runs(fork_server, *[args for _, args, _ in commands.values()], cwd=root)
    return {name: (directory, run, before)
            for (name, (directory, _, before)), run in zip(commands.items(), done)}


def test_rerun_resumes_the_finished_search(searched, runs) -> None:
    cwd, _ = searched
    _, run, _ = runs["rerun"]
    assert run["code"] == 0 and run["exception"] is None, run["stderr"][-3000:] + str(run)
    assert "resuming" in run["stdout"]
    assert ": start" not in run["stdout"]
    results = json.loads((cwd / "tmp" / "results.json").read_text())
    assert len(results["trials"]) == 3


@pytest.mark.parametrize("expected", list(DAMAGES))
def test_a_corrupted_search_directory_is_one_line_and_loses_nothing(runs, expected):
    out, run, before = runs[expected]
    assert run["code"] == 2 and run["exception"] is None, run
    assert "Traceback" not in run["stderr"]
    last = run["stderr"].strip().splitlines()[-1]
    assert "cannot resume the search in" in last and expected in last
    assert _snapshot(out) == before


def _ran(run: dict) -> None:
    assert run["code"] == 0 and run["exception"] is None, run["stderr"][-2000:] + str(run)


def test_aging_evolution_searches_digits_end_to_end_with_its_params(runs) -> None:
    tmp_path, run, _ = runs["ae"]
    _ran(run)
    results = json.loads((tmp_path / "ae" / "results.json").read_text())
    assert results["strategy"] == "aging-evolution"
    trials = results["trials"]
    assert len(trials) == 7 and all(t["status"] == "completed" for t in trials)
    # --early-stopping asha, rungs at 1 and 3 epochs: every configuration
    # trains 1 epoch; the best third continue from there for 2 more.
    promoted = [t for t in trials if t["continues"] is not None]
    assert promoted and all(t["epochs"] == 2 and t["notes"]["origin"] == "promotion"
                            for t in promoted)
    assert all(t["epochs"] == 1 for t in trials if t["continues"] is None)
    origins = [t["notes"]["origin"] for t in trials if t["continues"] is None]
    # A population of 4 (--param; 7 trials alone would give 2): 4 random, then mutations
    # (at least 5 of the 7 trials are new configurations: each promotion, from the
    # fourth trial on, waits for a new one-epoch result).
    assert origins[:4] == ["random"] * 4 and "mutation" in origins[4:]
    summary = json.loads((tmp_path / "ae" / "summary.json").read_text())
    assert summary["params"] == {"population_size": 4}
    assert summary["early_stopping"] == "asha"
    assert (tmp_path / "ae" / "best_model.keras").is_file()


def test_nash_searches_a_morphable_network_by_default(runs) -> None:
    tmp_path, run, _ = runs["nash"]
    _ran(run)
    trials = json.loads((tmp_path / "nash" / "results.json").read_text())["trials"]
    assert [t["notes"]["origin"] for t in trials][:1] == ["start"]
    assert all(t["arch"] and t["arch"]["net"]["nodes"] for t in trials)
    children = [t for t in trials if t["parent_id"] is not None]
    assert children and all(t["outputs"]["preservation_error"] < 1e-4 for t in children)
    assert_no_pickles(tmp_path / "nash")  # JSON and Keras files only


def test_bench_nash_compares_with_the_start_network_for_the_same_time(runs) -> None:
    # How many trials and epochs fit in the budget depends on the machine (timings belong to
    # `bench` itself); asserted here: the budget, not the 10,000 trials, ended the search, and
    # the start network was trained for the time NASH took.
    tmp_path, run, _ = runs["bench-nash"]
    _ran(run)
    figures = json.loads((tmp_path / "nash.json").read_text())
    assert figures["budget_s"] == NASH_BUDGET_S and 1 <= figures["nash_trials"] < 10_000
    assert 0 < figures["nash_test_accuracy"] <= 1 and 0 < figures["start_test_accuracy"] <= 1
    assert figures["start_epochs"] > 0 and figures["nash_wall_s"] > 0
    assert "start net, same time" in run["stdout"]


def test_pnas_searches_cells_progressively_and_reports(runs) -> None:
    tmp_path, run, _ = runs["pnas"]
    _ran(run)
    assert_no_pickles(tmp_path / "pnas")  # JSON and Keras files only
    trials = json.loads((tmp_path / "pnas" / "results.json").read_text())["trials"]
    assert [t["notes"]["blocks"] for t in trials] == [1] * 2 + [2] * 2
    assert all(len(t["arch"]["cell"]) == t["notes"]["blocks"] for t in trials)
    assert (tmp_path / "pnas" / "pareto.png").is_file()
    assert "predicted vs actual accuracy, Spearman over 2 cells" in run["stdout"]
