"""`autokeras_nas.Popnas`, `autokeras_nas.Pnas` and `autokeras_nas.BayesianOptimization`
as KerasTuner tuners."""

from __future__ import annotations

import functools
import os
from typing import Any, Sequence

from autokeras_nas_plugins.popnas import strategy as strategy_module
from autokeras_nas_plugins.popnas.predictors import GaussianProcessPredictor

from autokeras_nas import results as results_module
from autokeras_nas.report import pareto_axes, pareto_plot, predictor_correlations
from autokeras_nas.tuner import CellHyperModel, StrategyTuner

PLOT_FILENAME = "pareto.png"


class Popnas(StrategyTuner):
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
    """

    strategy_class = strategy_module.Popnas
    #: The cells come from the `CellHyperModel` (`use_space`); the class fixes the mode.
    hidden_arguments = ("mode", "cells")

    @classmethod
    def default_hypermodel(cls, *, input_shape: Sequence[int] | None = None,
                           num_classes: int | None = None,
                           max_blocks: int | None = None) -> CellHyperModel | None:
        """A `CellHyperModel` for `input_shape` and `num_classes`.

        Args:
            input_shape: `(height, width, channels)` or `(steps, channels)`,
                for the default `CellHyperModel`.
            num_classes: Number of classes, for the default `CellHyperModel`.
            max_blocks: B, the most blocks of a cell of the default
                `CellHyperModel`; `None`: its default.
        """
        if input_shape is None or num_classes is None:
            return None
        options = {} if max_blocks is None else {"max_blocks": max_blocks}
        return CellHyperModel(input_shape, num_classes, **options)

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
    time objective."""

    strategy_class = strategy_module.Pnas


class BayesianOptimization(StrategyTuner):
    """Bayesian optimization as a drop-in for `keras_tuner.BayesianOptimization`,
    same signature.

    It is POPNAS's generic mode (`autokeras_nas_plugins.popnas.strategy.Popnas`
    on a `build_model(hp)`), this package's Gaussian-process search: after
    `num_initial_points` random configurations, each trial is the candidate
    with the largest upper confidence bound, the predicted objective plus
    `beta` times its predicted spread, as in KerasTuner. It differs where it
    measured better on NAS-Bench-201: the kernel counts differing choices
    (a Hamming kernel; KerasTuner's is a Matern kernel on the values), the
    noise level is chosen by the marginal likelihood among `alpha` and a
    small grid instead of fixed at `alpha`, the model is fitted on floored
    and warped values, and the search restarts from random configurations
    when it stalls (`restart_patience`). With several objectives the model
    is a random forest per objective and the acquisition the hypervolume
    improvement.
    """

    strategy_class = strategy_module.Popnas
    #: Set from KerasTuner's arguments or fixed by the generic mode.
    hidden_arguments = ("mode", "cells", "k", "k_initial", "n_explore", "n_init", "kappa",
                        "accuracy_predictor", "time_predictor")

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: int = 10,
        num_initial_points: int | None = None,
        alpha: float = 0.0001,
        beta: float = 2.6,
        seed: int | None = None,
        hyperparameters: Any = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        **kwargs: Any,
    ) -> None:
        """Args:
            num_initial_points: Random configurations before the model; `None`:
                three per hyperparameter, at least 3.
            alpha: A noise variance (relative to the objective's, which is
                standardised) the Gaussian process may choose; the marginal
                likelihood chooses among it and 0.01, 0.05, 0.2, 0.5.
            beta: Weight of the predicted spread in the upper confidence
                bound (exploration).
        """
        if not (isinstance(alpha, (int, float)) and alpha > 0):
            raise ValueError(f"alpha must be a number > 0, got {alpha!r}")
        if not (isinstance(beta, (int, float)) and beta >= 0):
            raise ValueError(f"beta must be a number >= 0, got {beta!r}")
        self._bayesian = {"n_init": num_initial_points, "kappa": float(beta),
                          "noises": tuple(sorted({float(alpha), *GaussianProcessPredictor().noises})),
                          "several": isinstance(objective, (list, tuple)) and len(objective) > 1}
        super().__init__(hypermodel, objective, max_trials, seed, hyperparameters,
                         tune_new_entries, allow_new_entries, max_retries_per_trial,
                         max_consecutive_failed_trials, **kwargs)

    def make_strategy(self, **strategy_kwargs: Any) -> Any:
        options = self._bayesian
        if not options["several"]:
            strategy_kwargs["accuracy_predictor"] = functools.partial(
                _gaussian_process, noises=options["noises"])
        return super().make_strategy(n_init=options["n_init"], kappa=options["kappa"],
                                     **strategy_kwargs)


def _gaussian_process(seed: int, *, noises: tuple[float, ...]) -> GaussianProcessPredictor:
    """The single-objective model of `BayesianOptimization`: the default
    Gaussian process, with `alpha` among its noise levels."""
    return GaussianProcessPredictor(noises=noises)
