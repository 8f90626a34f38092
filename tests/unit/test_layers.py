"""The layer contracts: what may import what.

* `import autokeras_nas`, `autokeras_nas.core`, `autokeras_nas.testing`,
  listing plugins and running the `random` strategy never import TensorFlow,
  Keras or KerasTuner (checked in fresh interpreters).
* Listing plugins imports none of them; loading one imports only that one.
* Plugins import only public modules and names of `autokeras_nas`.
* `core` and `testing` import no Keras, not even lazily (checked on the source).
* No global random state: no `np.random.<function>` / `random.<function>`.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import pytest

import autokeras_nas
from autokeras_nas import plugins

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "autokeras_nas"
PLUGINS = ROOT / "plugins"
FORBIDDEN = ("tensorflow", "keras", "keras_tuner", "tf_keras")
PLUGIN_ROOT = "autokeras_nas_plugins"


# ---------------------------------------------------------------------------
# (a) no TensorFlow in fresh interpreters
# ---------------------------------------------------------------------------
_REPORT = textwrap.dedent(
    """
    import json, sys
    print("\\n__MODULES__" + json.dumps(sorted(sys.modules)))
    """
)


def _modules_after(code: str) -> set[str]:
    """Runs `code` in a fresh interpreter; returns its sys.modules."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code) + _REPORT],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert proc.returncode == 0, f"code failed:\n{code}\n{proc.stderr[-3000:]}"
    line = proc.stdout.rsplit("__MODULES__", 1)[1]
    return set(json.loads(line))


def _forbidden(modules: Iterable[str]) -> list[str]:
    return sorted(m for m in modules if m.split(".")[0] in FORBIDDEN)


LIGHT = {
    "import autokeras_nas": "import autokeras_nas",
    "import autokeras_nas.core": "import autokeras_nas.core",
    "import autokeras_nas.testing": "import autokeras_nas.testing",
    "core names via the lazy top level": """
        import autokeras_nas
        autokeras_nas.HyperSpace, autokeras_nas.BaseStrategy, autokeras_nas.Suggestion
        autokeras_nas.Objective, autokeras_nas.Observation, autokeras_nas.TrialStatus
    """,
    "list plugins": """
        from autokeras_nas import plugins
        assert "random" in plugins.available()
    """,
    "load and run random": """
        from autokeras_nas import plugins
        from autokeras_nas.testing import objective_for, run_async, run_sequential, standard_spaces
        cls = plugins.load("random")
        steps = run_sequential(cls(seed=0), objective_for("mixed"), 10,
                               space=standard_spaces()["mixed"])
        assert [s.kind for s in steps] == ["run"] * 10
        steps = run_async(cls(seed=0), objective_for("nb201"), 10, parallel=3,
                          space=standard_spaces()["nb201"])
        assert [s.kind for s in steps] == ["run"] * 10
    """,
}


@pytest.mark.parametrize("code", list(LIGHT.values()), ids=list(LIGHT))
def test_no_tensorflow(code: str) -> None:
    loaded = _forbidden(_modules_after(code))
    assert not loaded, f"imports TensorFlow/Keras: {loaded[:10]}"


def test_no_tensorflow_check_can_fail() -> None:
    modules = _modules_after(
        "import sys, types; sys.modules['keras_tuner.engine'] = types.ModuleType('x')"
    )
    assert _forbidden(modules) == ["keras_tuner.engine"]


# ---------------------------------------------------------------------------
# (b) plugins are imported only when loaded, and alone
# ---------------------------------------------------------------------------
def _plugin_package(value: str) -> str:
    """The package an entry point "module:attr" belongs to."""
    parts = value.split(":")[0].split(".")
    return ".".join(parts[:2]) if parts[0] == PLUGIN_ROOT else parts[0]


def _under(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def test_listing_imports_no_plugin() -> None:
    available = plugins.available()
    packages = {_plugin_package(v) for v in available.values()}
    modules = _modules_after(
        "from autokeras_nas import plugins; plugins.available(); plugins.available()"
    )
    loaded = sorted(m for m in modules if _under(m, PLUGIN_ROOT) or
                    any(_under(m, p) for p in packages))
    assert not loaded, f"listing plugins imported {loaded}"


@pytest.mark.parametrize("name", sorted(plugins.available()))
def test_loading_imports_only_that_plugin(name: str) -> None:
    available = plugins.available()
    own = _plugin_package(available[name])
    others = {_plugin_package(v) for n, v in available.items()} - {own}
    modules = _modules_after(
        f"from autokeras_nas import plugins; cls = plugins.load({name!r}); assert cls.name == {name!r}"
    )
    assert any(_under(m, own) for m in modules), f"{own} was not imported"
    stray = sorted(m for m in modules if any(_under(m, p) for p in others))
    stray += sorted(
        m for m in modules
        if _under(m, PLUGIN_ROOT) and m != PLUGIN_ROOT and not _under(m, own)
    )
    assert not stray, f"loading {name!r} also imported {sorted(set(stray))}"
    assert not _forbidden(modules), f"loading {name!r} imported {_forbidden(modules)[:5]}"


# ---------------------------------------------------------------------------
# AST helpers
# ---------------------------------------------------------------------------
def _py_files(*roots: Path) -> list[Path]:
    return sorted(p for root in roots for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def _module_name(path: Path) -> str:
    """Dotted module name of a file of the source tree (plugins/ installs as
    autokeras_nas_plugins)."""
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[0] == "plugins":
        parts[0] = PLUGIN_ROOT
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package_of(path: Path) -> str:
    name = _module_name(path)
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


def _resolve(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    base = package.split(".")
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    return ".".join(base + ([node.module] if node.module else []))


def _dotted(node: ast.AST) -> list[str] | None:
    """["a", "b", "c"] for the expression a.b.c."""
    out = []
    while isinstance(node, ast.Attribute):
        out.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id] + out[::-1]
    return None


def _import_targets(tree: ast.AST, package: str) -> Iterator[tuple[int, str, list[str]]]:
    """(line, module, imported names) of every import, relative ones resolved,
    plus `importlib.import_module("...")` / `__import__("...")` calls."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, _resolve(node, package), [a.name for a in node.names]
        elif isinstance(node, ast.Call):
            func = _dotted(node.func)
            if (func and func[-1] in ("import_module", "__import__") and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                yield node.lineno, node.args[0].value, []


# ---------------------------------------------------------------------------
# (c) plugins use only the public API
# ---------------------------------------------------------------------------
def _public_modules() -> tuple[str, ...]:
    public = getattr(autokeras_nas, "PUBLIC_MODULES", None)
    assert public, "autokeras_nas.PUBLIC_MODULES (the modules plugins may import) is missing"
    return tuple(public)


def _package_modules() -> set[str]:
    return {_module_name(p) for p in _py_files(PACKAGE)}


def private_uses(
    source: str, public: Sequence[str], modules: set[str], package: str = PLUGIN_ROOT + ".x"
) -> list[str]:
    """Uses of `autokeras_nas` in `source` that are not public API.

    A module path is public if it is in `public` and no component starts
    with "_"; an imported name or accessed attribute is public if it does
    not start with "_". `modules` are the existing module names (to tell a
    submodule from an attribute).
    """
    tree = ast.parse(source)
    problems: list[str] = []

    def check_module(line: int, module: str) -> None:
        if module.split(".")[0] != "autokeras_nas":
            return
        if any(part.startswith("_") for part in module.split(".")):
            problems.append(f"line {line}: private module {module}")
        elif module not in public:
            problems.append(f"line {line}: {module} is not a public module {tuple(public)}")

    bound: dict[str, str] = {}  # local name -> autokeras_nas module it refers to
    for line, module, names in _import_targets(tree, package):
        check_module(line, module)
        if not names or module.split(".")[0] != "autokeras_nas":
            continue
        for name in names:
            if name.startswith("_"):
                problems.append(f"line {line}: private name {module}.{name}")
            elif f"{module}.{name}" in modules:
                check_module(line, f"{module}.{name}")
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "autokeras_nas":
                    if a.asname:
                        bound[a.asname] = a.name
                    else:
                        bound["autokeras_nas"] = "autokeras_nas"
        elif isinstance(node, ast.ImportFrom) and _resolve(node, package).startswith("autokeras_nas"):
            base = _resolve(node, package)
            for a in node.names:
                if f"{base}.{a.name}" in modules:
                    bound[a.asname or a.name] = f"{base}.{a.name}"
    reported: set[tuple[int, str]] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        chain = _dotted(node)
        if not chain or chain[0] not in bound:
            continue
        current = bound[chain[0]]
        for attr in chain[1:]:
            if attr.startswith("_"):
                item = (node.lineno, f"private name {current}.{attr}")
            elif f"{current}.{attr}" in modules:
                current = f"{current}.{attr}"
                if current in public:
                    continue
                item = (node.lineno, f"{current} is not a public module {tuple(public)}")
            else:
                break
            if item not in reported:
                reported.add(item)
                problems.append(f"line {item[0]}: {item[1]}")
            break
    return problems


def test_plugins_import_only_public_api() -> None:
    public, modules = _public_modules(), _package_modules()
    problems = []
    files = _py_files(PLUGINS)
    assert files
    for path in files:
        for p in private_uses(path.read_text(), public, modules, _package_of(path)):
            problems.append(f"{path.relative_to(ROOT)}: {p}")
    assert not problems, "plugins use non-public autokeras_nas API:\n" + "\n".join(problems)


_PUBLIC = ("autokeras_nas", "autokeras_nas.core", "autokeras_nas.testing", "autokeras_nas.plugins")
_MODULES = {"autokeras_nas", "autokeras_nas.core", "autokeras_nas.core.strategy",
            "autokeras_nas.testing", "autokeras_nas.plugins", "autokeras_nas.tuner.oracle"}


@pytest.mark.parametrize(
    "source, expected",
    [
        ("from autokeras_nas.core import BaseStrategy, Suggestion", []),
        ("import autokeras_nas\nx = autokeras_nas.core.BaseStrategy", []),
        ("from autokeras_nas import core\ncore.HyperSpace", []),
        ("from . import strategy\nfrom .strategy import X", []),
        ("import numpy as np\nnp._private", []),
        ("from autokeras_nas.core.strategy import BaseStrategy", ["core.strategy is not a public"]),
        ("from autokeras_nas.core import _seen", ["private name autokeras_nas.core._seen"]),
        ("from autokeras_nas.core import strategy", ["core.strategy is not a public"]),
        ("import autokeras_nas.core.strategy as s", ["core.strategy is not a public"]),
        ("import autokeras_nas._impl", ["private module autokeras_nas._impl"]),
        ("import autokeras_nas\nautokeras_nas.core.strategy.PARENT", ["core.strategy is not a public"]),
        ("import autokeras_nas.core as c\nc._internal()", ["private name autokeras_nas.core._internal"]),
        ("import importlib\nimportlib.import_module('autokeras_nas.tuner.oracle')",
         ["tuner.oracle is not a public"]),
        ("def f():\n    from autokeras_nas.tuner.oracle import StrategyOracle",
         ["tuner.oracle is not a public"]),
    ],
)
def test_private_use_detector(source: str, expected: list[str]) -> None:
    problems = private_uses(source, _PUBLIC, _MODULES, "autokeras_nas_plugins.x")
    assert len(problems) == len(expected), problems
    for problem, fragment in zip(problems, expected):
        assert fragment in problem


# ---------------------------------------------------------------------------
# (d) core and testing never import Keras
# ---------------------------------------------------------------------------
ALLOWED_INTERNAL = {
    "core": ("autokeras_nas.core",),
    "testing": ("autokeras_nas.core", "autokeras_nas.testing", "autokeras_nas.plugins"),
}


def heavy_imports(source: str, package: str, allowed: Sequence[str]) -> list[str]:
    """Imports in `source` of Keras/TensorFlow/KerasTuner, or of a part of
    `autokeras_nas` outside `allowed` (which might import them)."""
    problems = []
    for line, module, names in _import_targets(ast.parse(source), package):
        top = module.split(".")[0]
        if top in FORBIDDEN:
            problems.append(f"line {line}: imports {module}")
        elif top == "autokeras_nas" and module != "autokeras_nas":
            if not any(module == a or module.startswith(a + ".") for a in allowed):
                problems.append(f"line {line}: imports {module} (only {allowed} allowed)")
        elif module == "autokeras_nas":
            for name in names:
                if not any(f"autokeras_nas.{name}" == a for a in allowed) and name[:1].islower():
                    problems.append(f"line {line}: imports autokeras_nas.{name}")
    return problems


@pytest.mark.parametrize("layer", sorted(ALLOWED_INTERNAL))
def test_light_layers_import_no_keras(layer: str) -> None:
    files = _py_files(PACKAGE / layer)
    assert files, f"no source under autokeras_nas/{layer}"
    problems = [
        f"{path.relative_to(ROOT)}: {p}"
        for path in files
        for p in heavy_imports(path.read_text(), _package_of(path), ALLOWED_INTERNAL[layer])
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "source, n",
    [
        ("import numpy as np\nfrom autokeras_nas.core import rng", 0),
        ("import tensorflow as tf", 1),
        ("def f():\n    import keras", 1),
        ("from keras_tuner.engine import trial", 1),
        ("from ..tuner import oracle", 1),
        ("from autokeras_nas import tuner", 1),
        ("import importlib\nimportlib.import_module('tensorflow')", 1),
    ],
)
def test_heavy_import_detector(source: str, n: int) -> None:
    assert len(heavy_imports(source, "autokeras_nas.core", ("autokeras_nas.core",))) == n


# ---------------------------------------------------------------------------
# no global random state
# ---------------------------------------------------------------------------
_NP_RANDOM_OK = {"Generator", "BitGenerator", "SeedSequence", "PCG64", "PCG64DXSM",
                 "Philox", "SFC64", "MT19937", "default_rng"}
_STD_RANDOM_OK = {"Random"}


def global_rng_uses(source: str) -> list[str]:
    """Calls of numpy's or the standard library's global random functions,
    and generators created without a seed."""
    tree = ast.parse(source)
    alias: dict[str, str] = {}  # local name -> "numpy", "numpy.random" or "random"
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name in ("numpy", "numpy.random", "random"):
                    alias[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            for a in node.names:
                if node.module == "numpy" and a.name == "random":
                    alias[a.asname or "random"] = "numpy.random"
                elif node.module == "numpy.random" and a.name not in _NP_RANDOM_OK:
                    problems.append(f"line {node.lineno}: imports numpy.random.{a.name}")
                elif node.module == "random" and a.name not in _STD_RANDOM_OK:
                    problems.append(f"line {node.lineno}: imports random.{a.name}")
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        chain = _dotted(node.func)
        if not chain or chain[0] not in alias:
            continue
        full = alias[chain[0]].split(".") + chain[1:]
        if full[:2] == ["numpy", "random"] and len(full) == 3:
            fn, ok = full[2], _NP_RANDOM_OK
        elif full[0] == "random" and len(full) == 2:
            fn, ok = full[1], _STD_RANDOM_OK
        else:
            continue
        name = ".".join(full)
        if fn not in ok:
            problems.append(f"line {node.lineno}: {name}() uses the global random state")
        elif fn in ("default_rng", "Random", "PCG64") and not node.args and not node.keywords:
            problems.append(f"line {node.lineno}: {name}() without a seed")
    return problems


def test_no_global_random_state() -> None:
    problems = [
        f"{path.relative_to(ROOT)}: {p}"
        for path in _py_files(PACKAGE, PLUGINS)
        for p in global_rng_uses(path.read_text())
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "source, n",
    [
        ("import numpy as np\nrng = np.random.Generator(np.random.PCG64(3))", 0),
        ("import numpy as np\nrng = np.random.default_rng(seed)", 0),
        ("import random\nr = random.Random(seed)", 0),
        ("import numpy as np\nnp.random.seed(0)", 1),
        ("import numpy\nnumpy.random.rand(3)", 1),
        ("import numpy as np\nnp.random.default_rng()", 1),
        ("from numpy import random as npr\nnpr.choice([1, 2])", 1),
        ("from numpy.random import shuffle", 1),
        ("import random\nrandom.choice([1, 2])", 1),
        ("from random import shuffle", 1),
        ("rng.random()\nself.rng.choice(3)", 0),
    ],
)
def test_global_rng_detector(source: str, n: int) -> None:
    assert len(global_rng_uses(source)) == n, global_rng_uses(source)
