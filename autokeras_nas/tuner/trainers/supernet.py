"""The one-shot trainers: "supernet" trains a weight-sharing supernet,
"estimate" scores one of its sub-architectures with the shared weights.

`SupernetTrainer` (task "supernet") builds the trial's hypermodel with every
`autokeras_nas.oneshot.choose` as a mixed operation holding all its
candidates (`autokeras_nas.oneshot.supernet_scope`) and fits it with the fit
loop of `FitTrainer`: per-epoch backup and resume after a crash, the search's
time budget, a non-finite loss failing the trial. Its checkpoint is the
supernet's weights. Task options (`nas/task_config`):

* `mode` ("single", the default, or "all"): one path sampled per training
  batch (single-path one-shot, random search with weight sharing), or every
  path with scheduled path dropout (Bender et al. 2018).
* `conditional` (bool, default False): keep an operation's weights once per
  choice of the earlier choice it is conditioned on (`choose(...,
  condition_on=...)`).
* `drop_rate` (float in [0, 1), default 0.5; "all" mode only): the path
  dropout rate reached at the last epoch, raised linearly from 0.
* `time_budget_s` (seconds, optional): stop at the end of the epoch during
  which the supernet's training time passed it (a strategy's share of the
  search's budget).
* `stop_ahead` (bool, default False): with `time_budget_s`, stop instead at
  the end of the last epoch after which one more, as long as the one just
  ended, would pass it (the rest of the budget is the retrains' only
  training when they start from scratch).

Outputs: `choices` (choice name -> candidate names), `mode`, `conditional`,
and `seconds_per_epoch`: the median wall time of an epoch after the first
(whose tracing of the supernet's graph can cost many epochs on small data),
by which a strategy sizes the retrains of its time budget.

`EstimateTrainer` (task "estimate") evaluates the architecture given by the
trial's values of the choices with the weights of its parent supernet trial
(`nas/parent`), rebuilt from that trial and kept in memory between trials
(a search estimates hundreds of architectures with one supernet): the mixed
operations are set to the trial's path, the batch-norm statistics are
recalibrated on training batches (shared statistics mix every path), and the
model is evaluated on the validation data. Metrics are named as `fit` names
them (`val_loss`, `val_accuracy`, ...), plus `eval_time_s`,
`load_time_s` (rebuilding and loading the supernet: 0 when it was kept
from an earlier estimate), `train_time_s` = 0 and `epochs` = 0; an estimate
saves no checkpoint (it is not a model: the strategy retrains the
architectures it picks). Options:

* `recalibrate_batches` (int, default 8): training batches averaged into
  the batch-norm statistics; enough for stable statistics at a fraction of
  an epoch's cost.
* `validation_batches` (int, optional): evaluate on the first N validation
  batches only (cheaper estimates, noisier ranking); default: all.
"""

from __future__ import annotations

import math
import time
from typing import Any

import keras
import keras_tuner
import numpy as np

from autokeras_nas.core import PARENT, TASK_CONFIG
from autokeras_nas.tuner.budget import TrainingTimeStop
from autokeras_nas.tuner.failures import first_line
from autokeras_nas.tuner.trainers.base import (
    Trainer,
    TrialContext,
    TrialResult,
    _task_config,
    load_trial_model,
    trial_task,
)
from autokeras_nas.tuner.trainers.evaluate import (
    _evaluate,
    _recalibrate_batches,
    _training_batches,
    recalibrate_batch_norm,
)
from autokeras_nas.tuner.trainers.fit import FitTrainer, prior_fit_seconds, time_limit

_Failed = keras_tuner.errors.FailedTrialError
MODES = ("single", "all")


def supernet_options(config: dict[str, Any],
                     modes: tuple[str, ...] = MODES) -> dict[str, Any]:
    """The supernet options of a task config, validated (see the module
    docstring; `modes`: the trainer's modes, the first the default); raises
    FailedTrialError with a one-line reason."""
    mode = config.get("mode", modes[0])
    if mode not in modes:
        raise _Failed(f"supernet mode must be one of {', '.join(modes)}, got {mode!r}")
    conditional = config.get("conditional", False)
    if not isinstance(conditional, bool):
        raise _Failed(f"conditional must be true or false, got {conditional!r}")
    drop_rate = config.get("drop_rate", 0.5)
    if isinstance(drop_rate, bool) or not isinstance(drop_rate, (int, float)) or not (
            0 <= drop_rate < 1):
        raise _Failed(f"drop_rate must be a number in [0, 1), got {drop_rate!r}")
    stop_ahead = config.get("stop_ahead", False)
    if not isinstance(stop_ahead, bool):
        raise _Failed(f"stop_ahead must be true or false, got {stop_ahead!r}")
    return {"mode": mode, "conditional": conditional, "drop_rate": float(drop_rate),
            "time_budget_s": time_limit(config), "stop_ahead": stop_ahead}


class _TimedPathDropout(TrainingTimeStop):
    """Bender's path dropout raised linearly with the training time spent,
    from 0 to `max_rate` at `seconds` (used when a time budget, not the
    epochs, ends the supernet's training)."""

    def __init__(self, max_rate: float, seconds: float, prior: float = 0.0) -> None:
        super().__init__(seconds, prior)
        self.max_rate = max_rate

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        from autokeras_nas import oneshot

        oneshot.set_drop_rate(self.model, self.max_rate * min(1.0, self.spent() / self.seconds))

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        """Stopping is the `TrainingTimeStop` beside it, not this schedule."""


class _EpochSeconds(keras.callbacks.Callback):
    """Wall seconds of each epoch, from one epoch's start to the next's
    (validation and the per-epoch backup included)."""

    def __init__(self) -> None:
        super().__init__()
        self.starts: list[float] = []
        self.end: float | None = None

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.starts.append(time.perf_counter())

    def on_train_end(self, logs: Any = None) -> None:
        self.end = time.perf_counter()

    def steady(self) -> float | None:
        """The median epoch after the first (the only one when alone)."""
        marks = self.starts + ([self.end] if self.end is not None else [])
        seconds = [b - a for a, b in zip(marks, marks[1:])]
        return float(np.median(seconds[1:] or seconds)) if seconds else None


class SupernetTrainer(FitTrainer):
    """Trains the trial's hypermodel as a weight-sharing supernet (see the
    module docstring)."""

    name = "supernet"
    makes_model = False
    measures_latency = False
    checkpoints_last = True

    def __init__(self) -> None:
        self._choices: dict[str, list[str]] = {}
        self._epoch_seconds = _EpochSeconds()

    def supernet_modes(self) -> tuple[str, ...]:
        """The supernet modes this trainer trains, the first the default."""
        return MODES

    def scope(self, config: dict[str, Any]) -> Any:
        """The `supernet_scope` the supernet is built (and rebuilt) in."""
        from autokeras_nas import oneshot

        options = supernet_options(config, self.supernet_modes())
        return oneshot.supernet_scope(mode=options["mode"], conditional=options["conditional"])

    def make_model(self, context: TrialContext) -> Any:
        from autokeras_nas import oneshot

        with self.scope(context.config):
            model = context.build_model(constrained=False)
        ops = oneshot.mixed_ops(model)
        if not ops:
            raise _Failed("the space has no choose(...) operation: nothing to share weights "
                          "between (write alternatives with autokeras_nas.oneshot.choose)")
        self._choices = {name: list(op.candidates) for name, op in ops.items()}
        return model

    def extra_callbacks(self, context: TrialContext) -> list:
        from autokeras_nas import oneshot

        options = supernet_options(context.config, self.supernet_modes())
        self._epoch_seconds = _EpochSeconds()
        callbacks: list = [self._epoch_seconds]
        budget = options["time_budget_s"]
        prior = prior_fit_seconds(context) if budget is not None else 0.0
        if options["mode"] == "all" and options["drop_rate"] > 0:
            if budget is None:
                epochs = int(context.fit_kwargs.get("epochs", 1))
                callbacks.append(oneshot.PathDropoutSchedule(options["drop_rate"], epochs))
            else:  # the epochs are only a ceiling: the ramp follows the time
                callbacks.append(_TimedPathDropout(options["drop_rate"], budget, prior))
        if budget is not None:
            callbacks.append(TrainingTimeStop(budget, prior, ahead=options["stop_ahead"]))
        return callbacks

    def load_model(self, tuner: Any, trial: Any) -> Any:
        """The trained supernet of `trial`, rebuilt in its mode."""
        with self.scope(_task_config(trial.hyperparameters.values.get(TASK_CONFIG))):
            return tuner.load_model(trial)

    def run(self, context: TrialContext) -> TrialResult:
        options = supernet_options(context.config, self.supernet_modes())
        result = super().run(context)
        outputs = dict(result.outputs)
        outputs.update(choices=self._choices, mode=options["mode"],
                       conditional=options["conditional"])
        pace = self._epoch_seconds.steady()
        if pace is not None:
            outputs["seconds_per_epoch"] = round(pace, 4)
        return TrialResult(result.metrics, outputs)


class EstimateTrainer(Trainer):
    """Scores the trial's architecture with its parent supernet's weights
    (see the module docstring)."""

    name = "estimate"
    makes_model = False
    #: An estimate builds no model; with the supernet in memory a full
    #: collection after each estimate cost as long as the estimate itself.
    collects_garbage = False

    def __init__(self) -> None:
        self._supernet: tuple[str, Any] | None = None
        #: Whether the last `_load` rebuilt the supernet (not kept in memory).
        self._loaded_now = False

    def run(self, context: TrialContext) -> TrialResult:
        from autokeras_nas import oneshot

        validation = context.fit_kwargs.get("validation_data")
        if validation is None:
            raise _Failed("estimate needs validation data: pass validation_data to search()")
        parent_id = context.hyperparameters.values.get(PARENT)
        if parent_id is None:
            raise _Failed("estimate needs its supernet trial as parent (nas/parent)")
        batches = _recalibrate_batches({"recalibrate_batches": 8, **context.config})
        limit = context.config.get("validation_batches")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int)
                                  or limit < 1):
            raise _Failed(f"validation_batches must be an int >= 1, got {limit!r}")
        loading = time.perf_counter()
        model = self._load(context, str(parent_id))
        load_time = time.perf_counter() - loading if self._loaded_now else 0.0
        ops = oneshot.mixed_ops(model)
        values = context.hyperparameters.values
        path = {name: values[name] for name in ops if name in values}
        try:
            oneshot.set_paths(model, path)
        except ValueError as e:
            raise _Failed(first_line(e)) from None
        t0 = time.perf_counter()
        if batches:
            recalibrate_batch_norm(model, _training_batches(context, batches))
        logs = _evaluate(model, _first_batches(validation, limit, context.fit_kwargs),
                         context.fit_kwargs)
        metrics = {f"val_{name}": value for name, value in logs.items()}
        loss = metrics.get("val_loss")
        if loss is not None and not math.isfinite(loss):
            raise _Failed(f"non-finite val_loss ({loss}) with the supernet's weights")
        metrics.update(eval_time_s=time.perf_counter() - t0, load_time_s=load_time,
                       train_time_s=0.0, epochs=0.0, stopped_early=0.0)
        return TrialResult(metrics, {"supernet": str(parent_id)})

    def _load(self, context: TrialContext, parent_id: str) -> Any:
        """The parent supernet with its trained weights, kept between trials."""
        from autokeras_nas import oneshot

        self._loaded_now = False
        if self._supernet is not None and self._supernet[0] == parent_id:
            return self._supernet[1]
        self._supernet = None
        self._loaded_now = True
        tuner = context.tuner
        try:
            trial = tuner.oracle.get_trial(parent_id)
            model = load_trial_model(tuner, trial)
        except _Failed:
            raise
        except Exception as e:
            raise _Failed(f"cannot load the supernet trial {parent_id}: {first_line(e)}") from e
        if not oneshot.mixed_ops(model):
            raise _Failed(f"the parent trial {parent_id} (task {trial_task(trial)!r}) is not a "
                          "supernet: its model has no mixed operation to estimate with")
        self._supernet = (parent_id, model)
        return model


def _first_batches(validation: Any, limit: int | None, fit_kwargs: dict[str, Any]) -> Any:
    """The validation data, cut to its first `limit` batches."""
    if limit is None:
        return validation
    if isinstance(validation, (tuple, list)):
        size = int(fit_kwargs.get("validation_batch_size") or fit_kwargs.get("batch_size") or 32)
        return tuple(np.asarray(a)[:limit * size] if a is not None else None
                     for a in validation)
    if hasattr(validation, "take"):
        return validation.take(limit)
    return validation
