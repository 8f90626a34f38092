"""Failed trials: a time limit per trial, and retries after running out of memory.

A trial fails (KerasTuner's `FailedTrialError`: recorded as `failed` with
its reason in results.json, told to the strategy, counted towards
`max_consecutive_failed_trials`) when

* its model does not build, or its loss becomes NaN or infinite (the
  standard trainer, `autokeras_nas.tuner.trainers.fit`);
* its task cannot run: no trainer is installed for it, or the task's
  own checks fail (e.g. "evaluate" without a parent trial);
* it runs longer than the tuner's `trial_timeout`: `TrialTimeout` stops
  training at the next batch end and the reason is "timeout after Ns";
* it runs out of memory (`tf.errors.ResourceExhaustedError`, `MemoryError`)
  again after `oom_retries` retries, each with half the batch size (the
  `batch_size` of arrays; a batched `tf.data.Dataset`, and validation
  dataset, is rebatched; a generator's batches cannot be changed).
"""

from __future__ import annotations

import time
from typing import Any, Mapping

import keras
import keras_tuner
import numpy as np

#: Keras' `fit` batch size when none is given.
KERAS_DEFAULT_BATCH_SIZE = 32


class TrialTimeout(keras.callbacks.Callback):
    """Stops training once `deadline` (a `time.monotonic()` value) has passed:
    checked after every training batch (training stops there) and every
    validation batch (a validation pass under way is finished, then
    training stops).

    Args:
        deadline: When the trial's time is up.
        seconds: The limit, for the message.
    """

    def __init__(self, deadline: float, seconds: float) -> None:
        super().__init__()
        self.deadline = deadline
        self.seconds = seconds
        self.timed_out = False

    def _check(self) -> None:
        if not self.timed_out and time.monotonic() > self.deadline:
            self.timed_out = True
        if self.timed_out:
            self.model.stop_training = True

    def on_train_batch_end(self, batch: int, logs: Mapping | None = None) -> None:
        self._check()

    def on_test_batch_end(self, batch: int, logs: Mapping | None = None) -> None:
        self._check()

    def on_epoch_end(self, epoch: int, logs: Mapping | None = None) -> None:
        self._check()

    @property
    def message(self) -> str:
        return f"timeout after {self.seconds:g}s"


def check_timeout(value: Any) -> float | None:
    """`trial_timeout` validated: None or positive seconds."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"trial_timeout must be None or positive seconds, got {value!r}")
    return float(value)


def check_retries(value: Any) -> int:
    """`oom_retries` validated: an int >= 0."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"oom_retries must be an int >= 0, got {value!r}")
    return value


def is_out_of_memory(error: BaseException) -> bool:
    """Whether `error` is TensorFlow's or Python's out-of-memory error."""
    if isinstance(error, MemoryError):
        return True
    try:
        import tensorflow as tf
    except ImportError:  # pragma: no cover - another Keras backend
        return False
    return isinstance(error, tf.errors.ResourceExhaustedError)


def first_line(error: BaseException) -> str:
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    return f"{type(error).__name__}: {lines[0][:200]}" if lines else type(error).__name__


def _dataset_batch_size(data: Any) -> int | None:
    """The size of a batched `tf.data.Dataset`'s first batch, or None."""
    if not (hasattr(data, "rebatch") and hasattr(data, "element_spec")):
        return None
    first = next(iter(data.take(1)), None)
    while isinstance(first, (tuple, list)) and first:
        first = first[0]
    shape = getattr(first, "shape", None)
    return int(shape[0]) if shape is not None and len(shape) else None


def current_batch_size(args: tuple, kwargs: Mapping[str, Any]) -> int | None:
    """The batch size of `fit(*args, **kwargs)`: `batch_size` for arrays
    (Keras' default 32 when absent), the first batch's for a batched
    `tf.data.Dataset`; None for anything else (a generator, a PyDataset)."""
    x = args[0] if args else kwargs.get("x")
    if isinstance(x, (np.ndarray, list, tuple, dict)):
        return int(kwargs.get("batch_size") or KERAS_DEFAULT_BATCH_SIZE)
    return _dataset_batch_size(x)


def with_batch_size(size: int, args: tuple, kwargs: Mapping[str, Any]) -> tuple[tuple, dict]:
    """`fit`'s arguments with batches of `size`: the `batch_size` argument for
    arrays, `Dataset.rebatch` for datasets (the validation data's too)."""
    args, kwargs = tuple(args), dict(kwargs)
    x = args[0] if args else kwargs.get("x")
    if _dataset_batch_size(x) is None:
        kwargs["batch_size"] = size
        return args, kwargs
    if args:
        args = (x.rebatch(size),) + args[1:]
    else:
        kwargs["x"] = x.rebatch(size)
    val = kwargs.get("validation_data")
    if _dataset_batch_size(val) is not None:
        kwargs["validation_data"] = val.rebatch(size)
    return args, kwargs


def out_of_memory_failure(error: BaseException, batch_size: int | None) -> keras_tuner.errors.FailedTrialError:
    """The final error of a trial that ran out of memory."""
    size = "an unknown batch size" if batch_size is None else f"batch size {batch_size}"
    return keras_tuner.errors.FailedTrialError(
        f"out of memory at {size} ({first_line(error)})"
    )
