"""The training-free proxies of `autokeras_nas.zerocost` against values
computed by hand (numpy) on tiny real Keras models."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from autokeras_nas import zerocost

pytestmark = pytest.mark.tf


def _chain(widths, *, activation="relu", out_activation=None, seed=0):
    """Bias-free dense layers of `widths` on a 3-feature input."""
    rng = np.random.default_rng(seed)
    inputs = keras.Input((3,))
    h = inputs
    for i, width in enumerate(widths):
        last = i == len(widths) - 1
        h = keras.layers.Dense(width, use_bias=False,
                               activation=out_activation if last else activation)(h)
    model = keras.Model(inputs, h)
    model.set_weights([rng.normal(size=w.shape) for w in model.get_weights()])
    return model


def test_synflow_of_a_two_layer_network_is_twice_its_path_sum() -> None:
    model = _chain([4, 2])
    w1, w2 = (np.abs(w) for w in model.get_weights())
    paths = np.ones(3) @ w1 @ w2 @ np.ones(2)  # R: every input-output path's weight product
    # Euler: in a bias-free linear network each layer's sum of w * dR/dw is R.
    assert zerocost.synflow(model) == pytest.approx(2 * paths, rel=1e-9)


def test_synflow_keeps_the_model_and_ignores_a_final_softmax() -> None:
    logits = _chain([5, 3, 4])
    probabilities = _chain([5, 3, 4], out_activation="softmax")
    before = [w.copy() for w in probabilities.get_weights()]
    assert zerocost.synflow(probabilities) == pytest.approx(zerocost.synflow(logits), rel=1e-12)
    for kept, now in zip(before, probabilities.get_weights()):
        np.testing.assert_array_equal(kept, now)  # signs and values restored
    assert probabilities.layers[-1].activation is keras.activations.softmax


def test_synflow_of_a_deep_network_does_not_overflow() -> None:
    depth, width = 40, 64
    model = _chain([width] * depth)
    model.set_weights([np.full(w.shape, 2.0) for w in model.get_weights()])
    paths = 3 * 2.0 * (width * 2.0) ** (depth - 1) * width  # far beyond float32's 3.4e38
    assert paths > 1e80
    assert zerocost.synflow(model) == pytest.approx(depth * paths, rel=1e-9)


def _softmax_regression(seed=0):
    rng = np.random.default_rng(seed)
    inputs = keras.Input((3,))
    outputs = keras.layers.Dense(4, use_bias=False, activation="softmax")(inputs)
    model = keras.Model(inputs, outputs)
    w = rng.normal(size=(3, 4))
    model.set_weights([w])
    x = rng.normal(size=(8, 3)).astype("float32")
    y = rng.integers(0, 4, size=8)
    return model, w, x, y


def test_snip_and_grad_norm_are_those_of_the_cross_entropy_gradient() -> None:
    model, w, x, y = _softmax_regression()
    logits = x.astype("float64") @ w
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    grad = x.T.astype("float64") @ (p - np.eye(4)[y]) / len(x)  # d mean CE / dW
    assert zerocost.grad_norm(model, (x, y)) == pytest.approx(np.linalg.norm(grad), rel=1e-4)
    assert zerocost.snip(model, (x, y)) == pytest.approx(np.abs(w * grad).sum(), rel=1e-4)
    # one-hot labels mean the same
    assert zerocost.snip(model, (x, np.eye(4)[y])) == pytest.approx(np.abs(w * grad).sum(),
                                                                     rel=1e-4)


def test_no_proxy_changes_batch_norm_statistics_or_weights() -> None:
    inputs = keras.Input((6, 6, 1))
    h = keras.layers.Conv2D(4, 3, padding="same")(inputs)
    h = keras.layers.BatchNormalization()(h)
    h = keras.layers.ReLU()(h)
    h = keras.layers.GlobalAveragePooling2D()(h)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(h))
    rng = np.random.default_rng(1)
    x = rng.normal(3.0, 2.0, size=(16, 6, 6, 1)).astype("float32")
    y = rng.integers(0, 3, size=16)
    before = [w.copy() for w in model.get_weights()]
    for name in zerocost.PROXIES:
        assert np.isfinite(zerocost.score(name, model, (x, y)))
    for kept, now in zip(before, model.get_weights()):
        np.testing.assert_array_equal(kept, now)


def test_jacob_cov_of_a_linear_model_is_that_of_identical_jacobians() -> None:
    # every sample's input Jacobian of a linear model is the same row: the
    # correlation matrix is all ones, eigenvalues n and n - 1 zeros
    model = _chain([4], activation=None)
    n, k = 10, 1e-5
    x = np.random.default_rng(2).normal(size=(n, 3)).astype("float32")
    expected = -((n - 1) * (np.log(k) + 1 / k) + np.log(n + k) + 1 / (n + k))
    assert zerocost.jacob_cov(model, x) == pytest.approx(expected, rel=1e-6)
    relu = _chain([16, 4])
    assert zerocost.jacob_cov(relu, x) > expected  # samples active on different units differ


def test_naswot_is_the_log_determinant_of_the_activation_codes_kernel() -> None:
    inputs = keras.Input((2,))
    outputs = keras.layers.Dense(2, use_bias=False, activation="relu")(inputs)
    model = keras.Model(inputs, outputs)
    model.set_weights([np.eye(2)])
    x = np.array([[1.0, -1.0], [-1.0, 1.0], [1.0, 1.0]], dtype="float32")
    codes = (x > 0).astype(float)
    kernel = codes @ codes.T + (1 - codes) @ (1 - codes).T
    assert zerocost.naswot(model, x) == pytest.approx(
        np.linalg.slogdet(kernel + 1e-3 * np.eye(3))[1], rel=1e-9)
    # two samples with the same code: a low but finite score
    same = zerocost.naswot(model, np.array([[1.0, -1.0], [2.0, -3.0]], dtype="float32"))
    assert np.isfinite(same) and same < zerocost.naswot(model, x[:2])


def test_bad_input_gets_one_line_errors() -> None:
    model, _, x, y = _softmax_regression()
    with pytest.raises(ValueError, match="unknown proxy 'fisher'; choose from synflow"):
        zerocost.score("fisher", model, (x, y))
    with pytest.raises(ValueError, match="snip needs labels"):
        zerocost.snip(model, x)
    with pytest.raises(ValueError, match="grad_norm needs a batch of data"):
        zerocost.grad_norm(model)
    with pytest.raises(ValueError, match="naswot needs a functional model with ReLUs"):
        zerocost.naswot(model, x)
    with pytest.raises(ValueError, match="at least 2 samples"):
        zerocost.jacob_cov(model, x[:1])
