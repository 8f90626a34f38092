"""`autokeras-nas report` and `export` on a real digits search (subprocesses),
and a NASH trial rebuilt with its morphisms (in process)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from autokeras_nas.testing.cli import run_cli

pytestmark = pytest.mark.tf

SEARCH = ["search", "--dataset", "digits", "--strategy", "random", "--max-trials", "3",
          "--epochs", "1", "--out", "s"]
#: Largest difference, in accuracy, between an exported model and the search's number.
TOLERANCE = 0.005


autokeras_nas = run_cli


def snapshot(directory: Path, skip: str = "\0") -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*"))
            if p.is_file() and not str(p.relative_to(directory)).startswith(skip)}


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cwd = tmp_path_factory.mktemp("report_export")
    proc = autokeras_nas(*SEARCH, cwd=cwd)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return cwd


def test_report_writes_json_csv_and_the_progress_plot_only(searched: Path) -> None:
    search = searched / "s"
    before = snapshot(search)
    proc = autokeras_nas("report", "s", "--json", "board.json", "--csv", "board.csv", cwd=searched)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads((search / "results.json").read_text())
    board = json.loads((searched / "board.json").read_text())
    assert board["best_trial_id"] == results["best_trial_ids"][0]
    assert [t["trial_id"] for t in board["trials"]] == results["best_trial_ids"]
    assert (searched / "board.csv").read_text().count("\n") == 4  # header + 3 trials
    assert f"plot: {Path('s') / 'progress.png'}" in proc.stdout
    after = snapshot(search)
    assert (search / "progress.png").read_bytes()[:4] == b"\x89PNG"
    assert {k: v for k, v in after.items() if k != "progress.png"} == before


def test_export_reloads_to_the_reported_accuracy_in_every_format(searched: Path) -> None:
    import keras

    from autokeras_nas.data import load_dataset

    search = searched / "s"
    before = snapshot(search)
    proc = autokeras_nas("export", "s", cwd=searched)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    summary = json.loads((search / "summary.json").read_text())
    manifest = json.loads((search / "export" / "export.json").read_text())
    assert manifest["trial_id"] == summary["best_trial_id"]
    assert set(manifest["files"]) == {"keras", "savedmodel", "tflite"}
    assert (search / "export" / "model.tflite").stat().st_size > 1000
    assert (search / "export" / "saved_model" / "saved_model.pb").is_file()

    model = keras.saving.load_model(search / "export" / "model.keras", safe_mode=True)
    ds = load_dataset("digits", seed=0)
    test = float(np.mean(model.predict(ds.x_test, verbose=0).argmax(-1) == ds.y_test))
    val = float(np.mean(model.predict(ds.x_val, verbose=0).argmax(-1) == ds.y_val))
    assert test == pytest.approx(summary["test_accuracy"], abs=TOLERANCE)
    assert val == pytest.approx(summary["val_accuracy"], abs=TOLERANCE)
    for fmt in ("keras", "savedmodel", "tflite"):
        assert manifest["test_accuracy"][fmt] == pytest.approx(test, abs=TOLERANCE), fmt
    assert "search reported test accuracy" in proc.stdout
    assert snapshot(search, skip="export") == before  # only DIR/export was written


def test_export_retrains_another_trial_from_scratch(searched: Path, tmp_path: Path) -> None:
    import keras
    from click.testing import CliRunner

    from autokeras_nas.cli import main
    from autokeras_nas.data import load_dataset

    search = searched / "s"
    before = snapshot(search, skip="export")
    worst = json.loads((search / "results.json").read_text())["best_trial_ids"][-1]
    # In process (TensorFlow is loaded already): a subprocess would import it again.
    proc = CliRunner().invoke(main, ["export", str(search), "--trial", worst, "--retrain-epochs",
                                     "1", "--format", "keras", "--out", str(tmp_path / "x")])
    assert proc.exit_code == 0, proc.output
    manifest = json.loads((tmp_path / "x" / "export.json").read_text())
    assert manifest["trial_id"] == worst and manifest["retrain_epochs"] == 1
    assert manifest["reported"] == {} and manifest["retrain_s"] > 0
    assert set(manifest["files"]) == {"keras"}
    assert "retrained its architecture from scratch: 1 epochs on 1438" in proc.stdout
    model = keras.saving.load_model(tmp_path / "x" / "model.keras", safe_mode=True)
    ds = load_dataset("digits", seed=0)
    test = float(np.mean(model.predict(ds.x_test, verbose=0).argmax(-1) == ds.y_test))
    assert test == pytest.approx(manifest["test_accuracy"]["keras"], abs=1e-9)
    assert snapshot(search, skip="export") == before


def test_a_nash_trial_is_rebuilt_with_its_morphisms(tmp_path: Path) -> None:
    from click.testing import CliRunner

    import keras

    from autokeras_nas.cli import main
    from autokeras_nas.data import load_dataset
    from autokeras_nas.tuner import MorphHyperModel, NasTuner
    from autokeras_nas_plugins.nash import Nash

    ds = load_dataset("digits", seed=0)
    hypermodel = MorphHyperModel(ds.input_shape, ds.num_classes)
    strategy = Nash(seed=0, n_steps=1, n_neigh=2, epochs_start=1, epochs_neigh=1,
                    epochs_final=1)
    strategy.use_network(hypermodel.start)
    # Start, two neighbours (one morphed, one trained further), final: the
    # fewest trials with a morphism (NASH keeps room for the final training).
    tuner = NasTuner(hypermodel, strategy=strategy, objective="val_accuracy", max_trials=4,
                     directory=str(tmp_path), project_name="nash", latency_repeats=1)
    tuner.search(ds.x_train[:300], ds.y_train[:300], validation_data=(ds.x_val, ds.y_val),
                 epochs=1, batch_size=32, verbose=0)
    search = tmp_path / "nash"
    (search / "summary.json").write_text(json.dumps(
        {"dataset": "digits", "strategy": "nash", "seed": 0, "batch_size": 32}))
    trials = json.loads((search / "results.json").read_text())["trials"]
    child = next(t for t in trials if t["notes"].get("morphisms"))
    result = CliRunner().invoke(main, ["export", str(search), "--trial", child["trial_id"],
                                       "--format", "keras", "--out", str(tmp_path / "e")])
    assert result.exit_code == 0, result.output
    exported = keras.saving.load_model(tmp_path / "e" / "model.keras", safe_mode=True)
    original = tuner.load_model(tuner.oracle.get_trial(child["trial_id"]))
    assert exported.count_params() == original.count_params() == child["metrics"]["params"]
    np.testing.assert_allclose(exported.predict(ds.x_test[:64], verbose=0),
                               original.predict(ds.x_test[:64], verbose=0), atol=1e-5)
    manifest = json.loads((tmp_path / "e" / "export.json").read_text())
    assert manifest["val_accuracy"] == pytest.approx(child["metrics"]["val_accuracy"],
                                                     abs=TOLERANCE)
