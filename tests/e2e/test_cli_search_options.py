"""`autokeras-nas search` options end to end, in a subprocess, on tiny real data:
--space, --time-budget, --tensorboard, --target (csv), time series,
--progress live; the one-line errors found once TensorFlow is loaded run in
process (one through the console script). The searches that need no pipe of
their own run one after another in one process (click's runner), and the two
resumes of the time-budget search in another, both forked by the
`fork_server` fixture from an interpreter that imported TensorFlow once
(`forked_cli_runs`: no TensorFlow import of their own)."""

from __future__ import annotations

import csv
import glob
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autokeras_nas.testing.cli import one_line_error, run_cli
from autokeras_nas.testing.forkserver import forked_cli_runs

pytestmark = pytest.mark.tf

USER_SPACE = """
import keras

def build_model(hp):
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Flatten(),
        keras.layers.Dense(hp.Int("units", 16, 64, step=16), activation="relu", name="hidden"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-2, sampling="log")),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model

def broken(hp):
    raise ValueError("cannot build this one")

def flat_inputs(hp):
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
"""


autokeras_nas = run_cli


def _ok(proc: subprocess.CompletedProcess) -> None:
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr


def _results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


def _started(run: dict) -> list[str]:
    """The ids of the trials a run started, from its `trial ID: start` lines."""
    return re.findall(r"^trial (\S+): start", run["stdout"], flags=re.MULTILINE)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory with a user space, a CSV table and a time-series .npz."""
    cwd = tmp_path_factory.mktemp("options")
    (cwd / "my_space.py").write_text(USER_SPACE)
    rng = np.random.default_rng(0)
    with open(cwd / "table.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["a", "b", "colour", "label"])
        for _ in range(240):
            a, b = rng.normal(size=2)
            writer.writerow([f"{a:.3f}", f"{b:.3f}", rng.choice(["red", "blue"]),
                             "pos" if a + b > 0 else "neg"])
    y = rng.integers(0, 2, 160)
    x = rng.normal(size=(160, 24, 1)).astype("float32")
    x[y == 1] += np.sin(np.linspace(0, 6, 24))[:, None]
    np.savez(cwd / "series.npz", x_train=x, y_train=y, kind="timeseries")
    return cwd


#: Searches of the tests below, in the order they run.
SEARCHES = {
    # first: in a new process, as its own process would (its seed decides which stop)
    "user": ["search", "--space", "my_space.py:build_model", "--max-trials", "6",
             "--epochs", "2", "--early-stopping", "median", "--seed", "2",
             "--tensorboard", "tb", "--out", "user"],
    "small": ["search", "--space", "my_space.py:build_model", "--max-trials", "6",
              "--epochs", "1", "--constraint", "params<=2000", "--out", "small",
              "--seed", "1"],
    "none": ["search", "--space", "my_space.py:build_model", "--max-trials", "30",
             "--epochs", "1", "--constraint", "params<=10", "--out", "none"],
    "series": ["search", "--dataset", "npz:series.npz", "--max-trials", "2",
               "--epochs", "1", "--out", "series"],
    # No promotions (under asha a new configuration would train one epoch only).
    "budget": ["search", "--time-budget", "4s", "--epochs", "100", "--out", "budget",
               "--early-stopping", "none"],
}


@pytest.fixture(scope="module")
def searches(files: Path, fork_server) -> dict[str, dict]:
    """`SEARCHES` in `files`, one after another in one process forked by
    `fork_server` (click's runner). Name -> its run: code, stdout, stderr, exception."""
    return dict(zip(SEARCHES, forked_cli_runs(fork_server, *SEARCHES.values(), cwd=files,
                                              timeout=1800)))


def _ran(run: dict) -> None:
    assert run["code"] == 0 and run["exception"] is None, (
        run["stdout"][-2000:] + run["stderr"][-3000:] + str(run["exception"]))
    assert "Traceback" not in run["stdout"] + run["stderr"]


def _hparams_sessions(log_dir: Path) -> dict[str, dict]:
    """trial id -> the hyperparameters of its TensorBoard HParams session."""
    from tensorboard.backend.event_processing.event_file_loader import EventFileLoader
    from tensorboard.plugins.hparams import plugin_data_pb2

    sessions = {}
    for path in glob.glob(str(log_dir / "*" / "execution0" / "events.out.tfevents.*")):
        trial_id = Path(path).parent.parent.name
        for event in EventFileLoader(path).Load():
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name != "hparams":
                    continue
                data = plugin_data_pb2.HParamsPluginData.FromString(
                    value.metadata.plugin_data.content)
                if data.HasField("session_start_info"):
                    sessions[trial_id] = {k: v.number_value for k, v in
                                          data.session_start_info.hparams.items()}
    return sessions


def test_a_user_space_from_a_file_with_tensorboard_hparams(files: Path, searches: dict) -> None:
    run = searches["user"]
    _ran(run)
    assert "strategy random on my_space.py:build_model, 6 trials x 2 epochs" in run["stdout"]
    trials = _results(files / "user")["trials"]
    assert len(trials) == 6 and all(set(t["values"]) == {"units", "lr"} for t in trials)
    assert any(t["status"] == "stopped" for t in trials)  # seed 2: two trials far below
    # --early-stopping median (3 other trials at least): after epoch 1 a trial stops exactly
    # when its val_accuracy is below the median of the earlier trials' at epoch 1.
    first = [t["curve"][0]["val_accuracy"] for t in trials]
    for i, trial in enumerate(trials):
        stop = i >= 3 and first[i] < float(np.median(first[:i]))
        assert (trial["status"], trial["epochs"]) == (("stopped", 1) if stop else ("completed", 2))
    summary = json.loads((files / "user" / "summary.json").read_text())
    assert summary["space"] == "my_space.py:build_model" and summary["early_stopping"] == "median"
    assert (files / "user" / "best_model.keras").is_file()
    sessions = _hparams_sessions(files / "tb")
    assert set(sessions) == {t["trial_id"] for t in trials}
    for trial in trials:
        assert sessions[trial["trial_id"]]["units"] == trial["values"]["units"]
    assert glob.glob(str(files / "tb" / trials[0]["trial_id"] / "execution0" / "validation" / "*"))


def test_time_budget_stops_the_search_and_keeps_what_it_did(files: Path, searches: dict,
                                                            fork_server) -> None:
    run = searches["budget"]
    _ran(run)
    results = _results(files / "budget")
    assert results["max_trials"] is None  # no --max-trials: the budget decides
    trials = results["trials"]
    assert trials and trials[-1]["status"] == "stopped"
    assert trials[-1]["metrics"]["stopped_by_budget"] == 1.0 and trials[-1]["epochs"] < 100
    assert "stopped by the time budget" in run["stdout"]
    assert "time budget 0:04 reached after" in run["stdout"]
    summary = json.loads((files / "budget" / "summary.json").read_text())
    assert summary["time_budget_s"] == 4.0 and summary["best_trial_id"] == trials[0]["trial_id"]
    assert (files / "budget" / "best_model.keras").is_file()
    spent = results["search_seconds"]
    assert spent >= 4.0
    # Resumed in a new process (forked by `fork_server`), twice (click's runner):
    again, third = forked_cli_runs(
        fork_server,
        # with the budget of the whole search: the first run spent it all;
        ["search", "--time-budget", "4s", "--time-budget-scope", "search", "--epochs", "100",
         "--out", "budget", "--early-stopping", "none"],
        # with a budget of its own (the default): it trains again.
        ["search", "--time-budget", "3s", "--epochs", "100", "--out", "budget",
         "--early-stopping", "none"], cwd=files, timeout=600)
    _ran(again)
    assert "time budget 0:04 for the whole search: earlier runs spent" in again["stdout"]
    assert _started(again) == []
    _ran(third)
    assert "time budget 0:03 from now (earlier runs spent" in third["stdout"]
    final = _results(files / "budget")
    assert len(final["trials"]) > len(trials)
    # the trials of the first run, then those the third started (none of the second)
    assert [t["trial_id"] for t in final["trials"]] == [
        t["trial_id"] for t in trials] + _started(third)
    assert final["search_seconds"] >= spent + 3.0


def test_constraints_reject_candidates_and_an_impossible_one_stops_in_one_line(
        files: Path, searches: dict) -> None:
    _ran(searches["small"])
    trials = _results(files / "small")["trials"]
    infeasible = [t for t in trials if t["status"] == "infeasible"]
    trained = [t for t in trials if t["status"] == "completed"]
    assert infeasible and trained  # units 16 fits 2000 parameters (1,210), 32 and more do not
    assert all(t["metrics"]["params"] <= 2000 for t in trained)
    assert all(t["message"].startswith("infeasible: params ") for t in infeasible)
    # Rejected in well under a second (the search's first trial also pays the
    # process's first model build).
    assert all(t["seconds"] < 1.0 for t in infeasible if t is not trials[0]), infeasible
    assert json.loads((files / "small" / "summary.json").read_text())["constraints"] == \
        ["params<=2000"]
    run = searches["none"]
    assert run["code"] == 1 and run["exception"] is None, run["stdout"][-2000:]
    assert "Traceback" not in run["stderr"]
    last = run["stderr"].strip().splitlines()[-1]
    assert last.startswith("Error: no feasible model in the first 20 trials (the last: "
                           "infeasible: params ")


def test_a_csv_table_gets_the_mlp_space_and_the_live_view_runs_in_a_pipe(files: Path) -> None:
    proc = autokeras_nas("search", "--dataset", "csv:table.csv", "--target", "label",
                         "--max-trials", "2", "--epochs", "2", "--progress", "live",
                         "--out", "table", cwd=files)
    _ok(proc)
    assert "strategy random on tabular MLP" in proc.stdout
    trials = _results(files / "table")["trials"]
    assert len(trials) == 2 and all(t["status"] == "completed" for t in trials)
    assert all({"layers", "units_0", "learning_rate"} <= set(t["values"]) for t in trials)
    assert sum(line.startswith("trial ") and ": completed" in line
               for line in proc.stdout.splitlines()) == 2
    summary = json.loads((files / "table" / "summary.json").read_text())
    assert summary["target"] == "label" and summary["test_accuracy"] > 0.6


def test_time_series_get_the_1d_cnn_space_with_random_search(files: Path,
                                                           searches: dict) -> None:
    _ran(searches["series"])
    assert "strategy random on 1-D CNN" in searches["series"]["stdout"]
    trials = _results(files / "series")["trials"]
    assert len(trials) == 2 and all("conv_blocks" in t["values"] for t in trials)


UNFIT_SPACES = [
    (["--space", "my_space:broken"],
     "--space my_space:broken: building a model with the default hyperparameters failed: "
     "ValueError: cannot build this one"),
    (["--space", "my_space:flat_inputs"],
     "the model takes inputs of shape (64,), but digits (image data) has inputs of shape (8, 8, 1)"),
    (["--space", "autokeras_nas.tuner:CellHyperModel"],
     "is a cell space (CellHyperModel): --strategy random cannot search it; "
     "use --strategy pnas or popnas"),
    (["--space", "autokeras_nas.spaces.image:image_classifier", "--dataset", "npz:series.npz"],
     "cannot be used with npz:series.npz (timeseries data, input (24, 1)): "
     "input_shape must be (height, width, channels)"),
]


@pytest.mark.parametrize("args, expected", UNFIT_SPACES, ids=[a[1] for a, _ in UNFIT_SPACES])
def test_spaces_that_do_not_fit_fail_in_one_line(files: Path, args: list[str], expected: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """In this process (click's runner): these fail once TensorFlow is loaded,
    which a subprocess per case would import again."""
    from click.testing import CliRunner

    from autokeras_nas.cli import main

    monkeypatch.chdir(files)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "my_space", raising=False)
    result = CliRunner().invoke(main, ["search", *args, "--out", "never"])
    assert result.exit_code == 2, (result.output, result.exception)
    assert expected in one_line_error(result.stderr) and result.stdout == ""
    assert not (files / "never").exists()


def test_the_console_script_prints_a_late_error_in_one_line(files: Path) -> None:
    """What a user sees once TensorFlow is loaded: one `Error:` line, the last
    of stderr (after TensorFlow's own start-up lines, if any), and exit code 2."""
    args, expected = UNFIT_SPACES[0]
    proc = autokeras_nas("search", *args, "--out", "never", cwd=files)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and expected in errors[0]
    assert proc.stderr.strip().splitlines()[-1] == errors[0]
    assert not (files / "never").exists()
