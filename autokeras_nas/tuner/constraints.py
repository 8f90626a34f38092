"""Checking a built model against the search's hard constraints, before it trains.

`check_model` measures what the constraints bound (see
`autokeras_nas.core.constraints`), cheapest first, and stops at the first
violation: `params` (counted), `model_kb` (the model saved as `.keras` to a
temporary file, the size of what `export` writes), `latency_ms` (the
median of `repeats` single-sample predictions, as the trial's own
`latency_ms`) and `tflite_latency_ms` (the float model converted and timed
by `autokeras_nas.tuner.trainers.tflite`'s protocol). A violation fails the trial with `InfeasibleTrialError`, a
`keras_tuner.errors.FailedTrialError` whose reason starts with
"infeasible:", so it is recorded as infeasible and never trained.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from typing import Any, Sequence

import keras_tuner

from autokeras_nas.core import Constraint
from autokeras_nas.tuner.trainers.measure import measure_deployed, measure_latency_ms


class InfeasibleTrialError(keras_tuner.errors.FailedTrialError):
    """A candidate violates a hard constraint; the reason says which."""


def model_kb(model: Any) -> float:
    """Size in KiB of `model` saved as `.keras` (weights and configuration)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.keras")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model.save(path)
        return os.path.getsize(path) / 1024.0


def measure(model: Any, metric: str, latency_repeats: int) -> float | None:
    """One constrained quantity of `model`; None when it cannot be measured."""
    if metric == "params":
        return float(model.count_params())
    if metric == "model_kb":
        return model_kb(model)
    if metric == "latency_ms":
        return measure_latency_ms(model, latency_repeats)
    if metric == "tflite_latency_ms":
        return measure_deployed(model, (metric,))[0][metric]
    raise ValueError(f"cannot measure {metric!r}")


def check_model(model: Any, constraints: Sequence[Constraint], latency_repeats: int = 20
                ) -> dict[str, float]:
    """The measured values of `constraints` on `model`.

    Raises:
        InfeasibleTrialError: the first constraint the model violates.
    """
    values: dict[str, float] = {}
    for constraint in constraints:
        value = measure(model, constraint.metric, latency_repeats)
        if value is None:
            continue
        values[constraint.metric] = value
        reason = constraint.violation(value)
        if reason is not None:
            raise InfeasibleTrialError(reason)
    return values
