"""The CLI's default image space builds and trains for small and MNIST-sized inputs."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytestmark = pytest.mark.tf

import keras  # noqa: E402
import keras_tuner as kt  # noqa: E402

from autokeras_nas.spaces import image_classifier, max_conv_blocks  # noqa: E402

EXPECTED_NAMES = {"conv_blocks", "kernel_size", "batch_norm", "head", "dense_units",
                  "dropout", "learning_rate"}


def _hp(build, **values):
    """HyperParameters registered by a first build, then set to `values`."""
    hp = kt.HyperParameters()
    build(hp)
    hp.values.update(values)
    return hp


def _images(shape, n=64, num_classes=10, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, *shape), dtype=np.float32), rng.integers(0, num_classes, n)


@pytest.mark.parametrize("shape, expected", [
    ((8, 8, 1), 3), ((28, 28, 1), 3), ((4, 4, 3), 2), ((2, 9, 1), 1), ((1, 1, 1), 1),
])
def test_max_conv_blocks(shape, expected):
    assert max_conv_blocks(shape) == expected


def test_first_build_registers_the_whole_space():
    build = image_classifier((8, 8, 1), 10)
    hp = kt.HyperParameters()
    build(hp)
    names = {p.name for p in hp.space}
    assert EXPECTED_NAMES | {"filters_0", "filters_1", "filters_2"} == names
    conv_blocks = next(p for p in hp.space if p.name == "conv_blocks")
    assert (conv_blocks.min_value, conv_blocks.max_value) == (1, 3)
    assert hp.get("learning_rate") == pytest.approx(1e-3)


@pytest.mark.parametrize("shape", [(8, 8, 1), (28, 28, 1)])
@pytest.mark.parametrize("blocks", ["min", "max"])
def test_builds_and_trains_one_epoch(shape, blocks):
    build = image_classifier(shape, 10)
    n_blocks = 1 if blocks == "min" else max_conv_blocks(shape)
    values = {"conv_blocks": n_blocks, "kernel_size": 5, "batch_norm": blocks == "max",
              "head": "flatten" if blocks == "min" else "global_avg", "dense_units": 32}
    values.update({f"filters_{i}": 64 for i in range(n_blocks)})
    hp = _hp(build, **values)
    model = build(hp)
    assert model.output_shape == (None, 10)
    assert model.optimizer is not None
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == n_blocks
    pooled = [layer.output.shape[1:3] for layer in model.layers
              if isinstance(layer, keras.layers.MaxPooling2D)]
    assert pooled and min(min(size) for size in pooled) >= 1
    x, y = _images(shape)
    history = model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert math.isfinite(history.history["loss"][-1])
    assert "accuracy" in history.history


def test_learns_digits_in_two_epochs():
    from autokeras_nas.data import load_dataset

    ds = load_dataset("digits", seed=0)
    build = image_classifier(ds.input_shape, ds.num_classes)
    hp = _hp(build, conv_blocks=2, filters_0=32, filters_1=32, dense_units=64,
             learning_rate=3e-3)
    keras.utils.set_random_seed(0)
    model = build(hp)
    model.fit(ds.x_train, ds.y_train, epochs=2, batch_size=32, verbose=0)
    _, accuracy = model.evaluate(ds.x_val, ds.y_val, verbose=0)
    assert accuracy > 0.7


@pytest.mark.parametrize("shape, classes", [((8, 8), 10), ((8, 8, 1, 1), 10), ((8, 8, 1), 1)])
def test_rejects_bad_arguments(shape, classes):
    with pytest.raises(ValueError):
        image_classifier(shape, classes)
