"""`autokeras_nas.report.analysis`, the data of the dashboard's views (no
TensorFlow): synthetic results whose answers are known, and architectures
copied from real searches on digits (nb201, popnas, nash)."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
import time
from typing import Any

import numpy as np
import pytest

from autokeras_nas.core import Choice, Float, HyperSpace, non_dominated_sort
from autokeras_nas.report import analysis

OBJECTIVE = [{"name": "val_accuracy", "direction": "max"}]

# -- architectures of real searches (`autokeras-nas search --dataset digits`) -------------
#: `--space nb201 --strategy spos`: the values of trial 0003.
NB201_VALUES = {"edge_0_1": "none", "edge_0_2": "nor_conv_3x3", "edge_1_2": "avg_pool_3x3",
                "edge_0_3": "skip_connect", "edge_1_3": "nor_conv_3x3",
                "edge_2_3": "avg_pool_3x3"}
#: `--strategy popnas`: the arch of trial 0013.
POPNAS_ARCH = {"cell": [[-1, "conv3x3", -1, "conv5x5"], [0, "identity", 0, "identity"],
                        [0, "spatial1x7-7x1", 1, "identity"]],
               "macro": {"motifs": 3, "normal_cells": 1, "filters": 16, "residual": False,
                         "dropout": 0.0}}
#: `--strategy nash`: the arch of trial 0001 (a child of the start network).
NASH_ARCH = {
    "morphisms": [{"a": "n2", "b": "n3", "filters": 16, "kernel": 3, "seed": 579362555,
                   "type": "skip_concat"},
                  {"a": "n4", "b": "n5", "type": "skip_add"}],
    "net": {"batch_norm": True, "input_shape": [8, 8, 1], "kind": "2d", "next_id": 13,
            "num_classes": 10, "nodes": [
                {"id": "n0", "op": "input"},
                {"filters": 18, "id": "n1", "inputs": ["n0"], "kernel": 3, "op": "conv"},
                {"id": "n2", "inputs": ["n1"], "op": "pool"},
                {"filters": 32, "id": "n3", "inputs": ["n2"], "kernel": 3, "op": "conv"},
                {"filters": 16, "id": "n9", "inputs": ["n2"], "kernel": 3, "op": "conv"},
                {"id": "n10", "inputs": ["n3", "n9"], "op": "concat"},
                {"id": "n4", "inputs": ["n10"], "op": "pool"},
                {"filters": 64, "id": "n5", "inputs": ["n4"], "kernel": 3, "op": "conv"},
                {"filters": 64, "id": "n11", "inputs": ["n4"], "op": "proj"},
                {"id": "n12", "inputs": ["n5", "n11"], "op": "add"},
                {"id": "n6", "inputs": ["n12"], "op": "flatten"},
                {"id": "n7", "inputs": ["n6"], "op": "dense", "units": 64},
                {"id": "n8", "inputs": ["n7"], "op": "output"}]}}


def _trial(tid: Any, values: dict | None = None, status: str = "completed", *,
           arch: dict | None = None, parent: str | None = None, notes: dict | None = None,
           outputs: dict | None = None, **metrics: Any) -> dict[str, Any]:
    return {"trial_id": str(tid), "status": status, "values": values or {}, "metrics": metrics,
            "score": metrics.get("val_accuracy"), "task": "train", "parent_id": parent,
            "arch": arch, "notes": notes or {}, "outputs": outputs or {}, "curve": [],
            "seconds": 1.0, "message": ""}


def _results(trials: list[dict], objectives: list[dict] | None = None, **extra: Any) -> dict:
    return {"format": "autokeras_nas.results", "version": 1, "strategy": "random",
            "objectives": objectives or OBJECTIVE, "trials": trials, **extra}


def _json(value: Any) -> Any:
    """The value after a strict JSON round trip (raises on NaN, numpy types)."""
    return json.loads(json.dumps(value, allow_nan=False))


def _synthetic(n: int, seed: int = 0) -> dict:
    """`a` decides val_accuracy (0.5, 0.7, 0.9), `b` and `c` are noise."""
    rng = np.random.default_rng(seed)
    trials = []
    for i in range(n):
        a = ["x", "y", "z"][int(rng.integers(3))]
        values = {"a": a, "b": float(rng.uniform()), "c": bool(rng.integers(2)),
                  "lr": float(10 ** rng.uniform(-4, -1))}
        trials.append(_trial(i, values, val_accuracy={"x": 0.5, "y": 0.7, "z": 0.9}[a],
                             params=float(rng.integers(1000, 9000)), train_time_s=1.5))
    return _results(trials)


# -- rankable, importance -------------------------------------------------------------------
def test_rankable_keeps_completed_and_stopped_trials_with_a_finite_objective_not_supernets():
    trials = [_trial(0, val_accuracy=0.5), _trial(1, status="stopped", val_accuracy=0.6),
              _trial(2, status="failed", val_accuracy=0.7), _trial(3, status="running"),
              _trial(4, val_accuracy=None), _trial(5, loss=0.3),
              _trial(6, notes={"phase": "supernet"}, val_accuracy=0.8)]
    assert [t["trial_id"] for t in analysis.rankable(_results(trials))] == ["0", "1"]
    assert [t["trial_id"] for t in analysis.rankable(_results(trials), "loss")] == ["5"]


def test_importance_ranks_first_the_hyperparameter_that_decides_the_objective():
    results = _synthetic(200)
    ranked = analysis.importance(results)
    assert [r["param"] for r in ranked][0] == "a"
    assert ranked[0]["importance"] > 0.8
    assert {r["param"] for r in ranked} == {"a", "b", "c", "lr"}
    assert sum(r["importance"] for r in ranked) == pytest.approx(1.0)
    assert [r["importance"] for r in ranked] == sorted((r["importance"] for r in ranked),
                                                       reverse=True)
    assert _json(ranked) == ranked
    assert analysis.importance(results, seed=0) == ranked  # seeded: reproducible
    # subsampled, the answer stands
    assert analysis.importance(results, max_rows=50)[0]["param"] == "a"


def test_importance_of_a_small_search_still_splits_its_trees():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning from scikit-learn on 8 trials
        for seed in range(3):
            ranked = analysis.importance(_synthetic(8, seed=seed + 5))
            assert ranked and ranked[0]["param"] == "a", ranked


def test_importance_is_empty_with_too_few_trials_nothing_varying_or_a_constant_objective():
    assert analysis.importance(_synthetic(4)) == []
    same = _results([_trial(i, {"a": "x", "b": 1.0}, val_accuracy=0.1 * i) for i in range(10)])
    assert analysis.importance(same) == []
    flat = _results([_trial(i, {"a": "xy"[i % 2]}, val_accuracy=0.5) for i in range(10)])
    assert analysis.importance(flat) == []
    assert analysis.importance(_results([])) == []


def test_importance_reads_features_of_cell_architectures():
    # val_accuracy grows with the number of blocks; the operators do not matter
    rng = np.random.default_rng(1)
    trials = []
    for i in range(60):
        blocks = int(rng.integers(1, 4))
        cell = [[-1, str(rng.choice(["conv3x3", "sep3x3"])), -2, "identity"]
                for _ in range(blocks)]
        trials.append(_trial(i, arch={"cell": cell, "macro": {}}, val_accuracy=0.3 * blocks))
    ranked = analysis.importance(_results(trials))
    assert ranked[0]["param"] in ("arch:blocks", "arch:op:identity")  # both count the blocks
    assert {r["param"] for r in ranked} >= {"arch:blocks", "arch:op:conv3x3", "arch:op:sep3x3"}


# -- operation summary ----------------------------------------------------------------------
def _two_edges(space: bool) -> dict:
    trials = [_trial(0, {"edge_0_1": "conv", "edge_0_2": "skip"}, val_accuracy=0.9, val_loss=0.1),
              _trial(1, {"edge_0_1": "conv", "edge_0_2": "conv"}, val_accuracy=0.8, val_loss=0.3),
              _trial(2, {"edge_0_1": "skip", "edge_0_2": "skip"}, val_accuracy=0.5, val_loss=0.2),
              _trial(3, {"edge_0_1": "skip", "edge_0_2": "conv"}, status="failed"),
              _trial(4, {"edge_0_1": "pool", "edge_0_2": "skip"}, status="stopped",
                     val_accuracy=0.6, val_loss=0.4)]
    extra = {}
    if space:
        ops = ["none", "skip", "conv", "pool"]
        extra["space"] = HyperSpace([Choice("edge_0_1", ops, ordered=False),
                                     Choice("edge_0_2", ops, ordered=False)]).to_config()
    return _results(trials, **extra)


def _table(rows: list[dict]) -> dict:
    return {(r["param"], r["value"]): (r["count"], r["mean"], r["best"]) for r in rows}


def test_operation_summary_means_and_bests_by_hand():
    rows = analysis.operation_summary(_two_edges(space=False))
    assert _json(rows) == rows
    table = _table(rows)
    approx = pytest.approx
    assert table[("edge_0_1", "conv")] == (2, approx(0.85), 0.9)
    assert table[("edge_0_1", "skip")] == (1, approx(0.5), 0.5)  # trial 3 failed
    assert table[("edge_0_1", "pool")] == (1, approx(0.6), 0.6)
    assert table[("edge_0_2", "conv")] == (1, approx(0.8), 0.8)
    assert table[("edge_0_2", "skip")] == (3, approx((0.9 + 0.5 + 0.6) / 3), 0.9)
    # "*": the trials using the operation on any edge, each once
    assert table[("*", "conv")] == (2, approx(0.85), 0.9)
    assert table[("*", "skip")] == (3, approx((0.9 + 0.5 + 0.6) / 3), 0.9)
    assert ("*", "pool") not in table  # only one edge can hold it (no space says otherwise)
    # a minimised objective: best is the least
    loss = _table(analysis.operation_summary(_two_edges(space=False), "val_loss"))
    assert loss[("edge_0_2", "skip")] == (3, approx((0.1 + 0.2 + 0.4) / 3), 0.1)
    # rows: the hyperparameters in order, then "*"
    params = [r["param"] for r in rows]
    assert params == sorted(params, key=["edge_0_1", "edge_0_2", "*"].index)


def test_operation_summary_lists_the_values_of_the_space_even_unused():
    rows = analysis.operation_summary(_two_edges(space=True))
    table = _table(rows)
    # the space's order of values, and a value no trial used
    assert [r["value"] for r in rows if r["param"] == "edge_0_1"] == ["none", "skip", "conv",
                                                                    "pool"]
    assert table[("edge_0_1", "none")] == (0, None, None)
    assert table[("*", "pool")] == (1, pytest.approx(0.6), 0.6)
    assert table[("*", "none")] == (0, None, None)


def test_operation_summary_of_cells_counts_operators_over_blocks_and_blocks():
    trials = [_trial(0, arch={"cell": [[-1, "conv3x3", -2, "identity"]]}, val_accuracy=0.6),
              _trial(1, arch={"cell": [[-1, "conv3x3", -2, "conv3x3"],
                                       [0, "sep3x3", -1, "identity"]]}, val_accuracy=0.8),
              _trial(2, arch={"cell": [[-1, "sep3x3", -1, "sep3x3"]]}, val_accuracy=0.4)]
    table = _table(analysis.operation_summary(_results(trials)))
    assert table[("*", "conv3x3")] == (2, pytest.approx(0.7), 0.8)
    assert table[("*", "sep3x3")] == (2, pytest.approx(0.6), 0.8)
    assert table[("*", "identity")] == (2, pytest.approx(0.7), 0.8)
    assert table[("arch:blocks", 1)] == (2, pytest.approx(0.5), 0.6)
    assert table[("arch:blocks", 2)] == (1, pytest.approx(0.8), 0.8)
    assert not any(param.startswith("arch:op:") for param, _ in table)


# -- pareto -------------------------------------------------------------------------------
def test_pareto_flags_the_front_by_hand_with_a_cost_minimised():
    trials = [_trial("A", params=100.0, val_accuracy=0.9),
              _trial("B", params=200.0, val_accuracy=0.95),
              _trial("C", params=200.0, val_accuracy=0.9),     # dominated by A and B
              _trial("D", params=50.0, val_accuracy=0.5),
              _trial("E", params=100.0, val_accuracy=0.9),     # equal to A: both on the front
              _trial("F", params=300.0, val_accuracy=0.8),     # dominated
              _trial("G", status="failed", params=10.0, val_accuracy=0.99),
              _trial("H", val_accuracy=0.99)]                  # no params
    out = analysis.pareto(_results(trials), "params", "val_accuracy")
    assert _json(out) == out
    assert (out["x_direction"], out["y_direction"]) == ("min", "max")
    assert {p["trial_id"]: p["front"] for p in out["points"]} == {
        "A": True, "B": True, "C": False, "D": True, "E": True, "F": False}
    assert out["points"][0] == {"trial_id": "A", "x": 100.0, "y": 0.9, "front": True}
    # maximised params, e.g. as a declared objective: the largest network is best
    both = _results(trials, [{"name": "val_accuracy", "direction": "max"},
                             {"name": "params", "direction": "max"}])
    flags = {p["trial_id"]: p["front"] for p in analysis.pareto(both, "params", "val_accuracy")
             ["points"]}
    assert flags == {"A": False, "B": True, "C": False, "D": False, "E": False, "F": True}


def test_pareto_directions_of_metrics_that_are_not_objectives():
    results = _results([])
    assert analysis.direction(results, "latency_ms") == "min"
    assert analysis.direction(results, "tflite_latency_ms") == "min"
    assert analysis.direction(results, "model_kb") == "min"
    assert analysis.direction(results, "train_time_s") == "min"
    assert analysis.direction(results, "val_loss") == "min"
    assert analysis.direction(results, "accuracy") == "max"
    assert analysis.direction(_results([], [{"name": "params", "direction": "max"}]),
                              "params") == "max"


def test_pareto_front_agrees_with_non_dominated_sort_ties_included():
    rng = np.random.default_rng(3)
    for _ in range(20):
        points = rng.integers(0, 6, size=(40, 2)).astype(float)
        trials = [_trial(i, latency_ms=float(x), val_accuracy=float(y))
                  for i, (x, y) in enumerate(points)]
        out = analysis.pareto(_results(trials), "latency_ms", "val_accuracy")
        expected = set(non_dominated_sort(points * [-1.0, 1.0])[0])
        assert {int(p["trial_id"]) for p in out["points"] if p["front"]} == expected


def test_metric_names_objectives_first_finite_only():
    trials = [_trial(0, loss=0.2, params=10.0, val_accuracy=0.5, stopped_early=0.0),
              _trial(1, status="failed", only_failed=1.0),
              _trial(2, latency_ms=None, val_accuracy=0.6, accuracy=0.7)]
    assert analysis.metric_names(_results(trials)) == ["val_accuracy", "loss", "params",
                                                       "accuracy"]


# -- embedding, parallel coordinates -----------------------------------------------------
def test_embedding_has_a_finite_point_per_evaluated_architecture():
    trials = [_trial(0, {"a": "x", "b": 0.5, "lr": 1e-3}, val_accuracy=0.5, params=100.0),
              _trial(1, {"a": "y", "b": 0.1, "lr": 1e-1}, val_accuracy=0.6, train_time_s=2.0),
              _trial(2, {"a": "x", "b": 0.5, "lr": 1e-3}, status="failed"),  # same as 0
              _trial(3, {}, val_accuracy=0.9),                               # nothing to encode
              _trial(4, {"a": "z", "b": 0.9, "lr": 1e-2}, status="stopped", val_accuracy=0.7),
              _trial(5, {"a": "z", "b": 0.2}, notes={"phase": "supernet"}, val_accuracy=0.1),
              _trial(6, arch={"cell": [[-1, "conv3x3", -2, "identity"]]}, val_accuracy=0.2)]
    points = analysis.embedding(_results(trials))
    assert _json(points) == points
    assert [p["trial_id"] for p in points] == ["0", "1", "2", "4", "6"]
    assert all(math.isfinite(p["x"]) and math.isfinite(p["y"]) for p in points)
    by_id = {p["trial_id"]: p for p in points}
    assert (by_id["0"]["x"], by_id["0"]["y"]) == (by_id["2"]["x"], by_id["2"]["y"])
    assert (by_id["0"]["x"], by_id["0"]["y"]) != (by_id["1"]["x"], by_id["1"]["y"])
    assert [by_id[t]["value"] for t in "0124"] == [0.5, 0.6, None, 0.7]
    assert [by_id[t]["cost"] for t in "0124"] == [100.0, 2.0, None, None]
    assert analysis.embedding(_results(trials), seed=5) == points  # PCA of all rows: no sampling
    assert analysis.embedding(_results([])) == []


def test_embedding_of_identical_architectures_is_one_point_and_of_one_column_a_line():
    trials = [_trial(i, {"k": [3, 5][i % 2]}, val_accuracy=0.5) for i in range(6)]
    points = analysis.embedding(_results(trials))
    assert {(p["x"], p["y"]) for p in points[0::2]} == {(points[0]["x"], 0.0)}
    assert {p["y"] for p in points} == {0.0} and points[0]["x"] != points[1]["x"]


def test_embedding_pca_recovers_the_direction_of_largest_spread():
    # b spreads over [0, 1] while c stays within [0.45, 0.55] of its range ends 0 and 1
    rng = np.random.default_rng(0)
    trials = [_trial(i, {"b": float(rng.uniform()), "c": float(rng.uniform(0.45, 0.55))})
              for i in range(200)]
    trials += [_trial(200, {"b": 0.5, "c": 0.0}), _trial(201, {"b": 0.5, "c": 1.0})]
    points = analysis.embedding(_results(trials))
    xs = np.array([p["x"] for p in points[:200]])
    bs = np.array([t["values"]["b"] for t in trials[:200]])
    assert abs(np.corrcoef(xs, bs)[0, 1]) > 0.95


def test_parallel_coordinates_codes_categoricals_and_marks_inactive_values():
    trials = [_trial(0, {"head": "flatten", "units": 32, "lr": 1e-4, "blocks": 1},
                     val_accuracy=0.5),
              _trial(1, {"head": "gap", "lr": 1e-2, "blocks": 2, "f1": 16}, val_accuracy=0.7),
              _trial(2, {"head": "flatten", "units": 64, "lr": 1e-3, "blocks": 2, "f1": 32},
                     val_accuracy=0.6),
              _trial(3, {"head": "gap", "units": 64}, status="failed")]
    out = analysis.parallel_coordinates(_results(trials))
    assert _json(out) == out
    dims = {d["label"]: d for d in out["dimensions"]}
    assert set(dims) == {"head", "units", "log10(lr)", "blocks", "f1"}
    assert dims["head"]["values"] == [0.0, 1.0, 0.0]
    assert dims["head"]["ticktext"] == ["flatten", "gap"]
    assert dims["head"]["tickvals"] == [0.0, 1.0]
    assert dims["log10(lr)"]["values"] == pytest.approx([-4, -2, -3])
    assert dims["blocks"]["values"] == [1.0, 2.0, 2.0]
    # inactive: a tick of its own below the numbers
    units = dims["units"]
    assert units["values"][0] == 32.0 and units["values"][2] == 64.0
    assert units["values"][1] < 32.0 and units["ticktext"][0] == "inactive"
    assert units["tickvals"][0] == units["values"][1]
    assert out["objective"] == {"label": "val_accuracy", "values": [0.5, 0.7, 0.6],
                                "direction": "max"}
    assert out["trial_ids"] == ["0", "1", "2"]
    assert all(len(d["values"]) == 3 for d in out["dimensions"])


# -- best so far ----------------------------------------------------------------------------
def test_best_so_far_follows_the_trajectory_and_never_gets_worse():
    trials = [_trial(0, status="failed", train_time_s=1.0),
              _trial(1, val_accuracy=0.5, train_time_s=2.0),
              _trial(2, val_accuracy=0.4, train_time_s=3.0),
              _trial(3, status="stopped", val_accuracy=0.8, train_time_s=1.5),
              _trial(4, val_accuracy=0.7)]
    out = analysis.best_so_far(_results(trials))
    assert _json(out) == out
    rows = out["trials"]
    assert [r["index"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["value"] for r in rows] == [None, 0.5, 0.4, 0.8, 0.7]
    assert [r["best"] for r in rows] == [None, 0.5, 0.5, 0.8, 0.8]
    assert [r["seconds"] for r in rows] == [1.0, 3.0, 6.0, 7.5, 7.5]
    loss = analysis.best_so_far(_results([_trial(i, val_loss=v) for i, v in
                                          enumerate([0.5, 0.7, 0.2, 0.3])]), "val_loss")
    assert [r["best"] for r in loss["trials"]] == [0.5, 0.5, 0.2, 0.2]
    big = analysis.best_so_far(_synthetic(300))["trials"]
    assert all(b["best"] >= a["best"] for a, b in zip(big, big[1:]))


# -- architecture graphs --------------------------------------------------------------------
def test_architecture_graph_of_a_nas_bench_201_cell():
    graph = analysis.architecture_graph(_trial(0, NB201_VALUES))
    assert _json(graph) == graph and graph["kind"] == "nb201"
    assert [n["id"] for n in graph["nodes"]] == ["0", "1", "2", "3"]
    assert graph["nodes"][0]["label"] == "input" and graph["nodes"][3]["label"] == "output"
    edges = {(e["source"], e["target"]): e["label"] for e in graph["edges"]}
    assert edges == {("0", "2"): "nor_conv_3x3", ("1", "2"): "avg_pool_3x3",
                     ("0", "3"): "skip_connect", ("1", "3"): "nor_conv_3x3",
                     ("2", "3"): "avg_pool_3x3"}  # edge_0_1 is none: no edge


def test_architecture_graph_of_a_popnas_cell():
    graph = analysis.architecture_graph(_trial(0, arch=POPNAS_ARCH))
    assert _json(graph) == graph and graph["kind"] == "cell"
    assert [n["id"] for n in graph["nodes"]] == ["-2", "-1", "b0", "b1", "b2", "out"]
    edges = sorted((e["source"], e["target"], e["label"]) for e in graph["edges"])
    assert edges == sorted([("-1", "b0", "conv3x3"), ("-1", "b0", "conv5x5"),
                            ("b0", "b1", "identity"), ("b0", "b1", "identity"),
                            ("b0", "b2", "spatial1x7-7x1"), ("b1", "b2", "identity"),
                            ("b2", "out", "")])  # only block 2 is unused: the output


def test_architecture_graph_of_a_nash_network():
    graph = analysis.architecture_graph(_trial(0, arch=NASH_ARCH))
    assert _json(graph) == graph and graph["kind"] == "network"
    nodes = {n["id"]: n["label"] for n in graph["nodes"]}
    assert [n["id"] for n in graph["nodes"]] == [n["id"] for n in NASH_ARCH["net"]["nodes"]]
    assert nodes["n1"] == "conv 3x3, 18" and nodes["n11"] == "proj 1x1, 64"
    assert nodes["n7"] == "dense 64" and nodes["n12"] == "add"
    edges = {(e["source"], e["target"]): e["label"] for e in graph["edges"]}
    assert len(edges) == sum(len(n.get("inputs", [])) for n in NASH_ARCH["net"]["nodes"])
    assert edges[("n0", "n1")] == "" and edges[("n2", "n9")] == "skip"
    assert edges[("n4", "n11")] == "skip" and edges[("n11", "n12")] == ""


def test_a_supernet_trial_is_drawn_as_the_architecture_it_derived():
    # Its values are a default path through the supernet, not an architecture.
    default = {k: "nor_conv_3x3" for k in NB201_VALUES}
    derived = dict(NB201_VALUES)
    supernet = _trial(0, default, notes={"phase": "supernet"},
                      outputs={"architectures": [derived, default]})
    graph = analysis.architecture_graph(supernet)
    assert graph["title"].startswith("derived architecture")
    assert graph["edges"] == analysis.architecture_graph(_trial(1, derived))["edges"]
    # A supernet that derives nothing (SPOS' sampling supernet) is not drawn.
    assert analysis.architecture_graph(_trial(0, default, notes={"phase": "supernet"})) is None
    assert analysis.architecture_graph(_trial(1, default))["title"] == "architecture"


def test_architecture_graph_is_none_for_plain_hyperparameters():
    assert analysis.architecture_graph(_trial(0, {"units": 32, "head": "gap"})) is None
    assert analysis.architecture_graph(_trial(0)) is None
    # an arch given as JSON text, as in a trial's hyperparameters
    text = _trial(0, arch=None)
    text["arch"] = json.dumps(POPNAS_ARCH)
    assert analysis.architecture_graph(text)["kind"] == "cell"


# -- one-shot and lineage ---------------------------------------------------------------------
def _oneshot_results() -> dict:
    history = [{"epoch": e, "probabilities": {"op": {"a": 1 - 0.2 * e, "b": 0.2 * e}}}
               for e in (1, 2)]
    trials = [_trial(0, {"op": "a"}, notes={"phase": "supernet"}, val_accuracy=0.3,
                     outputs={"choices": {"op": ["a", "b", "c"]},
                              "probabilities_by_epoch": history,
                              "probabilities": {"op": {"a": 0.6, "b": 0.4}}})]
    for i, (estimate, retrained) in enumerate([(0.5, 0.8), (0.6, 0.85), (0.4, 0.7)]):
        trials.append(_trial(1 + i, {"op": "ab"[i % 2]}, notes={"phase": "search"},
                             val_accuracy=estimate))
    for i, retrained in enumerate([0.8, 0.85, 0.7]):
        trials.append(_trial(4 + i, {"op": "ab"[i % 2]},
                             notes={"phase": "retrain", "estimate_trial": str(1 + i)},
                             val_accuracy=retrained))
    return _results(trials)


def test_oneshot_view_estimates_correlations_and_probabilities_by_epoch():
    view = analysis.oneshot_view(_oneshot_results())
    assert _json(view) == view
    assert view["supernet_trial_id"] == "0"
    assert [(e["trial_id"], e["estimated"], e["retrained"]) for e in view["estimates"]] == [
        ("4", 0.5, 0.8), ("5", 0.6, 0.85), ("6", 0.4, 0.7)]
    assert view["correlations"]["kendall_tau"] == pytest.approx(1.0)
    assert view["correlations"]["spearman"] == pytest.approx(1.0)
    assert view["correlations"]["n"] == 3
    assert [(p["step"], p["candidate"], p["p"]) for p in view["probabilities"]] == [
        (1, "a", pytest.approx(0.8)), (1, "b", pytest.approx(0.2)),
        (2, "a", pytest.approx(0.6)), (2, "b", pytest.approx(0.4))]
    # the supernet's choices are the values of the space: "c" was never used
    table = _table(analysis.operation_summary(_oneshot_results()))
    assert table[("op", "c")] == (0, None, None)
    assert table[("op", "a")][0] == 4  # two estimates, two retrains; not the supernet


def test_oneshot_view_falls_back_to_the_final_probabilities_and_is_none_without_a_supernet():
    results = _oneshot_results()
    outputs = results["trials"][0]["outputs"]
    del outputs["probabilities_by_epoch"]
    results["trials"][0]["curve"] = [{"epoch": 1}, {"epoch": 2}, {"epoch": 3}]
    view = analysis.oneshot_view(results)
    assert [(p["step"], p["candidate"]) for p in view["probabilities"]] == [(3, "a"), (3, "b")]
    del outputs["probabilities"]
    assert analysis.oneshot_view(results)["probabilities"] == []
    results["trials"] = results["trials"][:2] + results["trials"][4:5]  # one retrained
    assert analysis.oneshot_view(results)["correlations"] == {"kendall_tau": None,
                                                              "spearman": None, "n": 1}
    assert analysis.oneshot_view(_synthetic(10)) is None


def test_lineage_tree_of_parents():
    trials = [_trial(0, notes={"origin": "start"}, val_accuracy=0.5),
              _trial(1, parent="0", notes={"morphisms": ["wider n1 16->18"]}, val_accuracy=0.6),
              _trial(2, parent="0", notes={"morphisms": ["skip_add n4 -> n5"]},
                     status="failed"),
              _trial(3, parent="1", notes={"morphisms": []}, val_accuracy=0.7)]
    out = analysis.lineage(_results(trials))
    assert _json(out) == out
    nodes = {n["trial_id"]: n for n in out["nodes"]}
    assert [nodes[t]["x"] for t in "0123"] == [0.0, 1.0, 1.0, 2.0]
    assert nodes["1"]["label"] == "wider n1 16->18" and nodes["3"]["label"] == "trained further"
    assert [nodes[t]["value"] for t in "0123"] == [0.5, 0.6, None, 0.7]
    assert sorted((e["source"], e["target"]) for e in out["edges"]) == [
        ("0", "1"), ("0", "2"), ("1", "3")]
    assert analysis.lineage(_synthetic(5)) is None


# -- a space in the results, and scale ------------------------------------------------------
def test_a_space_in_the_results_gives_the_values_and_the_log_scale():
    space = HyperSpace([Choice("units", [16, 32, 64, 128]),
                        Float("lr", 1e-4, 1e-1, sampling="log")]).to_config()
    trials = [_trial(i, {"units": u, "lr": lr}, val_accuracy=a) for i, (u, lr, a) in
              enumerate([(16, 1e-3, 0.5), (32, 1e-2, 0.6), (32, 1e-3, 0.7)])]
    results = _results(trials, space=space)
    table = _table(analysis.operation_summary(results))
    assert [v for p, v in table if p == "units"] == [16, 32, 64, 128]
    assert table[("units", 32)] == (2, pytest.approx(0.65), 0.7)
    assert table[("units", 128)] == (0, None, None)
    assert not any(p == "lr" for p, _ in table)  # continuous: no value-by-value rows
    dims = {d["label"]: d for d in analysis.parallel_coordinates(results)["dimensions"]}
    assert "log10(lr)" in dims and dims["units"]["tickvals"] == [16.0, 32.0, 64.0, 128.0]
    # the list of parameters alone reads the same
    alone = _results(trials, space=space["space"])
    assert analysis.operation_summary(alone) == analysis.operation_summary(results)


def test_every_view_of_ten_thousand_trials_takes_well_under_a_second():
    pytest.importorskip("sklearn.ensemble")  # imported once by the server, not per view
    rng = np.random.default_rng(0)
    ops = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
    edges = [f"edge_{i}_{j}" for j in range(1, 4) for i in range(j)]
    trials = []
    for i in range(10_000):
        values = {e: ops[int(rng.integers(5))] for e in edges}
        values.update(lr=float(10 ** rng.uniform(-4, -1)), bn=bool(rng.integers(2)),
                      units=int(rng.choice([16, 32, 64])))
        accuracy = 0.5 + 0.05 * sum(values[e] == "nor_conv_3x3" for e in edges)
        trials.append(_trial(i, values, "failed" if i % 10 == 0 else "completed",
                             parent=str(int(rng.integers(i))) if i else None,
                             val_accuracy=accuracy + float(rng.normal(0, 0.01)),
                             params=float(rng.integers(1000, 100_000)), train_time_s=1.0))
    results = _results(trials)
    start = time.perf_counter()
    outputs = [analysis.rankable(results), analysis.importance(results),
               analysis.embedding(results), analysis.operation_summary(results),
               analysis.parallel_coordinates(results),
               analysis.pareto(results, "params", "val_accuracy"),
               analysis.metric_names(results), analysis.best_so_far(results),
               [analysis.architecture_graph(t) for t in trials[:100]],
               analysis.oneshot_view(results), analysis.lineage(results)]
    seconds = time.perf_counter() - start
    print(f"all views of 10,000 trials: {seconds:.3f} s")
    assert seconds < 3.0  # about 0.6 s alone on one core; the CI's cores are shared
    for out in outputs[1:]:
        json.dumps(out, allow_nan=False)
    assert len(outputs[2]) == 10_000 and len(outputs[0]) == 9_000
    assert outputs[1][0]["param"] in edges


def test_views_of_an_empty_search():
    empty = _results([])
    assert analysis.rankable(empty) == []
    assert analysis.importance(empty) == [] and analysis.embedding(empty) == []
    assert analysis.operation_summary(empty) == []
    assert analysis.parallel_coordinates(empty) == {
        "dimensions": [], "objective": {"label": "val_accuracy", "values": [], "direction": "max"},
        "trial_ids": []}
    assert analysis.pareto(empty, "params", "val_accuracy")["points"] == []
    assert analysis.metric_names(empty) == []
    assert analysis.best_so_far(empty)["trials"] == []
    assert analysis.oneshot_view(empty) is None and analysis.lineage(empty) is None


def test_every_combination_of_missing_and_odd_values_stays_json():
    odd = [None, float("nan"), "x", 3, 2.5, True]
    trials = [_trial(i, {"p": a, "q": b}, val_accuracy=0.1 * (i % 7), params=float(i + 1))
              for i, (a, b) in enumerate(itertools.product(odd, odd))]
    trials[3]["metrics"]["val_accuracy"] = float("inf")
    results = _results(trials)
    for out in (analysis.importance(results), analysis.embedding(results),
                analysis.operation_summary(results), analysis.parallel_coordinates(results),
                analysis.pareto(results, "params", "val_accuracy"),
                analysis.best_so_far(results)):
        json.dumps(out, allow_nan=False)


def test_the_module_imports_no_tensorflow_keras_sklearn_or_matplotlib():
    code = ("import sys\nfrom autokeras_nas.report import analysis\n"
            "print(sorted(m for m in ('tensorflow', 'keras', 'sklearn', 'matplotlib') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, check=True)
    assert out.stdout.strip() == "[]", out.stderr
