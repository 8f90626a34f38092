"""A single-path supernet (conditional weights too) trains under a
MirroredStrategy over 2 logical CPU devices. TensorFlow's logical devices
must be configured before it initialises, so the run is a process forked from
the fork server (which imported TensorFlow but never initialised it)."""

import textwrap

import pytest

from autokeras_nas.testing.forkserver import ForkServer, script_result

pytestmark = pytest.mark.tf

#: Two logical CPU devices, set before TensorFlow initialises, and the imports.
PRELUDE = textwrap.dedent('''
    import json
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
    import keras, keras_tuner, numpy as np
    from keras import layers
''')

SCRIPT = PRELUDE + textwrap.dedent('''
    from autokeras_nas.oneshot import build_supernet, choose, mixed_ops, set_paths

    def build(hp):
        inputs = keras.Input((5,))
        x = layers.Dense(6)(inputs)
        x = choose(hp, "op1", {
            "a": lambda: layers.Dense(6, activation="relu"),
            "b": lambda: keras.Sequential([layers.Dense(6), layers.BatchNormalization()])})(x)
        x = choose(hp, "op2", {"a": lambda: layers.Dense(6), "b": lambda: layers.Identity()},
                   condition_on="op1")(x)
        model = keras.Model(inputs, layers.Dense(3, activation="softmax")(x))
        model.compile("adam", "sparse_categorical_crossentropy")
        return model

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with mirrored.scope():
        model = build_supernet(build, keras_tuner.HyperParameters(), conditional=True, seed=0)
    ops = mixed_ops(model)
    def weights():
        return {name: [[w.numpy() for w in b.trainable_weights] for b in op.branches]
                for name, op in ops.items()}
    before = weights()
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(256, 5)).astype("float32"), rng.integers(0, 3, 256)
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0)
    after = weights()
    trained = {name: [i for i, (old, new) in enumerate(zip(before[name], after[name]))
                      if any(not np.array_equal(o, n) for o, n in zip(old, new))]
               for name in ops}
    set_paths(model, {"op1": "b", "op2": "a"})
    fixed = [model.predict(x, verbose=0) for _ in range(2)]
    print("RESULT " + json.dumps({
        "replicas": mirrored.num_replicas_in_sync,
        "copies": len(ops["op1"].branches[0].kernel.value.values),
        "loss": history.history["loss"], "trained": trained,
        "fixed_same": bool(np.allclose(*fixed))}))
''')


def test_single_path_supernet_trains_under_mirrored_strategy(fork_server: ForkServer):
    found = script_result(fork_server, SCRIPT, CUDA_VISIBLE_DEVICES="-1")
    assert found["replicas"] == 2 and found["copies"] == 2  # a candidate's weights are mirrored
    assert all(0 < loss < 5 for loss in found["loss"])
    # Both candidates of op1 and both copies of op2's "a" (one per op1 path) were trained;
    # op2's "b" (identity) has no weights.
    assert found["trained"] == {"op1": [0, 1], "op2": [0, 1]}
    assert found["fixed_same"]


RELAXED_SCRIPT = PRELUDE + textwrap.dedent('''
    from autokeras_nas import oneshot
    from autokeras_nas.oneshot import bilevel

    def build(hp):
        inputs = keras.Input((5,))
        x = layers.Dense(6)(inputs)
        x = oneshot.choose(hp, "op1", {
            "a": lambda: layers.Dense(6, activation="relu"),
            "b": lambda: keras.Sequential([layers.Dense(6), layers.BatchNormalization()]),
            "zero": oneshot.zero})(x)
        model = keras.Model(inputs, layers.Dense(3, activation="softmax")(x))
        model.compile("adam", "sparse_categorical_crossentropy")
        return model

    out = {}
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(256, 5)).astype("float32"), rng.integers(0, 3, 256)
    for mode in ("darts", "gdas"):
        mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        with mirrored.scope():
            model = oneshot.build_supernet(build, keras_tuner.HyperParameters(), mode=mode,
                                           seed=0)
        (alpha,) = oneshot.architecture_variables(model)
        before = alpha.numpy().tolist()
        step = bilevel.BilevelStep(model, bilevel.validation_iterator((x[:64], y[:64]), 32),
                                   learning_rate=0.03).install()
        history = model.fit(x, y, batch_size=32, epochs=2, verbose=0)
        out[mode] = {"replicas": [v.numpy().tolist() for v in alpha.value.values],
                     "before": before, "loss": history.history["loss"]}
        try:
            bilevel.BilevelStep(model, iter([]), order=2)
            out[mode]["order2"] = "accepted"
        except ValueError as e:
            out[mode]["order2"] = str(e)
    print("RESULT " + json.dumps(out))
''')


def test_relaxed_supernets_keep_their_architecture_identical_on_every_replica(
        fork_server: ForkServer):
    """DARTS and GDAS under a MirroredStrategy: the architecture parameters
    are mirrored, each replica draws its own validation batch, and the
    summed update leaves them identical on both replicas after training
    (the anchors' multi-GPU DARTS let them drift apart)."""
    found = script_result(fork_server, RELAXED_SCRIPT, CUDA_VISIBLE_DEVICES="-1")
    for mode in ("darts", "gdas"):
        run = found[mode]
        first, second = run["replicas"]
        assert first == second, run
        assert max(abs(a - b) for a, b in zip(first, run["before"])) > 1e-3  # they trained
        assert all(0 < loss < 5 for loss in run["loss"])
        assert "use order 1 under a distribution strategy" in run["order2"]
