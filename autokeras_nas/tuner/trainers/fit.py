"""`FitTrainer`: the "train" task, build a model and fit it (the default).

Besides the user's metrics it records `train_time_s` (wall time of `fit`),
`params`, `latency_ms` (median single-sample inference), `epochs` run and
`stopped_early`; with `executions_per_trial` > 1 the executions' metrics are
averaged and the checkpoint holds the best epoch of all. It starts from the
parent's weights when the trial names one (`autokeras_nas.tuner.trainers.
weights.inherit`), reports every epoch to the oracle, stops at once on a NaN
or infinite loss (failed, with the reason), fails a trial over the tuner's
`trial_timeout`, retries one that runs out of memory with half the batch
size (the batch size it finished with is the output `batch_size`), stops at
the end of the epoch during which the search's time budget passed, and
resumes inside a trial of several epochs after a crash
(`autokeras_nas.tuner.trainers.epochs`).

Task option (`nas/task_config`): `time_budget_s` (seconds, optional), the
trial's share of a time budget: its epochs become a ceiling, and it stops at
the end of the last epoch after which one more, as long as the one before,
would take its fit time past the share (a one-shot strategy's retrains share
what the supernet and the search left).

Multi-fidelity promotions (`early_stopping="asha"`): a trial marked
`nas/promotable` keeps the state it ends in (weights with the optimizer's
state, `epochs.FINAL_STATE`); a trial that `nas/continues` a configuration
loads its parent's kept state instead of inheriting weights, and trains
from the parent's last epoch (`nas/initial_epoch`) to its rung; its latency
is the parent's (the same architecture), not measured again. The trial
that ends a time budget by continuing the leader (`nas/anneal`) anneals the
learning rate from the one the model was compiled with to zero, cosine, one
value per epoch (`AnnealLearningRate`); with a learning-rate schedule of its
own the model trains unchanged, and the output `anneal` says so.

With `NasTuner(measure=...)` (or an objective naming one) it also records
the model's TFLite measurements (`tflite_latency_ms`,
`tflite_int8_latency_ms`, `int8_val_accuracy`; see
`autokeras_nas.tuner.trainers.measure.DEPLOYED_METRICS`) of the trial's
best checkpoint, with how they were measured in the output `tflite`.
"""

from __future__ import annotations

import gc
import math
import os
import time
import warnings
from typing import Any

import keras
import keras_tuner
import numpy as np

from autokeras_nas.core import ANNEAL, CONTINUES, PARENT, PROMOTABLE
from autokeras_nas.tuner import failures
from autokeras_nas.tuner.budget import STOPPED_BY_BUDGET, BudgetStop, TrainingTimeStop
from autokeras_nas.tuner.trainers.base import Trainer, TrialContext, TrialResult
from autokeras_nas.tuner.trainers.epochs import (
    BACKUP_DIR,
    EpochReporter,
    TrialBackup,
    keep_final_state,
    load_final_state,
)
from autokeras_nas.tuner.trainers.weights import inherit


class FitTrainer(Trainer):
    """Builds the trial's model and fits it (see the module docstring)."""

    name = "train"
    #: Whether the trial's latency is measured (a subclass training a model
    #: that is not the final one, a supernet, turns it off).
    measures_latency: bool = True
    #: Whether the checkpoint is the last epoch's weights rather than the
    #: best epoch's (a supernet, whose validation score samples paths, keeps
    #: its last).
    checkpoints_last: bool = False

    def make_model(self, context: TrialContext) -> Any:
        """The trial's fresh model; a subclass builds another kind (a
        supernet) by overriding this."""
        return context.build_model()

    def extra_callbacks(self, context: TrialContext) -> list:
        """Callbacks of the trainer itself, added to the user's for every
        execution: with the task option `time_budget_s`, a stop at the end
        of the last epoch after which another as long would pass it."""
        seconds = time_limit(context.config)
        if seconds is None:
            return []
        return [TrainingTimeStop(seconds, prior_fit_seconds(context), ahead=True)]

    def run(self, context: TrialContext) -> TrialResult:
        kwargs = dict(context.fit_kwargs)
        user_callbacks = kwargs.pop("callbacks", [])
        planned = int(kwargs.get("epochs", 1)) - int(kwargs.get("initial_epoch", 0))
        # A trial of one epoch has nothing to resume inside.
        backup = TrialBackup(os.path.join(context.directory, BACKUP_DIR)) if planned > 1 else None
        try:
            result = self._run(context, backup, planned, user_callbacks, kwargs)
        except Exception:
            if backup is not None:
                backup.remove()
            raise
        if backup is not None:
            backup.remove()
        return result

    def _run(self, context: TrialContext, backup: TrialBackup | None, planned: int,
             user_callbacks: list, kwargs: dict) -> TrialResult:
        tuner = context.tuner
        continues = CONTINUES in context.hyperparameters.values
        # A continuation loads its parent's final state, not its best model.
        parent = None if continues else context.parent()
        runs, outputs, saved = [], {}, [-math.inf]
        if backup is not None:
            backup.restore_checkpoint(tuner._get_checkpoint_fname(context.trial_id))
            runs, outputs, saved = backup.runs, backup.outputs, [backup.saved]
        timeout = None
        if tuner.trial_timeout is not None:
            timeout = failures.TrialTimeout(time.monotonic() + tuner.trial_timeout,
                                            tuner.trial_timeout)
        for execution in range(len(runs), tuner.executions_per_trial):
            if runs and tuner.budget.exhausted:
                break
            callbacks = tuner._deepcopy_callbacks(user_callbacks)
            tuner._configure_tensorboard_dir(callbacks, context.trial, execution)
            if timeout is not None:
                callbacks.append(timeout)
            budget_stop = BudgetStop(tuner.budget)
            callbacks.append(budget_stop)
            callbacks.extend(self.extra_callbacks(context))
            model, reporter, inherited, train_time = self._fit_execution(
                context, execution, parent, callbacks, saved, backup, kwargs)
            if timeout is not None and timeout.timed_out:
                raise keras_tuner.errors.FailedTrialError(timeout.message)
            if reporter.bad_loss:
                raise keras_tuner.errors.FailedTrialError(reporter.bad_loss)
            metrics = dict(reporter.best_logs)
            metrics.update(train_time_s=train_time, params=float(model.count_params()),
                           epochs=float(reporter.epochs_run),
                           stopped_early=float(reporter.epochs_run < planned))
            if budget_stop.stopped and reporter.epochs_run < planned:
                metrics[STOPPED_BY_BUDGET] = 1.0
            metrics.update(inherited[0])
            run_outputs = dict(inherited[1])
            if reporter.batch_size is not None:  # halved after running out of memory
                run_outputs["batch_size"] = reporter.batch_size
            latency = _parent_latency(context) if continues else None
            if latency is None and self.measures_latency:
                latency = context.measure_latency_ms(model)
            if latency is not None:
                metrics["latency_ms"] = latency
            tuner._save_build_config(context.trial_id, model)
            if context.hyperparameters.values.get(PROMOTABLE):
                keep_final_state(model, context.directory)
            if self.measures_latency and tuner.measure:
                _load_checkpoint(context, model)  # the best epoch's, as the metrics
                deployed, record = context.measure_deployed(model)
                metrics.update(deployed)
                run_outputs.update(record)
            runs.append(metrics)
            outputs.update(run_outputs)
            if backup is not None:
                backup.finish_execution(metrics, run_outputs)
            del model
            if execution + 1 < tuner.executions_per_trial:
                gc.collect()  # after the last execution, on_trial_end collects
        return TrialResult(_average(runs), outputs)

    def _fit_execution(self, context: TrialContext, execution: int, parent: Any,
                       callbacks: list, saved: list[float], backup: TrialBackup | None,
                       kwargs: dict) -> tuple[Any, EpochReporter, tuple[dict, dict], float]:
        """Builds, inherits and fits (or resumes) one execution; on running
        out of memory, retries with half the batch size (`oom_retries`
        times), then fails.

        Returns:
            (model, its epoch reporter, (inheritance metrics, outputs), fit time).
        """
        tuner, hp = context.tuner, context.hyperparameters
        args = context.fit_args
        current = backup.current(execution) if backup is not None else None
        reduced = current.get("batch_size") if current else None
        if reduced is not None:
            args, kwargs = failures.with_batch_size(reduced, args, kwargs)
        for attempt in range(tuner.oom_retries + 1):
            reporter = EpochReporter(context, saved, backup, execution,
                                     keep_last=self.checkpoints_last)
            reporter.batch_size = reduced
            model = self.make_model(context)
            anneal, why_not = _annealing(context, model)
            if CONTINUES in hp.values:
                parent_id = str(hp.values[PARENT])
                load_final_state(model, tuner.get_trial_dir(parent_id),
                                 tuner._get_build_config_fname(parent_id))
                inherited: tuple[dict, dict] = ({}, {})
            else:
                inherited = inherit(tuner.hypermodel, hp, model, parent, args, kwargs)
            if why_not:
                inherited[1]["anneal"] = why_not
            fit_kwargs = reporter.resume(model, kwargs)
            t0 = time.perf_counter()
            try:
                if not reporter.stopped:
                    tuner.hypermodel.fit(hp, model, *args, callbacks=callbacks + anneal + [reporter],
                                         **fit_kwargs)
            except Exception as e:
                if not failures.is_out_of_memory(e):
                    raise
                size = failures.current_batch_size(args, kwargs)
                if attempt == tuner.oom_retries or size is None or size < 2:
                    raise failures.out_of_memory_failure(e, size) from e
                reduced = size // 2
                print(f"trial {context.trial_id}: out of memory at batch size {size}; "
                      f"retrying with {reduced}", flush=True)
                args, kwargs = failures.with_batch_size(reduced, args, kwargs)
                if backup is not None:
                    backup.discard_current()
                del model
                gc.collect()
                continue
            return model, reporter, inherited, reporter.prior_seconds + time.perf_counter() - t0
        raise AssertionError("unreachable")  # pragma: no cover


class AnnealLearningRate(keras.callbacks.Callback):
    """Sets the optimizer's learning rate before each epoch of
    `initial_epoch .. epochs - 1` to `start * (1 + cos(pi * (i + 1/2) / n)) / 2`,
    `i` the epoch's index from `initial_epoch`, `n` their number: from about
    `start` down to about zero, a function of the epoch alone (a trial resumed
    inside gets the same values)."""

    def __init__(self, start: float, initial_epoch: int, epochs: int) -> None:
        super().__init__()
        self.start = float(start)
        self.initial_epoch = int(initial_epoch)
        self.count = max(1, int(epochs) - int(initial_epoch))

    def rate(self, epoch: int) -> float:
        """The learning rate of epoch `epoch` (Keras' 0-based index)."""
        i = min(max(epoch - self.initial_epoch, 0), self.count - 1)
        return self.start * 0.5 * (1.0 + math.cos(math.pi * (i + 0.5) / self.count))

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.model.optimizer.learning_rate = self.rate(epoch)


def _annealing(context: TrialContext, model: Any) -> tuple[list, str | None]:
    """The trial's `AnnealLearningRate` (as a list of 0 or 1 callbacks), its
    start read from the freshly built model, before any state is loaded into
    it; and why a trial marked `nas/anneal` is not annealed, or None."""
    if not context.hyperparameters.values.get(ANNEAL):
        return [], None
    optimizer = getattr(model, "optimizer", None)
    rate = getattr(optimizer, "_learning_rate", None)
    if optimizer is None:
        return [], "not annealed: the model is not compiled"
    if isinstance(rate, keras.optimizers.schedules.LearningRateSchedule) or callable(rate):
        return [], "not annealed: the optimizer has a learning-rate schedule"
    start = float(keras.ops.convert_to_numpy(optimizer.learning_rate))
    kwargs = context.fit_kwargs
    return [AnnealLearningRate(start, int(kwargs.get("initial_epoch", 0)),
                               int(kwargs.get("epochs", 1)))], None


def time_limit(config: dict[str, Any]) -> float | None:
    """A task config's `time_budget_s` (the seconds of fit time a trial may
    take), validated; None when not set. Raises FailedTrialError with a
    one-line reason."""
    seconds = config.get("time_budget_s")
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) \
            or not math.isfinite(seconds) or seconds <= 0:
        raise keras_tuner.errors.FailedTrialError(
            f"time_budget_s must be a positive number, got {seconds!r}")
    return float(seconds)


def prior_fit_seconds(context: TrialContext) -> float:
    """Fit seconds the execution about to run (the first not finished)
    spent before a crash, 0 when it starts afresh."""
    backup = TrialBackup(os.path.join(context.directory, BACKUP_DIR))
    current = backup.current(len(backup.runs))
    return float(current["fit_seconds"]) if current else 0.0


def _load_checkpoint(context: TrialContext, model: Any) -> None:
    """Loads the trial's checkpoint (its best epoch) into `model`, if written."""
    path = context.tuner._get_checkpoint_fname(context.trial_id)
    if os.path.isfile(path):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model.load_weights(path)


def _parent_latency(context: TrialContext) -> float | None:
    """The latency measured by a continued trial's parent, or None."""
    try:
        trial = context.tuner.oracle.get_trial(str(context.hyperparameters.values[PARENT]))
        value = trial.metrics.get_last_value("latency_ms")
    except Exception:  # noqa: BLE001 - measured again instead
        return None
    return None if value is None else float(value)


def _average(runs: list[dict[str, float]]) -> dict[str, float]:
    if len(runs) == 1:
        return runs[0]
    keys = set.intersection(*(set(r) for r in runs))
    return {k: float(np.mean([r[k] for r in runs])) for k in sorted(keys)}
