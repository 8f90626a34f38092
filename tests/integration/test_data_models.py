"""Datasets from `csv:` and `images:` train tiny real Keras models (a few seconds)."""

from __future__ import annotations

import csv
from pathlib import Path

import keras
import numpy as np
import pytest
from PIL import Image

from autokeras_nas.data import Dataset, load_dataset

pytestmark = pytest.mark.tf


def _fit(ds: Dataset, body: list, epochs: int) -> float:
    """Validation accuracy of a small model trained on `ds`."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(ds.input_shape), *body,
                              keras.layers.Dense(ds.num_classes, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(ds.x_train, ds.y_train, validation_data=(ds.x_val, ds.y_val),
                        epochs=epochs, batch_size=16, verbose=0)
    return float(history.history["val_accuracy"][-1])


def test_csv_iris_trains(tmp_path: Path) -> None:
    from sklearn.datasets import load_iris

    iris = load_iris()
    path = tmp_path / "iris.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["species", *iris.feature_names])
        writer.writerows([iris.target_names[t], *row] for row, t in zip(iris.data, iris.target))
    ds = load_dataset(f"csv:{path}", target="species", seed=0)
    assert _fit(ds, [keras.layers.Dense(16, activation="relu")], epochs=30) >= 0.85


def test_image_folder_trains(tmp_path: Path) -> None:
    """Two classes that differ in brightness, as PNG files."""
    rng = np.random.default_rng(0)
    for name, low in (("dark", 0), ("light", 120)):
        (tmp_path / name).mkdir()
        for i in range(30):
            pixels = rng.integers(low, low + 136, (8, 8), dtype=np.uint8)
            Image.fromarray(pixels, "L").save(tmp_path / name / f"{i}.png")
    ds = load_dataset(f"images:{tmp_path}", seed=0)
    assert ds.input_shape == (8, 8, 1)
    body = [keras.layers.Conv2D(4, 3, activation="relu"), keras.layers.GlobalAveragePooling2D()]
    assert _fit(ds, body, epochs=15) >= 0.9
