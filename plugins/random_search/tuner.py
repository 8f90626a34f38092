"""`autokeras_nas.RandomSearch`, `Hyperband` and `GridSearch`: drop-ins for
KerasTuner's tuners of the same names."""

from __future__ import annotations

from typing import Any

from autokeras_nas import core
from autokeras_nas.tuner import StrategyTuner
from autokeras_nas_plugins.random_search.grid import GridStrategy
from autokeras_nas_plugins.random_search.strategy import RandomStrategy


class RandomSearch(StrategyTuner):
    """Random search, optionally with early stopping, as a KerasTuner tuner.

    Takes the arguments of `keras_tuner.RandomSearch`, in the same order, so
    replacing `keras_tuner.RandomSearch(build_model, ...)` by
    `autokeras_nas.RandomSearch(build_model, ...)` keeps a script working;
    it adds per-trial cost metrics, `results.json`, and early stopping:
    `early_stopping="asha"` (asynchronous successive halving, eta=3, rungs at
    1, 3, 9, ... epochs), "median", or a rule such as
    `autokeras_nas.ASHA(min_epochs=1, max_epochs=27, eta=3)`. Trials are
    trained for the `epochs` given to `search`; the rule stops the
    unpromising ones early.
    """

    strategy_class = RandomStrategy


class Hyperband(StrategyTuner):
    """Hyperband as a drop-in for `keras_tuner.Hyperband`, same signature.

    It is random search (`RandomStrategy`) under Hyperband's synchronous
    brackets (`autokeras_nas.core.Hyperband`, Li et al. 2018): the schedule
    KerasTuner's `Hyperband` runs, so a script moved over trains as many
    configurations for as many epochs. Each bracket first trains its
    configurations for a few epochs; the best `1/factor` of a rung continue
    from their checkpoint (weights, optimizer state, epoch counter) up to
    `max_epochs`. The `epochs` given to `search` are replaced by the
    schedule's, as in KerasTuner. The search ends after
    `hyperband_iterations` runs of the brackets (or at `max_trials` or the
    `time_budget`, when given; the end of a time budget goes to the leader,
    trained on with an annealed learning rate, see
    `autokeras_nas.core.ASHA`). For the asynchronous variant, which never
    waits for a rung to fill, use `RandomSearch(..., early_stopping="asha")`.
    """

    strategy_class = RandomStrategy
    default_max_trials = None
    kwargs_doc = ("`max_trials` and `time_budget` (limits besides the schedule), `progress`, "
                  "`trial_timeout`, ... as for `autokeras_nas.NasTuner` (not `early_stopping`: "
                  "the schedule is Hyperband's); `directory`, `project_name`, `overwrite`, "
                  "`distribution_strategy`, ... as for `keras_tuner.Tuner`.")

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_epochs: int = 100,
        factor: int = 3,
        hyperband_iterations: int | None = 1,
        seed: int | None = None,
        hyperparameters: Any = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        **kwargs: Any,
    ) -> None:
        """Args:
            max_epochs: Epochs of the top rung (the most a configuration trains).
            factor: Reduction factor between rungs (at least 2).
            hyperband_iterations: Times the brackets are run; `0` or `None`: without
                end (then `max_trials` or `time_budget` ends the search).
        """
        if "early_stopping" in kwargs:
            raise ValueError("Hyperband schedules its own trials; use "
                             "autokeras_nas.RandomSearch to choose early_stopping")
        if type(factor) is not int or factor < 2:
            raise ValueError(f"factor must be an int >= 2, got {factor!r}")
        schedule = core.Hyperband(max_epochs=max_epochs, eta=factor,
                                  iterations=hyperband_iterations or None)
        super().__init__(hypermodel, objective, kwargs.pop("max_trials", None), seed,
                         hyperparameters, tune_new_entries, allow_new_entries,
                         max_retries_per_trial, max_consecutive_failed_trials,
                         early_stopping=schedule, **kwargs)


class GridSearch(StrategyTuner):
    """Grid search as a drop-in for `keras_tuner.GridSearch`, same signature.

    Every combination of the hyperparameters' values is tried once, in
    order (see `GridStrategy` for the order and the grid of a continuous
    `Float`); the search ends when the grid is exhausted or at `max_trials`
    (default `None`: no limit, as in KerasTuner). Early stopping
    (`early_stopping="asha"`) works as for `RandomSearch`.
    """

    strategy_class = GridStrategy
    default_max_trials = None
