"""Steering: an analyst's edits of a running search's space.

An edit excludes a value of a hyperparameter, pins a hyperparameter to one
value, or clears earlier edits. Edits are appended, with their time, to
`steering.json` in the search directory (by the dashboard, or by anyone with
`add_edit`); the search reads the file before each proposal and narrows its
space (`narrow`), so every strategy gets the narrowed space through the same
`setup(space, ...)` call that tells it of a grown KerasTuner space, and a
resumed search honours the edits made while it was stopped.

Edits::

    {"id": 3, "time": "2026-12-04T21:30:00Z", "unix": 1796419800.0,
     "action": "exclude" | "pin" | "clear",
     "param": "edge_0_1",          # a hyperparameter, or "*": every one holding `value`
     "value": "none",              # for "clear": null clears every edit of `param`
     "source": "dashboard"}

In force, in file order: "pin" fixes a parameter (replacing an earlier pin
of it), "exclude" removes a value from a `Choice` or `Boolean` ("*" from
every choice that holds it: an operation on every edge of a cell), "clear"
drops the parameter's pin and exclusions (only the exclusion of `value`
when one is given). An edit that would leave a parameter without any value,
or that names something the space does not have, is kept in the file but
not applied; `narrow` says why (`Steering.ignored`).

No TensorFlow, no Keras: numpy and the standard library.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

from autokeras_nas.core.hyperparameters import Boolean, Choice, Fixed, Parameter, to_python
from autokeras_nas.core.space import HyperSpace
from autokeras_nas.results import write_json_atomic

#: The file of edits in a search directory.
FILENAME = "steering.json"
FORMAT = "autokeras_nas.steering"
ACTIONS = ("exclude", "pin", "clear")
#: The `param` of an edit that applies to every hyperparameter holding its value.
EVERY = "*"


class SteeringError(ValueError):
    """A bad edit, or a steering file that cannot be read."""


def path_of(directory: str) -> str:
    return os.path.join(directory, FILENAME)


def read_edits(directory: str) -> list[dict[str, Any]]:
    """The edits of the search in `directory`, oldest first ([] without a file).

    Raises:
        SteeringError: the file is not a steering file (one line, naming it).
    """
    path = path_of(directory)
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as e:
        raise SteeringError(f"cannot read {path}: {e}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT \
            or not isinstance(data.get("edits"), list):
        raise SteeringError(f"{path} is not a steering file of autokeras_nas")
    return [dict(e) for e in data["edits"] if isinstance(e, dict)]


def signature(directory: str) -> tuple[int, int] | None:
    """A cheap token that changes when the steering file changes (None: no file)."""
    try:
        st = os.stat(path_of(directory))
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


@contextlib.contextmanager
def _locked(directory: str) -> Iterator[None]:
    """Serialises writers of the steering file (two dashboards, a CLI)."""
    lock_path = os.path.join(directory, FILENAME + ".lock")
    with open(lock_path, "a") as lock:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX
            yield
            return
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def add_edit(directory: str, *, action: str, param: str, value: Any = None,
             source: str = "dashboard", space: HyperSpace | None = None) -> dict[str, Any]:
    """Appends an edit to the steering file of the search in `directory`.

    Args:
        action: "exclude", "pin" or "clear".
        param: A hyperparameter name, or "*" (exclude or clear a value of
            every hyperparameter that holds it).
        value: The value excluded or pinned; for "clear", None clears every
            edit of `param`.
        source: Who made the edit ("dashboard", "cli", ...), recorded.
        space: The search's space; None: the one its results.json records
            (`recorded_space`). With a space the edit is checked against it
            (its parameter exists, holds the value, and keeps at least one
            value), and a value given as text ("32", "true") becomes the
            parameter's own (32, True). Without one only the edit's form is
            checked.

    Returns:
        The edit as recorded (with its `id` and `time`).

    Raises:
        SteeringError: a bad edit (one line saying what is wrong), or a
            directory that is not there.
    """
    if not os.path.isdir(directory):
        raise SteeringError(f"no search directory {directory}")
    edit = _checked(action, param, value, source)
    if space is None:
        space = recorded_space(directory)
    if space is not None and edit["value"] is not None:
        edit["value"] = _coerce(space, param, edit["value"])
    with _locked(directory):
        edits = read_edits(directory)
        if space is not None:
            for ignored, why in narrow(space, edits + [edit]).ignored:
                if ignored is edit:
                    raise SteeringError(why)
        now = time.time()
        edit = {"id": max((int(e.get("id", 0)) for e in edits), default=0) + 1,
                "time": datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
                .strftime("%Y-%m-%dT%H:%M:%SZ"),
                "unix": round(now, 3), **edit}
        write_json_atomic(path_of(directory), {"format": FORMAT, "version": 1,
                                               "edits": edits + [edit]}, indent=1)
    return edit


def recorded_space(directory: str) -> HyperSpace | None:
    """The hyperparameter space the search in `directory` records in its
    results.json (`space`), or None (no file yet, an older file, unreadable)."""
    try:
        with open(os.path.join(directory, "results.json")) as f:
            config = json.load(f).get("space")
        return HyperSpace.from_keras_tuner_config({"space": config}) if config else None
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return None


def _coerce(space: HyperSpace, param: str, value: Any) -> Any:
    """`value` as the parameter's own value when it is that value's text."""
    for p in space.params:
        if param not in (p.name, EVERY):
            continue
        for v in _domain(p) or ():
            if _same(v, value):
                return v
        for v in _domain(p) or ():
            if isinstance(value, str) and value == json.dumps(v).strip('"') or str(v) == str(value):
                return v
        if p.name == param and isinstance(value, str):
            with contextlib.suppress(ValueError):
                return p.check(json.loads(value))
    return value


def _checked(action: Any, param: Any, value: Any, source: Any) -> dict[str, Any]:
    if action not in ACTIONS:
        raise SteeringError(f"unknown action {action!r}; one of: {', '.join(ACTIONS)}")
    if not isinstance(param, str) or not param:
        raise SteeringError(f"an edit needs a hyperparameter name (or {EVERY!r}), got {param!r}")
    if value is not None and not isinstance(value, (bool, int, float, str)):
        raise SteeringError(f"a value must be a number, a bool or a string, got {value!r}")
    if action != "clear" and value is None:
        raise SteeringError(f"{action} needs a value")
    if action == "pin" and param == EVERY:
        raise SteeringError(f"pin needs one hyperparameter, not {EVERY!r}")
    return {"action": action, "param": param,
            "value": None if value is None else to_python(value), "source": str(source)}


@dataclass
class Steering:
    """The effect of a list of edits on a space (`narrow`)."""

    #: The narrowed space.
    space: HyperSpace
    #: name -> pinned value.
    pinned: dict[str, Any] = field(default_factory=dict)
    #: name -> excluded values ("*" entries already spread over the params).
    excluded: dict[str, list[Any]] = field(default_factory=dict)
    #: (edit, why) for edits that could not be applied.
    ignored: list[tuple[Mapping[str, Any], str]] = field(default_factory=list)
    #: The id of the last edit read, 0 without edits.
    last_id: int = 0

    def violations(self, values: Mapping[str, Any]) -> list[str]:
        """What in `values` (active values of the original space) the edits
        forbid, as "name=value" strings."""
        found = []
        for name, value in values.items():
            if name in self.pinned and not _same(value, self.pinned[name]):
                found.append(f"{name}={value!r}")
            elif any(_same(value, v) for v in self.excluded.get(name, ())):
                found.append(f"{name}={value!r}")
        return found

    def summary(self) -> str:
        parts = [f"{n}={v!r}" for n, v in self.pinned.items()]
        parts += [f"{n}!={v!r}" for n, vs in self.excluded.items() for v in vs]
        return ", ".join(parts)


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b or (
        isinstance(a, (int, float)) and isinstance(b, (int, float))
        and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


def _domain(p: Parameter) -> tuple[Any, ...] | None:
    if isinstance(p, (Choice, Boolean)):
        return tuple(p.domain())
    return None


def narrow(space: HyperSpace, edits: Sequence[Mapping[str, Any]]) -> Steering:
    """The space with the edits in force: pinned parameters become `Fixed`,
    a choice loses its excluded values (its default moves to the first value
    left), a boolean with one value excluded is fixed to the other.
    Conditions are kept, so a pinned parent still decides its children."""
    names = set(space.names)
    pinned: dict[str, Any] = {}
    excluded: dict[str, list[Any]] = {}
    ignored: list[tuple[Mapping[str, Any], str]] = []
    last_id = 0
    for edit in edits:
        last_id = max(last_id, int(edit.get("id") or 0))
        action, param, value = edit.get("action"), edit.get("param"), edit.get("value")
        targets = [p for p in space.params
                   if (p.name == param if param != EVERY else
                       (_domain(p) is not None and any(_same(value, v) for v in _domain(p))))]
        if action == "clear":
            for name in ({param} if param != EVERY else {p.name for p in targets}):
                if value is None:
                    pinned.pop(name, None)
                    excluded.pop(name, None)
                else:
                    excluded[name] = [v for v in excluded.get(name, []) if not _same(v, value)]
            continue
        if param != EVERY and param not in names:
            ignored.append((edit, f"the space has no hyperparameter {param!r}"))
            continue
        if not targets:
            ignored.append((edit, f"no hyperparameter of the space holds {value!r}"))
            continue
        why = _apply(action, value, targets, pinned, excluded, param == EVERY)
        if why:
            ignored.append((edit, why))
    params = [_narrowed(p, pinned, excluded) for p in space.params]
    return Steering(HyperSpace(params), pinned,
                    {n: vs for n, vs in excluded.items() if vs}, ignored, last_id)


def _apply(action: str, value: Any, targets: list[Parameter], pinned: dict[str, Any],
           excluded: dict[str, list[Any]], everywhere: bool) -> str | None:
    """Applies one edit to `pinned`/`excluded`; returns why it cannot, or None."""
    if action == "pin":
        p = targets[0]
        try:
            checked = [q.check(value) for q in targets]
        except ValueError:
            return f"{p.name} cannot take {value!r}"
        pinned[p.name] = checked[0]
        excluded.pop(p.name, None)
        return None
    changes: dict[str, list[Any]] = {}
    for p in targets:
        domain = _domain(p)
        if domain is None:
            if everywhere:
                continue
            return (f"{p.name} is a range ({type(p).__name__}): only a Choice or Boolean value "
                    f"can be excluded; pin {p.name} instead")
        if not any(_same(value, v) for v in domain):
            return f"{p.name} has no value {value!r}"
        left = [v for v in domain if not any(_same(v, x) for x in excluded.get(p.name, []) + [value])]
        if not left or (p.name in pinned and _same(pinned[p.name], value)):
            return f"excluding {value!r} would leave {p.name} without a value"
        changes[p.name] = excluded.get(p.name, []) + [p.check(value)]
    excluded.update(changes)
    return None


def _narrowed(p: Parameter, pinned: Mapping[str, Any], excluded: Mapping[str, list[Any]]) -> Parameter:
    if p.name in pinned:
        try:
            return Fixed(p.name, p.check(pinned[p.name]), conditions=p.conditions)
        except ValueError:  # a same-named parameter under other conditions
            return p
    gone = excluded.get(p.name)
    if not gone:
        return p
    domain = _domain(p) or ()
    left = [v for v in domain if not any(_same(v, x) for x in gone)]
    if len(left) == len(domain) or not left:
        return p
    if isinstance(p, Boolean) or len(left) == 1:
        return Fixed(p.name, left[0], conditions=p.conditions)
    assert isinstance(p, Choice)
    default = p.default if any(_same(p.default, v) for v in left) else left[0]
    return Choice(p.name, tuple(left), default=default, ordered=p.ordered, conditions=p.conditions)
