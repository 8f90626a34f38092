"""The `grid` strategy: every combination once, in order, conditions honoured."""

from __future__ import annotations

import json

import pytest

from autokeras_nas.core import (
    Boolean,
    Choice,
    Condition,
    Float,
    HyperSpace,
    Int,
    Objective,
    Observation,
    TrialStatus,
)
from autokeras_nas_plugins.random_search import GridStrategy

OBJECTIVES = [Objective("score", "max")]


def _run(strategy: GridStrategy, first: int = 0, n: int = 100) -> list[dict]:
    proposed = []
    for i in range(first, first + n):
        suggestion = strategy.ask(str(i))
        if suggestion.kind == "done":
            break
        proposed.append(dict(suggestion.values))
        strategy.tell(Observation(str(i), suggestion.values, TrialStatus.COMPLETED,
                                  {"score": float(i)}))
    return proposed


def test_the_last_parameter_changes_fastest_and_the_grid_ends():
    strategy = GridStrategy(seed=0)
    strategy.setup(HyperSpace([Choice("units", [16, 32]), Boolean("bn"),
                               Int("layers", 1, 3, step=1)]), OBJECTIVES)
    proposed = _run(strategy)
    assert [(p["units"], p["bn"], p["layers"]) for p in proposed[:4]] == [
        (16, True, 1), (16, True, 2), (16, True, 3), (16, False, 1)]
    assert len(proposed) == 12 == len({json.dumps(p, sort_keys=True) for p in proposed})
    assert strategy.ask("99").kind == "done"


def test_a_continuous_float_takes_ten_values_on_its_scale():
    strategy = GridStrategy(seed=0)
    strategy.setup(HyperSpace([Float("lr", 1e-4, 1e-1, sampling="log")]), OBJECTIVES)
    values = [p["lr"] for p in _run(strategy)]
    assert len(values) == 10 and values == sorted(values)
    assert values[0] == pytest.approx(1e-4 * 10 ** 0.15)  # the middle of the first tenth
    assert values[-1] == pytest.approx(1e-1 * 10 ** -0.15)


def test_an_inactive_parameter_is_left_out_so_no_combination_repeats():
    space = HyperSpace([Choice("block", ["conv", "dense"]),
                        Choice("kernel", [3, 5], conditions=(Condition("block", ["conv"]),)),
                        Choice("units", [8, 16], conditions=(Condition("block", ["dense"]),))])
    strategy = GridStrategy(seed=0)
    strategy.setup(space, OBJECTIVES)
    assert _run(strategy) == [{"block": "conv", "kernel": 3}, {"block": "conv", "kernel": 5},
                              {"block": "dense", "units": 8}, {"block": "dense", "units": 16}]


def test_a_grown_space_continues_with_what_was_not_tried_and_resume_is_exact():
    small = HyperSpace([Choice("a", [1, 2])])
    grown = HyperSpace([Choice("a", [1, 2]), Choice("b", ["x", "y"])])
    strategy = GridStrategy(seed=0)
    strategy.setup(small, OBJECTIVES)
    first = _run(strategy, n=1)
    strategy.setup(grown, OBJECTIVES)  # the model defined "b" in its first build
    rest = _run(strategy, first=1)
    assert first == [{"a": 1}]
    # The first trial counts as {"a": 1, "b": "x"}: "b" took its default.
    assert rest == [{"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]
    # Resumed from its state after two trials, it proposes what the original did.
    again = GridStrategy(seed=0)
    again.setup(grown, OBJECTIVES)
    replay = GridStrategy(seed=0)
    replay.setup(grown, OBJECTIVES)
    _run(replay, n=2)
    again.load_state_dict(json.loads(json.dumps(replay.state_dict())))
    assert _run(again, first=2) == _run(replay, first=2)
