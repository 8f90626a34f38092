"""The layer contracts: what may import what.

* `import autokeras_nas`, `autokeras_nas.core`, `autokeras_nas.testing`,
  listing plugins and running the `random` strategy never import TensorFlow,
  Keras or KerasTuner (checked in fresh interpreters).
* Listing plugins imports none of them; loading one imports only that one.
* Plugins import only public modules and names of `autokeras_nas`.
* `core` and `testing` import no Keras, not even lazily (checked on the source).
* One layer order: core < base (data, launch, plugins, results, tfenv) <
  spaces < tuner < testing < bench | report < workflow < cli. A module
  imports only its own layer and the layers below (bench and report, side
  by side, import neither each other); no module imports a first-party
  plugin by name; no two modules import each other, even lazily (checked
  on the source, every import: top-level, in a function, under
  TYPE_CHECKING, relative, or a lazy name of the top-level package).
* No global random state: no `np.random.<function>` / `random.<function>`.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple, Sequence

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
# (e) one layer order, no import cycles
# ---------------------------------------------------------------------------
# core < base (data, launch, plugins, results, tfenv) < spaces < tuner < testing
#      < bench | report < workflow < cli
# A module may import its own layer and every layer of a lower level; the
# layers of one level (bench, report) are independent. `base` holds the
# support modules that need only core; `testing` (the strategy test kit) sits
# above tuner so that no library layer depends on it, while the benchmarks
# reuse its NAS-Bench-201 space; `workflow` is the library behind the
# command line, which only parses options and prints. The top-level
# package's lazy names (`_LAZY`) and the first-party plugins
# (`autokeras_nas_plugins`, which use the public API) are outside the order:
# the package loads strategies with `plugins.load`, never by module name.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("core",), ("base",), ("spaces",), ("tuner",), ("testing",),
    ("bench", "report"), ("dashboard",), ("workflow",), ("cli",),
)
#: Module or package (below `autokeras_nas`) -> its layer; the longest prefix wins.
LAYER_OF = {
    "core": "core",
    "data": "base", "launch": "base", "plugins": "base", "results": "base", "steering": "base",
    "tfenv": "base",
    "spaces": "spaces", "oneshot": "spaces", "zerocost": "spaces", "tuner": "tuner",
    "testing": "testing",
    "bench": "bench",
    "report": "report", "dashboard": "dashboard", "workflow": "workflow", "cli": "cli",
}
_LEVEL = {layer: level for level, layers in enumerate(LAYERS) for layer in layers}
ORDER = " < ".join(" | ".join(layers) for layers in LAYERS)


class Import(NamedTuple):
    """`importer` (a module of the package) imports `imported` at `path:line`."""

    path: Path
    line: int
    importer: str
    imported: str


def _name_in(path: Path, base: Path) -> str:
    """Dotted module name of `path`, a file under the directory `base`."""
    parts = list(path.relative_to(base).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _lazy_table(init: Path) -> dict[str, str]:
    """The `_LAZY` dict (name -> module) of a package's `__init__.py`, if any."""
    if not init.exists():
        return {}
    for node in ast.parse(init.read_text()).body:
        if (isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(node.value, ast.Dict)
                and any(isinstance(t, ast.Name) and t.id == "_LAZY"
                        for t in (node.targets if isinstance(node, ast.Assign) else [node.target]))):
            return ast.literal_eval(node.value)
    return {}


def package_imports(package_dir: Path) -> list[Import]:
    """Every import by a module of the package of one of its modules or of a
    first-party plugin: top-level, in a function, under TYPE_CHECKING,
    relative, `importlib.import_module("...")`. `from p import x` is the
    module `p.x` when that exists, a name of the top-level lazy table its
    module, else `p`."""
    base, top = package_dir.parent, package_dir.name
    files = _py_files(package_dir)
    modules = {_name_in(p, base) for p in files}
    lazy = _lazy_table(package_dir / "__init__.py")
    found: list[Import] = []
    for path in files:
        importer = _name_in(path, base)
        package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
        for line, module, names in _import_targets(ast.parse(path.read_text()), package):
            if module.split(".")[0] not in (top, PLUGIN_ROOT):
                continue
            targets = [f"{module}.{n}" if f"{module}.{n}" in modules
                       else lazy[n] if module == top and n in lazy else module for n in names]
            for target in dict.fromkeys(targets or [module]):
                found.append(Import(path, line, importer, target))
    return found


def layer_of(module: str) -> str | None:
    """The layer of a module of `autokeras_nas` (None: not placed)."""
    parts = module.split(".")[1:]
    for end in range(len(parts), 0, -1):
        if ".".join(parts[:end]) in LAYER_OF:
            return LAYER_OF[".".join(parts[:end])]
    return None


def _layer_problem(imp: Import, where: str, top: str) -> str | None:
    mine = layer_of(imp.importer)
    if imp.imported.split(".")[0] == PLUGIN_ROOT:
        return (f"{where}: {imp.importer} (layer {mine}) imports the plugin module {imp.imported};"
                " load strategies with autokeras_nas.plugins.load")
    theirs = layer_of(imp.imported)
    if imp.imported == top or mine is None or theirs == mine:
        return None
    if theirs is None:
        return f"{where}: {imp.importer} imports {imp.imported}, which has no layer in LAYER_OF"
    if _LEVEL[theirs] < _LEVEL[mine]:
        return None
    where_it_is = "above it" if _LEVEL[theirs] > _LEVEL[mine] else "beside it, independent"
    return (f"{where}: {imp.importer} (layer {mine}) imports {imp.imported} "
            f"(layer {theirs}, {where_it_is}); order: {ORDER}")


def layer_violations(package_dir: Path) -> list[str]:
    """Modules with no layer, and imports of a layer above or beside the
    importer's or of a first-party plugin, as "file:line: what"."""
    base, top = package_dir.parent, package_dir.name
    problems = [
        f"{path.relative_to(base)}: module {_name_in(path, base)} has no layer; place it in"
        f" LAYER_OF ({ORDER})"
        for path in _py_files(package_dir)
        if _name_in(path, base) != top and layer_of(_name_in(path, base)) is None
    ]
    for imp in package_imports(package_dir):
        if imp.importer != top:  # the top-level package's lazy table is outside the order
            problem = _layer_problem(imp, f"{imp.path.relative_to(base)}:{imp.line}", top)
            problems += [problem] if problem else []
    return problems


def _loaded(importer: str, imported: str, modules: set[str]) -> list[str]:
    """What importing `imported` from `importer` runs: the module and the
    packages above it that are not already importing (not `importer`'s own)."""
    parts = imported.split(".")
    prefixes = [".".join(parts[:end]) for end in range(1, len(parts))]
    own = [importer.split(".")[:end] for end in range(1, len(importer.split(".")) + 1)]
    return [p for p in prefixes if p in modules and p.split(".") not in own] + [imported]


def import_cycles(package_dir: Path) -> list[str]:
    """The modules that import each other (every import counts, lazy ones
    too), one message per group, with a shortest cycle "a -> b -> a" and the
    file and line of each of its imports."""
    base = package_dir.parent
    modules = {_name_in(p, base) for p in _py_files(package_dir)}
    graph: dict[str, dict[str, Import]] = {m: {} for m in modules}
    for imp in package_imports(package_dir):
        for target in _loaded(imp.importer, imp.imported, modules):
            if target in modules and target != imp.importer:
                graph[imp.importer].setdefault(target, imp)
    reach = {m: _reachable(graph, m) for m in sorted(modules)}
    cycles, seen = [], set()
    for m in sorted(modules):
        if m in seen or m not in reach[m]:
            continue
        component = {n for n in reach[m] if m in reach[n]}
        seen |= component
        path = _path_back(graph, m, component)
        steps = [f"{a} imports {b} ({graph[a][b].path.relative_to(base)}:{graph[a][b].line})"
                 for a, b in zip(path, path[1:])]
        cycles.append(f"{', '.join(sorted(component))} import each other: "
                      + " -> ".join(path) + ": " + "; ".join(steps))
    return cycles


def _reachable(graph: dict[str, dict[str, Import]], start: str) -> set[str]:
    """Modules reachable from `start` by one import or more."""
    found, stack = set(), list(graph[start])
    while stack:
        node = stack.pop()
        if node not in found:
            found.add(node)
            stack.extend(graph[node])
    return found


def _path_back(graph: dict[str, dict[str, Import]], start: str, component: set[str]) -> list[str]:
    """A shortest cycle start -> ... -> start inside `component`."""
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node]):
                if nxt == start:
                    chain = [node]
                    while chain[-1] != start:
                        chain.append(previous[chain[-1]])
                    return chain[::-1] + [start]
                if nxt in component and nxt not in previous:
                    previous[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"{start} is in no cycle")


def test_layer_order() -> None:
    problems = layer_violations(PACKAGE)
    assert not problems, "imports against the layer order:\n" + "\n".join(problems)


def test_no_import_cycles() -> None:
    cycles = import_cycles(PACKAGE)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


def test_every_layer_exists() -> None:
    assert set(LAYER_OF.values()) == set(_LEVEL)
    missing = [name for name in LAYER_OF
               if not (PACKAGE / name).is_dir() and not (PACKAGE / f"{name}.py").is_file()]
    assert not missing, f"LAYER_OF places modules that do not exist: {missing}"


def _tree(root: Path, files: dict[str, str]) -> Path:
    """A fake `autokeras_nas` under `root` with `files` (path -> source);
    every folder gets an `__init__.py`."""
    package = root / "autokeras_nas"
    for name, source in files.items():
        path = package / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    for folder in [package, *(p for p in package.rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()
    return package


_LAZY_INIT = '_LAZY = {"NasTuner": "autokeras_nas.tuner", "Nash": "autokeras_nas_plugins.nash.tuner"}\n'


@pytest.mark.parametrize(
    "files, expected",
    [
        ({"tuner/tuner.py": "from autokeras_nas.bench import nb201\n", "bench/nb201.py": ""},
         ["tuner/tuner.py:1: autokeras_nas.tuner.tuner (layer tuner) imports "
          "autokeras_nas.bench.nb201 (layer bench, above it)"]),
        ({"tuner/tuner.py": "def f():\n    from ..bench import nb201\n", "bench/nb201.py": ""},
         ["tuner/tuner.py:2: autokeras_nas.tuner.tuner (layer tuner) imports autokeras_nas.bench.nb201"]),
        ({"tuner/oracle.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                             "    import autokeras_nas.testing.driver\n", "testing/driver.py": ""},
         ["(layer tuner) imports autokeras_nas.testing.driver (layer testing, above it)"]),
        ({"tuner/oracle.py": "import importlib\nimportlib.import_module('autokeras_nas.cli')\n"},
         ["(layer tuner) imports autokeras_nas.cli (layer cli, above it)"]),
        ({"__init__.py": _LAZY_INIT, "core/space.py": "from autokeras_nas import NasTuner\n"},
         ["core/space.py:1: autokeras_nas.core.space (layer core) imports autokeras_nas.tuner "
          "(layer tuner, above it)"]),
        ({"report/plots.py": "from autokeras_nas.bench import nb201\n", "bench/nb201.py": ""},
         ["(layer report) imports autokeras_nas.bench.nb201 (layer bench, beside it, independent)"]),
        ({"bench/runner.py": "from autokeras_nas.report import plots\n", "report/plots.py": ""},
         ["(layer bench) imports autokeras_nas.report.plots (layer report, beside it"]),
        ({"workflow/run.py": "from autokeras_nas.cli import search\n", "cli/search.py": ""},
         ["(layer workflow) imports autokeras_nas.cli.search (layer cli, above it)"]),
        ({"bench/nash_budget.py": "def f():\n    from autokeras_nas_plugins.nash.tuner import Nash\n"},
         ["bench/nash_budget.py:2: autokeras_nas.bench.nash_budget (layer bench) imports the "
          "plugin module autokeras_nas_plugins.nash.tuner"]),
        ({"__init__.py": _LAZY_INIT, "cli/x.py": "from autokeras_nas import Nash\n"},
         ["(layer cli) imports the plugin module autokeras_nas_plugins.nash.tuner"]),
        ({"extra.py": "import numpy\n"},
         ["extra.py: module autokeras_nas.extra has no layer"]),
        ({"cli/search.py": "from autokeras_nas import bench, report, workflow, tuner, core, plugins\n"
                           "from autokeras_nas.workflow.searching import run\nimport autokeras_nas\n",
          "workflow/searching.py": "from autokeras_nas import bench, report, tuner, testing, results\n",
          "bench/runner.py": "from autokeras_nas import testing, tuner, spaces, data, core, launch\n",
          "tuner/tuner.py": "from .. import results, plugins, spaces, core\nfrom . import oracle\n",
          "spaces/cells.py": "from autokeras_nas import core, data, tfenv\n",
          "data/base.py": "from autokeras_nas import core, results, plugins\n",
          "report/plots.py": "from autokeras_nas.core import pareto\n", "testing/driver.py": "",
          "results.py": "", "plugins.py": "", "launch.py": "", "tfenv.py": "", "core/pareto.py": "",
          "__init__.py": _LAZY_INIT}, []),
    ],
)
def test_layer_detector(tmp_path, files: dict[str, str], expected: list[str]) -> None:
    problems = layer_violations(_tree(tmp_path, files))
    assert len(problems) == len(expected), problems
    for problem, fragment in zip(problems, expected):
        assert fragment in problem


@pytest.mark.parametrize(
    "files, expected",
    [
        ({"report/__init__.py": "from .plots import write_plots\n",
          "report/plots.py": "from autokeras_nas.report.lineage import lineage_plot\n",
          "report/lineage.py": "def f():\n    from autokeras_nas.report.plots import subplots\n"},
         ["autokeras_nas.report.lineage -> autokeras_nas.report.plots -> autokeras_nas.report.lineage:"
          " autokeras_nas.report.lineage imports autokeras_nas.report.plots "
          "(autokeras_nas/report/lineage.py:2); autokeras_nas.report.plots imports "
          "autokeras_nas.report.lineage (autokeras_nas/report/plots.py:1)"]),
        ({"report/__init__.py": "from autokeras_nas.report.plots import write_plots\nFIG = 1\n",
          "report/plots.py": "from autokeras_nas.report import FIG\n"},
         ["autokeras_nas.report -> autokeras_nas.report.plots -> autokeras_nas.report"]),
        ({"tuner/x.py": "import autokeras_nas.spaces.cells\n", "spaces/cells.py": "",
          "spaces/__init__.py": "from . import cells, helper\n",
          "spaces/helper.py": "def f():\n    from autokeras_nas.tuner import x\n"},
         ["autokeras_nas.spaces -> autokeras_nas.spaces.helper -> autokeras_nas.tuner.x "
          "-> autokeras_nas.spaces"]),
        ({"cli/search.py": "def f():\n    from autokeras_nas.cli import training\n",
          "cli/training.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                             "    from autokeras_nas.cli.search import SearchRun\n"},
         ["autokeras_nas.cli.search -> autokeras_nas.cli.training -> autokeras_nas.cli.search"]),
        ({"core/__init__.py": "from autokeras_nas.core.space import HyperSpace\n"
                              "from autokeras_nas.core.strategy import Strategy\n",
          "core/space.py": "from autokeras_nas.core.strategy import Scalar\n",
          "core/strategy.py": "from autokeras_nas.core import rng\n", "core/rng.py": "",
          "tuner/oracle.py": "from autokeras_nas.core import HyperSpace\nimport autokeras_nas\n"}, []),
    ],
)
def test_cycle_detector(tmp_path, files: dict[str, str], expected: list[str]) -> None:
    cycles = import_cycles(_tree(tmp_path, files))
    assert len(cycles) == len(expected), cycles
    for cycle, fragment in zip(cycles, expected):
        assert fragment in cycle


def _copy_of_package(tmp_path: Path) -> Path:
    copy = tmp_path / "autokeras_nas"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_layer_test_fails_when_tuner_imports_bench(tmp_path) -> None:
    """The real check on a copy of the package whose tuner imports bench."""
    copy = _copy_of_package(tmp_path)
    tuner = copy / "tuner" / "tuner.py"
    text = tuner.read_text().rstrip("\n") + "\n\n\ndef _leak():\n    from autokeras_nas.bench import nb201\n"
    tuner.write_text(text)
    new = sorted(set(layer_violations(copy)) - set(layer_violations(PACKAGE)))
    assert new == [
        f"autokeras_nas/tuner/tuner.py:{text.count(chr(10))}: autokeras_nas.tuner.tuner (layer tuner) "
        f"imports autokeras_nas.bench.nb201 (layer bench, above it); order: {ORDER}"
    ]


def test_cycle_test_fails_when_lineage_imports_plots_again(tmp_path) -> None:
    copy = _copy_of_package(tmp_path)
    lineage = copy / "report" / "lineage.py"
    lineage.write_text(lineage.read_text()
                       + "\n\ndef _back():\n    from autokeras_nas.report.plots import subplots\n")
    new = sorted(set(import_cycles(copy)) - set(import_cycles(PACKAGE)))
    assert len(new) == 1, new
    assert new[0].startswith("autokeras_nas.report.lineage, autokeras_nas.report.plots import each"
                             " other: autokeras_nas.report.lineage -> autokeras_nas.report.plots"
                             " -> autokeras_nas.report.lineage: "), new


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
