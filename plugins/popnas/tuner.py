"""`autokeras_nas.Popnas` and `autokeras_nas.Pnas` as KerasTuner tuners."""

from __future__ import annotations

import os
from typing import Any, Sequence

from autokeras_nas_plugins.popnas import strategy as strategy_module

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
