"""`EvaluateTrainer`: the "evaluate" task, an architecture scored with
inherited weights and no training (zero epochs).

The trial's model is built, the parent trial's (`nas/parent`) best weights
are copied into the layers whose name and weight shapes match (a
sub-architecture of a weight-sharing supernet inherits its weights this
way), batch-norm statistics are optionally recalibrated, and the model is
evaluated on the validation data. The metrics have the names `fit` would
give them (`val_loss`, `val_accuracy`, ...), plus `params`, `latency_ms`,
`inherited_layers`, `eval_time_s`, `train_time_s` = 0, `epochs` = 0 and
`stopped_early` = 0. The evaluated weights become the trial's checkpoint.

Task options (`nas/task_config`):

* `recalibrate_batches` (int, default 0): before evaluating, reset the
  moving mean and variance of every `BatchNormalization` layer and set them
  to the average of the batch statistics over the first N training batches
  (the model in training mode, nothing else updated). Off by default: a
  parent trained as this same architecture already holds the right
  statistics, and recalibrating costs N forward passes; turn it on when
  the parent is a supernet, whose shared statistics mix many paths.

A trial without a parent, or a search without validation data, fails with
a one-line reason.
"""

from __future__ import annotations

import math
import time
from typing import Any, Iterator

import keras
import keras_tuner
import numpy as np

from autokeras_nas.core import PARENT
from autokeras_nas.tuner.failures import KERAS_DEFAULT_BATCH_SIZE
from autokeras_nas.tuner.trainers.base import Trainer, TrialContext, TrialResult
from autokeras_nas.tuner.trainers.weights import copy_matching_weights, training_inputs

_Failed = keras_tuner.errors.FailedTrialError


class EvaluateTrainer(Trainer):
    """Evaluates the trial's architecture with its parent's weights (see
    the module docstring)."""

    name = "evaluate"

    def run(self, context: TrialContext) -> TrialResult:
        batches = _recalibrate_batches(context.config)
        validation = context.fit_kwargs.get("validation_data")
        if validation is None:
            raise _Failed("evaluate needs validation data: pass validation_data to search()")
        if context.hyperparameters.values.get(PARENT) is None:
            raise _Failed("evaluate needs a parent trial (nas/parent) to inherit weights from")
        parent = context.parent()
        model = context.build_model()
        inherited = copy_matching_weights(model, parent.model)
        outputs: dict[str, Any] = {}
        if batches:
            outputs["recalibrated_batches"] = recalibrate_batch_norm(
                model, _training_batches(context, batches))
        t0 = time.perf_counter()
        logs = _evaluate(model, validation, context.fit_kwargs)
        metrics = {f"val_{name}": value for name, value in logs.items()}
        loss = metrics.get("val_loss")
        if loss is not None and not math.isfinite(loss):
            raise _Failed(f"non-finite val_loss ({loss}) with the inherited weights")
        metrics.update(eval_time_s=time.perf_counter() - t0, train_time_s=0.0,
                       params=float(model.count_params()), epochs=0.0, stopped_early=0.0,
                       inherited_layers=float(inherited))
        latency = context.measure_latency_ms(model)
        if latency is not None:
            metrics["latency_ms"] = latency
        deployed, record = context.measure_deployed(model)
        metrics.update(deployed)
        outputs.update(record)
        context.save_checkpoint(model)
        return TrialResult(metrics, outputs)


def _recalibrate_batches(config: dict[str, Any]) -> int:
    value = config.get("recalibrate_batches", 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _Failed(f"recalibrate_batches must be an int >= 0, got {value!r}")
    return value


def _evaluate(model: Any, validation: Any, fit_kwargs: dict[str, Any]) -> dict[str, float]:
    """`model.evaluate` on `fit`'s validation data, as a dict of floats."""
    batch_size = fit_kwargs.get("validation_batch_size") or fit_kwargs.get("batch_size")
    if isinstance(validation, (tuple, list)):
        logs = model.evaluate(*validation, batch_size=batch_size, verbose=0, return_dict=True)
    else:
        logs = model.evaluate(validation, verbose=0, return_dict=True)
    return {k: float(v) for k, v in logs.items() if np.ndim(v) == 0}


def _training_batches(context: TrialContext, n: int) -> Iterator[Any]:
    """The inputs of the first `n` training batches (arrays or a batched
    tf.data.Dataset)."""
    x = training_inputs(context.fit_args, context.fit_kwargs)
    if isinstance(x, np.ndarray):
        size = int(context.fit_kwargs.get("batch_size") or KERAS_DEFAULT_BATCH_SIZE)
        return (x[i * size:(i + 1) * size] for i in range(min(n, math.ceil(len(x) / size))))
    if hasattr(x, "take") and hasattr(x, "element_spec"):
        return (b[0] if isinstance(b, (tuple, list)) else b for b in x.take(n))
    raise _Failed("recalibrate_batches needs training data as arrays or a tf.data.Dataset")


def batch_norm_layers(model: Any) -> list[Any]:
    """The `BatchNormalization` layers of `model`, nested ones included (in
    nested models and in layers holding layers, such as a supernet's mixed
    operations)."""
    from autokeras_nas.oneshot import walk_layers

    return [layer for layer in walk_layers(model)
            if isinstance(layer, keras.layers.BatchNormalization)]


def recalibrate_batch_norm(model: Any, batches: Iterator[Any]) -> int:
    """Sets every batch-norm layer's moving mean and variance to the average
    of its batch statistics over `batches` (a cumulative average: the layer's
    momentum is (i - 1) / i at batch i); returns how many batches were used.
    The layers' momentum is restored afterwards."""
    layers = batch_norm_layers(model)
    momenta = [layer.momentum for layer in layers]
    for layer in layers:
        layer.moving_mean.assign(keras.ops.zeros_like(layer.moving_mean))
        layer.moving_variance.assign(keras.ops.ones_like(layer.moving_variance))
    n = 0
    try:
        for n, x in enumerate(batches, start=1):
            for layer in layers:
                layer.momentum = (n - 1) / n
            model(x, training=True)
    finally:
        for layer, momentum in zip(layers, momenta):
            layer.momentum = momentum
    return n
