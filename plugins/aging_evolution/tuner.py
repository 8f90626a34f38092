"""`autokeras_nas.AgingEvolution`: regularized evolution as a KerasTuner tuner."""

from __future__ import annotations

from typing import Any

from autokeras_nas.tuner import NasTuner
from autokeras_nas_plugins.aging_evolution import strategy as strategy_module


class AgingEvolution(NasTuner):
    """Regularized (aging) evolution as a drop-in for `keras_tuner.RandomSearch`.

    Takes the arguments of `keras_tuner.RandomSearch` in the same order, then
    the evolution's own. See
    `autokeras_nas_plugins.aging_evolution.AgingEvolution` for the method.

        tuner = autokeras_nas.AgingEvolution(
            build_model, objective="val_accuracy", max_trials=50,
            population_size=10, sample_size=5)
        tuner.search(x, y, validation_data=(x_val, y_val), epochs=5)

    Args:
        hypermodel: A `build_model(hp)` function or a `keras_tuner.HyperModel`.
        objective: Metric name, `keras_tuner.Objective`, or a list of them
            (several objectives: Pareto tournaments).
        max_trials: Maximum number of trials.
        seed: Seed of the strategy's generator.
        hyperparameters, tune_new_entries, allow_new_entries,
        max_retries_per_trial, max_consecutive_failed_trials: As for
            `keras_tuner.RandomSearch`.
        population_size: P, the number of most recent results kept
            (default 12, at most a quarter of `max_trials`).
        sample_size: S, the tournament size (default 10/12 of P).
        mutations: `None` (one hyperparameter changes), "large-scale"
            (Real et al. 2017), or rules; see the strategy.
        inherit_weights: Whether children start from their parent's weights.
        early_stopping: `None`, "asha", "median" or a stopping rule.
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
        population_size: int | None = None,
        sample_size: int | None = None,
        mutations: Any = None,
        inherit_weights: bool | None = None,
        early_stopping: Any = None,
        **kwargs: Any,
    ) -> None:
        strategy = strategy_module.AgingEvolution(
            population_size=population_size,
            sample_size=sample_size,
            mutations=mutations,
            inherit_weights=inherit_weights,
            seed=seed,
        )
        super().__init__(
            hypermodel,
            strategy=strategy,
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
