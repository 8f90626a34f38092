"""`autokeras_nas.RandomSearch`: a drop-in for `keras_tuner.RandomSearch`."""

from __future__ import annotations

from typing import Any

from autokeras_nas.tuner import NasTuner
from autokeras_nas_plugins.random_search.strategy import RandomStrategy


class RandomSearch(NasTuner):
    """Random search, optionally with early stopping, as a KerasTuner tuner.

    Takes the arguments of `keras_tuner.RandomSearch`, in the same order, so
    replacing `keras_tuner.RandomSearch(build_model, ...)` by
    `autokeras_nas.RandomSearch(build_model, ...)` keeps a script working;
    it adds per-trial cost metrics, `results.json`, and early stopping.

    Args:
        hypermodel: A `build_model(hp)` function or a `keras_tuner.HyperModel`.
        objective: Metric name, `keras_tuner.Objective`, or a list of them.
        max_trials: Maximum number of trials.
        seed: Seed of the strategy's generator.
        hyperparameters, tune_new_entries, allow_new_entries,
        max_retries_per_trial, max_consecutive_failed_trials: As for
            `keras_tuner.RandomSearch`.
        early_stopping: `None`, "asha" (asynchronous successive halving,
            eta=3, rungs at 1, 3, 9, ... epochs), "median", or a rule such as
            `autokeras_nas.ASHA(min_epochs=1, max_epochs=27, eta=3)`. Trials
            are trained for the `epochs` given to `search`; the rule stops the
            unpromising ones early.
        **kwargs: `directory`, `project_name`, `overwrite`,
            `distribution_strategy`, ... as for `keras_tuner.Tuner`, and
            `progress` as for `autokeras_nas.NasTuner`.
    """

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int = 10,
        seed: int | None = None,
        hyperparameters: Any = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        early_stopping: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            hypermodel,
            strategy=RandomStrategy(seed=seed),
            objective=objective,
            max_trials=max_trials,
            early_stopping=early_stopping,
            hyperparameters=hyperparameters,
            tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            **kwargs,
        )
