"""Cost measurements of a trained model."""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np


def measure_latency_ms(model: Any, repeats: int = 20, *, batch_size: int = 1) -> float | None:
    """Median wall time, in ms, of predicting one zero-filled batch of
    `batch_size` samples (default one sample), after 3 untimed predictions.

    Returns None for models whose input shapes are not fully known.

    Raises:
        ValueError: `batch_size` or `repeats` below 1.
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats!r}")
    inputs = getattr(model, "inputs", None)
    if not inputs:
        return None
    batch = []
    for t in inputs:
        shape = tuple(t.shape[1:])
        if any(d is None for d in shape):
            return None
        batch.append(np.zeros((batch_size,) + shape, dtype=t.dtype))
    x = batch[0] if len(batch) == 1 else batch
    for _ in range(3):  # trace and warm up
        model.predict_on_batch(x)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.predict_on_batch(x)
        times.append((time.perf_counter() - t0) * 1000.0)
    return float(statistics.median(times))


#: The runtimes `latency_timer` measures in.
BACKENDS = ("keras", "tflite")


def latency_timer(backend: str = "keras", *, repeats: int | None = None,
                  batch_size: int = 1) -> Any:
    """A function model -> its latency in ms at `batch_size`, measured with
    the package's own protocol: "keras", `measure_latency_ms`
    (`predict_on_batch`); "tflite", the model converted to float32 TFLite
    (`tflite.convert`) and timed in the interpreter (`tflite.measure_latency`,
    1 thread). For `autokeras_nas.oneshot.costs.latency_table`.

    Args:
        backend: "keras" or "tflite".
        repeats: timed runs per model; None: the function's default (20 in
            Keras, 100 in TFLite).
        batch_size: samples per timed inference (Keras; a TFLite model
            runs at its input's batch).

    Raises:
        ValueError: an unknown backend or a bad `repeats`.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if repeats is not None and (isinstance(repeats, bool) or not isinstance(repeats, int)
                                or repeats < 1):
        raise ValueError(f"repeats must be an int >= 1, got {repeats!r}")
    args = {} if repeats is None else {"repeats": repeats}
    if backend == "keras":
        def keras_ms(model: Any) -> float:
            ms = measure_latency_ms(model, batch_size=batch_size, **args)
            if ms is None:
                raise ValueError("latency: the model's input shape is not fully known")
            return ms
        return keras_ms

    from autokeras_nas.tuner.trainers import tflite

    def tflite_ms(model: Any) -> float:
        content, _ = tflite.convert(model)
        return tflite.measure_latency(content, **args).median_ms
    return tflite_ms


#: Measurements of the model as it will be deployed, in the TFLite
#: interpreter (`autokeras_nas.tuner.trainers.tflite`): a trial records them
#: only when asked (`NasTuner(measure=...)`, or an objective naming one),
#: since each costs a conversion (about a second for a small model).
#: `tflite_latency_ms`: the float32 model's median latency of one sample;
#: `tflite_int8_latency_ms`: the int8 model's (full-integer post-training
#: quantization calibrated on up to 200 training samples);
#: `int8_val_accuracy`: the int8 model's accuracy on the validation data
#: (the trial's best checkpoint, as `val_accuracy`; under k-fold validation,
#: the first fold's model on its fold; classifiers only).
DEPLOYED_METRICS = ("tflite_latency_ms", "tflite_int8_latency_ms", "int8_val_accuracy")
_INT8 = ("tflite_int8_latency_ms", "int8_val_accuracy")


def check_measurements(names: Any) -> tuple[str, ...]:
    """`NasTuner`'s `measure`: names among `DEPLOYED_METRICS`, in that order.

    Raises:
        ValueError: an unknown name.
    """
    names = (names,) if isinstance(names, str) else tuple(names or ())
    unknown = [n for n in names if n not in DEPLOYED_METRICS]
    if unknown:
        raise ValueError(f"measure: unknown {', '.join(map(repr, unknown))}; choose from "
                         f"{', '.join(DEPLOYED_METRICS)}")
    return tuple(n for n in DEPLOYED_METRICS if n in names)


def take_samples(data: Any, n: int) -> tuple[np.ndarray, np.ndarray | None]:
    """Up to `n` (0: all) samples (inputs, targets or None) of `fit`'s data: an
    array, an `(x, y)` tuple, or a batched `tf.data.Dataset` of `(x, y)`."""
    part = slice(0, n or None)
    if isinstance(data, (tuple, list)):
        x = np.asarray(data[0])[part]
        return x, (np.asarray(data[1])[part] if len(data) > 1 and data[1] is not None else None)
    if isinstance(data, np.ndarray):
        return data[part], None
    xs, ys, count = [], [], 0
    for batch in data:
        x, y = (batch[0], batch[1]) if isinstance(batch, (tuple, list)) else (batch, None)
        xs.append(np.asarray(x))
        if y is not None:
            ys.append(np.asarray(y))
        count += len(xs[-1])
        if n and count >= n:
            break
    return np.concatenate(xs)[part], (np.concatenate(ys)[part] if ys else None)


def measure_deployed(model: Any, names: tuple[str, ...], *, calibration: Any = None,
                     validation: Any = None) -> tuple[dict[str, float], dict[str, Any]]:
    """The `DEPLOYED_METRICS` in `names` of a Keras model, and the record of
    how they were measured (conversion, latency protocol and spread) for the
    trial's outputs under `"tflite"`.

    Args:
        calibration: `fit`'s training data (int8's representative samples).
        validation: `fit`'s validation data (`int8_val_accuracy`).

    Raises:
        ValueError: int8 asked without training data, or
            `int8_val_accuracy` without validation data.
        Exception: the converter's, when the model does not convert.
    """
    from autokeras_nas.tuner.trainers import tflite

    metrics: dict[str, float] = {}
    record: dict[str, Any] = {}
    if "tflite_latency_ms" in names:
        content, _ = tflite.convert(model)
        latency = tflite.measure_latency(content)
        metrics["tflite_latency_ms"] = latency.median_ms
        record["float"] = {"latency": latency.to_dict(), "bytes": len(content)}
    if any(n in names for n in _INT8):
        if calibration is None:
            raise ValueError("int8 measurements need training data to calibrate on")
        samples, _ = take_samples(calibration, tflite.CALIBRATION_SAMPLES)
        content, conversion = tflite.convert(model, "int8", samples)
        entry: dict[str, Any] = {"bytes": len(content), "conversion": conversion.to_dict()}
        if "tflite_int8_latency_ms" in names:
            latency = tflite.measure_latency(content)
            metrics["tflite_int8_latency_ms"] = latency.median_ms
            entry["latency"] = latency.to_dict()
        if "int8_val_accuracy" in names:
            if validation is None:
                raise ValueError("int8_val_accuracy needs validation data")
            x, y = take_samples(validation, 0)
            y = np.asarray(y)
            labels = y.argmax(-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(-1)
            predictions = tflite.predict(content, x)
            if predictions.ndim != 2 or predictions.shape[-1] < 2:
                raise ValueError("int8_val_accuracy needs a classifier (one output per class); "
                                 f"this model gives {predictions.shape[1:]} per sample")
            metrics["int8_val_accuracy"] = float(np.mean(predictions.argmax(-1) == labels))
        record["int8"] = entry
    return metrics, record
