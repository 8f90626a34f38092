"""Arithmetic on cost tables of a supernet's candidates (numpy only).

A cost table maps each choice of a supernet to its candidates' costs, in
the candidates' path order: `{choice: {candidate: cost}}`, as
`autokeras_nas.oneshot.candidate_params`, `candidate_flops` and
`latency_table` make them. A choice's cost already sums every use of the
choice (a repeated cell), so an architecture's cost is one entry per choice.

* `architecture_cost(table, architecture)`: the cost of one architecture
  (choice -> candidate), the sum over the table's choices of the chosen
  candidate's cost.
* `expected_cost(table, probabilities)`: the expected cost under
  independent per-choice distributions over the candidates, the sum over
  choices of `sum_i p_i * cost_i` (SNAS's resource constraint, the
  ProxylessNAS / FBNet latency loss, on numbers rather than tensors).
* `cost_vector(table, choice)`: a choice's costs as an array in path order,
  for a loss written in the framework of the search.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

__all__ = ["MODEL_RESOURCES", "RESOURCES", "TARGET_SCOPES", "architecture_cost", "cost_vector",
           "expected_cost"]

#: The cost tables a differentiable search can weigh: parameters,
#: multiply-accumulates, latency in Keras and in the TFLite interpreter (ms).
RESOURCES = ("params", "flops", "latency", "tflite_latency")
#: What a resource target bounds: the chosen operations' table sum, or the
#: whole exported model.
TARGET_SCOPES = ("operations", "model")
#: The resources a whole-model target can be measured in.
MODEL_RESOURCES = ("params", "latency", "tflite_latency")

#: How far from 1 the probabilities of one choice may sum (float32 softmax
#: outputs, Gumbel-softmax samples).
PROBABILITY_TOLERANCE = 1e-3


def _check_table(table: Any) -> Mapping[str, Mapping[str, float]]:
    if not isinstance(table, Mapping) or not table:
        raise ValueError(f"a cost table must be a non-empty mapping choice -> "
                         f"{{candidate: cost}}, got {table!r}")
    for choice, row in table.items():
        if not isinstance(row, Mapping) or not row:
            raise ValueError(f"cost table: choice {choice!r} must map candidates to costs, "
                             f"got {row!r}")
    return table


def cost_vector(table: Mapping[str, Mapping[str, float]], choice: str) -> np.ndarray:
    """The costs of `choice`'s candidates, float64, in the table's order
    (the path order of the choice's MixedOps).

    Raises:
        ValueError: `choice` is not in the table.
    """
    _check_table(table)
    if choice not in table:
        raise ValueError(f"{choice!r} is not a choice of the cost table (its choices: "
                         f"{sorted(table)})")
    return np.asarray([float(c) for c in table[choice].values()], dtype=np.float64)


def architecture_cost(table: Mapping[str, Mapping[str, float]],
                      architecture: Mapping[str, str]) -> float:
    """The cost of one architecture: the sum, over the table's choices, of the
    cost of the candidate `architecture` picks.

    Args:
        table: choice -> {candidate: cost}.
        architecture: choice -> candidate name, e.g. a trial's
            `hp.values`; keys that are not choices of the table (other
            hyperparameters) are ignored.

    Raises:
        ValueError: a choice of the table missing from `architecture`, or a
            candidate that is not one of its choice's.
    """
    _check_table(table)
    missing = [c for c in table if c not in architecture]
    if missing:
        raise ValueError(f"architecture_cost: the architecture picks no candidate for "
                         f"{missing}")
    total = 0.0
    for choice, row in table.items():
        picked = architecture[choice]
        if picked not in row:
            raise ValueError(f"architecture_cost: {picked!r} is not a candidate of "
                             f"{choice!r} ({list(row)})")
        total += float(row[picked])
    return total


def _probabilities(choice: str, row: Mapping[str, float], given: Any) -> np.ndarray:
    """`given` (candidate -> p, or a sequence in the row's order) as an array
    in the row's order."""
    if isinstance(given, Mapping):
        unknown = sorted(set(given) - set(row))
        if unknown:
            raise ValueError(f"expected_cost: {unknown} are not candidates of {choice!r} "
                             f"({list(row)})")
        p = np.asarray([float(given.get(name, 0.0)) for name in row], dtype=np.float64)
    else:
        p = np.asarray(given, dtype=np.float64).reshape(-1)
        if p.size != len(row):
            raise ValueError(f"expected_cost: {choice!r} has {len(row)} candidates, got "
                             f"{p.size} probabilities")
    if not np.all(np.isfinite(p)) or np.any(p < 0):
        raise ValueError(f"expected_cost: the probabilities of {choice!r} must be finite and "
                         f"non-negative, got {p.tolist()}")
    if not math.isclose(float(p.sum()), 1.0, abs_tol=PROBABILITY_TOLERANCE):
        raise ValueError(f"expected_cost: the probabilities of {choice!r} sum to "
                         f"{float(p.sum()):.6g}, not 1 (pass probabilities, not logits)")
    return p


def expected_cost(table: Mapping[str, Mapping[str, float]],
                  probabilities: Mapping[str, Mapping[str, float] | Sequence[float]]) -> float:
    """The expected cost of an architecture drawn choice by choice:
    `sum over choices of sum_i p_i * cost_i`.

    Args:
        table: choice -> {candidate: cost}.
        probabilities: choice -> the candidates' probabilities, either a
            mapping candidate -> p (candidates left out have p = 0) or a
            sequence / array in the table's candidate order (the path order,
            e.g. a softmax over a choice's architecture parameters). Each
            choice's probabilities must be non-negative and sum to 1 (within
            `PROBABILITY_TOLERANCE`). Every choice of the table must be
            given; keys that are not choices of the table are ignored.

    Raises:
        ValueError: a missing choice, unknown candidates, a wrong length, or
            probabilities that are negative or do not sum to 1.
    """
    _check_table(table)
    missing = [c for c in table if c not in probabilities]
    if missing:
        raise ValueError(f"expected_cost: no probabilities for {missing}")
    total = 0.0
    for choice, row in table.items():
        p = _probabilities(choice, row, probabilities[choice])
        costs = np.asarray([float(c) for c in row.values()], dtype=np.float64)
        total += float(p @ costs)
    return total
