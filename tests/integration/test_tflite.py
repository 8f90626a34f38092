"""The model where it will run, on tiny real models: TFLite conversion
(float, int8, float16, dynamic), the interpreter's latency protocol and its
spread, int8 predictions against Keras', and trials that record
`tflite_latency_ms`, `tflite_int8_latency_ms` and `int8_val_accuracy` when
an objective or `NasTuner(measure=...)` names them."""

import json
import os

import keras
import numpy as np
import pytest

from autokeras_nas.testing.driver import ScriptedStrategy
from autokeras_nas.tuner import NasTuner
from autokeras_nas.tuner.trainers import tflite
from autokeras_nas.tuner.trainers.measure import (
    check_measurements,
    measure_deployed,
    take_samples,
)

pytestmark = pytest.mark.tf


def _mlp(activation="relu", units=32):
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(units, activation=activation),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def trained(digits):
    keras.utils.set_random_seed(0)
    x, y, xv, yv = digits
    model = _mlp(units=64)
    model.fit(x, y, epochs=8, batch_size=64, verbose=0)
    return model


def test_latency_protocol_gives_a_positive_median_within_its_spread(trained):
    content, conversion = tflite.convert(trained)
    assert conversion.quantize is None and conversion.input_dtype == "float32"
    latency = tflite.measure_latency(content, repeats=30, warmup=3, threads=1)
    assert latency.repeats == 30 and latency.warmup == 3 and latency.threads == 1
    assert 0 < latency.min_ms <= latency.p25_ms <= latency.median_ms <= latency.p75_ms \
        <= latency.max_ms
    assert latency.iqr_ms == pytest.approx(latency.p75_ms - latency.p25_ms)
    record = latency.to_dict()
    assert record["repeats"] == 30 and record["iqr_ms"] >= 0 and record["median_ms"] > 0
    assert "IQR" in latency.describe() and "30 runs" in latency.describe()
    assert tflite.LATENCY_PROTOCOL == {"threads": 1, "warmup": 10, "repeats": 100}
    with pytest.raises(ValueError, match="repeats >= 1"):
        tflite.measure_latency(content, repeats=0)


def test_int8_model_is_full_integer_smaller_and_predicts_as_keras(trained, digits, capfd):
    x, y, xv, yv = digits
    float_bytes, _ = tflite.convert(trained)
    capfd.readouterr()
    content, conversion = tflite.convert(trained, "int8", x)
    out, err = capfd.readouterr()  # no traced signature, no calibrator settings line
    assert "fully_quantize" not in err + out and "TensorSpec" not in out
    assert conversion.input_dtype == conversion.output_dtype == "int8"
    assert conversion.fully_integer and conversion.fallback is None and not conversion.notes()
    assert conversion.calibration_samples == tflite.CALIBRATION_SAMPLES
    assert len(content) < len(float_bytes)
    keras_acc = float(np.mean(trained.predict(xv, verbose=0).argmax(-1) == yv))
    float_acc = float(np.mean(tflite.predict(float_bytes, xv).argmax(-1) == yv))
    int8_probs = tflite.predict(content, xv)  # quantized in, dequantized out
    assert int8_probs.dtype == np.float32 and int8_probs.max() <= 1.0 + 1e-6
    int8_acc = float(np.mean(int8_probs.argmax(-1) == yv))
    assert float_acc == pytest.approx(keras_acc, abs=1e-9)
    assert keras_acc > 0.85 and abs(int8_acc - keras_acc) <= 0.03


@pytest.mark.parametrize("quantize", ["float16", "dynamic"])
def test_float_io_quantizations_keep_float_input(trained, digits, quantize):
    content, conversion = tflite.convert(trained, quantize)
    assert conversion.input_dtype == "float32" and conversion.quantize == quantize
    x, y, xv, yv = digits
    np.testing.assert_allclose(tflite.predict(content, xv[:20]),
                               trained.predict(xv[:20], verbose=0), atol=2e-2)


def test_an_op_without_int8_kernel_is_named(digits):
    """ELU has no int8 kernel: TFLite keeps it in float32 between a dequantize
    and a quantize; the conversion says so in one line."""
    content, conversion = tflite.convert(_mlp("elu"), "int8", digits[0])
    assert conversion.float_ops == ("ELU",) and not conversion.fully_integer
    (note,) = conversion.notes()
    assert note.startswith("not fully integer: ELU runs in float32") and "\n" not in note
    assert conversion.to_dict()["fully_integer"] is False


def test_a_failed_float_conversion_is_one_line_and_writes_nothing(tmp_path):
    from autokeras_nas.workflow import WorkflowError
    from autokeras_nas.workflow.exporting import convert_tflite

    with pytest.raises(WorkflowError, match="TFLite cannot convert this model: ") as e:
        convert_tflite(tmp_path / "not_a_saved_model", tmp_path / "model.tflite")
    assert "\n" not in str(e.value) and "--format keras,savedmodel" in str(e.value)
    assert not (tmp_path / "model.tflite").exists()


def test_bad_quantize_and_missing_samples_are_refused(trained):
    with pytest.raises(ValueError, match="one of int8, float16, dynamic"):
        tflite.convert(trained, "int4")
    with pytest.raises(ValueError, match="representative samples"):
        tflite.convert(trained, "int8")
    with pytest.raises(ValueError, match="unknown 'tflite_ms'"):
        check_measurements(["tflite_ms"])
    assert check_measurements(["int8_val_accuracy", "tflite_latency_ms"]) == (
        "tflite_latency_ms", "int8_val_accuracy")
    from autokeras_nas.workflow.exportplan import QUANTIZATIONS  # checked without TensorFlow

    assert QUANTIZATIONS == tflite.QUANTIZATIONS


def test_measure_deployed_and_its_limits(trained, digits):
    x, y, xv, yv = digits
    metrics, record = measure_deployed(trained, ("tflite_latency_ms", "tflite_int8_latency_ms"),
                                       calibration=x)
    assert set(metrics) == {"tflite_latency_ms", "tflite_int8_latency_ms"}
    assert record["int8"]["latency"]["median_ms"] == pytest.approx(
        metrics["tflite_int8_latency_ms"], abs=1e-4)
    assert record["int8"]["bytes"] < record["float"]["bytes"]
    with pytest.raises(ValueError, match="training data to calibrate on"):
        measure_deployed(trained, ("int8_val_accuracy",), validation=(xv, yv))
    regressor = keras.Sequential([keras.Input((64,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match=r"needs a classifier .* gives \(1,\) per sample"):
        measure_deployed(regressor, ("int8_val_accuracy",), calibration=x, validation=(xv, yv))


def test_take_samples_from_arrays_and_tf_data(digits):
    import tensorflow as tf

    x, y, _, _ = digits
    data = tf.data.Dataset.from_tensor_slices((x[:100], y[:100])).batch(32)
    xs, ys = take_samples(data, 50)
    np.testing.assert_array_equal(xs, x[:50])
    np.testing.assert_array_equal(ys, y[:50])
    assert len(take_samples(data, 0)[0]) == 100 and len(take_samples((x, y), 0)[1]) == len(y)


def _search(tmp_path, digits, objective, **kwargs):
    x, y, xv, yv = digits
    build = lambda hp: _mlp(units=hp.Choice("units", [16, 48]))  # noqa: E731
    tuner = NasTuner(build, strategy=ScriptedStrategy(
        [{"values": {"units": 16}}, {"values": {"units": 48}}], seed=0),
                     objective=objective, max_trials=2, directory=str(tmp_path),
                     project_name="p", latency_repeats=2, **kwargs)
    tuner.search(x, y, validation_data=(xv, yv), epochs=2, batch_size=64, verbose=0)
    with open(os.path.join(tuner.project_dir, "results.json")) as f:
        return tuner, json.load(f)


def test_a_trial_records_tflite_latency_only_when_asked(tmp_path, digits):
    tuner, results = _search(tmp_path / "plain", digits, "val_accuracy")
    assert tuner.measure == ()
    assert all("tflite_latency_ms" not in t["metrics"] for t in results["trials"])
    tuner, results = _search(tmp_path / "asked", digits,
                             ["val_accuracy", "tflite_latency_ms:min"],
                             measure=["int8_val_accuracy"])
    assert tuner.measure == ("tflite_latency_ms", "int8_val_accuracy")
    for trial in results["trials"]:
        m = trial["metrics"]
        assert trial["status"] == "completed"
        assert m["tflite_latency_ms"] > 0 and 0 < m["int8_val_accuracy"] <= 1
        assert abs(m["int8_val_accuracy"] - m["val_accuracy"]) <= 0.05  # the best checkpoint's
        record = trial["outputs"]["tflite"]
        assert record["float"]["latency"]["repeats"] == 100
        assert record["float"]["latency"]["median_ms"] == pytest.approx(m["tflite_latency_ms"],
                                                                        abs=1e-4)
        assert record["int8"]["conversion"]["fully_integer"] is True
        assert "tflite_int8_latency_ms" not in m
