"""`KFoldTrainer`: the "train" task validated by stratified k-fold cross-validation.

For small data (a UCR problem has a few dozen training series) a single
validation split holds too few samples to rank models: its accuracy moves
in steps of 1/7 with 7 validation series. With `KFoldTrainer` every trial
trains its model once per fold, on the other folds, and validates on the
fold; the trial's metrics are the mean over the folds:

    tuner = NasTuner(build_model, strategy="random", objective="val_accuracy",
                     trainers={"train": KFoldTrainer(folds=5, seed=0)})
    tuner.search(x, y, epochs=20, batch_size=16)   # all the training data, no validation_data

How a trial is run and scored:

* Folds: stratified (`autokeras_nas.data.split.stratified_folds`), drawn
  once from `seed`, the same for every trial, so trials are compared on
  the same validation samples.
* Data: `search(x, y, batch_size=...)` with numpy arrays (all the training
  samples; no `validation_data`). Each fold's training and validation
  parts become tf.data pipelines (cached; the training part shuffled every
  epoch, seeded; batches of `batch_size`, default 32), made once and reused
  by every trial.
* Each fold is one `fit` of `epochs` epochs, lean: the fold's epochs are
  collected (not reported to the oracle as they run), its best epoch's
  weights kept in memory and saved once when the fold ends; a NaN loss
  fails the trial, the trial timeout counts over all its folds, user
  callbacks run in every fold (TensorBoard logs in `execution{K}`). Small
  data makes epochs of a few batches, where `FitTrainer`'s per-epoch files
  (backup, checkpoint) would cost more than the training. A trial killed
  mid-search resumes at its first unfinished fold. One execution per fold
  (`executions_per_trial` is not used); no retry after running out of
  memory (small data).
* The folds of a trial share one model object, reset before each fold to
  the weights and optimizer state it was built with: Keras traces its
  training step once per trial instead of once per fold (tracing a small
  model costs more than training it on a few dozen series).
* Once every fold ran, the per-epoch mean over the folds (the fold-mean
  curve) is reported to the oracle epoch by epoch: it is the trial's curve
  in results.json. The trial's metrics are the fold-mean curve at its best
  epoch for the first objective (`selected_epochs`, the earliest of ties),
  so the objective is a mean over folds at one epoch count, the count a
  final model retrained on all the data should train for.
* Early stopping: a per-epoch rule sees the fold-mean curve only after all
  folds trained, so it cannot save time (it can only mark the trial);
  promotions (`early_stopping="asha"`) continue one model's state, and a
  k-fold trial has one model per fold, so a trial that continues another
  fails with the reason. The workflow turns early stopping off under k-fold.
* Checkpoints: each fold's best weights are kept in `trial_ID/foldK/`; a
  child trial (`nas/parent`) starts each fold from its parent's model of the
  same fold, so no fold's validation samples leak through inherited
  weights. The trial's own checkpoint (`get_best_models`) is the first
  fold's model, trained on (k-1)/k of the data: retrain the chosen
  configuration on all of it for `selected_epochs` epochs.
* The time budget: a trial whose folds the budget cut short fails ("the
  time budget ended in fold 2 of 5"), since a mean over some of the folds
  is not comparable with the others; unless no trial of the search has
  completed yet: then it is kept, stopped by the budget, with the mean over
  the folds it finished (over the cut fold when it finished none) and
  `folds_completed` in its outputs, so that a budget shorter than one
  trial still yields a model.
* Outputs (results.json `outputs`): `validation` (`"5-fold"`), `folds`,
  `selected_epochs`, and the first objective of each fold at that epoch
  (`fold_val_accuracy`).
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from typing import Any, Mapping

import keras
import keras_tuner
import numpy as np

from autokeras_nas.core import CONTINUES, PARENT
from autokeras_nas.data.split import stratified_folds
from autokeras_nas.results import write_json_atomic
from autokeras_nas.tuner import failures
from autokeras_nas.tuner.budget import STOPPED_BY_BUDGET, BudgetStop
from autokeras_nas.tuner.trainers.base import Parent, Trainer, TrialContext, TrialResult
from autokeras_nas.tuner.trainers.weights import build_optimizer, inherit, save_weights_atomic

__all__ = ["FOLD_DIR", "KFoldTrainer", "fold_mean_curve", "fold_parent", "select_epoch"]

#: A fold's directory inside the trial's: `fold0`, `fold1`, ...
FOLD_DIR = "fold{}"
_CHECKPOINT = "checkpoint.weights.h5"
#: The finished folds of a running trial (removed when the trial ends).
_STATE = "kfold.json"
_Failed = keras_tuner.errors.FailedTrialError


class KFoldTrainer(Trainer):
    """Trains and validates every trial on stratified folds (see the module
    docstring).

    Args:
        folds: Number of folds, >= 2. Default 5: each model trains on 80 %
            of the data, as with the default 20 % validation split, while
            every sample is validated once.
        seed: Seed of the fold assignment (the search's seed).

    Raises:
        ValueError: `folds` is not an integer >= 2, or `seed` not an integer >= 0.
    """

    name = "train"

    def __init__(self, *, folds: int = 5, seed: int = 0) -> None:
        if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
            raise ValueError(f"folds must be an integer >= 2, got {folds!r}")
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ValueError(f"seed must be an integer >= 0, got {seed!r}")
        self.folds = folds
        self.seed = seed
        self._data: dict[tuple, tuple[Any, Any]] = {}

    def assign(self, y: np.ndarray) -> np.ndarray:
        """The fold id of each sample (the same for every trial)."""
        try:
            return stratified_folds(y, self.folds, np.random.default_rng(self.seed))
        except ValueError as e:
            raise _Failed(str(e)) from None

    def run(self, context: TrialContext) -> TrialResult:
        if CONTINUES in context.hyperparameters.values:
            raise _Failed("k-fold validation cannot continue a promoted trial (one model "
                          "per fold): use early_stopping='asha-stop', 'median' or None")
        x, y, kwargs = _arrays(context)
        assignment = self.assign(y)
        state_path = os.path.join(context.directory, _STATE)
        try:
            result = self._run_folds(context, x, y, kwargs, assignment, state_path)
        except Exception:
            _remove(state_path)
            raise
        _remove(state_path)
        return result

    def _run_folds(self, context: TrialContext, x: np.ndarray, y: np.ndarray,
                   kwargs: dict[str, Any], assignment: np.ndarray,
                   state_path: str) -> TrialResult:
        """Fits the folds not yet finished, recording each in `state_path`."""
        done = _load_state(state_path)
        shared = _SharedModel(context)
        tuner = context.tuner
        user_callbacks = kwargs.pop("callbacks", None) or []
        timeout = None
        if tuner.trial_timeout is not None:
            timeout = failures.TrialTimeout(time.monotonic() + tuner.trial_timeout,
                                            tuner.trial_timeout)
        batch_size = int(kwargs.pop("batch_size", None) or 32)
        shuffle = bool(kwargs.pop("shuffle", True))
        kwargs["shuffle"] = False  # the pipelines shuffle
        for k in range(len(done), self.folds):
            if k and tuner.budget.exhausted:
                return self._cut(context, done, f"before fold {k + 1}")
            train, validation = self._fold_data(x, y, assignment, k, batch_size, shuffle)
            callbacks = tuner._deepcopy_callbacks(user_callbacks)
            tuner._configure_tensorboard_dir(callbacks, context.trial, k)
            if timeout is not None:
                callbacks.append(timeout)
            fold = _Fold(context, k, self.folds, shared)
            record = fold.fit((train,), validation, kwargs, callbacks, timeout)
            if record.pop("cut"):
                return self._cut(context, done, f"in fold {k + 1}", record)
            done.append(record)
            write_json_atomic(state_path, done)
        return self._combine(context, done)

    def _fold_data(self, x: np.ndarray, y: np.ndarray, assignment: np.ndarray, fold: int,
                   batch_size: int, shuffle: bool) -> tuple[Any, Any]:
        """The fold's (training, validation) tf.data pipelines, made once for
        the search's arrays and reused by every trial: Keras would otherwise
        convert the arrays in every `fit`, and numpy validation data costs
        several times the training of a small series set in every epoch."""
        key = (x.__array_interface__["data"][0], x.shape, fold, batch_size, shuffle)
        if key not in self._data:
            held = assignment == fold
            self._data[key] = (_pipeline(x[~held], y[~held], batch_size, shuffle, self.seed),
                               _pipeline(x[held], y[held], batch_size, False, self.seed))
        return self._data[key]

    def _cut(self, context: TrialContext, done: list[dict[str, Any]], where: str,
             partial: dict[str, Any] | None = None) -> TrialResult:
        """A trial the time budget cut: failed, or kept when no trial has
        completed (see the module docstring); `partial`: the cut fold."""
        if _any_completed(context) or not (done or partial):
            raise _Failed(f"the time budget ended {where} of {self.folds}")
        result = self._combine(context, done or [partial])
        result.metrics.update({STOPPED_BY_BUDGET: 1.0, "stopped_early": 1.0})
        result.outputs["folds_completed"] = len(done)
        return result

    def _combine(self, context: TrialContext, done: list[dict[str, Any]]) -> TrialResult:
        """Reports the fold-mean curve; returns the metrics at the selected epoch."""
        curve = fold_mean_curve([fold["curve"] for fold in done])
        primary = context.objectives[0]
        for point in curve:
            context.report_epoch(int(point["epoch"]), _logs(point))
        selected = select_epoch(curve, primary)
        first = done[0]["metrics"]
        metrics = _logs(curve[selected - 1]) if curve else {}
        metrics.update(
            train_time_s=float(sum(f["metrics"].get("train_time_s", 0.0) for f in done)),
            params=float(first.get("params", 0.0)), epochs=float(len(curve)),
            stopped_early=0.0)
        if "latency_ms" in first:
            metrics["latency_ms"] = float(first["latency_ms"])
        for name, value in first.items():  # cost metrics an objective may name
            metrics.setdefault(name, value)
        outputs: dict[str, Any] = {}
        for fold in reversed(done):
            outputs.update(fold["outputs"])
        per_fold = [_value_at(f["curve"], selected, primary.name) for f in done]
        outputs.update(validation=f"{self.folds}-fold", folds=self.folds,
                       selected_epochs=selected)
        outputs[f"fold_{primary.name}"] = per_fold
        return TrialResult(metrics, outputs)


def fold_mean_curve(curves: list[list[Mapping[str, float]]]) -> list[dict[str, float]]:
    """The per-epoch mean of the folds' curves, over the epochs every fold
    reached and the metrics every fold logged at them."""
    if not curves:
        return []
    by_epoch = [{int(p["epoch"]): p for p in curve} for curve in curves]
    epochs = sorted(set.intersection(*(set(c) for c in by_epoch)))
    mean = []
    for epoch in epochs:
        points = [c[epoch] for c in by_epoch]
        names = set.intersection(*(set(p) for p in points)) - {"epoch"}
        mean.append({"epoch": float(epoch),
                     **{n: float(np.mean([p[n] for p in points])) for n in sorted(names)}})
    return mean


def select_epoch(curve: list[Mapping[str, float]], objective: Any) -> int:
    """The epoch (1-based) of `curve` best for `objective` (an `Objective`),
    the earliest of ties; the last epoch when the curve lacks it."""
    if not curve:
        return 0
    values = [objective.signed(p[objective.name]) if objective.name in p else -math.inf
              for p in curve]
    if all(v == -math.inf for v in values):
        return len(curve)
    return int(np.argmax(values)) + 1


def _logs(point: Mapping[str, float]) -> dict[str, float]:
    return {k: float(v) for k, v in point.items() if k != "epoch"}


def _value_at(curve: list[Mapping[str, float]], epoch: int, name: str) -> float | None:
    for point in curve:
        if int(point["epoch"]) == epoch and name in point:
            return float(point[name])
    return None


def _arrays(context: TrialContext) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """`search(x, y, ...)`'s arrays and the other `fit` arguments."""
    kwargs = dict(context.fit_kwargs)
    args = list(context.fit_args)
    x = args.pop(0) if args else kwargs.pop("x", None)
    y = args.pop(0) if args else kwargs.pop("y", None)
    if args or not isinstance(x, np.ndarray) or not isinstance(y, np.ndarray) \
            or len(x) != len(y):
        raise _Failed("k-fold validation needs search(x, y, ...) with x and y numpy arrays "
                      "of the same length")
    for name in ("validation_data", "validation_split"):
        if kwargs.pop(name, None):
            raise _Failed(f"k-fold validation makes its own validation folds: do not pass "
                          f"{name} to search()")
    kwargs.setdefault("shuffle", True)
    return x, np.asarray(y), kwargs


def _pipeline(x: np.ndarray, y: np.ndarray, batch_size: int, shuffle: bool, seed: int) -> Any:
    """tensors -> cache -> (shuffle, a new order every epoch) -> batch -> prefetch."""
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle:
        data = data.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _any_completed(context: TrialContext) -> bool:
    """Whether a trial of the search has completed with its objective."""
    try:
        best = context.tuner.oracle.get_best_trials(1)
    except Exception:  # noqa: BLE001 - an oracle that cannot tell: assume one has
        return True
    # get_best_trials makes up the number with unfinished trials
    return any(t.status == "COMPLETED" and t.trial_id != context.trial_id for t in best)


def _remove(path: str) -> None:
    if os.path.exists(path):
        os.unlink(path)


def _load_state(path: str) -> list[dict[str, Any]]:
    """The folds a killed trial finished (resumed after a crash), else []."""
    try:
        with open(path) as f:
            done = json.load(f)
    except (OSError, ValueError):
        return []
    return done if isinstance(done, list) else []


class _SharedModel:
    """One model for all the folds of a trial, reset to its initial weights
    and optimizer state for every fold (its traced functions are kept)."""

    def __init__(self, context: TrialContext) -> None:
        self.context = context
        self.model: Any = None
        self._weights: list[Any] = []
        self._optimizer: list[Any] = []

    def get(self) -> Any:
        if self.model is None:
            model = self.context.build_model()
            build_optimizer(model, self.context.tuner.distribution_strategy)
            optimizer = getattr(model, "optimizer", None)
            self._weights = model.get_weights()
            self._optimizer = [] if optimizer is None else [
                v.numpy() for v in optimizer.variables]
            self.model = model
            return model
        self.model.set_weights(self._weights)
        if self._optimizer:
            for variable, value in zip(self.model.optimizer.variables, self._optimizer):
                variable.assign(value)
        self.model.stop_training = False
        return self.model


class _Fold(keras.callbacks.Callback):
    """One fold of a trial: fits the shared model, collects the curve, keeps
    the best epoch's weights, stops on a non-finite loss."""

    def __init__(self, context: TrialContext, fold: int, folds: int,
                 shared: _SharedModel) -> None:
        super().__init__()
        self.context, self.fold, self.folds, self.shared = context, fold, folds, shared
        self.primary = context.objectives[0]
        self.directory = os.path.join(context.directory, FOLD_DIR.format(fold))
        self.curve: list[dict[str, float]] = []
        self.bad_loss: str | None = None
        self._best = -math.inf
        self._weights: list[Any] | None = None

    def fit(self, train: tuple, validation: Any, kwargs: dict[str, Any], callbacks: list,
            timeout: Any) -> dict[str, Any]:
        """Fits the fold; returns its record (curve, metrics, outputs).

        Raises:
            keras_tuner.errors.FailedTrialError: a NaN loss, the trial's
                timeout (the record says `cut` when the time budget cut it).
        """
        context, tuner = self.context, self.context.tuner
        hp = context.hyperparameters
        model = self.shared.get()
        metrics, outputs = inherit(tuner.hypermodel, hp, model, fold_parent(context, self.fold),
                                   train, kwargs)
        budget = BudgetStop(tuner.budget)
        planned = int(kwargs.get("epochs", 1)) - int(kwargs.get("initial_epoch", 0))
        t0 = time.perf_counter()
        tuner.hypermodel.fit(hp, model, *train, validation_data=validation,
                             callbacks=callbacks + [budget, self], **kwargs)
        seconds = time.perf_counter() - t0
        if timeout is not None and timeout.timed_out:
            raise _Failed(timeout.message)
        if self.bad_loss:
            raise _Failed(self.bad_loss)
        cut = budget.stopped and len(self.curve) < planned
        if self._weights is not None:
            model.set_weights(self._weights)
        os.makedirs(self.directory, exist_ok=True)
        save_weights_atomic(model, os.path.join(self.directory, _CHECKPOINT))
        metrics.update(train_time_s=seconds, params=float(model.count_params()))
        if self.fold == 0:
            context.save_checkpoint(model)
            latency = context.measure_latency_ms(model)
            if latency is not None:
                metrics["latency_ms"] = latency
            deployed, record = context.measure_deployed(model, validation=validation)
            metrics.update(deployed)
            outputs.update(record)
        return {"curve": self.curve, "metrics": metrics, "outputs": outputs, "cut": cut}

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}
        for name in ("loss", "val_loss"):
            if name in logs and not math.isfinite(logs[name]):
                self.bad_loss = f"non-finite {name} ({logs[name]}) at epoch {epoch + 1} " \
                                f"of fold {self.fold + 1}"
                self.model.stop_training = True
                return
        self.curve.append({"epoch": float(epoch + 1), **logs})
        value = self.primary.signed(logs[self.primary.name]) \
            if self.primary.name in logs else math.inf
        if value > self._best:
            self._best, self._weights = value, self.model.get_weights()
        self.context.emit({"event": "epoch_end", "trial_id": self.context.trial_id,
                           "epoch": epoch + 1, "logs": logs, "fold": self.fold + 1,
                           "folds": self.folds})


def fold_parent(context: TrialContext, fold: int) -> Parent | None:
    """The parent's model of the same fold when it kept one, else its
    checkpoint (a parent trained without folds); None without a parent.

    Raises:
        keras_tuner.errors.FailedTrialError: the parent cannot be loaded.
    """
    parent_id = context.hyperparameters.values.get(PARENT)
    if parent_id is None:
        return None
    tuner = context.tuner
    path = os.path.join(tuner.get_trial_dir(str(parent_id)), FOLD_DIR.format(fold), _CHECKPOINT)
    if not os.path.exists(path):
        return context.parent()
    try:
        trial = tuner.oracle.get_trial(str(parent_id))
        model = tuner._try_build(trial.hyperparameters)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Skipping variable loading")
            model.load_weights(path)
    except Exception as e:
        raise _Failed(f"cannot load fold {fold + 1} of the parent trial {parent_id}: "
                      f"{type(e).__name__}: {e}") from e
    return Parent(model, trial.hyperparameters)
