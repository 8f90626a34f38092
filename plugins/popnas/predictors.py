"""POPNAS's predictors: replaceable components that learn from trained trials.

A predictor has `fit(X, y)` and `predict(X) -> (mean, std)` on numeric
feature rows (the space's encoding of a configuration, or a cell's
encoding). Any object with those two methods can replace the defaults.

The defaults: a random forest for the progressive (cell-space) search, as
it ranked NAS-Bench-201 cells best or close to best at every training size
and fits in well under a second; a Gaussian process for single-objective
generic searches, as it ranks floored values better and its spread grows
away from what was trained; a ridge regression on structural features for
the training time, which is close to linear in them. The paper's ensemble
of small LSTM/attention models would need TensorFlow in the strategy and
seconds per fit. Measurements and commands (`autokeras-nas bench
predictors`): docs/benchmarks.md.
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


_BLAS: Any = None


def _one_blas_thread() -> Any:
    """A context limiting BLAS to one thread: the matrices are small, the
    strategy shares the cores with training, and OpenBLAS's threads spinning
    against busy cores made a fit 3-4x slower (46 against 151 ms at 150
    rows, 0.5 against 2.3 s at 500, 2 busy cores)."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController

        _BLAS = ThreadpoolController()
    return _BLAS.limit(limits=1, user_api="blas")


class GaussianProcessPredictor:
    """Gaussian-process regression on the encoded rows, the default for
    single-objective generic spaces (NAS-Bench-201's choices, a user's
    `build_model`).

    The kernel is exp(-theta * |x - x'|^2 / 2) plus a noise term: on one-hot
    encoded choices |x - x'|^2 / 2 is the number of choices that differ, so
    this is a Hamming kernel, and its spread grows with the distance from
    every trained configuration (a forest's spread over trees does not).
    `theta` and the noise (a share of the targets' variance) maximise the
    marginal likelihood over a small grid; the targets are standardised.
    One fit is one eigendecomposition of an n x n matrix per theta.

    Args:
        thetas: Grid of the kernel's inverse length scale.
        noises: Grid of the noise variance, relative to the targets'.
    """

    def __init__(self, thetas: tuple[float, ...] = (0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5),
                 noises: tuple[float, ...] = (0.01, 0.05, 0.2, 0.5)) -> None:
        self.thetas = tuple(float(t) for t in thetas)
        self.noises = tuple(float(n) for n in noises)
        self.theta = self.noise = 0.0
        self._X = self._basis = self._alpha = None
        self._mean, self._scale = 0.0, 1.0

    @staticmethod
    def _half_sq_distances(A: np.ndarray, B: np.ndarray) -> np.ndarray:
        a, b = (A * A).sum(axis=1), (B * B).sum(axis=1)
        return np.maximum(a[:, None] + b[None, :] - 2.0 * A @ B.T, 0.0) / 2.0

    def fit(self, X: np.ndarray, y: np.ndarray) -> "GaussianProcessPredictor":
        with _one_blas_thread():
            return self._fit(np.asarray(X, float), np.asarray(y, float))

    def _fit(self, X: np.ndarray, y: np.ndarray) -> "GaussianProcessPredictor":
        self._mean, self._scale = float(y.mean()), float(y.std()) or 1.0
        z = (y - self._mean) / self._scale
        D = self._half_sq_distances(X, X)
        best = None
        for theta in self.thetas:
            # One eigendecomposition per theta serves every noise level:
            # K + noise I = Q diag(eig + noise) Q^T.
            eig, Q = np.linalg.eigh(np.exp(-theta * D))
            eig = np.maximum(eig, 0.0)
            proj = Q.T @ z
            for noise in self.noises:
                shifted = eig + noise
                likelihood = -0.5 * float(np.sum(proj ** 2 / shifted)) - 0.5 * float(np.log(shifted).sum())
                if best is None or likelihood > best[0]:
                    best = (likelihood, theta, noise, Q, shifted, proj)
        _, self.theta, self.noise, Q, shifted, proj = best
        self._basis = Q / np.sqrt(shifted)       # (K + noise I)^-1 = basis @ basis.T
        self._alpha = Q @ (proj / shifted)
        self._X = X
        return self

    def predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        with _one_blas_thread():
            return self._predict(np.asarray(X, float))

    def _predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        Ks = np.exp(-self.theta * self._half_sq_distances(X, self._X))
        v = Ks @ self._basis
        variance = np.maximum(1.0 - (v * v).sum(axis=1), 1e-12)
        return self._mean + self._scale * (Ks @ self._alpha), self._scale * np.sqrt(variance)


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
