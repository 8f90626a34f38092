"""Standard search spaces and analytic objectives for strategy tests.

Each objective is a deterministic function of the values (no randomness), so
a run of a strategy is reproducible from the strategy's seed alone.
"""

from __future__ import annotations

import math
import zlib
from typing import Any, Callable, Mapping

from autokeras_nas.core import Boolean, Choice, Condition, Fixed, Float, HyperSpace, Int

#: The five operations of a NAS-Bench-201 cell edge.
NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: The six edges (i -> j) of a NAS-Bench-201 cell with 4 nodes.
NB201_EDGES = tuple(f"edge_{i}_{j}" for j in range(1, 4) for i in range(j))


def finite_space() -> HyperSpace:
    """3 x 2 x 2 = 12 configurations of Choice and Boolean parameters."""
    return HyperSpace([
        Choice("optimizer", ["adam", "sgd", "rmsprop"]),
        Choice("units", [32, 64]),
        Boolean("batch_norm"),
    ])


def mixed_space() -> HyperSpace:
    """Int (linear and log), Float (log and stepped), Boolean, Fixed, and two
    conditional scopes: the dropout rate exists only with dropout on, and
    the block type chooses between conv and dense parameters."""
    conv = (Condition("block", ["conv"]),)
    dense = (Condition("block", ["dense"]),)
    return HyperSpace([
        Fixed("input_size", 28),
        Int("layers", 1, 4),
        Float("learning_rate", 1e-4, 1e-1, sampling="log"),
        Boolean("dropout"),
        Float("dropout_rate", 0.0, 0.5, step=0.1, conditions=(Condition("dropout", [True]),)),
        Choice("activation", ["relu", "tanh", "gelu"]),
        Choice("block", ["conv", "dense"]),
        Int("filters", 8, 64, step=8, conditions=conv),
        Choice("kernel_size", [3, 5, 7], conditions=conv),
        Int("units", 16, 512, sampling="log", conditions=dense),
    ])


def nb201_space() -> HyperSpace:
    """A NAS-Bench-201-like cell: 6 edges, each one of 5 operations
    (15,625 configurations)."""
    return HyperSpace([Choice(edge, list(NB201_OPS), ordered=False) for edge in NB201_EDGES])


def standard_spaces() -> dict[str, HyperSpace]:
    """New instances of the standard spaces: "finite", "mixed", "nb201"."""
    return {"finite": finite_space(), "mixed": mixed_space(), "nb201": nb201_space()}


# ---------------------------------------------------------------------------
# analytic objectives (larger is better)
# ---------------------------------------------------------------------------
def _unit_hash(text: str) -> float:
    return (zlib.crc32(text.encode()) % 10_007) / 10_007.0


def score_values(values: Mapping[str, Any]) -> float:
    """A generic deterministic objective for any space: a sum of per-value
    scores in [0, 1]; numbers score smoothly around a per-name optimum,
    other values by a stable hash of (name, value)."""
    total = 0.0
    for name in sorted(values):
        v = values[name]
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            target = _unit_hash(name) * 4.0 - 2.0
            x = math.copysign(math.log10(1.0 + abs(float(v))), float(v))
            total += 1.0 / (1.0 + (x - target) ** 2)
        else:
            total += _unit_hash(f"{name}={v!r}")
    return total


def finite_objective(values: Mapping[str, Any]) -> float:
    """Best: adam, 64 units, batch norm."""
    opt = {"adam": 0.9, "rmsprop": 0.8, "sgd": 0.6}[values["optimizer"]]
    return opt + 0.05 * (values["units"] == 64) + 0.03 * bool(values["batch_norm"])


def mixed_objective(values: Mapping[str, Any]) -> float:
    """Smooth in the learning rate (best near 3e-3) and depth; the block
    type and its own parameters matter."""
    score = 1.0 - 0.1 * (math.log10(values["learning_rate"]) + 2.5) ** 2
    score -= 0.05 * (values["layers"] - 3) ** 2
    score += {"relu": 0.05, "gelu": 0.06, "tanh": 0.0}[values["activation"]]
    if values["dropout"]:
        score += 0.04 - 0.2 * (values["dropout_rate"] - 0.2) ** 2
    if values["block"] == "conv":
        score += 0.1 - 0.001 * abs(values["filters"] - 32) - 0.01 * abs(values["kernel_size"] - 3)
    else:
        score += 0.05 - 0.01 * abs(math.log2(values["units"]) - 7)
    return score


_NB201_OP_SCORE = {
    "none": 0.0, "skip_connect": 0.4, "avg_pool_3x3": 0.3, "nor_conv_1x1": 0.7, "nor_conv_3x3": 1.0,
}


def nb201_objective(values: Mapping[str, Any]) -> float:
    """Like NAS-Bench-201's accuracies: convolutions are best, a cell whose
    output is cut off from its input (all edges into node 3 "none") is bad."""
    score = sum(
        _NB201_OP_SCORE[values[edge]] * (1.0 + 0.1 * i) for i, edge in enumerate(NB201_EDGES)
    )
    into_output = [values[e] for e in NB201_EDGES if e.endswith("_3")]
    if all(op == "none" for op in into_output):
        score -= 5.0
    return score


_OBJECTIVES: dict[str, Callable[[Mapping[str, Any]], float]] = {
    "finite": finite_objective,
    "mixed": mixed_objective,
    "nb201": nb201_objective,
}


def objective_for(space_name: str) -> Callable[[Mapping[str, Any]], float]:
    """The analytic objective of a standard space (`score_values` otherwise)."""
    return _OBJECTIVES.get(space_name, score_values)


def standard_objectives() -> dict[str, Callable[[Mapping[str, Any]], float]]:
    """Objective per standard space name."""
    return dict(_OBJECTIVES)


# ---------------------------------------------------------------------------
# losses (smaller is better) spanning orders of magnitude
# ---------------------------------------------------------------------------
#: `nb201_objective` of the best cell (every edge `nor_conv_3x3`).
_NB201_BEST = sum(1.0 + 0.1 * i for i in range(len(NB201_EDGES)))


def nb201_loss(values: Mapping[str, Any]) -> float:
    """A loss to minimise on `nb201_space` whose values span four orders of
    magnitude, as a validation MSE can: 1e-4 for the best cell of
    `nb201_objective`, ten times more for every 1/4 of its range below,
    and 1 for every cell scoring 0 or less (output cut off)."""
    share = min(1.0, max(0.0, nb201_objective(values) / _NB201_BEST))
    return 10.0 ** (-4.0 * share)

