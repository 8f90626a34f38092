"""`autokeras-nas report` and `export` on a real digits search (subprocesses):
the exported SavedModel and TFLite file run in their own runtimes; and a NASH
trial rebuilt with its morphisms (in process)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from autokeras_nas.testing.cli import run_cli

pytestmark = pytest.mark.tf

SEARCH = ["search", "--dataset", "digits", "--strategy", "random", "--max-trials", "3",
          "--epochs", "1", "--out", "s"]
#: Largest difference, in accuracy, between an exported model and the search's number.
TOLERANCE = 0.005
#: Largest difference between an exported file's class probabilities and the
#: .keras model's: float32 kernels of another runtime, not another model.
PREDICTION_ATOL = 1e-5


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


def _serve(saved_model: Path, x: np.ndarray) -> np.ndarray:
    """The SavedModel's `serve` endpoint (what TF Serving calls) on `x`."""
    import tensorflow as tf

    loaded = tf.saved_model.load(str(saved_model))
    return np.concatenate([loaded.serve(tf.constant(x[i:i + 128])).numpy()
                           for i in range(0, len(x), 128)])


def _tflite(path: Path, x: np.ndarray) -> np.ndarray:
    """The TFLite interpreter (what a phone runs) on `x`, one batch."""
    import tensorflow as tf

    with warnings.catch_warnings():  # its notice that LiteRT will replace it
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
        interpreter = tf.lite.Interpreter(model_path=str(path))
    source = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(source["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], x.astype(source["dtype"]))
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def test_export_writes_files_that_predict_as_the_keras_model(searched: Path) -> None:
    """Each exported file is loaded by its own runtime and run on the test
    images: the same predictions as the .keras model, whose accuracy is the
    search's; the manifest's accuracies are what the files give."""
    import keras

    from autokeras_nas.data import load_dataset

    search = searched / "s"
    before = snapshot(search)
    proc = autokeras_nas("export", "s", cwd=searched)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "search reported test accuracy" in proc.stdout
    export = search / "export"
    summary = json.loads((search / "summary.json").read_text())

    model = keras.saving.load_model(export / "model.keras", safe_mode=True)
    ds = load_dataset("digits", seed=0)
    x = ds.x_test.astype("float32")
    expected = model.predict(x, verbose=0)
    test = float(np.mean(expected.argmax(-1) == ds.y_test))
    val = float(np.mean(model.predict(ds.x_val, verbose=0).argmax(-1) == ds.y_val))
    assert test == pytest.approx(summary["test_accuracy"], abs=TOLERANCE)
    assert val == pytest.approx(summary["val_accuracy"], abs=TOLERANCE)

    predictions = {"keras": expected, "savedmodel": _serve(export / "saved_model", x),
                   "tflite": _tflite(export / "model.tflite", x)}
    manifest = json.loads((export / "export.json").read_text())
    assert manifest["trial_id"] == summary["best_trial_id"]
    assert set(manifest["files"]) == set(predictions)
    for fmt, got in predictions.items():
        assert got.shape == (len(x), 10), fmt
        np.testing.assert_allclose(got, expected, atol=PREDICTION_ATOL, err_msg=fmt)
        accuracy = float(np.mean(got.argmax(-1) == ds.y_test))
        assert manifest["test_accuracy"][fmt] == pytest.approx(accuracy, abs=1e-9), fmt
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
                                     "auto", "--format", "keras", "--out", str(tmp_path / "x")])
    assert proc.exit_code == 0, proc.output
    manifest = json.loads((tmp_path / "x" / "export.json").read_text())
    # auto: the epoch of the trial's best val_accuracy (the earliest of ties).
    results = json.loads((search / "results.json").read_text())
    curve = next(t for t in results["trials"] if t["trial_id"] == worst)["curve"]
    best = max(c["val_accuracy"] for c in curve)
    epochs = next(c["epoch"] for c in curve if c["val_accuracy"] == best)
    assert manifest["trial_id"] == worst and manifest["retrain_epochs"] == epochs
    assert manifest["reported"] == {} and manifest["retrain_s"] > 0
    assert set(manifest["files"]) == {"keras"}
    assert f"retrained its architecture from scratch: {epochs} epochs on 1438" in proc.stdout
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
