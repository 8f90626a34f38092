"""Keras models of the PNAS / POPNASv3 cell space (`autokeras_nas.spaces.cells`).

Tiny models (8 filters, one normal cell per motif) so that the file runs in
about a minute on 2 CPU cores; the training step runs eagerly (no graph
tracing, much faster for one step).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest

pytestmark = pytest.mark.tf

import keras  # noqa: E402

from autokeras_nas.spaces.cell_graph import (  # noqa: E402
    OPS_1D, OPS_2D, CellSpace, MacroConfig,
)
from autokeras_nas.spaces.cells import build_model  # noqa: E402

CLASSES = 3
SMALL = MacroConfig(motifs=2, normal_cells=1, filters=8)


def _data(shape, batch=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(batch, *shape)).astype("float32")
    y = (np.arange(batch) % CLASSES).astype("int32")
    return x, y


def _check(cell, macro, shape, *, fit=True, space=None):
    """Builds, runs a forward pass (and a training step); returns the layer names."""
    keras.backend.clear_session()
    model = build_model(cell, macro, shape, CLASSES, space=space)
    x, y = _data(shape)
    out = keras.ops.convert_to_numpy(model(x, training=False))
    assert out.shape == (len(x), CLASSES)
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, atol=1e-5)
    if fit:
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      run_eagerly=True)
        history = model.fit(x, y, epochs=1, batch_size=len(x), verbose=0)
        assert np.isfinite(history.history["loss"][0])
    return [layer.name for layer in model.layers]


def _one_block(op):
    return ((-1, op, -2, "identity"),)


@pytest.mark.parametrize("op", OPS_2D)
def test_2d_op_digits(op):
    # 8x8 -> 4x4 -> 2x2 with 3 motifs
    _check(_one_block(op), MacroConfig(motifs=3, normal_cells=1, filters=8), (8, 8, 1))


@pytest.mark.parametrize("op", OPS_2D)
def test_2d_op_fashion_mnist(op):
    _check(((-2, op, -1, op),), SMALL, (28, 28, 1), fit=False)


@pytest.mark.parametrize("op", OPS_1D)
def test_1d_op_italy_power_demand(op):
    _check(_one_block(op), SMALL, (24, 1))


@pytest.mark.parametrize("op", OPS_1D)
def test_1d_op_basic_motions(op):
    # a single reduction cell: stride-2 ops on 100 steps, 6 channels
    _check(((-2, op, -1, op),), MacroConfig(motifs=2, normal_cells=0, filters=8), (100, 6),
           fit=False)


@pytest.mark.parametrize("residual", [False, True])
def test_random_three_block_cells_2d(residual):
    space = CellSpace(ops=OPS_2D, max_blocks=3)
    cell = space.random_cell(np.random.default_rng(3 + residual), 3)
    macro = MacroConfig(motifs=3, normal_cells=1, filters=8, residual=residual, dropout=0.1)
    _check(cell, macro, (32, 32, 3), space=space)


@pytest.mark.parametrize("residual", [False, True])
def test_random_three_block_cells_1d(residual):
    space = CellSpace(ops=tuple(op for op in OPS_1D if op not in ("lstm", "gru")), max_blocks=3)
    cell = space.random_cell(np.random.default_rng(7 + residual), 3)
    macro = MacroConfig(motifs=3, normal_cells=1, filters=8, residual=residual)
    _check(cell, macro, (150, 1), space=space)


def test_chain_cell_with_lookback_3_and_tiny_input():
    """Lookback 3 (a strided adaptation by 4) and reductions skipped at size 1."""
    space = CellSpace(ops=OPS_2D, max_blocks=3, lookback=3)
    cell = ((-3, "conv3x3", -1, "identity"), (0, "sep3x3", -2, "maxpool3x3"),
            (1, "identity", 0, "avgpool3x3"))
    macro = MacroConfig(motifs=4, normal_cells=1, filters=8, residual=True)
    names = _check(cell, macro, (4, 4, 2), space=space, fit=False)
    assert any(n.endswith("_in3_proj") for n in names)


def test_layer_names_deterministic_and_equivalent_cells_identical():
    a = ((-1, "conv3x3", -2, "identity"), (-2, "sep3x3", -1, "maxpool3x3"),
         (0, "identity", 1, "conv1x1"))
    b = ((-1, "maxpool3x3", -2, "sep3x3"), (-2, "identity", -1, "conv3x3"),
         (0, "conv1x1", 1, "identity"))
    macro = MacroConfig(motifs=2, normal_cells=1, filters=8, residual=True)
    names = [_check(c, macro, (8, 8, 1), fit=False) for c in (a, a, b)]
    assert names[0] == names[1] == names[2]
    assert len(set(names[0])) == len(names[0])
    assert names[0][0] == "input" and names[0][-1] == "output"
    assert "c0_b2_add" in names[0] and "c1_concat" not in names[0]


def test_build_rejects_bad_arguments():
    cell = _one_block("conv3x3")
    with pytest.raises(ValueError):
        build_model(cell, SMALL, (8, 8), CLASSES)  # a 2-D op in a 1-D model
    with pytest.raises(ValueError):
        build_model(cell, SMALL, (8, 8, 1, 1), CLASSES)
    with pytest.raises(ValueError):
        build_model(cell, SMALL, (8, 0, 1), CLASSES)
    with pytest.raises(ValueError):
        build_model(cell, SMALL, (8, 8, 1), 1)
    with pytest.raises(ValueError):
        build_model(cell, {"motifs": 2}, (8, 8, 1), CLASSES)
    with pytest.raises(ValueError):
        build_model(cell, SMALL, (8, 8, 1), CLASSES, space=CellSpace(ops=OPS_1D))
    with pytest.raises(ValueError):
        build_model(((-1, "conv3x3", -1, "conv3x3"), (-1, "conv3x3", -1, "conv3x3")),
                    SMALL, (8, 8, 1), CLASSES)


def test_scheduled_drop_path_ramps_per_cell_and_per_step_and_is_off_at_inference(tmp_path):
    from autokeras_nas.spaces.cells import ScheduledDropPath

    keras.backend.clear_session()
    keras.utils.set_random_seed(0)
    macro = MacroConfig(motifs=2, normal_cells=1, filters=8, drop_path=0.6, drop_path_steps=4)
    model = build_model(((-1, "conv3x3", -2, "identity"),), macro, (8, 8, 1), CLASSES)
    drops = {layer.name: layer for layer in model.layers if isinstance(layer, ScheduledDropPath)}
    # The identity of c0 reads its input unchanged: nothing to drop there.
    assert sorted(drops) == ["c0_b0_2_droppath", "c1_b0_1_droppath", "c1_b0_2_droppath",
                             "c2_b0_2_droppath"]
    assert [round(drops[n].rate, 6) for n in sorted(drops)] == [0.2, 0.4, 0.4, 0.6]
    x, y = _data((8, 8, 1), batch=8)
    before = keras.ops.convert_to_numpy(model(x, training=False))
    np.testing.assert_array_equal(before, keras.ops.convert_to_numpy(model(x, training=False)))
    layer = drops["c2_b0_2_droppath"]
    ones = np.ones((1000, 2, 2, 3), "float32")
    first = keras.ops.convert_to_numpy(layer(ones, training=True))  # step 1 of 4: p = 0.15
    late = [keras.ops.convert_to_numpy(layer(ones, training=True)) for _ in range(5)][-1]
    assert float(keras.ops.convert_to_numpy(layer.step)) == 6.0
    for out, p in ((first, 0.15), (late, 0.6)):
        kept = out[:, 0, 0, 0] > 0
        assert abs(1 - kept.mean() - p) < 0.06  # whole samples dropped at the scheduled rate
        np.testing.assert_allclose(out[kept], 1 / (1 - p), rtol=1e-5)  # survivors rescaled
        assert np.all(out[~kept] == 0)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", run_eagerly=True)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(loaded(x, training=False)),
                               keras.ops.convert_to_numpy(model(x, training=False)), atol=1e-6)
