"""`autokeras_nas.AgingEvolution`: regularized evolution as a KerasTuner tuner."""

from __future__ import annotations

from autokeras_nas.tuner import StrategyTuner
from autokeras_nas_plugins.aging_evolution import strategy as strategy_module


class AgingEvolution(StrategyTuner):
    """Regularized (aging) evolution as a drop-in for `keras_tuner.RandomSearch`.

    Takes the arguments of `keras_tuner.RandomSearch` in the same order, then
    the evolution's own; with several objectives the tournaments rank by
    Pareto front.

        tuner = autokeras_nas.AgingEvolution(
            build_model, objective="val_accuracy", max_trials=50,
            population_size=10, sample_size=5)
        tuner.search(x, y, validation_data=(x_val, y_val), epochs=5)
    """

    strategy_class = strategy_module.AgingEvolution
