"""Synthetic search directories, to try the dashboard and test it (no TensorFlow).

`synthetic_results(kind, n)` makes a results.json document shaped like a
real search's: `image` (the image space's hyperparameters, two epochs of
curve), `nb201` (cell edges, two objectives, steering edits and the
recorded space), `nash` (a lineage of morphed graph architectures),
`oneshot` (supernet, estimates, retrained architectures) or `popnas`
(predictions in the notes). `write_search(directory, results)` writes it
where the dashboard reads it.
"""

from __future__ import annotations

import json
import math
import os
import random
from typing import Any

from autokeras_nas import steering
from autokeras_nas.results import FORMAT, VERSION, write_json_atomic, write_results

NB201_OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
NB201_EDGES = tuple(f"edge_{i}_{j}" for j in range(1, 4) for i in range(j))
KINDS = ("image", "nb201", "nash", "oneshot", "popnas")


def _curve(rng: random.Random, final: float, epochs: int) -> list[dict[str, float]]:
    out = []
    for e in range(1, epochs + 1):
        acc = final * (0.7 + 0.3 * e / epochs) - rng.uniform(0, 0.02)
        out.append({"epoch": e, "accuracy": round(acc + 0.01, 4), "loss": round(2.3 * (1 - acc), 4),
                    "val_accuracy": round(acc, 4), "val_loss": round(2.4 * (1 - acc), 4)})
    if out:
        out[-1]["val_accuracy"] = round(final, 4)
    return out


def _trial(rng: random.Random, i: int, strategy: str, values: dict[str, Any], accuracy: float,
           params: int, *, epochs: int = 2, status: str = "completed", **extra: Any
           ) -> dict[str, Any]:
    seconds = round(0.5 + params / 20000 + rng.uniform(0, 0.5), 3)
    ok = status in ("completed", "stopped")
    trial = {
        "trial_id": f"{i:04d}", "strategy": strategy, "status": status, "values": values,
        "metrics": ({"accuracy": round(accuracy + 0.01, 4), "loss": round(2.3 * (1 - accuracy), 4),
                     "val_accuracy": round(accuracy, 4), "val_loss": round(2.4 * (1 - accuracy), 4),
                     "train_time_s": seconds, "params": float(params), "epochs": float(epochs),
                     "stopped_early": 0.0, "latency_ms": round(0.2 + params / 1e5, 3)}
                    if ok else {}),
        "score": round(accuracy, 4) if ok else None, "task": "train", "parent_id": None,
        "continues": None, "seconds": seconds + 0.1, "arch": None, "epochs": epochs,
        "stopped_early": False, "notes": {}, "outputs": {},
        "message": "" if ok else "ResourceExhaustedError: out of memory",
        "curve": _curve(rng, accuracy, epochs) if ok else [],
    }
    trial.update(extra)
    return trial


def _image(rng: random.Random, n: int) -> list[dict[str, Any]]:
    trials = []
    for i in range(n):
        values = {"conv_blocks": rng.choice([1, 2, 3]), "kernel_size": rng.choice([3, 5]),
                  "batch_norm": rng.choice([False, True]), "filters_0": rng.choice([16, 32, 64]),
                  "head": rng.choice(["flatten", "global_avg"]),
                  "dense_units": rng.choice([32, 64, 128]), "dropout": rng.choice([0.0, 0.2, 0.5]),
                  "learning_rate": round(10 ** rng.uniform(-4, -2), 6)}
        accuracy = (0.6 + 0.08 * values["conv_blocks"] + 0.03 * (values["head"] == "global_avg")
                    - 8 * abs(math.log10(values["learning_rate"]) + 3) / 100
                    + rng.uniform(-0.05, 0.05))
        params = 2000 * values["filters_0"] * values["conv_blocks"] + 60 * values["dense_units"]
        status = "failed" if i % 97 == 13 else "completed"
        trials.append(_trial(rng, i, "random", values, min(accuracy, 0.995), params,
                             status=status))
    return trials


def _nb201(rng: random.Random, n: int) -> list[dict[str, Any]]:
    trials = []
    for i in range(n):
        excluded = "avg_pool_3x3" if i >= n // 2 else None  # edit 1 applies from the middle
        ops = [o for o in NB201_OPS if o != excluded]
        values = {e: rng.choice(ops) for e in NB201_EDGES}
        convs = sum(v.startswith("nor_conv") for v in values.values())
        accuracy = 0.55 + 0.06 * convs - 0.1 * (values["edge_0_3"] == "none") + rng.uniform(-.04, .04)
        params = 4000 + 9000 * convs
        trials.append(_trial(rng, i, "aging-evolution", values, min(accuracy, 0.99), params,
                             edits_seen=1 if excluded else None))
    return trials


def _nash(rng: random.Random, n: int) -> list[dict[str, Any]]:
    trials = []
    morphisms = ("wider", "deeper", "skip_add", "skip_concat")
    for i in range(n):
        parent = None if i == 0 else f"{rng.randrange(max(1, i - 6), i) if i > 1 else 0:04d}"
        depth = 1 if parent is None else int(parent) % 5 + 2
        nodes = [{"id": "n0", "op": "input"}]
        for k in range(1, depth + 1):
            nodes.append({"id": f"n{k}", "op": "conv", "filters": 16 * k, "kernel": 3,
                          "inputs": [f"n{k - 1}"] + ([f"n{k - 2}"] if k > 1 and k % 2 else [])})
        nodes.append({"id": f"n{depth + 1}", "op": "output", "inputs": [f"n{depth}"]})
        accuracy = 0.8 + 0.02 * depth + rng.uniform(-0.03, 0.03)
        trial = _trial(rng, i, "nash", {}, min(accuracy, 0.99), 10000 * depth, parent_id=parent,
                       arch={"net": {"nodes": nodes, "kind": "2d"},
                             "morphisms": [] if parent is None else [
                                 {"type": rng.choice(morphisms), "node": "n1"}]})
        trial["notes"] = {"origin": "start" if parent is None else "morph"}
        if parent is not None:
            trial["outputs"] = {"preservation_error": round(rng.uniform(0, 1e-5), 8)}
        trials.append(trial)
    return trials


def _oneshot(rng: random.Random, n: int) -> list[dict[str, Any]]:
    supernet = _trial(rng, 0, "spos", {e: "nor_conv_3x3" for e in NB201_EDGES}, 0.6, 60000,
                      epochs=8, task="supernet", notes={"phase": "supernet"}, status="stopped")
    trials = [supernet]
    estimates = []
    for i in range(1, n):
        values = {e: rng.choice(NB201_OPS) for e in NB201_EDGES}
        convs = sum(v.startswith("nor_conv") for v in values.values())
        estimate = 0.4 + 0.05 * convs + rng.uniform(-0.05, 0.05)
        if i < n - 3:
            trials.append(_trial(rng, i, "spos", values, estimate, 4000 + 9000 * convs, epochs=0,
                                 task="estimate", parent_id="0000",
                                 notes={"phase": "search", "origin": "random"}))
            estimates.append((estimate, values, f"{i:04d}"))
        else:
            estimate, values, source = sorted(estimates, key=lambda e: -e[0])[n - 1 - i]
            retrained = min(0.99, estimate + 0.3 + rng.uniform(-0.04, 0.04))
            convs = sum(v.startswith("nor_conv") for v in values.values())
            trials.append(_trial(rng, i, "spos", values, retrained, 4000 + 9000 * convs,
                                 parent_id="0000", notes={
                                     "phase": "retrain", "estimate_trial": source,
                                     "estimate": {"val_accuracy": round(estimate, 4)}}))
    return trials


def _popnas(rng: random.Random, n: int) -> list[dict[str, Any]]:
    trials = []
    for i in range(n):
        blocks = 1 + i * 3 // n
        accuracy = 0.7 + 0.08 * blocks + rng.uniform(-0.05, 0.05)
        notes = {"origin": "initial" if blocks == 1 else "pareto", "blocks": blocks}
        if blocks > 1:
            notes["predicted_accuracy"] = round(accuracy + rng.uniform(-0.05, 0.05), 4)
            notes["predicted_time_per_epoch"] = round(0.5 + blocks * 0.4 + rng.uniform(0, .2), 3)
        trials.append(_trial(rng, i, "popnas", {}, min(accuracy, 0.99), 5000 * blocks,
                             arch={"cell": [[-1, "conv3x3", -2, "identity"]] * blocks},
                             notes=notes))
    return trials


def synthetic_results(kind: str = "image", n: int = 30, *, seed: int = 0) -> dict[str, Any]:
    """A results.json document of `n` synthetic trials of the given `kind` (`KINDS`)."""
    rng = random.Random(seed)
    make = {"image": _image, "nb201": _nb201, "nash": _nash, "oneshot": _oneshot,
            "popnas": _popnas}[kind]
    trials = make(rng, n)
    objectives = [{"name": "val_accuracy", "direction": "max"}]
    if kind == "nb201":
        objectives.append({"name": "params", "direction": "min"})
    done = [t for t in trials if t["status"] in ("completed", "stopped")
            and t.get("task") == "train"]
    best = sorted(done, key=lambda t: -t["metrics"]["val_accuracy"])
    results = {
        "format": FORMAT, "version": VERSION, "strategy": trials[0]["strategy"],
        "objectives": objectives, "max_trials": n,
        "best_trial_ids": [t["trial_id"] for t in best],
        "search_seconds": round(sum(t["seconds"] for t in trials), 3), "trials": trials,
    }
    if kind == "nb201":
        results["space"] = [
            {"class_name": "Choice", "config": {"name": e, "default": NB201_OPS[0],
                                                 "conditions": [], "values": list(NB201_OPS),
                                                 "ordered": False}} for e in NB201_EDGES]
        first = trials[n // 2]["trial_id"] if n > 1 else None
        results["edits"] = [{"id": 1, "time": "2025-01-01T10:00:00", "unix": 1735725600.0,
                             "action": "exclude", "param": "*", "value": "avg_pool_3x3",
                             "source": "dashboard", "first_trial_id": first,
                             "applied": True}]
    return results


def write_search(directory: str | os.PathLike, results: dict[str, Any]) -> str:
    """Writes `results` as `directory/results.json` (atomically), and its
    edits, if any, as the steering file they came from; returns the path."""
    path = write_results(os.fspath(directory), results)
    if results.get("edits"):
        keys = ("id", "time", "unix", "action", "param", "value", "source")
        write_json_atomic(steering.path_of(os.fspath(directory)), {
            "format": steering.FORMAT, "version": 1,
            "edits": [{k: e.get(k) for k in keys} for e in results["edits"]]}, indent=1)
    return path


def append_trial(directory: str | os.PathLike, trial_id: str, accuracy: float) -> None:
    """Adds a finished trial (a copy of the last one) to the results of `directory`."""
    path = os.path.join(os.fspath(directory), "results.json")
    with open(path) as f:
        results = json.load(f)
    trial = json.loads(json.dumps(results["trials"][-1]))
    trial.update(trial_id=trial_id, status="completed")
    trial["metrics"]["val_accuracy"] = accuracy
    results["trials"].append(trial)
    results["best_trial_ids"] = [trial_id] + [t for t in results["best_trial_ids"]
                                               if t != trial_id]
    write_results(os.fspath(directory), results)
