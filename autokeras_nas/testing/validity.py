"""Validity of one suggestion, as the conformance checks see it."""

from __future__ import annotations

import json
import math
from typing import Any, Mapping

from autokeras_nas.core import TrialStatus, is_python_scalar, is_reserved
from autokeras_nas.testing.driver import Driver, Step
from autokeras_nas.testing.structured import StructuredSpace


def _json_ok(obj: Any) -> str | None:
    try:
        json.dumps(obj, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _strict_loads(text: Any) -> str | None:
    """Why `text` is not strict JSON text (NaN and Infinity are not JSON)."""
    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not JSON")

    if not isinstance(text, str):
        return f"a {type(text).__name__}, not a JSON string"
    try:
        json.loads(text, parse_constant=refuse)
    except ValueError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _values_problems(space: Any, values: dict[str, Any]) -> list[str]:
    out: list[str] = []
    bad = {
        k: f"{type(v).__module__}.{type(v).__name__}"
        for k, v in values.items()
        if not is_python_scalar(v)
    }
    if bad:
        out.append(f"values are not plain Python scalars: {bad}")
    keys = [k for k in values if not isinstance(k, str) or is_reserved(k)]
    if keys:
        out.append(f"non-string or reserved keys in values: {keys}")
    if (err := _json_ok(values)) is not None:
        out.append(f"values are not JSON ({err}): {values!r}")
    try:
        completed = dict(space.complete(values))
    except Exception as exc:  # illegal values
        return out + [f"space.complete(values) rejected {values!r}: {type(exc).__name__}: {exc}"]
    if set(completed) != set(values) or not all(_same(completed[k], values[k]) for k in values):
        missing = sorted(set(completed) - set(values))
        extra = sorted(set(values) - set(completed))
        changed = {
            k: (values[k], completed[k])
            for k in set(values) & set(completed)
            if not _same(values[k], completed[k])
        }
        out.append(
            f"values are not exactly the active, legal hyperparameters "
            f"(space.complete(values) != values): missing {missing}, inactive/unknown "
            f"{extra}, changed (proposed, legal) {changed}"
        )
    return out


def _parent_problems(step: Step, driver: Driver) -> list[str]:
    parent = step.suggestion.parent_id
    if parent is None:
        return []
    asked_before = {x.trial_id for x in driver.steps if x.kind == "run" and x is not step}
    if not isinstance(parent, str):
        return [f"parent_id {parent!r} is not a str"]
    if parent not in asked_before:
        return [f"parent_id {parent!r} is not a previously asked trial id"]
    if parent not in driver.told:
        return [f"parent {parent!r} is still running (no weights yet)"]
    if driver.told[parent] is TrialStatus.FAILED:
        return [f"parent {parent!r} failed (it has no weights)"]
    return []


def _arch_problems(step: Step, driver: Driver, structured: StructuredSpace | None) -> list[str]:
    s = step.suggestion
    if s.arch is None:
        if structured is not None:
            return [f"no arch on a {structured.kind.value} space (the model to build is "
                    "unknown)"]
        return []
    if (err := _strict_loads(s.arch)) is not None:
        return [f"arch is not strict JSON ({err})"]
    if structured is None:
        return []
    parent_arch = next((x.suggestion.arch for x in driver.steps
                        if x.kind == "run" and x.trial_id == s.parent_id and x is not step), None)
    return [f"arch is not one of the {structured.name} space's: {p}"
            for p in structured.arch_problems(s.arch, parent_arch)]


def _task_problems(step: Step) -> list[str]:
    s = step.suggestion
    out = []
    if s.task is not None and (not isinstance(s.task, str) or not s.task):
        out.append(f"task must be a trainer's name, got {s.task!r}")
    if s.task_config is not None:
        if not isinstance(s.task_config, Mapping):
            out.append(f"task_config is a {type(s.task_config).__name__}, not a mapping")
        elif (err := _json_ok(dict(s.task_config))) is not None:
            out.append(f"task_config is not JSON ({err})")
    return out


def suggestion_problems(
    space: Any, step: Step, driver: Driver, structured: StructuredSpace | None = None
) -> list[str]:
    """Why a suggestion breaks the contract (empty when it is valid).

    Checked: the kind; values are a dict of plain Python scalars under
    non-reserved string keys; `space.complete(values) == values` with equal
    types (exactly the active hyperparameters, legal values); values and
    notes are strict JSON; the parent, if any, is a trial asked and reported
    (completed or stopped, not failed) before; epochs is a positive int and
    initial_epoch a non-negative int below it; the architecture, if any, is strict
    JSON; the task is a name and its configuration JSON. On a `structured`
    space every trial has an architecture, which must be one of that space's
    (`StructuredSpace.arch_problems`, given the parent's architecture).
    """
    s = step.suggestion
    where = f"ask({step.trial_id!r}) -> {s.kind}"
    out: list[str] = []
    if s.kind not in ("run", "wait", "done"):
        return [f"{where}: unknown kind {s.kind!r}"]
    if not isinstance(s.notes, Mapping):
        out.append(f"notes is a {type(s.notes).__name__}, not a mapping")
    elif (err := _json_ok(dict(s.notes))) is not None:
        out.append(f"notes are not JSON ({err}): {dict(s.notes)!r}")
    if s.kind == "run":
        if not isinstance(s.values, Mapping):
            out.append(f"values is a {type(s.values).__name__}, not a mapping")
        else:
            out += _values_problems(space, dict(s.values))
        out += _parent_problems(step, driver)
        if s.epochs is not None and (type(s.epochs) is not int or s.epochs < 1):
            out.append(f"epochs must be a positive int, got {s.epochs!r}")
        if s.initial_epoch is not None and (type(s.initial_epoch) is not int
                                            or s.initial_epoch < 0):
            out.append(f"initial_epoch must be a non-negative int, got {s.initial_epoch!r}")
        elif (type(s.epochs) is int and type(s.initial_epoch) is int
              and s.initial_epoch >= s.epochs):
            out.append(f"initial_epoch ({s.initial_epoch}) must be below epochs ({s.epochs}): "
                       "nothing to train")
        out += _arch_problems(step, driver, structured)
        out += _task_problems(step)
    return [f"{where}: {problem}" for problem in out]
