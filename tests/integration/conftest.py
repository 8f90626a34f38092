"""Shared fixtures of the TensorFlow tests: tiny real data, tiny real models."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest


@pytest.fixture(scope="session")
def digits():
    """scikit-learn's digits, flattened and scaled: (x_train, y_train, x_val, y_val)."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    y = y.astype("int32")
    rng = np.random.default_rng(0)
    idx = rng.permutation(len(x))
    train, val = idx[:1200], idx[1200:1500]
    return x[train], y[train], x[val], y[val]


def keras_io_build_model(hp):
    """The build_model of keras.io's KerasTuner guide, on 64 inputs."""
    import keras

    model = keras.Sequential()
    model.add(keras.layers.Flatten())
    for i in range(hp.Int("num_layers", 1, 3)):
        model.add(
            keras.layers.Dense(
                units=hp.Int(f"units_{i}", min_value=32, max_value=128, step=32),
                activation=hp.Choice("activation", ["relu", "tanh"]),
            )
        )
    if hp.Boolean("dropout"):
        model.add(keras.layers.Dropout(rate=0.25))
    model.add(keras.layers.Dense(10, activation="softmax"))
    learning_rate = hp.Float("lr", min_value=1e-4, max_value=1e-2, sampling="log")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


@pytest.fixture
def build_model():
    return keras_io_build_model


def choose_model(hp, first=("relu", "tanh", "skip")):
    """A user's one-shot builder: two layers written with `choose` on digits'
    64 inputs (`first`: which of relu, tanh and skip the first one offers)."""
    import keras

    from autokeras_nas import oneshot

    candidates = {"relu": lambda: keras.layers.Dense(32, activation="relu"),
                  "tanh": lambda: keras.layers.Dense(32, activation="tanh"),
                  "skip": lambda: keras.layers.Identity()}
    inputs = keras.Input((64,))
    x = keras.layers.Dense(32, activation="relu")(inputs)
    x = oneshot.choose(hp, "first", {name: candidates[name] for name in first})(x)
    x = oneshot.choose(hp, "second", {
        "bn": lambda: keras.Sequential([keras.layers.Dense(32, activation="relu"),
                                        keras.layers.BatchNormalization()]),
        "zero": oneshot.zero,
    })(x)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
    model.compile(optimizer=keras.optimizers.Adam(1e-2),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.fixture(scope="session")
def choose_builder():
    """`choose_model`: a user's `build_model(hp)` written with `choose`."""
    return choose_model


@pytest.fixture(scope="session")
def search_choose_space(tmp_path_factory, digits, choose_builder):
    """A function: `tuner_class(choose_builder, "val_accuracy", seed=0,
    **kwargs)` searched on `digits` (batch 64, Keras' seeds set to 0) in a
    fresh directory; it returns the tuner, its results.json and the training
    data `(x, y)`."""
    import json

    import keras

    def search(tuner_class, **kwargs):
        x, y, xv, yv = digits
        root = tmp_path_factory.mktemp(tuner_class.__name__)
        keras.utils.set_random_seed(0)
        tuner = tuner_class(choose_builder, "val_accuracy", seed=0, directory=str(root),
                            project_name="p", **kwargs)
        tuner.search(x, y, validation_data=(xv, yv), batch_size=64, verbose=0)
        results = json.loads((root / "p" / "results.json").read_text())
        return tuner, results, (x, y)

    return search
