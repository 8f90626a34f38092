"""Discovering and loading plugins: strategies and trainers.

Strategies register under the entry-point group `autokeras_nas.strategies`
(name -> a class implementing `autokeras_nas.core.Strategy`); trainers, which
run one kind of trial task (`nas/task`: "train", "evaluate", ...), under
`autokeras_nas.trainers` (name -> a subclass of
`autokeras_nas.tuner.Trainer`). First-party plugins register the same way as
third-party ones. Listing reads only the installed metadata; loading a plugin
imports that plugin alone.
"""

from __future__ import annotations

import inspect
from importlib import metadata
from typing import Any

GROUP = "autokeras_nas.strategies"
TRAINER_GROUP = "autokeras_nas.trainers"


class UnknownStrategyError(ValueError):
    """Raised for a strategy name no installed plugin provides."""


class UnknownTrainerError(ValueError):
    """Raised for a trial task no installed trainer runs."""


def _entry_points(group: str = GROUP) -> dict[str, metadata.EntryPoint]:
    eps = metadata.entry_points(group=group)
    return {ep.name: ep for ep in sorted(eps, key=lambda e: e.name)}


def available() -> dict[str, str]:
    """Installed strategies: name -> "module:attribute", without importing them."""
    return {name: ep.value for name, ep in _entry_points().items()}


def load(name: str) -> Any:
    """Imports and returns the strategy class registered as `name`.

    Raises:
        UnknownStrategyError: no plugin of that name is installed.
    """
    eps = _entry_points()
    if name not in eps:
        installed = ", ".join(eps) or "none"
        raise UnknownStrategyError(
            f"unknown strategy {name!r}; installed strategies: {installed}"
        )
    return eps[name].load()


def available_trainers() -> dict[str, str]:
    """Installed trainers: task name -> "module:attribute", without importing them."""
    return {name: ep.value for name, ep in _entry_points(TRAINER_GROUP).items()}


def load_trainer(name: str) -> Any:
    """Imports and returns the trainer class registered for the task `name`.

    Raises:
        UnknownTrainerError: no installed trainer runs that task.
    """
    eps = _entry_points(TRAINER_GROUP)
    if name not in eps:
        installed = ", ".join(eps) or "none"
        raise UnknownTrainerError(
            f"unknown trainer {name!r} (nas/task); installed trainers: {installed}"
        )
    return eps[name].load()


def constructor_arguments(cls: type) -> tuple[dict[str, inspect.Parameter], bool]:
    """The named arguments of a plugin class's constructor, in order, and
    whether it takes other keywords too.

    A constructor that passes `**kwargs` on to its base class's (as `Pnas`
    does to `Popnas`) has the base's arguments as well; the second value is
    True when every constructor up the chain ends in `**kwargs` (or cannot
    be inspected), so that any name may be valid.
    """
    out: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        init = vars(klass).get("__init__")
        if init is None or klass is object:
            continue
        try:
            params = list(inspect.signature(init).parameters.values())[1:]
        except (TypeError, ValueError):
            return out, True
        passes_on = False
        for p in params:
            if p.kind is p.VAR_KEYWORD:
                passes_on = True
            elif p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD):
                out.setdefault(p.name, p)
        if not passes_on:
            return out, False
    return out, True
