"""The Keras side of `run_search` and `finish_search`: imports TensorFlow.

`autokeras_nas.workflow.search` imports this module only when a search
starts, so that loading and checking a search's settings stays light.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Callable

import keras
import keras_tuner
import numpy as np
import tensorflow as tf
from keras_tuner.src import config as kt_config

from autokeras_nas.core.stopping import make_stopping_rule
from autokeras_nas.tuner import NasTuner, parallel, train_from_scratch
from autokeras_nas.tuner.trainers.crossval import KFoldTrainer
from autokeras_nas.tuner.trainers.weights import build_optimizer
from autokeras_nas.workflow.base import MODEL_FILENAME, first_line
from autokeras_nas.workflow.config import SearchConfig, ValidationPlan
from autokeras_nas.workflow.scores import METRICS, score, task_of

__all__ = ["accuracy", "all_training_data", "as_array", "make_pipeline", "predict",
           "retrain_on_all", "run_tuner", "save_best_model", "save_model", "test_scores"]


def make_pipeline(x: Any, y: np.ndarray, batch_size: int, *, shuffle: bool,
                  seed: int) -> tf.data.Dataset:
    """A tf.data pipeline over arrays, built once and reused by every trial:
    tensors -> cache -> (shuffle, a new order every epoch) -> batch -> prefetch.

    Keras would otherwise convert the arrays into a new pipeline in every
    `fit`; the shuffle buffer holds the whole set, as Keras' own shuffle.
    Streamed inputs (`Dataset.streamed`, e.g. `data.images.ImageFiles`)
    make their own pipeline, which reads them from disk as it goes.
    """
    if not isinstance(x, np.ndarray):
        return x.pipeline(y, batch_size, shuffle=shuffle, seed=seed)
    data = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle:
        data = data.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _tensorboard(log_dir: Path | None) -> list[Any]:
    """KerasTuner gives every trial its own log dir (`DIR/TRIAL_ID/execution0`)
    and adds TensorBoard's HParams callback to a `TensorBoard` it finds."""
    return [] if log_dir is None else [keras.callbacks.TensorBoard(log_dir=str(log_dir))]


def all_training_data(dataset: Any) -> tuple[Any, np.ndarray]:
    """The training and validation samples together (streamed inputs joined)."""
    y = np.concatenate([dataset.y_train, dataset.y_val])
    if not isinstance(dataset.x_train, np.ndarray):
        return dataset.x_train.join(dataset.x_val), y
    return np.concatenate([dataset.x_train, dataset.x_val]), y


def as_array(x: Any) -> np.ndarray:
    """`x` as a numpy array: streamed inputs decoded whole (for the
    exports' SavedModel and TFLite checks)."""
    return x if isinstance(x, np.ndarray) else x.to_numpy()


def run_tuner(dataset: Any, strategy: Any, hypermodel: Any, config: SearchConfig,
              progress: Callable[[dict], None] | None = None,
              tuner_kwargs: dict[str, Any] | None = None,
              plan: ValidationPlan | None = None) -> NasTuner:
    """Searches with `NasTuner` in exactly `config.out_dir`; returns the tuner.

    Under k-fold validation (`plan.folds`) every trial is trained by
    `KFoldTrainer` on the training and validation samples together, with
    early stopping off.

    Raises:
        SearchDirectoryError: `out_dir` cannot be resumed.
        RuntimeError: the search stopped (too many failed trials, or
            KerasTuner's fatal errors, with their message).
    """
    keras.utils.set_random_seed(config.seed)
    # A failed trial's reason goes to results.json and its progress line; the
    # whole traceback stays in its trial.json, not on stderr.
    kt_config.DEBUG = False
    config = config.for_data(dataset)  # the data's objectives when the config names none
    objectives = list(config.objectives)
    kwargs = dict(tuner_kwargs or {})
    kfold = plan is not None and plan.folds is not None
    if kfold:
        kwargs.setdefault("trainers", {"train": KFoldTrainer(folds=plan.folds, seed=config.seed)})
    tuner = NasTuner(
        hypermodel,
        strategy=strategy,
        objective=objectives[0] if len(objectives) == 1 else objectives,
        max_trials=config.max_trials,
        early_stopping=None if kfold else make_stopping_rule(config.early_stopping,
                                                             extend_best=config.extend_best),
        time_budget=config.time_budget,
        time_budget_scope=config.time_budget_scope,
        constraints=config.constraints,
        directory=str(config.out_dir.parent),
        project_name=config.out_dir.name,
        overwrite=config.overwrite,
        progress=progress,
        trial_timeout=config.trial_timeout,
        max_consecutive_failed_trials=config.max_failures,
        distribution_strategy=parallel.distribution_strategy(config.distribute),
        **kwargs,
    )
    callbacks = _tensorboard(config.tensorboard)
    try:
        if kfold:
            x, y = all_training_data(dataset)
            tuner.search(x, y, epochs=config.epochs, batch_size=config.batch_size,
                         shuffle=True, verbose=0, callbacks=callbacks)
        else:
            _search_split(tuner, dataset, config, callbacks)
    except keras_tuner.errors.FatalError as e:
        raise RuntimeError(first_line(e)) from None
    return tuner


def _search_split(tuner: NasTuner, dataset: Any, config: SearchConfig, callbacks: list) -> None:
    train = make_pipeline(dataset.x_train, dataset.y_train, config.batch_size, shuffle=True,
                          seed=config.seed)
    fit_kwargs: dict[str, Any] = {}
    if len(dataset.y_val):
        fit_kwargs["validation_data"] = make_pipeline(dataset.x_val, dataset.y_val,
                                                      config.batch_size, shuffle=False,
                                                      seed=config.seed)
    tuner.search(train, epochs=config.epochs, shuffle=False, verbose=0, callbacks=callbacks,
                 **fit_kwargs)


def retrain_on_all(tuner: NasTuner, trial_id: str, dataset: Any, config: SearchConfig,
                   epochs: int, members: int = 1) -> tuple[Any, float]:
    """The trial's configuration trained from scratch for `epochs` epochs on
    the training and validation samples together, `members` times (seeds
    `config.seed`, `+1`, ...); with several members, one model averaging
    their predictions. Returns (model, seconds).

    Several members: a few dozen samples (a UCR set) leave a single
    retraining at the mercy of its initial weights, which k-fold validation
    averaged over (on GunPoint, one configuration retrained with 4 seeds
    scored 0.61 to 0.97 on the test set), so the exported model averages
    as many retrainings as there were folds.
    """
    hp = tuner.oracle.get_trial(str(trial_id)).hyperparameters
    strategy = tuner.distribution_strategy
    x, y = all_training_data(dataset)
    models, seconds = [], 0.0
    for member in range(max(1, members)):
        data = make_pipeline(x, y, config.batch_size, shuffle=True, seed=config.seed + member)
        model, fit_seconds = train_from_scratch(
            tuner.hypermodel, hp, data, epochs=epochs, seed=config.seed + member,
            distribution_strategy=strategy, shuffle=False, verbose=0)
        seconds += fit_seconds
        models.append(model)
    if len(models) == 1 or len(models[0].inputs) != 1:
        return models[0], seconds
    for member, model in enumerate(models):
        model.name = f"member_{member}"  # names must be unique in the averaging model
    with strategy.scope() if strategy is not None else contextlib.nullcontext():
        inputs = keras.Input(shape=tuple(models[0].inputs[0].shape[1:]),
                             dtype=models[0].inputs[0].dtype)
        averaged = keras.layers.Average(name="average")([m(inputs) for m in models])
        ensemble = keras.Model(inputs, averaged, name="retrained_average")
        # Compiled as its members are, so that it can be evaluated or fine-tuned.
        ensemble.compile(optimizer=type(models[0].optimizer).from_config(
            models[0].optimizer.get_config()), loss=models[0].loss,
            metrics=METRICS[task_of(dataset)])
    return ensemble, seconds


def predict(model: Any, x: Any, y: np.ndarray, batch_size: int) -> np.ndarray:
    """The model's outputs for `x`, in order (streamed inputs batch by batch)."""
    if isinstance(x, np.ndarray):
        return model.predict(x, batch_size=batch_size, verbose=0)
    return model.predict(make_pipeline(x, y, batch_size, shuffle=False, seed=0), verbose=0)


def accuracy(model: Any, x: Any, y: np.ndarray, batch_size: int) -> float:
    """Top-1 accuracy of a classifier's predictions."""
    return test_scores(model, x, y, batch_size, "classification")["accuracy"]


def test_scores(model: Any, x: Any, y: np.ndarray, batch_size: int,
                task: str) -> dict[str, float]:
    """The model's scores on `x, y` (`autokeras_nas.workflow.scores.score`):
    accuracy, or for regression MAE and RMSE in the target's units."""
    return score(predict(model, x, y, batch_size), y, task)


def save_model(model: Any, tuner: NasTuner, dataset: Any, out_dir: Path,
               batch_size: int) -> dict[str, float]:
    """Saves `model` as `out_dir/best_model.keras`; returns its test scores
    (`test_scores`)."""
    scores = test_scores(model, dataset.x_test, dataset.y_test, batch_size, task_of(dataset))
    build_optimizer(model, tuner.distribution_strategy)
    model.save(out_dir / MODEL_FILENAME)
    return scores


def save_best_model(tuner: NasTuner, dataset: Any, out_dir: Path,
                    batch_size: int) -> dict[str, float]:
    """Saves the best model as `out_dir/best_model.keras`; returns its test scores.

    Raises:
        RuntimeError: No trial produced a model.
    """
    models = tuner.get_best_models(1)
    if not models:
        raise RuntimeError("no trial produced a model")
    return save_model(models[0], tuner, dataset, out_dir, batch_size)
