"""The results export: `results.json` in every search directory.

Written by the oracle after every trial (atomically, by `write_json_atomic`,
the one writer of every JSON file of a search directory: a crash never
leaves a half-written file) and readable without TensorFlow by the CLI or anyone.

Schema (version 1)::

    {
      "format": "autokeras_nas.results", "version": 1,
      "strategy": "random",
      "objectives": [{"name": "val_accuracy", "direction": "max"}],
      "max_trials": 5,
      "best_trial_ids": ["3", "1", ...],       # best first; Pareto order if several objectives
      "search_seconds": 95.2,                 # wall-clock seconds of search() so far, all
                                              # runs of a resumed search together
      "space": [{"class_name": "Choice", "config": {"name": ..., "values": [...], ...}}, ...],
                                              # the hyperparameters, KerasTuner's config format
                                              # (before the analyst's edits)
      "edits": [{"id": 1, "time": "...Z", "action": "exclude", "param": "edge_0_1",
                 "value": "none", "source": "dashboard", "first_trial_id": "12",
                 "applied": true}, ...],       # only once steered (autokeras_nas.steering):
                                              # the first trial proposed with it in force, or
                                              # "ignored": why it could not apply
      "steering_error": "...",                # only while steering.json cannot be read: why
                                              # (the edits read before stay in force)
      "trials": [{
        "trial_id": "0", "strategy": "random",
        "status": "completed" | "stopped" | "failed" | "infeasible" | "running" | "invalid",
                                              # infeasible: a hard constraint rejected it
                                              # before training ("message" says which)
        "values": {...},                      # hyperparameters, reserved nas/ keys removed
        "metrics": {"val_accuracy": 0.9, "train_time_s": 1.2, "params": 1234,
                    "latency_ms": 0.8, "epochs": 2, "stopped_early": 0.0, ...},
        "score": 0.9, "task": "train",         # what the trial did (nas/task): "train",
                                              # "supernet", "estimate", ...
        "parent_id": null, "epochs": 2, "stopped_early": false,
        "edits_seen": null,                   # id of the last edit in force when proposed
        "arch": null,                         # a structured architecture (nas/arch), parsed
        "notes": {...},                       # the strategy's notes for this trial
        "outputs": {...},                     # JSON the trial's trainer returned beside its
                                              # metrics (a morphism's preservation_error,
                                              # the batch size after running out of memory)
        "message": "",                        # why it failed
        "curve": [{"epoch": 1, "val_accuracy": 0.8, ...}, ...]
      }, ...]
    }
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import uuid
from typing import Any, Iterable, Iterator, Mapping

FILENAME = "results.json"
FORMAT = "autokeras_nas.results"
VERSION = 1


class ResultsError(ValueError):
    """A results file is missing, unreadable or not ours."""


class SearchDirectoryError(ValueError):
    """A search directory cannot be resumed (a file missing or corrupted)."""


def check_search_directory(directory: str, tuner_file: str) -> None:
    """Checks the files KerasTuner reloads before it does (nothing is changed).

    Raises:
        SearchDirectoryError: naming the first missing or corrupted file.
    """
    trial_files = sorted(
        os.path.join(directory, d, "trial.json")
        for d in os.listdir(directory)
        if d.startswith("trial_") and os.path.isdir(os.path.join(directory, d))
    )
    required = [(tuner_file, ()), (os.path.join(directory, "oracle.json"), ("nas", "end_order"))]
    for path, keys in required + [(f, ("trial_id", "hyperparameters")) for f in trial_files]:
        try:
            with open(path) as f:
                data = json.load(f)
        except FileNotFoundError:
            raise SearchDirectoryError(
                f"cannot resume the search in {directory}: {os.path.basename(path)} is missing"
            ) from None
        except (OSError, ValueError) as e:
            raise SearchDirectoryError(
                f"cannot resume the search in {directory}: {os.path.relpath(path, directory)} "
                f"is corrupted ({e})"
            ) from None
        missing = [k for k in keys if not isinstance(data, dict) or k not in data]
        if missing:
            what = "was not written by autokeras_nas" if "nas" in missing else f"lacks {missing}"
            raise SearchDirectoryError(
                f"cannot resume the search in {directory}: "
                f"{os.path.relpath(path, directory)} {what}"
            )


def make_results(
    *,
    strategy: str,
    objectives: Iterable[Any],
    max_trials: int | None,
    trials: list[dict[str, Any]],
    best_trial_ids: list[str],
    search_seconds: float | None = None,
    space: list[dict[str, Any]] | None = None,
    edits: list[dict[str, Any]] | None = None,
    steering_error: str | None = None,
) -> dict[str, Any]:
    results = {
        "format": FORMAT,
        "version": VERSION,
        "strategy": strategy,
        "objectives": [o.to_dict() for o in objectives],
        "max_trials": max_trials,
        "best_trial_ids": list(best_trial_ids),
        "trials": trials,
    }
    if search_seconds is not None:
        results["search_seconds"] = round(float(search_seconds), 3)
    if space is not None:
        results["space"] = space
    if edits is not None:
        results["edits"] = edits
    if steering_error:
        results["steering_error"] = steering_error
    return results


def _json_safe(value: Any) -> Any:
    """NaN and infinities become None: results.json is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    return value


@contextlib.contextmanager
def replacing(path: str) -> Iterator[str]:
    """A temporary path beside `path` (same name ending, so a writer that
    checks the suffix accepts it) to write to; renamed onto `path` when the
    block ends, removed if it raises: a crash leaves the old file or the
    new one, never half of one."""
    directory, name = os.path.split(path)
    tmp = os.path.join(directory, f".{uuid.uuid4().hex[:12]}.tmp.{name}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_json_atomic(path: str, obj: Any, *, indent: int | None = None,
                      allow_nan: bool = True) -> None:
    """Writes `obj` as JSON to the local file `path` atomically (`replacing`).

    Raises:
        ValueError: `obj` is not JSON (or holds NaN with `allow_nan=False`).
    """
    text = json.dumps(obj, indent=indent, allow_nan=allow_nan)
    if indent is not None:
        text += "\n"
    with replacing(path) as tmp, open(tmp, "w") as f:
        f.write(text)


def write_results(directory: str, results: Mapping[str, Any]) -> str:
    """Atomically writes `results` to `directory/results.json`; returns the path."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, FILENAME)
    write_json_atomic(path, _json_safe(results), indent=1, allow_nan=False)
    return path


def read_results(path: str) -> dict[str, Any]:
    """Reads a results file (or a search directory holding one).

    Raises:
        ResultsError: with a one-line reason when the file is missing,
            malformed, or not an autokeras_nas results export.
    """
    if os.path.isdir(path):
        path = os.path.join(path, FILENAME)
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        raise ResultsError(f"no results file at {path}") from None
    except (OSError, ValueError) as e:
        raise ResultsError(f"cannot read {path}: {e}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ResultsError(f"{path} is not an autokeras_nas results file")
    if data.get("version") != VERSION or not isinstance(data.get("trials"), list):
        raise ResultsError(f"{path} has an unsupported results version {data.get('version')!r}")
    return data


def retrain_epochs(results: Mapping[str, Any], trial: Mapping[str, Any], default: int) -> int:
    """Epochs to train `trial`'s configuration from scratch to match what
    the search found best: the epoch of the trial's best value of the first
    objective in its learning curve (the earliest of ties; k-fold's
    `selected_epochs` when recorded; else its last epoch, else `default`),
    plus the epochs its starting weights had been trained for when it began
    from a parent's weights (NASH's children). A trial that continued a
    promoted one counts its epochs from the start of the configuration
    already, so its parents add nothing.
    """
    by_id = {str(t["trial_id"]): t for t in results.get("trials", [])}
    objective = (results.get("objectives") or [{}])[0]
    return max(1, _selected_epoch(trial, objective, default)
               + _trained_before(trial, by_id, objective, default, set()))


def _continues(trial: Mapping[str, Any]) -> bool:
    return (trial.get("notes") or {}).get("origin") == "promotion"


def _last_epoch(trial: Mapping[str, Any], default: int) -> int:
    curve = trial.get("curve") or []
    if curve:
        return int(curve[-1]["epoch"])
    return int(trial.get("epochs") or default)


def _selected_epoch(trial: Mapping[str, Any], objective: Mapping[str, Any], default: int) -> int:
    selected = (trial.get("outputs") or {}).get("selected_epochs")
    if selected:
        return int(selected)
    name, sign = objective.get("name"), -1.0 if objective.get("direction") == "min" else 1.0
    points = [(sign * float(c[name]), -int(c["epoch"])) for c in trial.get("curve") or []
              if isinstance(c.get(name), (int, float)) and math.isfinite(c[name])]
    if points:
        return -max(points)[1]
    return _last_epoch(trial, default)


def _trained_before(trial: Mapping[str, Any], by_id: Mapping[str, Any],
                    objective: Mapping[str, Any], default: int, seen: set[str]) -> int:
    """Epochs of training the trial's starting weights embody: a parent's
    checkpoint holds its best epoch's weights."""
    seen.add(str(trial["trial_id"]))
    parent = by_id.get(str(trial.get("parent_id")))
    if parent is None or str(parent["trial_id"]) in seen:
        return 0
    before = _trained_before(parent, by_id, objective, default, seen)
    return before if _continues(trial) else before + _selected_epoch(parent, objective, default)
