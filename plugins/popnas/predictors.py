"""POPNAS's predictors: replaceable components that learn from trained trials.

A predictor has `fit(X, y)` and `predict(X) -> (mean, std)` on numeric
feature rows (the space's encoding of a configuration, or a cell's
encoding). Any object with those two methods can replace the defaults.

Choice of the default accuracy predictor, by measured Spearman rank
correlation with NAS-Bench-201 CIFAR-10 mean accuracies (models fitted on n
random cells with one noisy seed each, tested on 2,000 others, 5 repetitions;
fit time on 2 busy cores):

    n     random forest (30)  extra trees (30)  extra trees (100)  grad. boosting  ridge
    50    0.47  48 ms         0.40  27 ms       0.42  95 ms        -               0.42
    150   0.69  50 ms         0.56  36 ms       0.62  134 ms       0.68  1.0 s     0.70
    500   0.81  47 ms         0.74  53 ms       0.73  417 ms       0.77  91 ms     0.67

The random forest is best or close at every size and fits in well under a
second at 500 cells; its spread over trees gives the uncertainty the
acquisition needs. POPNASv3 used an ensemble of small LSTM/attention models
over the cell's tokens; that needs TensorFlow in the strategy (which here
runs in the oracle's process, numpy only) and seconds per fit, so it is not
the default. The time predictor is a ridge regression on structural
features (in the paper, a CatBoost model on similar features): training
time is close to linear in them.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class Predictor(Protocol):
    def fit(self, X: np.ndarray, y: np.ndarray) -> "Predictor": ...

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]: ...


class ForestPredictor:
    """A random forest; the mean and the standard deviation over its trees.

    Args:
        n_estimators: Trees.
        seed: Seed of the forest.
    """

    def __init__(self, n_estimators: int = 30, seed: int = 0) -> None:
        self.n_estimators = n_estimators
        self.seed = seed
        self._model: Any = None

    def fit(self, X: np.ndarray, y: np.ndarray) -> "ForestPredictor":
        from sklearn.ensemble import RandomForestRegressor

        self._model = RandomForestRegressor(
            n_estimators=self.n_estimators, random_state=self.seed, n_jobs=1,
        ).fit(np.asarray(X, dtype=float), np.asarray(y, dtype=float))
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(X, dtype=float)
        per_tree = np.stack([tree.predict(X) for tree in self._model.estimators_])
        return per_tree.mean(axis=0), per_tree.std(axis=0)


class RidgePredictor:
    """Ridge regression (on structural features: the training-time model);
    the standard deviation is the training residuals' (the same for all).

    With `log_target` the model is fitted on log(y), and its predictions
    are kept within `max_ratio` times the range seen in training: a linear
    model in log space extrapolates exponentially, and fitted on a few
    one-block cells it predicted 2,900 s per epoch for a two-block cell
    that took 0.1 s (tutorial 5, quick budget).
    """

    def __init__(self, alpha: float = 1.0, log_target: bool = True,
                 max_ratio: float = 4.0) -> None:
        if not max_ratio >= 1:
            raise ValueError(f"max_ratio must be >= 1, got {max_ratio!r}")
        self.alpha = alpha
        self.log_target = log_target
        self.max_ratio = float(max_ratio)
        self._model: Any = None
        self._sd = 0.0
        self._bounds = (-np.inf, np.inf)

    def fit(self, X: np.ndarray, y: np.ndarray) -> "RidgePredictor":
        from sklearn.linear_model import Ridge

        target = np.log(np.maximum(np.asarray(y, float), 1e-9)) if self.log_target else np.asarray(y, float)
        self._model = Ridge(alpha=self.alpha).fit(np.asarray(X, float), target)
        self._sd = float(np.std(target - self._model.predict(np.asarray(X, float))))
        if self.log_target:
            margin = float(np.log(self.max_ratio))
            self._bounds = (float(target.min()) - margin, float(target.max()) + margin)
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean = self._model.predict(np.asarray(X, float))
        if self.log_target:
            mean = np.exp(np.clip(mean, *self._bounds))
            return mean, mean * self._sd
        return mean, np.full(len(mean), self._sd)
