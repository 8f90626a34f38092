"""`autokeras_nas.GridSearch` tries what `keras_tuner.GridSearch` tries."""

from __future__ import annotations

import keras
import keras_tuner
import numpy as np

import autokeras_nas


def _build(hp):
    model = keras.Sequential([
        keras.Input((8,)),
        keras.layers.Dense(hp.Choice("units", [4, 8]), activation=hp.Choice("act", ["relu", "tanh"])),
        keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-2, step=9e-3)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_grid_search_tries_keras_tuners_grid_and_stops(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(60, 8)).astype("float32"), rng.integers(0, 3, 60)
    tried = {}
    for name, module in (("kt", keras_tuner), ("nas", autokeras_nas)):
        tuner = module.GridSearch(_build, objective="val_accuracy", directory=str(tmp_path),
                                  project_name=name)
        tuner.search(x, y, validation_data=(x, y), epochs=1, verbose=0)
        trials = tuner.oracle.trials.values()
        tried[name] = sorted((t.hyperparameters.get("units"), t.hyperparameters.get("act"),
                              round(t.hyperparameters.get("lr"), 6)) for t in trials)
    assert len(tried["nas"]) == 8
    assert tried["nas"] == tried["kt"]
