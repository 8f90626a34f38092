"""A user's search space by name: `MODULE:NAME` or `FILE.py:NAME` (`--space`),
or the name of a built-in space (`BUILTIN_SPACES`, e.g. `nb201`).

NAME (a dotted path inside the module is allowed) may be

* a `build_model(hp)` function, as for `keras_tuner.RandomSearch`;
* a `keras_tuner.HyperModel` instance, or a subclass (instantiated);
* a factory taking `input_shape` and/or `num_classes` (keyword arguments,
  filled in from the dataset) that returns one of the above, e.g.
  `autokeras_nas.spaces.image:image_classifier`.

A module is imported as `import MODULE` would, with the current directory
first on `sys.path` (so `--space my_space:build_model` finds `./my_space.py`);
a file is loaded from its path, with its directory on `sys.path`. This
module only imports the user's code (no TensorFlow of its own); every
problem is a `SpaceError` with a one-line message. Which kind NAME is, and
whether it fits the data and the strategy, is decided by `make_space`
(`autokeras_nas.workflow.hypermodels.resolve_space`, with TensorFlow).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from pathlib import Path
from typing import Any

from autokeras_nas.workflow.base import WorkflowError, first_line

#: Parameters that make a callable a factory of spaces rather than build_model(hp).
FACTORY_PARAMETERS = ("input_shape", "num_classes")
USAGE = "MODULE:NAME or FILE.py:NAME"
#: Built-in spaces by name, as the `MODULE:NAME` each stands for.
BUILTIN_SPACES = {"nb201": "autokeras_nas.spaces.nb201:Nb201Space",
                  "mbconv": "autokeras_nas.spaces.mbconv:MBConvSpace"}


class SpaceError(WorkflowError):
    """A search space cannot be loaded or used (one-line message)."""


def parse_space(text: str) -> tuple[str, str]:
    """`"pkg.mod:name"` -> `("pkg.mod", "name")`, checking the form only.

    Raises:
        SpaceError: no colon, an empty side, or NAME not a dotted identifier.
    """
    target, sep, name = text.rpartition(":")
    if not sep or not target.strip() or not all(p.isidentifier() for p in name.split(".")):
        raise SpaceError(f"--space must be {USAGE} (e.g. my_space:build_model) or a built-in "
                         f"space ({', '.join(BUILTIN_SPACES)}), got {text!r}")
    return target.strip(), name


def is_file_target(target: str) -> bool:
    """Whether the part before the colon names a file rather than a module."""
    return target.endswith(".py") or "/" in target or os.sep in target


def _import_file(path: Path, text: str) -> Any:
    if not path.is_file():
        raise SpaceError(f"--space {text}: no such file {path}")
    name = path.stem if path.stem.isidentifier() and path.stem not in sys.modules \
        else f"_autokeras_nas_space_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise SpaceError(f"--space {text}: cannot load {path} as Python")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    sys.path.insert(0, str(path.resolve().parent))
    try:
        spec.loader.exec_module(module)
    except BaseException as e:
        sys.modules.pop(name, None)
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        raise SpaceError(f"--space {text}: loading {path} failed: {first_line(e)}") from None
    return module


def _import_module(target: str, text: str) -> Any:
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as e:
        missing = e.name or ""
        if missing and (target == missing or target.startswith(missing + ".")):
            raise SpaceError(f"--space {text}: no module named {target!r} "
                             f"(looked in the current directory and sys.path)") from None
        raise SpaceError(f"--space {text}: importing {target} failed: {first_line(e)}") from None
    except Exception as e:  # the user's module raised while importing
        raise SpaceError(f"--space {text}: importing {target} failed: {first_line(e)}") from None


def _callables(module: Any) -> list[str]:
    """Public callables defined in `module` (for a 'did you mean' hint)."""
    names = []
    for name, value in vars(module).items():
        if name.startswith("_") or not callable(value):
            continue
        if getattr(value, "__module__", None) == module.__name__:
            names.append(name)
    return sorted(names)[:8]


def _lookup(module: Any, name: str, target: str, text: str) -> Any:
    obj = module
    for part in name.split("."):
        if not hasattr(obj, part):
            defined = _callables(module)
            hint = f"; it defines {', '.join(defined)}" if defined else ""
            raise SpaceError(f"--space {text}: {target} has no attribute {name!r}{hint}")
        obj = getattr(obj, part)
    return obj


def load_space(text: str) -> Any:
    """Imports `--space TEXT` (or the built-in space it names) and returns
    the named object (not yet resolved).

    Raises:
        SpaceError: a bad form, a missing file, module or attribute, an
            error while importing, or an object that is not callable.
    """
    target, name = parse_space(BUILTIN_SPACES.get(text, text))
    if is_file_target(target):
        module = _import_file(Path(target).expanduser(), text)
    else:
        module = _import_module(target, text)
    obj = _lookup(module, name, target, text)
    if not callable(obj) and not callable(getattr(obj, "build", None)):
        raise SpaceError(
            f"--space {text}: {name} is of type {type(obj).__name__}, not a build_model(hp) function, "
            "a keras_tuner.HyperModel or a factory of one"
        )
    return obj


def factory_arguments(obj: Any) -> list[str] | None:
    """The dataset arguments a factory takes (`input_shape`, `num_classes`),
    or None when `obj` is not a factory (a `build_model(hp)` function).
    A class's constructor counts as a factory (possibly of no arguments)."""
    try:
        params = inspect.signature(obj).parameters
    except (TypeError, ValueError):
        return [] if inspect.isclass(obj) else None
    found = [n for n in FACTORY_PARAMETERS if n in params]
    if found or inspect.isclass(obj):
        return found
    return None
