"""Synflow of many architectures with one supernet's weights
(`zerocost.synflow_of_paths`) and the NAS-Bench-201 scores built with it."""

from __future__ import annotations

import keras
import keras_tuner
import numpy as np
import pytest

from autokeras_nas import oneshot, zerocost
from autokeras_nas.bench import nb201_synflow
from autokeras_nas.bench.nb201 import cell_values
from autokeras_nas.spaces import Nb201Space

pytestmark = pytest.mark.tf

TINY = {"input_shape": [8, 8, 1], "num_classes": 3, "cells_per_stage": 1, "channels": 4,
        "stem_strides": 1}
CELLS = [cell_values(i) for i in (15624, 0, 11718, 3906, 7811)]  # pool, none, 3x3, skip, mixed


@pytest.fixture(scope="module")
def float64_supernet():
    keras.utils.set_random_seed(0)
    keras.config.set_dtype_policy("float64")
    try:
        space = Nb201Space(conditional=False, **TINY)
        supernet = oneshot.build_supernet(space, keras_tuner.HyperParameters(), mode="single",
                                          seed=0)
    finally:
        keras.config.set_dtype_policy("float32")
    return space, supernet


def _alone(space, supernet, cell):
    """The cell built normally (float64) with the supernet's weights."""
    hp = keras_tuner.HyperParameters()
    for edge, op in cell.items():
        hp.Fixed(edge, op)
    keras.config.set_dtype_policy("float64")
    try:
        model = space.build(hp)
    finally:
        keras.config.set_dtype_policy("float32")
    oneshot.inherit_supernet_weights(model, supernet)
    return model


def test_each_score_is_synflow_of_the_cell_built_alone_with_the_same_weights(float64_supernet):
    space, supernet = float64_supernet
    before = [v.numpy().copy() for v in supernet.weights]
    scores = list(zerocost.synflow_of_paths(supernet, CELLS))
    alone = [zerocost.synflow(_alone(space, supernet, cell)) for cell in CELLS]
    np.testing.assert_allclose(scores, alone, rtol=1e-9)
    assert scores[1] == 0.0  # every edge "none": nothing flows
    assert len(set(scores)) == len(scores)
    # the supernet is left as it was: its weights, and no fixed path
    assert all(np.array_equal(a, v.numpy()) for a, v in zip(before, supernet.weights))
    assert all(int(op.fixed_path.numpy()) == -1 for op in oneshot.mixed_ops(supernet).values())


def test_a_float32_supernet_is_refused(digits, choose_builder):
    supernet = oneshot.build_supernet(choose_builder, keras_tuner.HyperParameters())
    with pytest.raises(ValueError, match="needs a float64 supernet"):
        next(zerocost.synflow_of_paths(supernet, [{}]))


def test_compute_scores_the_first_cells_in_table_order(float64_supernet):
    record = nb201_synflow.compute(limit=4, network=TINY, seed=0)
    assert record["cells"] == 4 and len(record["scores"]) == 4 and record["network"] == TINY
    space, supernet = float64_supernet  # the same seed: the same weights
    expected = list(zerocost.synflow_of_paths(supernet, [cell_values(i) for i in range(4)]))
    np.testing.assert_allclose(record["scores"], expected, rtol=1e-6)
    assert keras.config.dtype_policy().name == "float32"  # the policy is put back
