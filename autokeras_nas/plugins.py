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

import ast
import importlib.util
import inspect
import re
from importlib import metadata
from pathlib import Path
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


#: Where a docstring's first sentence ends: a full stop before a capital,
#: not the one of "et al." or "e.g.".
_SENTENCE_END = re.compile(r"(?<!\bal)(?<!\be\.g)(?<!\bi\.e)\.(?:\s+(?=[A-Z`])|$)")
#: Longest summary `summary` returns, in characters.
SUMMARY_WIDTH = 100


def summary(target: str) -> str:
    """The first sentence of the docstring of the class an entry point
    names ("module:Class"), read from its source file without importing
    anything (following `from ... import Class` re-exports), shortened to
    `SUMMARY_WIDTH`; "" when it cannot be found (a class made at import
    time, a module without source)."""
    module, _, name = target.partition(":")
    for _ in range(4):  # re-exports followed at most this deep
        located = _source_of(module)
        if located is None:
            return ""
        path, is_package = located
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            return ""
        found = next((n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name),
                     None)
        if found is not None:
            paragraph = " ".join((ast.get_docstring(found) or "").split("\n\n")[0].split())
            sentence = _SENTENCE_END.split(paragraph, maxsplit=1)[0]
            if len(sentence) > SUMMARY_WIDTH:
                sentence = sentence[:SUMMARY_WIDTH - 3].rsplit(" ", 1)[0] + "..."
            return sentence
        source = next((n for n in tree.body if isinstance(n, ast.ImportFrom)
                       and any((a.asname or a.name) == name for a in n.names)), None)
        if source is None:
            return ""
        name = next(a.name for a in source.names if (a.asname or a.name) == name)
        package = module if is_package else module.rpartition(".")[0]
        try:
            module = importlib.util.resolve_name("." * source.level + (source.module or ""),
                                                 package)
        except ImportError:
            return ""
    return ""


def _source_of(module: str) -> tuple[Path, bool] | None:
    """(source file, whether it is a package) of a module, found from its
    top-level package's location, so that no package is imported."""
    top, *rest = module.split(".")
    try:
        spec = importlib.util.find_spec(top)  # a top-level name: nothing is imported
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if not rest:
        if spec.origin and spec.origin.endswith(".py"):
            return Path(spec.origin), spec.submodule_search_locations is not None
        return None
    for location in spec.submodule_search_locations or ():
        base = Path(location).joinpath(*rest)
        if (base / "__init__.py").is_file():
            return base / "__init__.py", True
        if base.with_suffix(".py").is_file():
            return base.with_suffix(".py"), False
    return None


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
