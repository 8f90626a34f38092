"""`autokeras_nas.Popnas` and `autokeras_nas.Pnas` as KerasTuner tuners."""

from __future__ import annotations

import os
from typing import Any

from autokeras_nas_plugins.popnas import strategy as strategy_module

from autokeras_nas import results as results_module
from autokeras_nas.report import pareto_axes, pareto_plot, predictor_correlations
from autokeras_nas.tuner import CellHyperModel, NasTuner

PLOT_FILENAME = "pareto.png"


class Popnas(NasTuner):
    """POPNAS as a drop-in for `keras_tuner.RandomSearch`.

    With a `CellHyperModel` (or only `input_shape` and `num_classes`) the
    search is progressive over cells; with your own `build_model(hp)` it is
    Pareto SMBO over its hyperparameters (one objective: a Gaussian process,
    restarted with fresh random trials when `restart_patience` trials bring
    no new best). After `search`, `pareto.png` in
    the search directory plots the Pareto front: the first two objectives
    of a multi-objective search, else accuracy against training time; and
    `predictor_correlations()` reports how well the predictors ranked the
    trained cells (Spearman).

    Args:
        hypermodel: A `CellHyperModel`, a `build_model(hp)` or a HyperModel;
            `None` with `input_shape` and `num_classes` builds a CellHyperModel.
        objective, max_trials, seed, hyperparameters, tune_new_entries,
        allow_new_entries, max_retries_per_trial,
        max_consecutive_failed_trials: As for `keras_tuner.RandomSearch`.
        k, k_initial, n_explore, n_init, n_candidates, kappa, floor_quantile,
        restart_patience, accuracy_predictor, time_predictor: See the strategy.
        input_shape, num_classes, max_blocks: For the default CellHyperModel.
        **kwargs: As for `autokeras_nas.NasTuner`.
    """

    mode = "popnas"

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = "val_accuracy",
        max_trials: int = 100,
        seed: int | None = None,
        hyperparameters: Any = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        k: int = 8,
        k_initial: int | None = None,
        n_explore: int = 2,
        n_init: int = 10,
        n_candidates: int = 200,
        kappa: float | None = None,
        floor_quantile: float = 0.5,
        restart_patience: int | None = 20,
        accuracy_predictor: Any = None,
        time_predictor: Any = None,
        input_shape: Any = None,
        num_classes: int | None = None,
        max_blocks: int = 3,
        early_stopping: Any = None,
        **kwargs: Any,
    ) -> None:
        if hypermodel is None:
            if input_shape is None or num_classes is None:
                raise ValueError(f"{type(self).__name__} needs a hypermodel, or input_shape and num_classes")
            hypermodel = CellHyperModel(input_shape, num_classes, max_blocks=max_blocks)
        strategy = strategy_module.Popnas(
            mode=self.mode, k=k, k_initial=k_initial, n_explore=n_explore, n_init=n_init,
            n_candidates=n_candidates, kappa=kappa, floor_quantile=floor_quantile,
            restart_patience=restart_patience, accuracy_predictor=accuracy_predictor,
            time_predictor=time_predictor, seed=seed,
            cells=hypermodel.cells if isinstance(hypermodel, CellHyperModel) else None,
        )
        super().__init__(
            hypermodel, strategy=strategy, objective=objective, max_trials=max_trials,
            early_stopping=early_stopping, hyperparameters=hyperparameters,
            tune_new_entries=tune_new_entries, allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials, **kwargs,
        )

    def search(self, *args: Any, **kwargs: Any) -> None:
        super().search(*args, **kwargs)
        results = self.oracle.results()
        pareto_plot(results, os.path.join(self.project_dir, PLOT_FILENAME),
                    **pareto_axes(results))

    def predictor_correlations(self) -> dict[str, dict[str, float]]:
        """Spearman correlations of predicted against actual accuracy and
        time per epoch, overall and per number of blocks."""
        return predictor_correlations(results_module.read_results(self.project_dir))


class Pnas(Popnas):
    """POPNAS in PNAS mode: the top `k` cells by predicted accuracy, no
    time objective. Same arguments as `Popnas`."""

    mode = "pnas"
