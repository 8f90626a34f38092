"""Cost tables of a supernet's candidates (`autokeras_nas.oneshot.costs`):
parameters and multiply-accumulates against hand-computed numbers, repeated
and conditional choices, and latency tables in Keras and TFLite that leave
the supernet as it was. No timing thresholds: only what must hold whatever
the machine's speed."""

import keras
import keras_tuner
import numpy as np
import pytest
from keras import layers

from autokeras_nas.oneshot import (
    all_mixed_ops,
    architecture_cost,
    build_supernet,
    candidate_flops,
    candidate_params,
    choose,
    expected_cost,
    latency_table,
    supernet_scope,
)
from autokeras_nas.tuner.trainers.measure import latency_timer

pytestmark = pytest.mark.tf

C = 16  # channels of the 8x8 feature maps


def op1_candidates():
    return {
        "conv3": lambda: layers.Conv2D(C, 3, padding="same", use_bias=False),
        "pool": lambda: layers.AveragePooling2D(3, strides=1, padding="same"),
        "none": lambda: layers.Rescaling(0.0),
    }


def op2_candidates():
    return {
        "conv1_bn": lambda: keras.Sequential([layers.Conv2D(C, 1, use_bias=False),
                                              layers.BatchNormalization()]),
        "skip": layers.Identity,
    }


def build(hp, conditional=False, op3=False):
    """op1 used twice (two "cells"), op2 once (conditioned on op1 if asked),
    and op3 (op1's candidates under another name) once, all at 8x8x16."""
    inputs = keras.Input((8, 8, C))
    x = inputs
    for cell in range(2):
        layer = choose(hp, "op1", op1_candidates())
        layer.name = f"cell{cell}_{layer.name}"
        x = layer(x)
    x = choose(hp, "op2", op2_candidates(), condition_on="op1" if conditional else None)(x)
    if op3:
        x = choose(hp, "op3", op1_candidates())(x)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(3)(x))


def supernet(conditional=False, op3=False):
    keras.utils.set_random_seed(0)
    return build_supernet(lambda hp: build(hp, conditional, op3), keras_tuner.HyperParameters(),
                          mode="single", conditional=conditional, seed=0)


def test_params_match_hand_counts_repeated_choice_counts_twice():
    table = candidate_params(supernet())
    assert list(table) == ["op1", "op2"]
    assert list(table["op1"]) == ["conv3", "pool", "none"]  # path order
    # 3x3 conv 16 -> 16, no bias: 3 * 3 * 16 * 16 = 2304 per use, two uses.
    assert table["op1"] == {"conv3": 2 * 2304, "pool": 0, "none": 0}
    # 1x1 conv 16 -> 16 (256) + batch norm's gamma, beta, mean, variance (4 * 16).
    assert table["op2"] == {"conv1_bn": 256 + 64, "skip": 0}


def test_conditional_supernet_counts_one_copy_per_use():
    model = supernet(conditional=True)
    op2 = [op for op in all_mixed_ops(model) if op.choice == "op2"][0]
    assert len(op2.branches) == 2 * 3  # a copy per path of op1 ...
    table = candidate_params(model)
    assert table["op2"] == {"conv1_bn": 320, "skip": 0}  # ... counted once
    assert table["op1"]["conv3"] == 2 * 2304
    assert candidate_flops(model)["op2"] == candidate_flops(supernet())["op2"]


def test_flops_match_hand_counts():
    table = candidate_flops(supernet())
    out = 8 * 8 * C  # output elements of every candidate
    assert table["op1"] == {"conv3": 2 * out * 3 * 3 * C,  # 147,456 per use
                            "pool": 2 * out * 9, "none": 0}
    assert table["op2"] == {"conv1_bn": out * C + out, "skip": 0}


def test_flops_of_dense_and_separable_candidates():
    def space(hp):
        inputs = keras.Input((4, 4, 8))
        x = choose(hp, "conv", {
            "sep": lambda: layers.SeparableConv2D(8, 3, padding="same", depth_multiplier=2),
            "dw": lambda: layers.DepthwiseConv2D(3, padding="same"),
            "dense": lambda: layers.Dense(8),
        })(inputs)
        return keras.Model(inputs, x)

    table = candidate_flops(build_supernet(space, keras_tuner.HyperParameters()))
    positions = 4 * 4
    assert table["conv"] == {
        "sep": positions * (8 * 2 * 9 + 8 * 2 * 8),  # depthwise + pointwise
        "dw": positions * 8 * 9,
        "dense": positions * 8 * 8,
    }


def test_unbuilt_or_plain_model_is_refused():
    hp = keras_tuner.HyperParameters()
    with pytest.raises(ValueError, match="no MixedOp"):
        candidate_params(build(hp))
    with supernet_scope():
        op = choose(keras_tuner.HyperParameters(), "op1", op1_candidates())
    model = keras.Sequential([op])  # never built
    with pytest.raises(ValueError, match="not built"):
        candidate_params(model)


def test_keras_latency_table_leaves_the_supernet_as_it_was():
    model = supernet(op3=True)
    x = np.random.default_rng(0).normal(size=(2, 8, 8, C)).astype("float32")
    weights, before = model.get_weights(), model.predict_on_batch(x)
    for chain in (0, 2):
        table = latency_table(model, latency_timer("keras", repeats=2), chain=chain)
        assert list(table) == ["op1", "op2", "op3"]
        assert all(row["none"] == 0.0 for row in (table["op1"], table["op3"]))
        assert all(v >= 0 for row in table.values() for v in row.values())
        # op1 (two uses) and op3 (one use) have the same candidates at the
        # same shape: measured once, op1 costs exactly twice op3.
        assert table["op1"] == {k: 2 * v for k, v in table["op3"].items()}
    # chain=0 times each candidate alone: every timed candidate costs something.
    alone = latency_table(model, latency_timer("keras", repeats=2), chain=0)
    assert alone["op1"]["conv3"] > 0 and alone["op2"]["conv1_bn"] > 0
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))
    np.testing.assert_array_equal(model.predict_on_batch(x), before)
    assert [op.built_input_shape for op in all_mixed_ops(model)] == [(None, 8, 8, C)] * 4


def test_latency_table_arguments_are_checked():
    model = supernet()
    timer = latency_timer("keras")
    for kwargs in ({"chain": -1}, {"batch_size": 0}):
        with pytest.raises(ValueError, match=f"{next(iter(kwargs))} must be an int"):
            latency_table(model, timer, **kwargs)
    with pytest.raises(ValueError, match="timer must be a function"):
        latency_table(model, "keras")
    with pytest.raises(ValueError, match="backend must be one of"):
        latency_timer("onnx")
    with pytest.raises(ValueError, match="repeats must be an int"):
        latency_timer("tflite", repeats=0)


def test_tflite_latency_table_of_the_nb201_supernet():
    from autokeras_nas.spaces.nb201 import EDGES, OPS, Nb201Space

    space = Nb201Space(input_shape=(8, 8, 1), num_classes=3, channels=4, cells_per_stage=1)
    model = build_supernet(space, keras_tuner.HyperParameters(), mode="single")
    weights = model.get_weights()
    table = latency_table(model, latency_timer("tflite", repeats=3), chain=0)
    assert list(table) == list(EDGES)
    for row in table.values():
        assert list(row) == list(OPS)
        assert row["none"] == 0.0
        assert row["nor_conv_3x3"] > 0 and row["nor_conv_1x1"] > 0
        # Every edge holds the same candidates at the same 3 shapes (one cell
        # per stage): each is measured once and the rows are equal.
        assert row == table["edge_0_1"]
    assert all(np.array_equal(a, b) for a, b in zip(weights, model.get_weights()))
    all_3x3 = architecture_cost(table, {edge: "nor_conv_3x3" for edge in EDGES})
    assert all_3x3 == pytest.approx(6 * table["edge_0_1"]["nor_conv_3x3"])
    uniform = {edge: np.full(len(OPS), 1 / len(OPS)) for edge in EDGES}
    assert expected_cost(table, uniform) == pytest.approx(
        sum(sum(row.values()) / len(OPS) for row in table.values()))
