"""Activation memory of supernet training (TensorFlow's CPU allocator peak
over one epoch): only the sampled or fixed path's memory is held, so a
cheap fixed path costs far less than the largest one, and all paths
together cost about twice the largest. TensorFlow keeps allocator
statistics only with oneDNN on, and the package turns it off in other
tests' processes, so the measurement runs in a fresh interpreter."""

import textwrap

import pytest

from autokeras_nas.testing.cli import run_script_result

pytestmark = pytest.mark.tf

SCRIPT = textwrap.dedent('''
    import json
    import keras, keras_tuner, numpy as np
    from keras import layers
    from autokeras_nas.oneshot import build_supernet, choose, set_paths
    from autokeras_nas.oneshot.memory import training_tensor_peak_mb

    def conv(k):
        return lambda: keras.Sequential([
            layers.ReLU(), layers.Conv2D(16, k, padding="same", use_bias=False),
            layers.BatchNormalization()])

    def build(hp):
        inputs = keras.Input((16, 16, 3))
        x = layers.Conv2D(16, 3, padding="same")(inputs)
        for i in range(4):
            x = choose(hp, f"op{i}", {
                "conv1": conv(1), "conv3": conv(3), "conv5": conv(5),
                "pool": lambda: layers.AveragePooling2D(3, 1, padding="same"),
                "skip": lambda: layers.Identity()})(x)
        x = layers.GlobalAveragePooling2D()(x)
        model = keras.Model(inputs, layers.Dense(10, activation="softmax")(x))
        model.compile("sgd", "sparse_categorical_crossentropy")
        return model

    rng = np.random.default_rng(0)
    x, y = rng.random((64 * 6, 16, 16, 3), dtype="float32"), rng.integers(0, 10, 64 * 6)

    def peak(model):
        """MiB of TensorFlow's allocator peak over one epoch."""
        return training_tensor_peak_mb(model, x, y, batch_size=64)

    out = {}
    for mode in ("single", "all"):
        keras.utils.set_random_seed(0)
        out[mode] = peak(build_supernet(build, keras_tuner.HyperParameters(), mode=mode))
    for path in ("conv5", "skip"):
        keras.utils.set_random_seed(0)
        supernet = build_supernet(build, keras_tuner.HyperParameters())
        set_paths(supernet, {f"op{i}": path for i in range(4)})
        out[path] = peak(supernet)
    print("RESULT " + json.dumps(out))
''')


def test_single_path_holds_one_paths_memory_and_all_paths_more():
    mb = run_script_result(SCRIPT, TF_ENABLE_ONEDNN_OPTS="1")
    # A fixed path holds only its own activations: skip costs far less than conv5.
    assert mb["skip"] <= 0.5 * mb["conv5"], mb
    # All five paths together cost well over the largest one alone.
    assert mb["all"] >= 1.5 * mb["conv5"], mb
    # Sampling a path per batch stays near one path's memory (the epoch's largest).
    assert mb["single"] <= 0.6 * mb["all"], mb
