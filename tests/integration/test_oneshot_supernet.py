"""Supernets built with `choose` inside `supernet_scope`: single-path
training in the graph (one candidate trained per batch, no retrace when the
path changes), fixed paths, all paths with path dropout, conditional
weights, inheritance by name, and saving a supernet's weights."""

import keras
import keras_tuner
import numpy as np
import pytest
from keras import layers

from autokeras_nas.oneshot import (
    MixedOp,
    PathDropoutSchedule,
    build_supernet,
    choice_names,
    choose,
    inherit_supernet_weights,
    mixed_ops,
    set_drop_rate,
    set_paths,
    supernet_scope,
)

pytestmark = pytest.mark.tf

UNITS = 6


def dense_ops():
    return {
        "a": lambda: layers.Dense(UNITS, activation="relu"),
        "b": lambda: keras.Sequential([layers.Dense(UNITS), layers.BatchNormalization()]),
        "c": lambda: layers.Dense(UNITS, activation="tanh"),
    }


def build(hp, conditional_on=None):
    inputs = keras.Input((5,))
    x = layers.Dense(UNITS)(inputs)
    x = choose(hp, "op1", dense_ops())(x)
    x = choose(hp, "op2", dense_ops(), condition_on=conditional_on)(x)
    outputs = layers.Dense(3, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    return model


def fresh(seed=0):
    """A new Keras session (layer names start over, as KerasTuner's builds do)."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)


def supernet(mode="single", conditional=False, seed=0):
    fresh(seed)
    cond = "op1" if conditional else None
    return build_supernet(lambda hp: build(hp, cond), keras_tuner.HyperParameters(),
                          mode=mode, conditional=conditional, seed=seed)


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 5)).astype("float32"), rng.integers(0, 3, n)


def snapshot(op):
    return [[w.numpy() for w in branch.trainable_weights] for branch in op.branches]


def changed(before, op):
    """Indices of the branches of `op` whose trainable weights changed."""
    return [i for i, (old, branch) in enumerate(zip(before, op.branches))
            if any(not np.array_equal(o, w.numpy())
                   for o, w in zip(old, branch.trainable_weights))]


def test_supernet_holds_every_candidate_named_by_choice():
    model = supernet()
    ops = mixed_ops(model)
    assert list(ops) == ["op1", "op2"] and all(isinstance(op, MixedOp) for op in ops.values())
    assert [b.name for b in ops["op2"].branches] == ["op2__a", "op2__b", "op2__c"]
    assert choice_names(model) == {"op1": ["a", "b", "c"], "op2": ["a", "b", "c"]}
    # The layers outside choose are named as in a normal build (no names used by candidates).
    fresh(0)
    normal = build(keras_tuner.HyperParameters())
    assert [layer.name for layer in normal.layers][1:2] == [model.layers[1].name]
    assert normal.layers[-1].name == model.layers[-1].name


def test_single_mode_trains_one_candidate_per_batch_and_all_over_many():
    model = supernet()
    ops = mixed_ops(model)
    x, y = data()
    seen = {name: set() for name in ops}
    for step in range(12):
        before = {name: snapshot(op) for name, op in ops.items()}
        model.train_on_batch(x[:16], y[:16])
        for name, op in ops.items():
            moved = changed(before[name], op)
            assert len(moved) == 1, (step, name, moved)
            seen[name].update(moved)
    assert seen == {"op1": {0, 1, 2}, "op2": {0, 1, 2}}


class Traces(layers.Layer):
    """Counts how often its call runs in Python (once per trace in a graph)."""

    count = 0

    def call(self, inputs):
        Traces.count += 1
        return inputs


def test_changing_paths_does_not_retrace():
    fresh(0)
    with supernet_scope(mode="single", seed=0):
        hp = keras_tuner.HyperParameters()
        inputs = keras.Input((5,))
        x = Traces()(layers.Dense(UNITS)(inputs))
        x = choose(hp, "op1", dense_ops())(x)
        model = keras.Model(inputs, layers.Dense(3, activation="softmax")(x))
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = data()
    model.train_on_batch(x[:16], y[:16])
    model.predict_on_batch(x[:16])
    traced = Traces.count
    for paths in [{"op1": "a"}, {"op1": "c"}, None, {"op1": "b"}, None]:
        set_paths(model, paths)
        model.train_on_batch(x[:16], y[:16])
        model.predict_on_batch(x[:16])
    assert Traces.count == traced


def test_a_fixed_path_trains_only_its_candidates():
    model = supernet()
    set_paths(model, {"op1": "c", "op2": "b"})
    ops = mixed_ops(model)
    before = {name: snapshot(op) for name, op in ops.items()}
    x, y = data()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    assert changed(before["op1"], ops["op1"]) == [2]
    assert changed(before["op2"], ops["op2"]) == [1]


def test_fixed_path_equals_the_inheriting_normal_build():
    model = supernet()
    x, y = data()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)  # moves batch-norm statistics too
    for op1, op2 in [("b", "a"), ("a", "b"), ("c", "c")]:
        set_paths(model, {"op1": op1, "op2": op2})
        hp = keras_tuner.HyperParameters()
        hp.values.update({"op1": op1, "op2": op2})
        fresh(1)
        normal = build(hp)
        assert all(type(layer).__name__ != "MixedOp" for layer in normal.layers)
        assert inherit_supernet_weights(normal, model) == 4  # stem, two candidates, head
        np.testing.assert_allclose(normal.predict(x, verbose=0), model.predict(x, verbose=0),
                                   rtol=1e-5, atol=1e-6)
        # In training too, a fixed path runs that candidate alone.
        np.testing.assert_allclose(model(x, training=True), model(x, training=True))


def test_saved_weights_load_into_a_freshly_built_supernet(tmp_path):
    model = supernet(conditional=True)
    x, y = data()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    set_paths(model, {"op1": "b", "op2": "c"})
    model.save_weights(tmp_path / "s.weights.h5")
    fresh = supernet(conditional=True, seed=5)
    fresh.load_weights(tmp_path / "s.weights.h5")
    for a, b in zip(model.weights, fresh.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=a.path)
    np.testing.assert_allclose(fresh.predict(x, verbose=0), model.predict(x, verbose=0))
    model.save(tmp_path / "s.keras")
    loaded = keras.saving.load_model(tmp_path / "s.keras")
    assert choice_names(loaded) == choice_names(model)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def powers_of_two(hp):
    """All-mode probe: candidate i outputs 2**i whatever the input, so each
    output value names the set of paths that were kept."""
    inputs = keras.Input((2,))
    candidates = {f"p{i}": (lambda i=i: layers.Dense(
        1, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(2.0 ** i)))
        for i in range(3)}
    return keras.Model(inputs, choose(hp, "op", candidates)(inputs))


def test_all_mode_sums_paths_and_drops_some_but_never_all():
    model = build_supernet(powers_of_two, keras_tuner.HyperParameters(), mode="all", seed=0)
    x = np.zeros((512, 2), "float32")
    np.testing.assert_array_equal(model(x, training=True), 7.0)  # rate 0: every path
    assert set_drop_rate(model, 0.5) == 1
    np.testing.assert_array_equal(model(x, training=False), 7.0)  # no dropout in inference
    kept = np.asarray(model(x, training=True)).ravel()
    assert set(kept) <= set(range(1, 8)) and 0 not in kept
    assert len(set(kept)) == 7  # every non-empty subset of the three paths occurs
    set_paths(model, {"op": "p1"})
    np.testing.assert_array_equal(model(x, training=True), 2.0)  # a fixed path runs alone


@pytest.mark.parametrize("mode", ["all", "darts", "snas"])
def test_a_compiled_training_step_with_a_fixed_path_is_that_path_alone(mode):
    """In a traced training step these modes mask their sum to the fixed
    path (no cond): the output is the fixed path's, and so are the
    gradients (the other candidates get zeros)."""
    import tensorflow as tf

    model = build_supernet(powers_of_two, keras_tuner.HyperParameters(), mode=mode, seed=0)
    x = np.zeros((64, 2), "float32")
    if mode == "all":
        set_drop_rate(model, 0.5)

    @tf.function
    def step(x):
        with tf.GradientTape() as tape:
            out = model(x, training=True)
            total = tf.reduce_sum(out)
        grads = tape.gradient(total, model.trainable_variables)
        return out, {v.path: g for v, g in zip(model.trainable_variables, grads)}

    for fixed, value in (("p1", 2.0), ("p2", 4.0)):
        set_paths(model, {"op": fixed})
        out, grads = step(x)
        np.testing.assert_array_equal(out, value)
        for path, grad in grads.items():
            if path.endswith("bias"):  # d(sum)/d(bias) is the batch for the fixed path only
                expected = 64.0 if f"__{fixed}/" in path else 0.0
                np.testing.assert_allclose(grad, expected, err_msg=path)
    set_paths(model, None)
    out, _ = step(x)
    if mode == "all":  # path dropout again: a non-empty subset of the paths per example
        assert set(np.asarray(out).ravel()) <= set(range(1, 8))
    elif mode == "darts":  # the softmax-weighted sum of 1, 2 and 4, about equal weights
        np.testing.assert_allclose(out, 7.0 / 3.0, rtol=1e-2)
    else:  # snas: weighted by one Gumbel-softmax sample for the batch
        assert 1.0 < float(out[0, 0]) < 4.0 and len(set(np.asarray(out).ravel())) == 1
    assert step.experimental_get_tracing_count() == 1  # fixing a path never retraces


def test_path_dropout_schedule_raises_the_rate_over_epochs():
    model = build_supernet(powers_of_two, keras_tuner.HyperParameters(), mode="all", seed=0)
    model.compile("sgd", "mse")
    rates = []
    record = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: rates.append(
            float(mixed_ops(model)["op"].drop_rate.numpy())))
    model.fit(np.zeros((8, 2)), np.zeros((8, 1)), epochs=5, verbose=0,
              callbacks=[PathDropoutSchedule(0.4, 5), record])
    np.testing.assert_allclose(rates, [0.0, 0.1, 0.2, 0.3, 0.4], atol=1e-6)
    with pytest.raises(ValueError, match="max_rate must be in"):
        PathDropoutSchedule(1.0, 5)
    with pytest.raises(ValueError, match="drop rate must be in"):
        set_drop_rate(model, -0.1)


def identity_first(hp, conditional_on="op1"):
    """op1's candidates compute the same function, so op2's output differs
    between op1's paths only through the weights op2 uses."""
    inputs = keras.Input((5,))
    x = layers.Dense(UNITS)(inputs)
    x = choose(hp, "op1", {"x": lambda: layers.Identity(), "y": lambda: layers.Identity()})(x)
    x = choose(hp, "op2", dense_ops(), condition_on=conditional_on)(x)
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(x))
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    return model


def test_conditional_weights_follow_the_earlier_path():
    fresh(0)
    model = build_supernet(identity_first, keras_tuner.HyperParameters(), conditional=True)
    op2 = mixed_ops(model)["op2"]
    assert [b.name for b in op2.branches[:2]] == ["op2__a__x", "op2__a__y"]
    x, y = data()
    outputs = {}
    for first in ["x", "y"]:
        set_paths(model, {"op1": first, "op2": "a"})
        outputs[first] = model.predict(x, verbose=0)
        hp = keras_tuner.HyperParameters()
        hp.values.update({"op1": first, "op2": "a"})
        fresh()
        normal = identity_first(hp)
        assert normal.layers[3].name == f"op2__a__{first}"
        assert inherit_supernet_weights(normal, model) == 3
        np.testing.assert_allclose(normal.predict(x, verbose=0), outputs[first], rtol=1e-5)
    assert not np.allclose(outputs["x"], outputs["y"])
    # Sampling: the copy trained in each batch is the one of op1's sampled path.
    set_paths(model, {"op2": "c"})
    for _ in range(6):
        before = snapshot(op2)
        model.train_on_batch(x[:16], y[:16])
        assert changed(before, op2) in ([4], [5])
    # A conditional normal build inherits from a supernet without conditional weights.
    fresh(0)
    plain = build_supernet(identity_first, keras_tuner.HyperParameters())
    assert [b.name for b in mixed_ops(plain)["op2"].branches] == ["op2__a", "op2__b", "op2__c"]
    hp = keras_tuner.HyperParameters()
    hp.values.update({"op1": "y", "op2": "b"})
    fresh()
    assert inherit_supernet_weights(identity_first(hp), plain) == 3


def test_mismatched_candidate_shapes_name_the_choice():
    def bad(hp):
        inputs = keras.Input((4,))
        out = choose(hp, "width", {"narrow": lambda: layers.Dense(2),
                                   "wide": lambda: layers.Dense(3)})(inputs)
        return keras.Model(inputs, out)

    assert bad(keras_tuner.HyperParameters()).output.shape == (None, 2)  # normal build: fine
    with pytest.raises(ValueError, match=r"choose 'width'.*width__narrow -> \(None, 2\), "
                                         r"width__wide -> \(None, 3\)"):
        build_supernet(bad, keras_tuner.HyperParameters())


def test_set_paths_rejects_unknown_names():
    model = supernet()
    with pytest.raises(ValueError, match=r"\['op9'\] are not choices of this model"):
        set_paths(model, {"op9": "a"})
    with pytest.raises(ValueError, match="'z' is not a candidate of 'op1'"):
        set_paths(model, {"op1": "z"})


def two_cells(hp):
    """One choice used by two cells (renamed per cell, as a repeated cell is)."""
    inputs = keras.Input((5,))
    x = layers.Dense(UNITS)(inputs)
    for cell in range(2):
        layer = choose(hp, "op", dense_ops())
        layer.name = f"cell{cell}_{layer.name}"
        x = layer(x)
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(x))
    model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
    return model


def test_a_choice_used_by_two_cells_takes_one_path_per_batch():
    from autokeras_nas.oneshot import all_mixed_ops

    fresh()
    model = build_supernet(two_cells, keras_tuner.HyperParameters(), seed=0)
    first, second = all_mixed_ops(model)
    assert [first.name, second.name] == ["cell0_op", "cell1_op"]
    assert [b.name for b in second.branches] == ["cell1_op__a", "cell1_op__b", "cell1_op__c"]
    assert list(mixed_ops(model)) == ["op"] and mixed_ops(model)["op"] is first
    x, y = data()
    seen = set()
    for _ in range(10):
        before = [snapshot(first), snapshot(second)]
        model.train_on_batch(x[:16], y[:16])
        moved = [changed(before[0], first), changed(before[1], second)]
        assert len(moved[0]) == 1 and moved[0] == moved[1]
        seen.update(moved[0])
    assert seen == {0, 1, 2}
    set_paths(model, {"op": "b"})
    assert [int(op.fixed_path.numpy()) for op in (first, second)] == [1, 1]
    hp = keras_tuner.HyperParameters()
    hp.values["op"] = "b"
    fresh()
    normal = two_cells(hp)
    assert [layer.name for layer in normal.layers][2:4] == ["cell0_op__b", "cell1_op__b"]
    assert inherit_supernet_weights(normal, model) == 4
    np.testing.assert_allclose(normal.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_a_choice_used_again_with_other_candidates_is_an_error():
    def bad(hp):
        inputs = keras.Input((5,))
        x = choose(hp, "op", dense_ops())(inputs)
        return keras.Model(inputs, choose(hp, "op", {"a": lambda: layers.Identity()})(x))

    with pytest.raises(ValueError, match="used again with candidates"):
        build_supernet(bad, keras_tuner.HyperParameters())
