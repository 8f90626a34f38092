"""`NasTuner.retrain_best`: the best configuration trained anew on train + validation."""

from __future__ import annotations

import keras
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits

import autokeras_nas


def _build(hp):
    model = keras.Sequential([keras.Input((64,)),
                              keras.layers.Dense(hp.Choice("units", [16, 32]), activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(hp.Choice("lr", [3e-3, 1e-2])),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    x, y = (data.data / 16.0).astype("float32"), data.target
    return (x[:1000], y[:1000]), (x[1000:1400], y[1000:1400]), (x[1400:], y[1400:])


@pytest.fixture(scope="module")
def searched(digits, tmp_path_factory):
    (x, y), val, _ = digits
    tuner = autokeras_nas.RandomSearch(_build, objective="val_accuracy", max_trials=2, seed=1,
                                       directory=str(tmp_path_factory.mktemp("s")))
    tuner.search(x, y, validation_data=val, epochs=6, verbose=0)
    return tuner


def test_retrain_best_trains_on_train_and_validation_for_the_best_epoch(digits, searched):
    (x, y), (x_val, y_val), (x_test, y_test) = digits
    seen = []

    class Count(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(batch)

    model = searched.retrain_best(x, y, validation_data=(x_val, y_val), seed=0, batch_size=100,
                                  callbacks=[Count()])
    best = searched.oracle.get_best_trials(1)[0]
    record = next(t for t in searched.oracle.results()["trials"] if t["trial_id"] == best.trial_id)
    values = [c["val_accuracy"] for c in record["curve"]]
    best_epoch = record["curve"][values.index(max(values))]["epoch"]
    assert searched.retrained == {"trial_id": best.trial_id, "epochs": best_epoch,
                                  "seconds": searched.retrained["seconds"]}
    assert len(seen) == best_epoch * 14  # 1400 samples in batches of 100, every epoch
    assert model.layers[0].units == best.hyperparameters.get("units")
    test_accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    assert test_accuracy > 0.75  # trained; an untrained net scores about 0.1 (0.84-0.9 seen)


def test_retrain_best_takes_datasets_epochs_and_a_trial(digits, searched):
    (x, y), (x_val, y_val), _ = digits
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(200)
    val = tf.data.Dataset.from_tensor_slices((x_val, y_val)).batch(200)
    trial_id = sorted(searched.oracle.trials)[0]
    model = searched.retrain_best(train, validation_data=val, epochs=2, trial_id=trial_id)
    assert searched.retrained["epochs"] == 2 and searched.retrained["trial_id"] == trial_id
    assert len(model.history.history["loss"]) == 2


def test_retrain_best_rejects_bad_input(digits, searched, tmp_path):
    (x, y), (x_val, y_val), _ = digits
    with pytest.raises(ValueError, match="no trial 'nope'"):
        searched.retrain_best(x, y, trial_id="nope")
    with pytest.raises(ValueError, match="epochs must be"):
        searched.retrain_best(x, y, epochs=0)
    with pytest.raises(ValueError, match="do not match"):
        searched.retrain_best(x, y, validation_data=(x_val[:, :10], y_val))
    with pytest.raises(ValueError, match="sets validation_split itself"):
        searched.retrain_best(x, y, validation_split=0.2)
    fresh = autokeras_nas.RandomSearch(_build, max_trials=1, directory=str(tmp_path))
    with pytest.raises(ValueError, match="no trial has finished"):
        fresh.retrain_best(x, y)
