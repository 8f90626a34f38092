"""`autokeras_nas.RandomSearch`: a drop-in for `keras_tuner.RandomSearch`."""

from __future__ import annotations

from autokeras_nas.tuner import StrategyTuner
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
