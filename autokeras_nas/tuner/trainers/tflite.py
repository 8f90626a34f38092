"""A Keras model where it will run: converted to TFLite (float, or quantized
after training) and timed or scored in the TFLite interpreter. Imports
TensorFlow (on first use).

* `convert(model, quantize=None, representative=None)`: the `.tflite` bytes
  and a `Conversion` record. `quantize`: None (float32), `float16`
  (float16 weights), `dynamic` (int8 weights, float activations), or
  `int8`: full-integer post-training quantization calibrated on
  `representative` (input samples, e.g. up to `CALIBRATION_SAMPLES` of
  the validation split), with int8 input and output. When that conversion
  fails, it falls back to int8 weights and activations where the
  operations allow, with float input and output (`Conversion.fallback`
  says why). TFLite keeps an operation without an int8 kernel in float32
  between a dequantize and a quantize rather than failing: `float_ops`
  names them (the model is not fully integer).
* `measure_latency(model_bytes)`: the interpreter's latency of one sample
  under a fixed protocol (`LATENCY_PROTOCOL`): `threads` interpreter
  threads, `warmup` untimed invocations, then `repeats` timed
  `invoke()` calls on one zero-filled sample (input copying excluded);
  the median, and the spread of the repeats (interquartile range, min,
  max).
* `predict(model_bytes, x)`: the interpreter's outputs for `x`, quantizing
  an int8 input with the input's scale and zero point and dequantizing an
  int8 output.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import statistics
import sys
import time
import warnings
from typing import Any, Iterable, Iterator

import numpy as np

__all__ = ["CALIBRATION_SAMPLES", "LATENCY_PROTOCOL", "QUANTIZATIONS", "Conversion", "Latency",
           "convert", "measure_latency", "predict"]

#: Post-training quantizations of `convert` (None: float32).
QUANTIZATIONS = ("int8", "float16", "dynamic")
#: Samples of the representative dataset an int8 conversion is calibrated on.
CALIBRATION_SAMPLES = 200
#: The latency protocol's defaults: one interpreter thread (a small edge
#: core; results comparable across machines with more cores), 10 untimed
#: invocations, 100 timed ones; the median is reported.
LATENCY_PROTOCOL = {"threads": 1, "warmup": 10, "repeats": 100}
#: Operations that move data between int8 and float, not computation.
_CASTS = {"QUANTIZE", "DEQUANTIZE", "DELEGATE"}


@dataclasses.dataclass(frozen=True)
class Conversion:
    """How a model was converted."""

    #: None (float32), or one of `QUANTIZATIONS`.
    quantize: str | None
    seconds: float
    #: The interpreter's input and output dtypes (`int8` for full integer).
    input_dtype: str
    output_dtype: str
    #: Operations that compute in float32 in a quantized model (sorted, once each).
    float_ops: tuple[str, ...] = ()
    #: Why the full-integer conversion failed (first line), when it fell back.
    fallback: str | None = None
    calibration_samples: int = 0

    @property
    def fully_integer(self) -> bool:
        return (self.input_dtype == self.output_dtype == "int8") and not self.float_ops

    def notes(self) -> list[str]:
        """One line per way an int8 conversion fell short of full integer."""
        if self.quantize != "int8":
            return []
        out = []
        if self.fallback is not None:
            out.append(f"full-integer int8 conversion failed ({self.fallback}); fell back to "
                       "int8 weights with float input and output")
        if self.float_ops:
            out.append(f"not fully integer: {', '.join(self.float_ops)} "
                       f"run{'s' if len(self.float_ops) == 1 else ''} in float32 (TFLite has "
                       "no int8 kernel; dequantized around it)")
        return out

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["float_ops"] = list(self.float_ops)
        out["fully_integer"] = self.fully_integer
        out["seconds"] = round(self.seconds, 3)
        return out


@dataclasses.dataclass(frozen=True)
class Latency:
    """One latency measurement in the TFLite interpreter, in ms."""

    median_ms: float
    p25_ms: float
    p75_ms: float
    min_ms: float
    max_ms: float
    threads: int
    warmup: int
    repeats: int

    @property
    def iqr_ms(self) -> float:
        """The spread of the timed repeats: interquartile range."""
        return self.p75_ms - self.p25_ms

    def describe(self) -> str:
        """`0.123 ms (IQR 0.120-0.131, 100 runs, 1 thread)`."""
        return (f"{self.median_ms:.3f} ms (IQR {self.p25_ms:.3f}-{self.p75_ms:.3f}, "
                f"{self.repeats} runs, {self.threads} thread{'s' * (self.threads != 1)})")

    def to_dict(self) -> dict[str, Any]:
        out = {k: (round(v, 5) if isinstance(v, float) else v)
               for k, v in dataclasses.asdict(self).items()}
        out["iqr_ms"] = round(self.iqr_ms, 5)
        return out


def _interpreter(model_bytes: bytes, threads: int | None = None) -> Any:
    import tensorflow as tf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
        return tf.lite.Interpreter(model_content=model_bytes, num_threads=threads)


def _representative(samples: np.ndarray) -> Any:
    def generate() -> Iterable[list[np.ndarray]]:
        for sample in samples:
            yield [np.asarray(sample[None], dtype=np.float32)]

    return generate


def _run_converter(model: Any, quantize: str | None, samples: np.ndarray | None,
                   full_integer: bool) -> bytes:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantize is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
        converter.representative_dataset = _representative(samples)
        if full_integer:
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
    # The converter prints the signature of the function it traces, and its
    # calibrator a line of its settings straight to file descriptor 2; its
    # errors reach Python as the exception.
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), _quiet_fd(2):
        warnings.simplefilter("ignore")
        return converter.convert()


@contextlib.contextmanager
def _quiet_fd(fd: int) -> Iterator[None]:
    """Sends what C++ code writes to `fd` to the null device meanwhile."""
    try:
        saved = os.dup(fd)
    except OSError:  # no such descriptor: nothing to quiet
        yield
        return
    sys.stderr.flush()
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
        yield
    finally:
        os.dup2(saved, fd)
        os.close(saved)
        os.close(null)


def first_line(error: BaseException) -> str:
    """The first non-empty line of an error (a converter's run to hundreds), cut at 160."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    text = lines[0] if lines else type(error).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def float_ops(model_bytes: bytes) -> tuple[str, ...]:
    """The operations of a TFLite model that compute on float32 inputs
    (quantize, dequantize and delegate nodes aside)."""
    interpreter = _interpreter(model_bytes)
    interpreter.allocate_tensors()
    found = set()
    for op in interpreter._get_ops_details():  # noqa: SLF001 - the only listing of ops
        if op["op_name"] in _CASTS:
            continue
        for index in op["inputs"]:
            if index >= 0 and interpreter._get_tensor_details(index, 0)["dtype"] == np.float32:
                found.add(op["op_name"])
                break
    return tuple(sorted(found))


def convert(model: Any, quantize: str | None = None,
            representative: np.ndarray | None = None) -> tuple[bytes, Conversion]:
    """A Keras model as TFLite bytes (see the module's docs).

    Args:
        model: A built Keras model with one input.
        quantize: None, `int8`, `float16` or `dynamic`.
        representative: Input samples (one per row) to calibrate `int8` on;
            the first `CALIBRATION_SAMPLES` are used.

    Raises:
        ValueError: an unknown `quantize`, or `int8` without samples.
        Exception: the converter's, when the model does not convert at all.
    """
    if quantize is not None and quantize not in QUANTIZATIONS:
        raise ValueError(f"quantize must be one of {', '.join(QUANTIZATIONS)}, got {quantize!r}")
    samples = None
    if quantize == "int8":
        if representative is None or len(representative) == 0:
            raise ValueError("int8 quantization needs representative samples")
        samples = np.asarray(representative[:CALIBRATION_SAMPLES], dtype=np.float32)
    fallback = None
    t0 = time.perf_counter()
    try:
        content = _run_converter(model, quantize, samples, full_integer=True)
    except Exception as e:  # noqa: BLE001 - a full-integer conversion may fail; int8 falls back
        if quantize != "int8":
            raise
        fallback = first_line(e)
        content = _run_converter(model, quantize, samples, full_integer=False)
    seconds = time.perf_counter() - t0
    interpreter = _interpreter(content)
    dtype_in = np.dtype(interpreter.get_input_details()[0]["dtype"]).name
    dtype_out = np.dtype(interpreter.get_output_details()[0]["dtype"]).name
    ops = float_ops(content) if quantize == "int8" else ()
    return content, Conversion(quantize, seconds, dtype_in, dtype_out, ops, fallback,
                               0 if samples is None else len(samples))


def _quantize_input(x: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    dtype = detail["dtype"]
    scale, zero_point = detail["quantization"]
    if not scale:  # a float input, or an integer one that is not quantized (ids)
        return x.astype(dtype)
    info = np.iinfo(dtype)
    return np.clip(np.round(x / scale + zero_point), info.min, info.max).astype(dtype)


def _dequantize_output(y: np.ndarray, detail: dict[str, Any]) -> np.ndarray:
    scale, zero_point = detail["quantization"]
    if not scale:
        return y
    return (y.astype(np.float32) - zero_point) * scale


def predict(model_bytes: bytes, x: np.ndarray) -> np.ndarray:
    """The TFLite model's float outputs for `x` (one invocation for all the
    samples); an int8 input is quantized with the input's scale and zero
    point, an int8 output dequantized with the output's."""
    interpreter = _interpreter(model_bytes)
    source = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(source["index"], (len(x),) + tuple(x.shape[1:]))
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], _quantize_input(np.asarray(x), source))
    interpreter.invoke()
    target = interpreter.get_output_details()[0]
    return _dequantize_output(interpreter.get_tensor(target["index"]), target)


def measure_latency(model_bytes: bytes, *, threads: int = LATENCY_PROTOCOL["threads"],
                    warmup: int = LATENCY_PROTOCOL["warmup"],
                    repeats: int = LATENCY_PROTOCOL["repeats"]) -> Latency:
    """The interpreter's latency of one sample, by the module's protocol.

    Raises:
        ValueError: `repeats` < 1, `warmup` < 0 or `threads` < 1.
    """
    if repeats < 1 or warmup < 0 or threads < 1:
        raise ValueError(f"need repeats >= 1, warmup >= 0, threads >= 1; got {repeats}, "
                         f"{warmup}, {threads}")
    interpreter = _interpreter(model_bytes, threads)
    source = interpreter.get_input_details()[0]
    shape = [1 if d < 0 else int(d) for d in source.get("shape_signature", source["shape"])]
    interpreter.resize_tensor_input(source["index"], shape)
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], np.zeros(shape, dtype=source["dtype"]))
    for _ in range(warmup):
        interpreter.invoke()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        interpreter.invoke()
        times.append((time.perf_counter() - t0) * 1000.0)
    q1, _, q3 = statistics.quantiles(times, n=4) if repeats > 1 else (times[0],) * 3
    return Latency(float(statistics.median(times)), float(q1), float(q3), float(min(times)),
                   float(max(times)), threads, warmup, repeats)
