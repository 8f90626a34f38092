"""The peers of `bench real`, run inside a run's own process (imports TensorFlow).

* `kt-hyperband`, `kt-random`, `kt-bayes`: KerasTuner's `Hyperband`
  (`max_epochs` 9, `factor` 3), `RandomSearch` and `BayesianOptimization`
  (`EPOCHS` per trial) on the shared small-CNN space
  `autokeras_nas.spaces.image.image_classifier`, objective `val_accuracy`,
  on the dataset's own train/validation split. KerasTuner has no time
  budget, so the one of `autokeras_nas.tuner.budget` is added as the
  package's searches have it: no trial starts after the budget, and the
  running `fit` stops at its next epoch end, keeping its metrics. Hyperband
  repeats its iterations until the budget ends it, and the others have no
  trial limit, so the budget alone ends every search.
* `dtw-1nn`: sktime's 1-nearest-neighbour classifier
  (`KNeighborsTimeSeriesClassifier(n_neighbors=1)`) with DTW distance,
  fitted on all the training series (training and validation splits). The
  distance is `dtw_pairwise`: sktime's `"dtw"` (full window, squared
  differences summed along the path) vectorised with numpy, because
  without numba installed sktime computes its `"dtw"` in pure Python
  (minutes for ItalyPowerDemand's 67 x 1,029 pairs).

A record's clock starts after the data is loaded, before the tuner is made
(as for the package's searches), and stops when the search returns.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from autokeras_nas.data import load_dataset

__all__ = ["EPOCHS", "HYPERBAND", "dtw_pairwise", "run_peer"]

#: Epochs per trial of RandomSearch and BayesianOptimization: the package's
#: search default, so the peers train each configuration as long as `random` does.
EPOCHS = 3
#: Hyperband's `max_epochs` and `factor` (rungs at 1, 3 and 9 epochs).
HYPERBAND = {"max_epochs": 9, "factor": 3}
#: Trial limit of the budgeted tuners: larger than any budget allows.
UNLIMITED = 100_000


def _pipeline(x: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle: bool,
              seed: int) -> Any:
    """The same feed as the package's searches: cached, reshuffled every epoch."""
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle:
        data = data.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _make_tuner(name: str, hypermodel: Callable, out: Path, seed: int) -> Any:
    import keras_tuner as kt

    common = {"objective": "val_accuracy", "seed": seed, "directory": str(out.parent),
              "project_name": out.name, "overwrite": True}
    if name == "kt-hyperband":
        return kt.Hyperband(hypermodel, hyperband_iterations=UNLIMITED, **HYPERBAND, **common)
    if name == "kt-random":
        return kt.RandomSearch(hypermodel, max_trials=UNLIMITED, **common)
    if name == "kt-bayes":
        return kt.BayesianOptimization(hypermodel, max_trials=UNLIMITED, **common)
    raise ValueError(f"unknown KerasTuner peer {name!r}")


def _budget_oracle(oracle: Any, budget: Any, started: float,
                   curve: list[list[float]]) -> None:
    """Makes `oracle` start no trial after `budget`, and record each trial's
    end on `curve` as (seconds since `started`, best score so far)."""
    from autokeras_nas.tuner.budget import stopped_trial

    create, end = oracle.create_trial, oracle.end_trial

    def create_trial(*args: Any, **kwargs: Any) -> Any:
        return stopped_trial() if budget.exhausted else create(*args, **kwargs)

    def end_trial(trial: Any) -> Any:
        out = end(trial)
        score = oracle.get_trial(trial.trial_id).score
        if score is not None and np.isfinite(score):
            best = max(float(score), curve[-1][1] if curve else float("-inf"))
            curve.append([round(time.monotonic() - started, 3), best])
        return out

    oracle.create_trial, oracle.end_trial = create_trial, end_trial


def _kerastuner(name: str, ds: Any, budget_s: float, seed: int, batch_size: int,
                out: Path) -> dict[str, Any]:
    import keras

    from autokeras_nas.spaces.image import image_classifier
    from autokeras_nas.tuner.budget import BudgetStop, SearchBudget

    keras.utils.set_random_seed(seed)
    started = time.monotonic()
    tuner = _make_tuner(name, image_classifier(ds.input_shape, ds.num_classes), out, seed)
    budget, curve = SearchBudget(budget_s), []
    _budget_oracle(tuner.oracle, budget, started, curve)
    train = _pipeline(ds.x_train, ds.y_train, batch_size, shuffle=True, seed=seed)
    val = _pipeline(ds.x_val, ds.y_val, batch_size, shuffle=False, seed=seed)
    budget.start()
    tuner.search(train, validation_data=val, epochs=EPOCHS, shuffle=False,
                 callbacks=[BudgetStop(budget)], verbose=0)
    wall = time.monotonic() - started
    model = tuner.get_best_models(1)[0]
    predictions = model.predict(ds.x_test, batch_size=batch_size, verbose=0)
    trials = [t for t in tuner.oracle.trials.values() if t.status == "COMPLETED"]
    best = tuner.oracle.get_best_trials(1)[0]
    return {"trials": len(trials), "best_val_accuracy": float(best.score),
            "test_accuracy": float(np.mean(np.argmax(predictions, axis=-1) == ds.y_test)),
            "wall_s": round(wall, 3), "curve": curve}


def dtw_pairwise(x: np.ndarray, x2: np.ndarray) -> np.ndarray:
    """DTW distances between every series of `x` `(m, channels, steps)` and
    of `x2` `(n, channels, steps2)`, shape `(m, n)`: the least sum of squared
    differences (over channels) along a warping path, with no window."""
    x, x2 = np.asarray(x, dtype=np.float64), np.asarray(x2, dtype=np.float64)
    targets = x2.transpose(2, 0, 1)  # (steps2, n, channels)
    previous = np.full((targets.shape[0] + 1, len(x), len(x2)), np.inf)
    previous[0] = 0.0
    for i in range(x.shape[-1]):
        local = ((x[None, :, None, :, i] - targets[:, None, :, :]) ** 2).sum(axis=-1)
        current = np.full_like(previous, np.inf)
        for j in range(len(local)):
            current[j + 1] = local[j] + np.minimum(np.minimum(previous[j + 1], previous[j]),
                                                   current[j])
        previous = current
    return previous[-1]


def _dtw_1nn(ds: Any) -> dict[str, Any]:
    from sktime.classification.distance_based import KNeighborsTimeSeriesClassifier

    started = time.monotonic()
    x = np.concatenate([ds.x_train, ds.x_val]).transpose(0, 2, 1)  # sktime: (n, channels, steps)
    y = np.concatenate([ds.y_train, ds.y_val])
    classifier = KNeighborsTimeSeriesClassifier(n_neighbors=1, distance=dtw_pairwise,
                                                distance_mtype="numpy3D")
    classifier.fit(x, y)
    predicted = classifier.predict(ds.x_test.transpose(0, 2, 1))
    return {"trials": 1, "best_val_accuracy": None,
            "test_accuracy": float(np.mean(np.asarray(predicted) == ds.y_test)),
            "wall_s": round(time.monotonic() - started, 3), "curve": []}


def run_peer(name: str, *, dataset: str, budget_s: float, seed: int, batch_size: int,
             validation_split: float, out: Path) -> dict[str, Any]:
    """One peer's run on `dataset` (split by `seed` and `validation_split` as
    the package's search splits it); its record for `bench real`.

    Raises:
        ValueError: an unknown peer, or the dataset cannot be loaded.
    """
    ds = load_dataset(dataset, seed=seed, validation_split=validation_split)
    if name == "dtw-1nn":
        return _dtw_1nn(ds)
    return _kerastuner(name, ds, budget_s, seed, batch_size, Path(out))
