"""Training the best configuration anew on all the data: `NasTuner.retrain_best`.

The question KerasTuner's users ask most is how to get a final model
trained on the training and the validation data together. `retrain_best`
answers it: the best trial's configuration (or a given trial's) is built
from scratch and trained on both, for the epochs the trial was best at
(`autokeras_nas.results.retrain_epochs`: the epoch of its best value in its
learning curve, plus the epochs of the weights it started from) unless
`epochs` is given. `train_from_scratch` is the one training step shared
with `autokeras-nas export --retrain-epochs` and the k-fold retraining of
`autokeras-nas search`.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from autokeras_nas.results import retrain_epochs
from autokeras_nas.tuner.trainers.weights import prepare_fit


def train_from_scratch(hypermodel: Any, hp: Any, *fit_args: Any, epochs: int,
                       seed: int | None = None, distribution_strategy: Any = None,
                       **fit_kwargs: Any) -> tuple[keras.Model, float]:
    """`hp`'s model built anew (under `seed`, in the distribution
    strategy's scope) and fitted with `hypermodel.fit` (a `HyperModel`'s own
    `fit` is honoured) for `epochs`; returns (model, seconds of fit)."""
    if seed is not None:
        keras.utils.set_random_seed(int(seed))
    scope = distribution_strategy.scope() if distribution_strategy is not None \
        else contextlib.nullcontext()
    with scope:
        model = hypermodel.build(hp)
    prepare_fit(model, fit_args, fit_kwargs)  # one cheap trace of the training step, not two
    t0 = time.perf_counter()
    hypermodel.fit(hp, model, *fit_args, epochs=int(epochs), **fit_kwargs)
    return model, time.perf_counter() - t0


def joined(x: Any, y: Any, validation_data: Any) -> tuple[Any, ...]:
    """`fit`'s positional data: the training data with the validation data
    appended (arrays concatenated, `tf.data` datasets chained).

    Raises:
        ValueError: the two are of different kinds or shapes.
    """
    if validation_data is None:
        return (x,) if y is None else (x, y)
    if isinstance(x, tf.data.Dataset):
        if not isinstance(validation_data, tf.data.Dataset) or y is not None:
            raise ValueError("retrain_best: a tf.data.Dataset x needs a tf.data.Dataset "
                             "validation_data (and no y)")
        try:
            return (x.concatenate(validation_data),)
        except (TypeError, ValueError) as e:
            raise ValueError(f"retrain_best: the training and validation datasets do not "
                             f"chain: {e}") from None
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
        raise ValueError("retrain_best: validation_data must be (x_val, y_val) or a "
                         "tf.data.Dataset")
    x_val, y_val = validation_data
    try:
        return (_concatenate(x, x_val), _concatenate(y, y_val))
    except ValueError as e:
        raise ValueError(f"retrain_best: the validation data do not match the training "
                         f"data: {e}") from None


def _concatenate(a: Any, b: Any) -> Any:
    if isinstance(a, dict):
        return {k: _concatenate(a[k], b[k]) for k in a}
    if isinstance(a, (list, tuple)):
        return type(a)(_concatenate(u, v) for u, v in zip(a, b))
    return np.concatenate([np.asarray(a), np.asarray(b)])


def best_trial_record(tuner: Any, trial_id: str | None) -> tuple[Any, dict[str, Any], dict]:
    """(KerasTuner trial, its results.json record, the results) of
    `trial_id`, or of the best trial.

    Raises:
        ValueError: no such trial, or no trial finished.
    """
    results = tuner.oracle.results()
    if trial_id is None:
        best = tuner.oracle.get_best_trials(1)
        if not best:
            raise ValueError("retrain_best: no trial has finished yet; run search() first")
        trial_id = best[0].trial_id
    record = next((t for t in results["trials"] if str(t["trial_id"]) == str(trial_id)), None)
    if record is None or str(trial_id) not in tuner.oracle.trials:
        raise ValueError(f"retrain_best: no trial {trial_id!r}")
    return tuner.oracle.trials[str(trial_id)], record, results


def retrain_best(tuner: Any, x: Any = None, y: Any = None, *, validation_data: Any = None,
                 epochs: int | None = None, trial_id: str | None = None,
                 seed: int | None = None, **fit_kwargs: Any) -> keras.Model:
    """See `NasTuner.retrain_best`."""
    if x is None:
        raise ValueError("retrain_best needs the training data (x, y or a tf.data.Dataset)")
    trial, record, results = best_trial_record(tuner, trial_id)
    if epochs is None:
        epochs = retrain_epochs(results, record, default=1)
    elif type(epochs) is not int or epochs < 1:
        raise ValueError(f"retrain_best: epochs must be an int >= 1, got {epochs!r}")
    for reserved in ("epochs", "initial_epoch", "validation_data", "validation_split"):
        if reserved in fit_kwargs:
            raise ValueError(f"retrain_best sets {reserved} itself; pass epochs= or "
                             "validation_data= to it")
    fit_kwargs.setdefault("verbose", 0)
    model, seconds = train_from_scratch(
        tuner.hypermodel, trial.hyperparameters, *joined(x, y, validation_data), epochs=epochs,
        seed=seed, distribution_strategy=tuner.distribution_strategy, **fit_kwargs)
    tuner.retrained = {"trial_id": str(trial.trial_id), "epochs": int(epochs),
                       "seconds": round(seconds, 3)}
    return model
