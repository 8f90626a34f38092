"""A user's batched `tf.data.Dataset` (training and validation) works from
Python with every tuner: `RandomSearch` under ASHA (promoted trials continue
their fit), `AgingEvolution`, `Popnas` (cells), `Nash` (morphisms), the
KerasTuner drop-ins `Hyperband`, `GridSearch` and `BayesianOptimization`,
and the one-shot `SPOS` and `RandomWS` (supernet, estimates, retrains)."""

from __future__ import annotations

import functools
import json

import keras
import numpy as np
import pytest
import tensorflow as tf

import autokeras_nas
from autokeras_nas.spaces.image import image_classifier
from autokeras_nas.tuner import CellHyperModel

pytestmark = pytest.mark.tf

SHAPE = (8, 8, 1)


def _pipelines(digits, shape, batch_size=64):
    """Training (shuffled every epoch) and validation pipelines, batched."""
    x, y, xv, yv = digits
    x, xv = x[:600].reshape(-1, *shape), xv.reshape(-1, *shape)
    train = tf.data.Dataset.from_tensor_slices((x, y[:600])).shuffle(600, seed=0).batch(batch_size)
    val = tf.data.Dataset.from_tensor_slices((xv, yv)).batch(batch_size)
    return train, val


def _trials(tuner) -> list[dict]:
    with open(f"{tuner.project_dir}/results.json") as f:
        return json.load(f)["trials"]


def _check(tuner, n_trials: int | None = None) -> list[dict]:
    trials = _trials(tuner)
    assert trials and all(t["status"] == "completed" for t in trials), trials
    assert n_trials is None or len(trials) == n_trials
    model = tuner.get_best_models(1)[0]
    assert model.predict(np.zeros((2, *model.inputs[0].shape[1:])), verbose=0).shape[0] == 2
    return trials


def test_random_search_with_asha_promotes_on_tf_data(tmp_path, digits) -> None:
    train, val = _pipelines(digits, SHAPE)
    # Rungs at 1 and 3 epochs (eta 3): once 3 configurations have their
    # 1-epoch result, the 4th trial is the promotion of the best of them.
    tuner = autokeras_nas.RandomSearch(image_classifier(SHAPE, 10), "val_accuracy", 4, seed=0,
                                       early_stopping="asha", directory=str(tmp_path),
                                       project_name="random", latency_repeats=2)
    tuner.search(train, validation_data=val, epochs=3, verbose=0)
    trials = _check(tuner, 4)
    assert [t for t in trials if t["continues"] is not None], "no trial was promoted"
    assert all(0 <= t["metrics"]["val_accuracy"] <= 1 and t["metrics"]["latency_ms"] > 0
               for t in trials)


def test_aging_evolution_on_tf_data(tmp_path, digits) -> None:
    train, val = _pipelines(digits, SHAPE)
    # A population of 3 random ones, then a mutation.
    tuner = autokeras_nas.AgingEvolution(image_classifier(SHAPE, 10), "val_accuracy", 4,
                                         seed=0, population_size=3, sample_size=2,
                                         directory=str(tmp_path), project_name="aging",
                                         latency_repeats=2)
    tuner.search(train, validation_data=val, epochs=1, verbose=0)
    trials = _check(tuner, 4)
    assert trials[-1]["notes"]["origin"] == "mutation", [t["notes"] for t in trials]


def test_popnas_on_tf_data(tmp_path, digits) -> None:
    train, val = _pipelines(digits, SHAPE)
    hypermodel = CellHyperModel(SHAPE, 10, ops=("identity", "conv3x3", "maxpool3x3"),
                                max_blocks=2, motifs=1, filters=8)
    # 3 cells at random, then one the predictor chose.
    tuner = autokeras_nas.Popnas(hypermodel, objective="val_accuracy", max_trials=4, seed=0,
                                 k=2, n_explore=1, k_initial=3, directory=str(tmp_path),
                                 project_name="popnas", latency_repeats=2)
    tuner.search(train, validation_data=val, epochs=1, verbose=0)
    trials = _check(tuner, 4)
    assert all(t["notes"]["predicted_accuracy"] is not None for t in trials[3:])


def test_nash_on_tf_data(tmp_path, digits) -> None:
    train, val = _pipelines(digits, SHAPE)
    tuner = autokeras_nas.Nash(input_shape=SHAPE, num_classes=10, objective="val_accuracy",
                               max_trials=4, seed=0, n_neigh=2, n_nm=2, epochs_start=1,
                               epochs_neigh=1, epochs_final=1, directory=str(tmp_path),
                               project_name="nash", latency_repeats=2)
    tuner.search(train, validation_data=val, verbose=0)
    trials = _check(tuner)
    assert [t for t in trials if t["parent_id"] is not None], "no child was morphed"


def test_hyperband_on_tf_data(tmp_path, digits) -> None:
    train, val = _pipelines(digits, SHAPE)
    # The first bracket only (max_trials=4): 3 configurations for 1 epoch, then
    # the best of them continues to 3 epochs.
    tuner = autokeras_nas.Hyperband(image_classifier(SHAPE, 10), "val_accuracy", max_epochs=3,
                                    factor=3, seed=0, max_trials=4, directory=str(tmp_path),
                                    project_name="hyperband", latency_repeats=2)
    tuner.search(train, validation_data=val, verbose=0)
    trials = _check(tuner)
    assert len(trials) >= 4 and max(t["metrics"]["epochs"] for t in trials) >= 2


@pytest.mark.parametrize("name", ["GridSearch", "BayesianOptimization"])
def test_keras_tuner_drop_ins_on_tf_data(tmp_path, digits, name) -> None:
    train, val = _pipelines(digits, SHAPE)
    tuner = getattr(autokeras_nas, name)(image_classifier(SHAPE, 10), "val_accuracy", 2, seed=0,
                                         directory=str(tmp_path), project_name=name,
                                         latency_repeats=2)
    tuner.search(train, validation_data=val, epochs=1, verbose=0)
    _check(tuner, 2)


@pytest.mark.parametrize("name", ["SPOS", "RandomWS"])
def test_oneshot_tuners_on_tf_data(tmp_path, digits, choose_builder, name) -> None:
    train, val = _pipelines(digits, (64,))
    keras.utils.set_random_seed(0)
    tuner = getattr(autokeras_nas, name)(functools.partial(choose_builder, first=("relu", "skip")),
                                         "val_accuracy", seed=0,
                                         supernet_epochs=1, candidates=2, top_k=1,
                                         retrain_epochs=1, directory=str(tmp_path),
                                         project_name=name, latency_repeats=2)
    tuner.search(train, validation_data=val, verbose=0)
    trials = _trials(tuner)
    phases = [t["notes"]["phase"] for t in trials]
    assert phases[0] == "supernet" and "search" in phases and phases[-1] == "retrain", phases
    assert all(t["status"] == "completed" for t in trials), trials
    assert tuner.get_best_models(1)[0].count_params() > 0
