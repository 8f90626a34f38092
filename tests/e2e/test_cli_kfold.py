"""Small data end to end: `--validation` (auto picks k-fold below the
threshold), what results.json and summary.json say, the final retraining on
all the training samples, and bad values' one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from autokeras_nas import workflow
from autokeras_nas.testing.cli import one_line_error, probe_cli_runs
from autokeras_nas.testing.forkserver import ForkServer

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 120-series two-class time-series .npz (far below the threshold)."""
    cwd = tmp_path_factory.mktemp("kfold")
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 60)
    x = rng.normal(size=(120, 16, 1)).astype("float32")
    x[y == 1] += np.sin(np.linspace(0, 6, 16))[:, None]
    np.savez(cwd / "series.npz", x_train=x, y_train=y, kind="timeseries")
    return cwd


@pytest.fixture(scope="module")
def searches(series: Path) -> dict[str, dict]:
    """The searches with --validation auto and split, one after another in one
    fresh interpreter (click's runner: one TensorFlow import for the two).
    Name -> its run: code, stdout, stderr, exception."""
    runs = probe_cli_runs(
        ["search", "--dataset", "npz:series.npz", "--max-trials", "2", "--epochs", "2",
         "--early-stopping", "median", "--out", "auto"],
        ["search", "--dataset", "npz:series.npz", "--max-trials", "1", "--epochs", "1",
         "--validation", "split", "--out", "split"], cwd=series, timeout=900)
    return dict(zip(["auto", "split"], runs))


def _ok(run: dict) -> str:
    """The run's stdout, once it is known to have succeeded."""
    assert run["code"] == 0 and run["exception"] is None, (
        run["stdout"][-2000:] + run["stderr"][-3000:] + str(run["exception"]))
    assert "Traceback" not in run["stdout"] + run["stderr"]
    return run["stdout"]


def test_auto_validates_small_data_by_kfold_and_retrains_on_all_of_it(series: Path,
                                                                      searches: dict) -> None:
    stdout = _ok(searches["auto"])
    assert "validation: 5-fold stratified cross-validation over 96 training samples " \
           "(auto: 96 training samples < 1000)" in stdout
    assert "--early-stopping median is off under k-fold" in stdout
    assert "retrained trial" in stdout and "on all 96 training samples for" in stdout
    assert "(5-fold mean), test accuracy" in stdout
    results = json.loads((series / "auto" / "results.json").read_text())
    assert results["validation"]["scheme"] == "kfold" and results["validation"]["folds"] == 5
    for trial in results["trials"]:
        assert trial["status"] == "completed"
        assert trial["outputs"]["validation"] == "5-fold"
        assert len(trial["outputs"]["fold_val_accuracy"]) == 5
    summary = json.loads((series / "auto" / "summary.json").read_text())
    assert summary["validation"] == results["validation"] and summary["early_stopping"] is None
    best = next(t for t in results["trials"] if t["trial_id"] == summary["best_trial_id"])
    assert summary["retrained"]["samples"] == 96
    assert summary["retrained"]["epochs"] == best["outputs"]["selected_epochs"]


def test_validation_split_keeps_the_split_and_the_trials_model(series: Path,
                                                              searches: dict) -> None:
    stdout = _ok(searches["split"])
    assert "validation: validation split of 19 samples (--validation split)" in stdout
    assert "retrained" not in stdout
    results = json.loads((series / "split" / "results.json").read_text())
    summary = json.loads((series / "split" / "summary.json").read_text())
    assert results["validation"] == summary["validation"] == {
        "scheme": "split", "folds": None, "samples": 19, "reason": "--validation split"}
    assert summary["retrained"] is None
    assert "validation" not in results["trials"][0]["outputs"]


@pytest.mark.parametrize("value", ["kfold:1", "folds", "kfold:x"])
def test_bad_validation_values_are_one_line_errors(series: Path, value: str,
                                                    fork_server: ForkServer) -> None:
    proc = fork_server.run(["search", "--dataset", "npz:series.npz", "--validation", value,
                            "--out", "bad"], cwd=series, timeout=600)
    assert proc.returncode == 2
    assert one_line_error(proc.stderr) == (
        f"Error: --validation must be auto, split or kfold:K with K >= 2, got {value!r}")


def test_the_saved_model_is_retrained_on_every_training_sample(series: Path, monkeypatch
                                                               ) -> None:
    from autokeras_nas.workflow import training

    pipelines = []
    make_pipeline = training.make_pipeline

    def spy(x, y, *args, **kwargs):
        pipelines.append(np.asarray(x).copy())
        return make_pipeline(x, y, *args, **kwargs)

    monkeypatch.setattr(training, "make_pipeline", spy)
    config = workflow.SearchConfig(out_dir=series / "api", dataset=f"npz:{series}/series.npz",
                                   validation="kfold:3", max_trials=1, epochs=2)
    outcome = workflow.search(config)
    dataset = workflow.load_dataset(config.dataset, seed=0)
    every = np.concatenate([dataset.x_train, dataset.x_val])
    # the retrainings' data (one per fold): all training and validation samples, each once
    assert len(pipelines) == outcome.retrained["members"] == 3
    for retrain_x in pipelines:
        assert sorted(map(bytes, retrain_x)) == sorted(map(bytes, every))
    assert outcome.retrained["samples"] == len(every) == 96
    assert outcome.validation.folds == 3
    import keras

    saved = keras.saving.load_model(outcome.model_path)
    predicted = np.argmax(saved.predict(dataset.x_test, verbose=0), axis=-1)
    assert np.mean(predicted == dataset.y_test) == pytest.approx(outcome.test_accuracy)
    # the average of the retrained members, none of them the search's fold model
    members = [saved.get_layer(f"member_{i}") for i in range(3)]
    averaged = np.mean([m.predict(dataset.x_test, verbose=0) for m in members], axis=0)
    assert np.allclose(saved.predict(dataset.x_test, verbose=0), averaged, atol=1e-5)
    trial_dir = series / "api" / f"trial_{outcome.best['trial_id']}"
    fold_model = keras.models.clone_model(members[0])
    fold_model.load_weights(trial_dir / "checkpoint.weights.h5")
    assert not all(np.allclose(a, b) for a, b in zip(fold_model.get_weights(),
                                                     members[0].get_weights()))
    # export gives the retrained model, and the search's test accuracy
    exported = workflow.export(series / "api", formats=["keras"])
    assert exported.manifest["test_accuracy"]["keras"] == pytest.approx(outcome.test_accuracy)
    assert [c.name for c in exported.comparisons] == ["test accuracy"]
