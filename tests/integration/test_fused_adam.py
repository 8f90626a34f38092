"""`fuse_adam`: Adam's update as one op per variable computes what Keras'
Adam computes, traces far fewer ops, and leaves alone what it does not
cover."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from autokeras_nas.tuner.trainers.fused_adam import fuse_adam

pytestmark = pytest.mark.tf


def _model(optimizer: keras.optimizers.Optimizer) -> keras.Model:
    keras.utils.set_random_seed(3)
    inputs = keras.Input((6,))
    x = keras.layers.Dense(8, activation="relu")(inputs)
    x = keras.layers.BatchNormalization()(x)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
    model.compile(optimizer, "sparse_categorical_crossentropy")
    return model


def _data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(64, 6)).astype("float32"), rng.integers(0, 3, 64)


def _fitted(optimizer: keras.optimizers.Optimizer, fuse: bool) -> keras.Model:
    model = _model(optimizer)
    x, y = _data()
    model._symbolic_build(data_batch=(x[:1], y[:1]))
    if fuse:
        assert fuse_adam(model.optimizer)
    model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    return model


@pytest.mark.parametrize("make", [
    lambda: keras.optimizers.Adam(0.01),
    lambda: keras.optimizers.AdamW(0.01, weight_decay=0.1),
    lambda: keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(0.01, 2, 0.5)),
], ids=["adam", "adamw", "schedule"])
def test_the_fused_update_matches_keras_adam(make) -> None:
    plain, fused = _fitted(make(), False), _fitted(make(), True)
    assert int(fused.optimizer.iterations.numpy()) == 12
    for a, b in zip(plain.optimizer.variables, fused.optimizer.variables):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-4, atol=1e-6)
    for a, b in zip(plain.get_weights(), fused.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
    # Only this object changed: its class, config and saved form are Keras' own.
    assert type(fused.optimizer) is type(plain.optimizer)
    config = fused.optimizer.get_config()
    assert config.pop("name") != plain.optimizer.name  # two objects, else alike
    assert config == {k: v for k, v in plain.optimizer.get_config().items() if k != "name"}


def _traced_ops(optimizer: keras.optimizers.Optimizer, fuse: bool) -> int:
    model = _model(optimizer)
    x, y = _data()
    model._symbolic_build(data_batch=(x[:1], y[:1]))
    if fuse:
        assert fuse_adam(model.optimizer)
    variables = model.trainable_variables
    grads = [tf.ones_like(v) for v in variables]

    @tf.function
    def step():
        model.optimizer.apply(grads, variables)

    return len(step.get_concrete_function().graph.get_operations())


def test_the_fused_update_traces_a_fraction_of_the_ops() -> None:
    plain = _traced_ops(keras.optimizers.Adam(0.01), False)
    fused = _traced_ops(keras.optimizers.Adam(0.01), True)
    assert fused < plain / 3, (fused, plain)


@pytest.mark.parametrize("optimizer", [
    keras.optimizers.Adam(amsgrad=True), keras.optimizers.SGD(),
    keras.optimizers.Adam(gradient_accumulation_steps=2), None,
], ids=["amsgrad", "sgd", "accumulation", "none"])
def test_what_the_kernel_does_not_cover_is_left_alone(optimizer) -> None:
    assert fuse_adam(optimizer) is False
    assert optimizer is None or "update_step" not in vars(optimizer)


def test_eager_and_mirrored_updates_run_keras_own_step() -> None:
    """Run eagerly, and under MirroredStrategy (mirrored variables), the
    fused optimizer takes Keras' update and still trains as Keras' does."""
    x, y = _data()
    plain = _model(keras.optimizers.Adam(0.01))
    plain.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    eager = _model(keras.optimizers.Adam(0.01))
    eager.compile(eager.optimizer, "sparse_categorical_crossentropy", run_eagerly=True)
    eager._symbolic_build(data_batch=(x[:1], y[:1]))
    assert fuse_adam(eager.optimizer)
    eager.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(plain.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
    with tf.distribute.MirroredStrategy(["/cpu:0"]).scope():
        mirrored = _model(keras.optimizers.Adam(0.01))
        mirrored._symbolic_build(data_batch=(x[:1], y[:1]))
    assert fuse_adam(mirrored.optimizer)
    mirrored.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(plain.get_weights(), mirrored.get_weights()):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
