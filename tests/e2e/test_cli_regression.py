"""A regression search end to end through the command line: scikit-learn's
diabetes table (442 rows, a numeric target) written to a CSV, searched with
`autokeras-nas search --dataset csv:... --target target`, then `report` and
`export`; everything in mean absolute error, in the target's units."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from autokeras_nas.testing.forkserver import ForkServer

pytestmark = pytest.mark.tf


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory, fork_server: ForkServer
             ) -> tuple[Path, str, subprocess.CompletedProcess]:
    from sklearn.datasets import load_diabetes

    cwd = tmp_path_factory.mktemp("regression")
    data = load_diabetes(scaled=False)
    with open(cwd / "diabetes.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*data.feature_names, "target"])
        for row, target in zip(data.data, data.target):
            writer.writerow([*row, int(target)])
    dataset = f"csv:{cwd / 'diabetes.csv'}"
    # forked from the interpreter that imported TensorFlow once
    proc = fork_server.run(["search", "--dataset", dataset, "--target", "target",
                            "--max-trials", "3", "--epochs", "10", "--out", "out"],
                           cwd=cwd, timeout=600)
    return cwd, dataset, proc


def _baseline_mae(dataset: str) -> tuple[float, object]:
    """The test MAE of predicting the training (and validation) mean."""
    from autokeras_nas.data import load_dataset

    ds = load_dataset(dataset, target="target", seed=0)
    mean = float(np.concatenate([ds.y_train, ds.y_val]).mean())
    return float(np.mean(np.abs(ds.y_test - mean))), ds


def test_the_search_is_a_regression_reported_in_mae(searched) -> None:
    cwd, dataset, proc = searched
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert "regression" in proc.stdout.splitlines()[0]  # the dataset line
    assert "tabular MLP regressor" in proc.stdout
    header = next(line for line in proc.stdout.splitlines() if line.startswith("rank"))
    assert header.split()[:4] == ["rank", "trial", "status", "val_mean_absolute_error"]
    assert "accuracy" not in proc.stdout
    final = next(line for line in proc.stdout.splitlines() if line.startswith("best trial"))
    assert "val_mean_absolute_error" in final and "test MAE" in final and "RMSE" in final

    results = json.loads((cwd / "out" / "results.json").read_text())
    assert results["objectives"] == [{"name": "val_mean_absolute_error", "direction": "min"}]
    ranked = [next(t for t in results["trials"] if t["trial_id"] == tid)
              for tid in results["best_trial_ids"]]
    values = [t["metrics"]["val_mean_absolute_error"] for t in ranked]
    assert len(values) == 3 and values == sorted(values)  # smallest error first


def test_the_best_model_beats_the_mean_and_matches_the_summary(searched) -> None:
    import keras

    cwd, dataset, proc = searched
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((cwd / "out" / "summary.json").read_text())
    assert summary["task"] == "regression" and "test_accuracy" not in summary
    baseline, ds = _baseline_mae(dataset)
    model = keras.saving.load_model(cwd / "out" / "best_model.keras", safe_mode=True)
    predictions = model.predict(ds.x_test, verbose=0)
    assert predictions.shape == (len(ds.y_test), 1)
    mae = float(np.mean(np.abs(predictions[:, 0] - ds.y_test)))
    assert mae == pytest.approx(summary["test_mean_absolute_error"], rel=1e-5)
    assert summary["test_root_mean_squared_error"] >= mae
    assert f"test MAE {mae:.4f}" in proc.stdout
    # the mean predictor's test MAE is about 64; a searched MLP is far better
    assert mae < 0.8 * baseline, (mae, baseline)
    assert summary["val_mean_absolute_error"] < baseline


def test_report_and_export_speak_mae(searched, fork_server: ForkServer) -> None:
    cwd, _, proc = searched
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = fork_server.run(["report", "out", "--no-plots", "--json", "board.json"], cwd=cwd,
                             timeout=600)
    assert report.returncode == 0, report.stderr[-3000:]
    assert "val_mean_absolute_error" in report.stdout and "accuracy" not in report.stdout
    board = json.loads((cwd / "board.json").read_text())
    assert all(isinstance(t["val_mean_absolute_error"], float) for t in board["trials"])
    # The export in this process (click's runner): TensorFlow is loaded already.
    from click.testing import CliRunner

    from autokeras_nas.cli import main

    export = CliRunner().invoke(main, ["export", str(cwd / "out"), "--format", "keras"])
    assert export.exit_code == 0 and export.exception is None, export.output
    assert "test MAE" in export.stdout and "accuracy" not in export.stdout
    assert "(+0.00 %)" in export.stdout  # the reloaded model gives the search's MAE
    manifest = json.loads((cwd / "out" / "export" / "export.json").read_text())
    summary = json.loads((cwd / "out" / "summary.json").read_text())
    assert manifest["task"] == "regression"
    assert manifest["test_mean_absolute_error"]["keras"] == pytest.approx(
        summary["test_mean_absolute_error"], rel=1e-5)


def test_export_quantize_int8_speaks_mae(searched) -> None:
    """The int8 model of a regression search: compared in test MAE, in the
    target's units (in process: one TensorFlow start-up)."""
    from click.testing import CliRunner

    from autokeras_nas.cli import main

    cwd, _, proc = searched
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = CliRunner().invoke(main, ["export", str(cwd / "out"), "--quantize", "int8",
                                       "--format", "tflite", "--out", str(cwd / "q")])
    assert result.exit_code == 0, result.output
    assert "MAE change: " in result.output and "accuracy" not in result.output
    record = json.loads((cwd / "q" / "export.json").read_text())["quantization"]
    assert record["metric"] == "mean_absolute_error" and "drop_points" not in record
    float_mae = record["models"]["float"]["test"]["mean_absolute_error"]
    int8_mae = record["models"]["int8"]["test"]["mean_absolute_error"]
    assert record["change"] == pytest.approx(int8_mae - float_mae, abs=1e-5)
    assert abs(int8_mae - float_mae) <= 0.05 * float_mae  # measured: 37.36 against 37.26
    assert record["conversion"]["fully_integer"] is True
