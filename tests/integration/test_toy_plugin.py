"""A trainer registered by a third-party package (tests/fixtures/toy_plugin,
found through its dist-info on the path, not installed) runs trials end to
end: through `NasTuner`, a distributed worker, and `autokeras-nas search`."""

import json
import os
import threading
from pathlib import Path

import pytest

from autokeras_nas import plugins
from autokeras_nas.launch import ORACLE_IP_ENV, ORACLE_PORT_ENV, TUNER_ID_ENV, free_port
from autokeras_nas.testing.cli import cli_env, run_cli
from autokeras_nas.tuner import NasTuner

pytestmark = pytest.mark.tf

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "toy_plugin"


@pytest.fixture
def toy_plugin(monkeypatch):
    monkeypatch.syspath_prepend(str(FIXTURE))


def _results(project_dir):
    with open(os.path.join(project_dir, "results.json")) as f:
        return json.load(f)


def _check_toy_trials(trials, n):
    assert len(trials) == n and [t["status"] for t in trials] == ["completed"] * n
    for t in trials:
        m = t["metrics"]
        assert m["toy_score"] == pytest.approx(2 * m["val_accuracy"])
        assert t["outputs"]["trainer"] == "toy" and t["outputs"]["config"] == {"scale": 2}
        assert t["outputs"]["layers"] and all(isinstance(n, str) for n in t["outputs"]["layers"])
        assert t["arch"] == {"label": f"toy-{t['trial_id']}"}
        assert t["curve"] == []  # the toy trainer reports no epochs


def test_the_toy_plugin_is_listed_by_entry_point(toy_plugin):
    assert plugins.available_trainers()["toy"] == "toy_plugin:ToyTrainer"
    assert {"train", "evaluate"} <= set(plugins.available_trainers())
    assert plugins.available()["toy"] == "toy_plugin:ToyStrategy"


def test_a_toy_trainer_runs_trials_end_to_end_through_nas_tuner(toy_plugin, tmp_path, digits,
                                                               build_model):
    tuner = NasTuner(build_model, strategy="toy", objective="val_accuracy", max_trials=2,
                     directory=str(tmp_path), project_name="p")
    x, y, xv, yv = digits
    tuner.search(x, y, validation_data=(xv, yv), epochs=3, batch_size=64, verbose=0)
    trials = _results(tuner.project_dir)["trials"]
    _check_toy_trials(trials, 2)
    assert all("loss" in t["metrics"] and "epochs" not in t["metrics"] for t in trials)
    told = {o.trial_id: o for o in tuner.oracle.strategy.history}
    for t in trials:  # the strategy was told the outputs and the architecture
        assert told[t["trial_id"]].outputs == t["outputs"]
        assert json.loads(told[t["trial_id"]].arch) == t["arch"]
    (model,) = tuner.get_best_models(1)  # the toy trainer's checkpoint
    _, accuracy = model.evaluate(xv, yv, verbose=0)
    best = next(t for t in trials if t["trial_id"] == _results(tuner.project_dir)["best_trial_ids"][0])
    assert accuracy == pytest.approx(best["metrics"]["val_accuracy"], abs=1e-4)


def test_outputs_reach_the_chief_from_a_distributed_worker(toy_plugin, tmp_path, monkeypatch,
                                                          digits, build_model):
    from autokeras_nas.tuner import parallel

    monkeypatch.setenv(ORACLE_IP_ENV, "127.0.0.1")
    monkeypatch.setenv(ORACLE_PORT_ENV, str(free_port()))
    monkeypatch.setenv(TUNER_ID_ENV, "chief")
    make = lambda: NasTuner(build_model, strategy="toy", objective="val_accuracy",
                            max_trials=2, directory=str(tmp_path), project_name="p")
    chief = make()
    chief.oracle.verbose = 0
    server = threading.Thread(target=lambda: parallel.serve(chief.oracle))
    server.start()
    monkeypatch.setenv(TUNER_ID_ENV, "tuner0")
    worker = make()
    assert type(worker.oracle).__name__ == "OracleClient"  # only the Trial proto travels
    x, y, xv, yv = digits
    worker.search(x, y, validation_data=(xv, yv), epochs=1, batch_size=64, verbose=0)
    server.join(timeout=60)
    assert not server.is_alive()
    trials = _results(chief.project_dir)["trials"]
    _check_toy_trials(trials, 2)
    told = {o.trial_id: o.outputs for o in chief.oracle.strategy.history}
    assert told == {t["trial_id"]: t["outputs"] for t in trials}


def test_a_toy_trainer_runs_through_the_command_line(tmp_path):
    path = os.pathsep.join(filter(None, [str(FIXTURE), os.environ.get("PYTHONPATH")]))
    proc = run_cli("search", "--strategy", "toy", "--dataset", "digits", "--max-trials", "2",
                   "--epochs", "1", "--out", "toy", cwd=tmp_path, env=cli_env(PYTHONPATH=path))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    results = json.loads((tmp_path / "toy" / "results.json").read_text())
    assert results["strategy"] == "toy"
    _check_toy_trials(results["trials"], 2)
