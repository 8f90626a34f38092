"""The trainer interface: what runs one trial's task.

A trial's task travels in the reserved key `nas/task` ("train" when absent),
its options in `nas/task_config` (a JSON object). `NasTuner.run_trial`
builds a `TrialContext` and hands it to the trainer registered for the task
(entry-point group `autokeras_nas.trainers`, see `autokeras_nas.plugins`);
the trainer returns a `TrialResult`: the trial's final metrics (numbers,
sent to the oracle like any KerasTuner trial's) and its JSON outputs (a
derived architecture, operation probabilities, ...), which reach the
strategy in `Observation.outputs` and results.json under `"outputs"`.

A third-party trainer subclasses `Trainer`:

    from autokeras_nas.tuner import Trainer, TrialResult

    class ScoreTrainer(Trainer):
        def run(self, context):
            model = context.build_model()
            score = my_proxy(model, context.fit_args[0][:64])
            context.save_checkpoint(model)
            return TrialResult({"score": score}, {"proxy": "my_proxy"})

(a trainer whose trials make no model of their own, a score or a supernet,
sets `makes_model = False`: its trials may end without the objective and
are never the search's answer) and registers it in its package metadata:

    [options.entry_points]
    autokeras_nas.trainers =
        score = my_package:ScoreTrainer
"""

from __future__ import annotations

import abc
import dataclasses
import json
from typing import Any, ClassVar, Mapping

import keras_tuner

from autokeras_nas.core import (
    EPOCHS,
    INITIAL_EPOCH,
    PARENT,
    TASK,
    TASK_CONFIG,
    TASK_TRAIN,
    Objective,
)
from autokeras_nas.tuner.failures import first_line
from autokeras_nas.tuner.trainers.measure import measure_deployed, measure_latency_ms
from autokeras_nas.tuner.trainers.weights import prepare_fit


@dataclasses.dataclass
class TrialResult:
    """What a trainer returns.

    Args:
        metrics: Final metrics, name -> number; they must include the search's
            objectives, unless the task makes no model
            (`autokeras_nas.core.ESTIMATE_TASKS`, e.g. "score": a proxy's
            score is no accuracy, and the strategy reads what it reports).
        outputs: JSON outputs beside the metrics (any JSON object).
    """

    metrics: Mapping[str, float]
    outputs: Mapping[str, Any] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Parent:
    """The parent trial's model (its best checkpoint) and hyperparameters."""

    model: Any
    hyperparameters: Any


class TrialContext:
    """One trial as its trainer sees it.

    Args:
        tuner: The running `NasTuner` (its hypermodel, oracle, settings).
        trial: KerasTuner's `Trial`.
        fit_args: The positional arguments of `search()` (training data).
        fit_kwargs: Its keyword arguments; `epochs` and `initial_epoch` are
            replaced by the trial's `nas/epochs` and `nas/initial_epoch`.

    Raises:
        keras_tuner.errors.FailedTrialError: `nas/task_config` is not a JSON
            object.
    """

    def __init__(self, tuner: Any, trial: Any, fit_args: tuple, fit_kwargs: Mapping[str, Any]):
        self.tuner = tuner
        self.trial = trial
        values = trial.hyperparameters.values
        #: The task (a trainer's name).
        self.task: str = trial_task(trial)
        #: The task's options (`nas/task_config`), {} when none.
        self.config: dict[str, Any] = _task_config(values.get(TASK_CONFIG))
        kwargs = dict(fit_kwargs)
        if EPOCHS in values:
            kwargs["epochs"] = int(values[EPOCHS])
        if INITIAL_EPOCH in values:
            kwargs["initial_epoch"] = int(values[INITIAL_EPOCH])
        self.fit_args = tuple(fit_args)
        self.fit_kwargs = kwargs
        self._parent: Parent | None = None

    @property
    def trial_id(self) -> str:
        return self.trial.trial_id

    @property
    def hyperparameters(self) -> Any:
        return self.trial.hyperparameters

    @property
    def objectives(self) -> tuple[Objective, ...]:
        """The search's objectives, the one early stopping watches first."""
        return self.tuner.objectives

    @property
    def directory(self) -> str:
        """The trial's directory (shared by a distributed chief and workers)."""
        return self.tuner.get_trial_dir(self.trial_id)

    def build_model(self, *, constrained: bool = True, training_state: bool = True,
                    dtype: str | None = None) -> Any:
        """A fresh model of the trial's hyperparameters, built under the
        tuner's distribution strategy (KerasTuner's checks included: a
        model over `max_model_size` fails the trial; one that violates the
        search's constraints is infeasible), with the variables of
        its training state (metrics, loss, optimizer slots) already created
        for the trial's data, so that `fit` traces its training step once,
        not twice, and an Adam optimizer's update fused into one op per
        variable, which makes that trace cheaper
        (`autokeras_nas.tuner.trainers.weights.prepare_fit`).

        Args:
            constrained: Whether the search's constraints apply. A supernet
                is no architecture of the space (it holds every candidate),
                so its trainers build it without them: the constraints bound
                the architectures the search trains or retrains.
            training_state: Whether to create the training state (False: a
                model that is only scored, never fitted).
            dtype: A Keras dtype policy ("float64") in force while the
                hypermodel builds; None: the global one. (KerasTuner clears
                the session before a build, which resets the global policy,
                so setting it around this call would not do.)"""
        model = _build(self.tuner, self.hyperparameters, dtype)
        if constrained:
            self.tuner.check_constraints(model)
        if training_state:
            prepare_fit(model, self.fit_args, self.fit_kwargs)
        return model

    def parent(self) -> Parent | None:
        """The parent trial (`nas/parent`) with its best weights, loaded once;
        None when the trial names no parent.

        Raises:
            keras_tuner.errors.FailedTrialError: the parent cannot be loaded.
        """
        parent_id = self.hyperparameters.values.get(PARENT)
        if parent_id is None:
            return None
        if self._parent is None:
            try:
                trial = self.tuner.oracle.get_trial(str(parent_id))
                model = load_trial_model(self.tuner, trial)
            except Exception as e:
                raise keras_tuner.errors.FailedTrialError(
                    f"cannot load the parent trial {parent_id}: {first_line(e)}") from e
            self._parent = Parent(model, trial.hyperparameters)
        return self._parent

    def report_epoch(self, epoch: int, logs: Mapping[str, float]) -> bool:
        """Reports the logs after `epoch` completed epochs (1-based) to the
        oracle, which feeds the early-stopping rule and the trial's curve.

        Returns:
            False when the trial should stop (early stopping), else True.
        """
        return self.tuner.report_epoch(self.trial_id, epoch, logs)

    def save_checkpoint(self, model: Any) -> None:
        """Saves `model`'s weights, atomically, and its build configuration
        as the trial's checkpoint: what `get_best_models` and a child trial
        load."""
        self.tuner.save_model(self.trial_id, model)
        self.tuner._save_build_config(self.trial_id, model)

    def measure_latency_ms(self, model: Any) -> float | None:
        """Median single-sample inference time of `model` (see
        `autokeras_nas.tuner.measure_latency_ms`)."""
        return measure_latency_ms(model, self.tuner.latency_repeats)

    def measure_deployed(self, model: Any, validation: Any = None
                         ) -> tuple[dict[str, float], dict[str, Any]]:
        """The TFLite measurements the tuner asks for (`NasTuner.measure`:
        `tflite_latency_ms`, ...; see `autokeras_nas.tuner.trainers.measure.
        DEPLOYED_METRICS`) as (metrics, outputs: `{"tflite": record}`);
        nothing when none is asked. int8 is calibrated on the training data
        (`fit_args[0]`); `validation` defaults to `fit`'s `validation_data`.

        Raises:
            keras_tuner.errors.FailedTrialError: the model does not convert,
                with the converter's first line.
        """
        names = getattr(self.tuner, "measure", ())
        if not names:
            return {}, {}
        if validation is None:
            validation = self.fit_kwargs.get("validation_data")
        calibration = self.fit_args[0] if self.fit_args else self.fit_kwargs.get("x")
        try:
            metrics, record = measure_deployed(model, names, calibration=calibration,
                                               validation=validation)
        except Exception as e:
            raise keras_tuner.errors.FailedTrialError(
                f"cannot measure {', '.join(names)} in TFLite: {first_line(e)}") from e
        return metrics, {"tflite": record}

    def emit(self, event: dict[str, Any]) -> None:
        """Sends a progress event to the tuner's `progress` callable."""
        self.tuner._emit(event)


class Trainer(abc.ABC):
    """Runs one kind of trial task (`nas/task`) and returns its metrics and
    outputs. The tuner makes one instance per task, with no arguments, and
    calls `run` for every trial of that task.

    A trial fails, with a one-line reason in results.json, when `run` raises
    `keras_tuner.errors.FailedTrialError(reason)`; any other exception
    makes it invalid (KerasTuner retries it `max_retries_per_trial` times).
    """

    #: The task name (the entry-point name).
    name: ClassVar[str] = ""
    #: Whether the tuner runs a full garbage collection after each of this
    #: trainer's trials (freeing the graphs of the models it built); a
    #: trainer that builds no model turns it off.
    collects_garbage: ClassVar[bool] = True
    #: Whether a trial of this task ends with a model of its own. False (a
    #: supernet, an estimate, a proxy's score): the trial is never a
    #: search's answer and may end without the objective's metric, the
    #: strategy reading what it reports (`NasTuner.task_makes_model`; the
    #: package's own such tasks are `autokeras_nas.core.ESTIMATE_TASKS`).
    makes_model: ClassVar[bool] = True

    @abc.abstractmethod
    def run(self, context: TrialContext) -> TrialResult:
        """Runs the trial described by `context`."""

    def load_model(self, tuner: Any, trial: Any) -> Any:
        """A finished trial of this task as a model with its checkpoint's
        weights: what a child trial (`nas/parent`) starts from. Default:
        `tuner.load_model(trial)`, the hypermodel built from the trial's
        values; a trainer that builds its models otherwise (a supernet)
        rebuilds them its way."""
        return tuner.load_model(trial)


def _build(tuner: Any, hp: Any, dtype: str | None) -> Any:
    """KerasTuner's `_try_build` (a fresh session, the size check), with
    the dtype policy `dtype` set once the session is cleared."""
    if dtype is None:
        return tuner._try_build(hp)
    import keras

    original = tuner._build_hypermodel

    def build_in_dtype(hp: Any) -> Any:
        previous = keras.config.dtype_policy()
        keras.config.set_dtype_policy(dtype)
        try:
            return original(hp)
        finally:
            keras.config.set_dtype_policy(previous)

    tuner._build_hypermodel = build_in_dtype  # this build only: the instance's own attribute
    try:
        return tuner._try_build(hp)
    finally:
        del tuner._build_hypermodel


def trial_task(trial: Any) -> str:
    """The task of KerasTuner `trial` (`nas/task`; "train" when absent)."""
    return str(trial.hyperparameters.values.get(TASK, TASK_TRAIN))


def load_trial_model(tuner: Any, trial: Any) -> Any:
    """`trial`'s model with its checkpoint's weights, rebuilt by the trainer
    of its task (`Trainer.load_model`): a supernet as a supernet."""
    return tuner.trainer(trial_task(trial)).load_model(tuner, trial)


def _task_config(text: Any) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        config = json.loads(text)
    except (TypeError, ValueError) as e:
        raise keras_tuner.errors.FailedTrialError(f"nas/task_config is not JSON: {e}") from None
    if not isinstance(config, dict):
        raise keras_tuner.errors.FailedTrialError("nas/task_config must be a JSON object")
    return config


def check_trainers(trainers: Mapping[str, Trainer] | None) -> dict[str, Trainer]:
    """`NasTuner`'s `trainers` validated: task name -> `Trainer` instance."""
    if trainers is None:
        return {}
    if not isinstance(trainers, Mapping):
        raise ValueError(f"trainers must map task names to Trainer instances, got {trainers!r}")
    for name, trainer in trainers.items():
        if not isinstance(name, str) or not name or not isinstance(trainer, Trainer):
            raise ValueError(f"trainers must map task names to Trainer instances, "
                             f"got {name!r}: {trainer!r}")
    return dict(trainers)
