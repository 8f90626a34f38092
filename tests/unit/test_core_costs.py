"""Arithmetic on cost tables (`autokeras_nas.core.costs`, numpy only)."""

import numpy as np
import pytest

from autokeras_nas.core import architecture_cost, cost_vector, expected_cost

TABLE = {
    "op1": {"conv": 4.0, "pool": 1.0, "none": 0.0},
    "op2": {"conv": 2.0, "skip": 0.5},
}


def test_architecture_cost_sums_the_chosen_candidates():
    assert architecture_cost(TABLE, {"op1": "conv", "op2": "skip"}) == 4.5
    # other hyperparameters of hp.values are ignored
    assert architecture_cost(TABLE, {"op1": "none", "op2": "conv", "lr": 0.1}) == 2.0
    with pytest.raises(ValueError, match="no candidate for \\['op2'\\]"):
        architecture_cost(TABLE, {"op1": "conv"})
    with pytest.raises(ValueError, match="'skip' is not a candidate of 'op1'"):
        architecture_cost(TABLE, {"op1": "skip", "op2": "conv"})


def test_expected_cost_by_position_or_by_name():
    probabilities = {"op1": np.array([0.5, 0.5, 0.0]), "op2": [0.25, 0.75]}
    assert expected_cost(TABLE, probabilities) == pytest.approx(2.5 + 0.875)
    by_name = {"op1": {"conv": 0.5, "pool": 0.5}, "op2": {"skip": 0.75, "conv": 0.25}}
    assert expected_cost(TABLE, by_name) == pytest.approx(2.5 + 0.875)
    one_hot = {"op1": [0, 0, 1], "op2": [1, 0]}
    assert expected_cost(TABLE, one_hot) == architecture_cost(TABLE, {"op1": "none",
                                                                      "op2": "conv"})


@pytest.mark.parametrize("bad, message", [
    ({"op1": [1, 0, 0]}, "no probabilities for \\['op2'\\]"),
    ({"op1": [1, 0], "op2": [1, 0]}, "3 candidates, got 2"),
    ({"op1": [2.0, -1.0, 0.0], "op2": [1, 0]}, "non-negative"),
    ({"op1": [3.0, 1.0, 0.5], "op2": [1, 0]}, "pass probabilities, not logits"),
    ({"op1": {"conv": 1.0, "skip": 0.0}, "op2": [1, 0]}, "not candidates of 'op1'"),
])
def test_expected_cost_refuses_what_is_not_a_distribution(bad, message):
    with pytest.raises(ValueError, match=message):
        expected_cost(TABLE, bad)


def test_cost_vector_is_in_path_order():
    np.testing.assert_array_equal(cost_vector(TABLE, "op1"), [4.0, 1.0, 0.0])
    with pytest.raises(ValueError, match="not a choice"):
        cost_vector(TABLE, "op3")
