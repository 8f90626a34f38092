"""`autokeras-nas export --quantize` on real digits searches (in process,
click's test runner): the int8 model is smaller than the float one, scores
within a few points of it when run as a phone would (int8 input quantized
with its scale and zero point, output dequantized), and export.json records
sizes, latencies, accuracies and the drop; a model with an operation TFLite
cannot run in int8 says so in one line. And a search whose objectives are
the int8 model's accuracy and the TFLite latency: its Pareto front is that
of the models that ship."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.tf

#: A space whose hidden layer is ELU, which TFLite runs in float32 only.
ELU_SPACE = """
import keras

def build_model(hp):
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Flatten(),
        keras.layers.Dense(hp.Int("units", 16, 32, step=16), activation="elu"),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model
"""


def _invoke(*args: str):
    from click.testing import CliRunner

    from autokeras_nas.cli import main

    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


@pytest.fixture(scope="module")
def searched(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("quantize") / "s"
    _invoke("search", "--dataset", "digits", "--strategy", "random", "--max-trials", "2",
            "--epochs", "3", "--early-stopping", "none", "--out", str(out))
    return out


def _interpreter_accuracy(path: Path, x: np.ndarray, y: np.ndarray) -> float:
    """The file run as a phone runs it: int8 input quantized by hand."""
    import tensorflow as tf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        interpreter = tf.lite.Interpreter(model_path=str(path))
    source = interpreter.get_input_details()[0]
    assert source["dtype"] == np.int8
    scale, zero = source["quantization"]
    interpreter.resize_tensor_input(source["index"], x.shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"],
                           np.clip(np.round(x / scale + zero), -128, 127).astype(np.int8))
    interpreter.invoke()
    out = interpreter.get_tensor(interpreter.get_output_details()[0]["index"])
    return float(np.mean(out.argmax(-1) == y))  # argmax needs no dequantization


def test_export_quantize_int8_end_to_end(searched: Path) -> None:
    from autokeras_nas.data import load_dataset

    out = searched / "edge"
    result = _invoke("export", str(searched), "--quantize", "int8", "--format", "tflite",
                     "--out", str(out))
    manifest = json.loads((out / "export.json").read_text())
    record = manifest["quantization"]
    float_file, int8_file = out / "model.tflite", out / "model_int8.tflite"
    assert manifest["files"]["tflite_int8"] == str(int8_file)
    assert int8_file.stat().st_size < float_file.stat().st_size
    models = record["models"]
    assert models["float"]["bytes"] == float_file.stat().st_size
    assert models["int8"]["bytes"] == int8_file.stat().st_size
    assert record["conversion"]["fully_integer"] is True
    assert record["conversion"]["input_dtype"] == record["conversion"]["output_dtype"] == "int8"
    assert record["calibration"] == {"split": "validation", "samples": 200}
    for model in models.values():
        latency = model["latency"]
        assert latency["repeats"] == 100 and latency["threads"] == 1
        assert 0 < latency["p25_ms"] <= latency["median_ms"] <= latency["p75_ms"]
    float_acc = models["float"]["test"]["accuracy"]
    int8_acc = models["int8"]["test"]["accuracy"]
    assert float_acc == manifest["test_accuracy"]["tflite"] > 0.8
    assert int8_acc == manifest["test_accuracy"]["tflite_int8"]
    assert abs(float_acc - int8_acc) <= 0.03
    assert record["drop_points"] == pytest.approx(100 * (float_acc - int8_acc), abs=0.01)
    ds = load_dataset("digits", seed=0)
    assert _interpreter_accuracy(int8_file, ds.x_test, ds.y_test) == pytest.approx(int8_acc)
    assert "tf_keras" in record["quantization_aware_training"]
    lines = result.output.splitlines()
    header = next(i for i, ln in enumerate(lines) if ln.startswith("model "))
    assert "size KiB" in lines[header] and "test accuracy" in lines[header]
    assert lines[header + 2].startswith("float (model.tflite)")
    assert lines[header + 3].startswith("int8 (model_int8.tflite)")
    assert lines[header + 4] == f"accuracy drop: {record['drop_points']:+.2f} points (float - int8)"
    assert "not fully integer" not in result.output


def test_float16_without_the_float_file_compares_in_memory(searched: Path) -> None:
    out = searched / "f16"
    result = _invoke("export", str(searched), "--quantize", "float16", "--format", "keras",
                     "--out", str(out))
    record = json.loads((out / "export.json").read_text())["quantization"]
    assert record["models"]["float"]["file"] is None and record["calibration"] is None
    assert "float (not written)" in result.output and not (out / "model.tflite").exists()
    assert record["models"]["float16"]["kib"] < record["models"]["float"]["kib"]
    assert abs(record["drop_points"]) <= 0.5


def test_a_layer_without_int8_kernel_is_said_in_one_line(tmp_path: Path) -> None:
    space = tmp_path / "elu_space.py"
    space.write_text(ELU_SPACE)
    _invoke("search", "--dataset", "digits", "--space", f"{space}:build_model",
            "--max-trials", "1", "--epochs", "2", "--early-stopping", "none",
            "--out", str(tmp_path / "s"))
    result = _invoke("export", str(tmp_path / "s"), "--quantize", "int8", "--format", "tflite")
    notes = [ln for ln in result.output.splitlines() if "fully integer" in ln]
    assert notes == ["not fully integer: ELU runs in float32 (TFLite has no int8 kernel; "
                     "dequantized around it)"]
    record = json.loads((tmp_path / "s" / "export" / "export.json").read_text())["quantization"]
    assert record["conversion"]["fully_integer"] is False
    assert record["conversion"]["float_ops"] == ["ELU"]
    assert (tmp_path / "s" / "export" / "model_int8.tflite").is_file()


def test_a_search_for_the_deployed_model(tmp_path: Path) -> None:
    """Objectives int8_val_accuracy and tflite_latency_ms: every trial
    records them, measured in the interpreter, and the front is theirs."""
    out = tmp_path / "deployed"
    _invoke("search", "--dataset", "digits", "--strategy", "random", "--max-trials", "3",
            "--epochs", "1", "--early-stopping", "none", "--objective", "int8_val_accuracy",
            "--objective", "tflite_latency_ms", "--out", str(out))
    results = json.loads((out / "results.json").read_text())
    assert [(o["name"], o["direction"]) for o in results["objectives"]] == [
        ("int8_val_accuracy", "max"), ("tflite_latency_ms", "min")]
    for trial in results["trials"]:
        m = trial["metrics"]
        assert 0 < m["int8_val_accuracy"] <= 1 and m["tflite_latency_ms"] > 0
        assert abs(m["int8_val_accuracy"] - m["val_accuracy"]) <= 0.1
        assert trial["outputs"]["tflite"]["int8"]["conversion"]["calibration_samples"] == 200
    report = _invoke("report", str(out))
    assert (out / "pareto.png").read_bytes()[:4] == b"\x89PNG"
    assert "pareto" in report.output
