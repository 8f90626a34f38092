"""Morphed Keras models compute their parent's function (`autokeras_nas.spaces.morph`)."""

from __future__ import annotations

import collections
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

pytestmark = pytest.mark.tf

import keras  # noqa: E402

from autokeras_nas.spaces import morph_graph as g  # noqa: E402
from autokeras_nas.spaces.morph import (  # noqa: E402
    build_model, get_weights, morph, preservation_error, set_weights,
)

#: Random morphism sequences; with steered kinds, each kind runs about 20 times.
SEQUENCES = 32
#: Least number of morphisms of each kind, over all sequences and per group of networks.
MIN_PER_KIND, MIN_PER_GROUP = 10, 3
TOLERANCE = 1e-4
SHAPES = [(8, 8, 1), (32, 1), (10, 10, 3), (24, 2)]


def _random_start(seed: int) -> dict:
    rng = np.random.default_rng(10_000 + seed)
    return g.start_network(
        SHAPES[seed % len(SHAPES)], int(rng.integers(2, 6)),
        batch_norm=bool(seed // len(SHAPES) % 2),
        filters=tuple(int(f) for f in rng.integers(4, 17, 3)),
        kernel=int(rng.choice([1, 3, 5])),
        dense_units=int(rng.integers(8, 33)),
    )


def _randomise(model, net, rng) -> None:
    """Random weights everywhere, including non-trivial batch-norm statistics."""
    weights = {}
    for node in net["nodes"]:
        shapes = g.weight_shapes(net)[node["id"]]
        arrays = []
        for i, shape in enumerate(shapes):
            if i == 0:  # kernel, scaled by fan-in
                arrays.append(rng.normal(0.0, 1.0 / np.sqrt(np.prod(shape[:-1])), shape))
            elif node["op"] == "conv" and net["batch_norm"]:
                gamma, beta, mean = rng.normal(1.0, 0.3, shape), rng.normal(0.0, 0.3, shape), \
                    rng.normal(0.0, 0.5, shape)
                arrays.append([gamma, beta, mean, rng.uniform(0.5, 2.0, shape)][i - 1])
            else:  # bias
                arrays.append(rng.normal(0.0, 0.2, shape))
        weights[node["id"]] = [a.astype("float32") for a in arrays]
    set_weights(model, net, weights)


def _output(model, x) -> np.ndarray:
    return keras.ops.convert_to_numpy(model(x, training=False))


def _steered_morphism(net: dict, rng: np.random.Generator,
                      counts: collections.Counter) -> dict | None:
    """A random morphism of the kind drawn least so far (`counts`), ties at random,
    skipping kinds that do not apply to `net`."""
    for kind in sorted(g.MORPHISM_TYPES, key=lambda k: (counts[k], rng.random())):
        m = g.random_morphism(net, rng, kinds=(kind,))
        if m is not None:
            return m
    return None


def test_random_morphism_sequences_preserve_the_function():
    """THE key property: every child computes its parent's function.

    Sequences of 1-4 morphisms on random start networks (four input shapes,
    with and without batch norm); each morphism's kind is steered towards the
    kind drawn least so far on that group of networks (1-D/2-D, batch norm or
    not), so every kind runs on every group with few sequences.
    """
    groups = collections.defaultdict(collections.Counter)  # (dims, batch norm) -> kinds
    worst, failures = 0.0, []
    for seed in range(SEQUENCES):
        if seed % 20 == 0:
            keras.backend.clear_session()
        rng = np.random.default_rng(seed)
        net = _random_start(seed)
        counts = groups[(net["kind"], net["batch_norm"])]
        model = build_model(net)
        _randomise(model, net, rng)
        x = rng.normal(size=(8, *net["input_shape"])).astype("float32")
        parent_out = _output(model, x)
        for _ in range(int(rng.integers(1, 5))):
            m = _steered_morphism(net, rng, counts)
            assert m is not None
            counts[m["type"]] += 1
            child, child_net = morph(model, net, [m])
            child_out = _output(child, x)
            error = float(np.max(np.abs(parent_out.astype(np.float64) - child_out)))
            worst = max(worst, error)
            if not error < TOLERANCE:
                failures.append((seed, g.describe(m), error))
            model, net, parent_out = child, child_net, child_out
    kinds = sum(groups.values(), collections.Counter())
    print(f"\nmax preservation error over {SEQUENCES} sequences: {worst:.3g}; kinds {dict(kinds)}; "
          f"per group {({k: dict(v) for k, v in sorted(groups.items())})}")
    assert not failures, failures[:10]
    assert all(kinds[k] >= MIN_PER_KIND for k in g.MORPHISM_TYPES), kinds
    assert len(groups) == 4, groups
    assert all(c[k] >= MIN_PER_GROUP for c in groups.values() for k in g.MORPHISM_TYPES), groups


@pytest.mark.parametrize("shape, batch_norm", [((8, 8, 1), True), ((24, 2), False)])
def test_several_morphisms_at_once(shape, batch_norm):
    rng = np.random.default_rng(1)
    net = g.start_network(shape, 3, batch_norm=batch_norm, filters=(4, 6, 8), dense_units=8)
    model = build_model(net)
    _randomise(model, net, rng)
    morphisms, child_net = [], net
    for _ in range(6):
        m = g.random_morphism(child_net, rng)
        morphisms.append(m)
        child_net = g.apply(child_net, m)
    child, got_net = morph(model, net, morphisms)
    assert got_net == child_net
    x = rng.normal(size=(8, *shape)).astype("float32")
    assert preservation_error(model, child, x) < TOLERANCE


def test_layer_names_and_kinds():
    net = g.apply(g.start_network((24, 2), 3, filters=(4, 4, 4)),
                  {"type": "skip_add", "a": "n2", "b": "n3"})
    model = build_model(net)
    names = {layer.name for layer in model.layers}
    assert {"n0_input", "n1_conv", "n1_bn", "n1_relu", "n2_pool", "n9_proj", "n10_add",
            "n6_flatten", "n7_dense", "output"} <= names
    assert isinstance(model.get_layer("n1_conv"), keras.layers.Conv1D)
    assert isinstance(model.get_layer("n2_pool"), keras.layers.MaxPooling1D)
    assert model.get_layer("n1_conv").use_bias is False
    assert model.output_shape == (None, 3)
    model2d = build_model(g.start_network((8, 8, 1), 2, batch_norm=False))
    assert isinstance(model2d.get_layer("n1_conv"), keras.layers.Conv2D)
    assert model2d.get_layer("n1_conv").use_bias is True
    assert not any(layer.name.endswith("_bn") for layer in model2d.layers)


def test_get_set_weights_round_trip():
    rng = np.random.default_rng(0)
    net = g.start_network((10, 10, 3), 4, filters=(4, 5, 6), dense_units=8)
    for _ in range(4):
        net = g.apply(net, g.random_morphism(net, rng))
    model = build_model(net)
    _randomise(model, net, rng)
    weights = get_weights(model, net)
    assert {k: [w.shape for w in v] for k, v in weights.items()} == g.weight_shapes(net)
    other = build_model(net)
    set_weights(other, net, weights)
    again = get_weights(other, net)
    assert all(np.array_equal(a, b) for k in weights for a, b in zip(weights[k], again[k]))
    x = rng.normal(size=(4, 10, 10, 3)).astype("float32")
    assert preservation_error(model, other, x) == 0.0
    weights["n1"] = weights["n1"][:1]
    with pytest.raises(ValueError, match="n1"):
        set_weights(other, net, weights)


def test_morphed_child_trains():
    rng = np.random.default_rng(0)
    net = g.start_network((8, 8, 1), 3, filters=(4, 6, 8), dense_units=8)
    model = build_model(net)
    morphisms, child_net = [], net
    for kind in g.MORPHISM_TYPES:
        m = g.random_morphism(child_net, rng, kinds=(kind,))
        morphisms.append(m)
        child_net = g.apply(child_net, m)
    child, _ = morph(model, net, morphisms)
    child.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = rng.random((32, 8, 8, 1), dtype=np.float32)
    y = rng.integers(0, 3, 32)
    history = child.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert np.all(np.isfinite(_output(child, x)))
