"""setup.cfg lists every package, and its entry points name existing objects.

Checked on the files (configparser and ast), so nothing heavy is imported;
the last tests build the wheel and the sdist (setuptools, a few seconds) and
check that they carry the LICENSE, the `py.typed` markers and the docs.
"""

from __future__ import annotations

import ast
import configparser
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from autokeras_nas import plugins

ROOT = Path(__file__).resolve().parents[2]
STRATEGY_GROUP = "autokeras_nas.strategies"


def _config() -> configparser.ConfigParser:
    cfg = configparser.ConfigParser(interpolation=None)
    cfg.read(ROOT / "setup.cfg")
    return cfg


def _lines(value: str) -> list[str]:
    return [ln.strip() for ln in value.splitlines() if ln.strip() and not ln.strip().startswith("#")]


def _pairs(value: str) -> dict[str, str]:
    out = {}
    for line in _lines(value):
        key, _, val = line.partition("=")
        assert key.strip() not in out, f"{key.strip()!r} appears twice"
        out[key.strip()] = val.strip()
    return out


def _packages() -> list[str]:
    return _lines(_config()["options"]["packages"])


def _package_dir() -> dict[str, str]:
    return _pairs(_config()["options"].get("package_dir", ""))


def _entry_points(group: str) -> dict[str, str]:
    section = _config()["options.entry_points"]
    return _pairs(section.get(group, ""))


def _source_dir(package: str) -> Path:
    """Folder of a dotted package name according to package_dir."""
    mapping = _package_dir()
    parts = package.split(".")
    for i in range(len(parts), 0, -1):
        prefix = ".".join(parts[:i])
        if prefix in mapping:
            return ROOT / mapping[prefix] / Path(*parts[i:]) if parts[i:] else ROOT / mapping[prefix]
    return ROOT / Path(*parts)


def _package_folders() -> dict[str, Path]:
    """Dotted name -> folder of every folder with an __init__.py under the
    mapped roots (autokeras_nas/ and plugins/ -> autokeras_nas_plugins)."""
    out = {}
    for top in ("autokeras_nas", "autokeras_nas_plugins"):
        root = _source_dir(top)
        for init in root.rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            rel = init.parent.relative_to(root).parts
            out[".".join((top,) + rel)] = init.parent
    return out


def test_package_dir_maps_plugins() -> None:
    mapping = _package_dir()
    assert mapping.get("autokeras_nas_plugins") == "plugins", mapping
    assert (ROOT / "plugins" / "__init__.py").is_file()


def test_every_package_folder_is_listed() -> None:
    listed = set(_packages())
    folders = _package_folders()
    missing = sorted(set(folders) - listed)
    assert not missing, (
        f"folders with an __init__.py missing from setup.cfg [options] packages: "
        f"{[(m, str(folders[m].relative_to(ROOT))) for m in missing]}"
    )


def test_every_listed_package_exists() -> None:
    absent = [p for p in _packages() if not (_source_dir(p) / "__init__.py").is_file()]
    assert not absent, f"setup.cfg lists packages without a folder with __init__.py: {absent}"


def test_packages_are_listed_once() -> None:
    packages = _packages()
    assert len(packages) == len(set(packages)), packages


# ---------------------------------------------------------------------------
# entry points
# ---------------------------------------------------------------------------
def _module_file(module: str) -> Path | None:
    base = _source_dir(module)
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _resolve_from(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
    return ".".join(parts + ([node.module] if node.module else []))


def find_definition(module: str, attr: str, depth: int = 0) -> tuple[Path, ast.AST] | None:
    """Where `module.attr` is defined at top level: a class, function or
    assignment, following `from x import attr` re-exports within the tree."""
    path = _module_file(module)
    if path is None or depth > 5:
        return None
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == attr:
            return path, node
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == attr for t in node.targets
        ):
            return path, node
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == attr:
            return path, node
        if isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if (alias.asname or alias.name) == attr:
                    source = _resolve_from(node, module, path.name == "__init__.py")
                    return find_definition(source, alias.name, depth + 1)
    return None


def _split(value: str) -> tuple[str, str]:
    module, _, attr = value.partition(":")
    assert module and attr and "." not in attr.strip(), f"not 'module:attribute': {value!r}"
    return module.strip(), attr.strip()


def _strategy_entry_points() -> dict[str, str]:
    return _entry_points(STRATEGY_GROUP)


def test_strategy_group_is_not_empty() -> None:
    assert "random" in _strategy_entry_points()


@pytest.mark.parametrize("name, value", sorted(_strategy_entry_points().items()))
def test_strategy_entry_point_names_a_class(name: str, value: str) -> None:
    module, attr = _split(value)
    top = ".".join(module.split(".")[:2]) if module.startswith("autokeras_nas_plugins.") else module
    assert any(module == p or module.startswith(p + ".") for p in _packages()), (
        f"{name}: module {module} is not in a package listed in setup.cfg"
    )
    assert top in _packages(), f"{name}: plugin package {top} is not listed in setup.cfg"
    found = find_definition(module, attr)
    assert found is not None, f"entry point {name} = {value}: {module}.{attr} is not defined"
    path, node = found
    assert isinstance(node, ast.ClassDef), f"{name}: {value} is not a class ({path})"
    declared = [
        stmt.value.value
        for stmt in node.body
        if isinstance(stmt, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "name" for t in stmt.targets)
        and isinstance(stmt.value, ast.Constant)
    ]
    assert declared in ([], [name]), (
        f"{path.relative_to(ROOT)}: class {attr} declares name {declared}, "
        f"registered as {name!r}"
    )


@pytest.mark.parametrize(
    "group, name, value",
    [
        (group, n, v)
        for group in _config()["options.entry_points"]
        if group != STRATEGY_GROUP
        for n, v in sorted(_entry_points(group).items())
    ],
)
def test_other_entry_points_exist(group: str, name: str, value: str) -> None:
    module, attr = _split(value)
    assert find_definition(module, attr) is not None, f"[{group}] {name} = {value}: not defined"


def test_installed_entry_points_match_setup_cfg() -> None:
    installed = plugins.available()
    declared = _strategy_entry_points()
    stale = {n: v for n, v in declared.items() if installed.get(n) != v}
    assert not stale, (
        f"installed metadata lacks or differs on {stale} (installed: {installed}); "
        "reinstall with `pip install -e .`"
    )


def test_find_definition_can_fail() -> None:
    assert find_definition("autokeras_nas_plugins.random_search", "RandomStrategy") is not None
    assert find_definition("autokeras_nas_plugins.random_search", "NoSuchStrategy") is None
    assert find_definition("autokeras_nas_plugins.no_such_plugin", "RandomStrategy") is None


def test_checks_fail_on_a_broken_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A package folder missing from setup.cfg, a listed package without a
    folder, and an entry point naming nothing are all reported."""
    for folder in ("autokeras_nas", "autokeras_nas/extra", "plugins", "plugins/good"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "__init__.py").write_text("")
    (tmp_path / "plugins/good/__init__.py").write_text(
        "from autokeras_nas_plugins.good.impl import Good\n"
    )
    (tmp_path / "plugins/good/impl.py").write_text("class Good:\n    name = 'good'\n")
    (tmp_path / "setup.cfg").write_text(
        "[options]\npackages =\n    autokeras_nas\n    autokeras_nas.gone\n"
        "    autokeras_nas_plugins\n    autokeras_nas_plugins.good\n"
        "package_dir =\n    autokeras_nas = autokeras_nas\n    autokeras_nas_plugins = plugins\n"
        "[options.entry_points]\nautokeras_nas.strategies =\n"
        "    good = autokeras_nas_plugins.good:Good\n"
        "    renamed = autokeras_nas_plugins.good:Good\n"
        "    missing = autokeras_nas_plugins.good:Missing\n"
    )
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    with pytest.raises(AssertionError, match="autokeras_nas.extra"):
        test_every_package_folder_is_listed()
    with pytest.raises(AssertionError, match="autokeras_nas.gone"):
        test_every_listed_package_exists()
    eps = _strategy_entry_points()
    test_strategy_entry_point_names_a_class("good", eps["good"])
    with pytest.raises(AssertionError, match="declares name"):
        test_strategy_entry_point_names_a_class("renamed", eps["renamed"])
    with pytest.raises(AssertionError, match="is not defined"):
        test_strategy_entry_point_names_a_class("missing", eps["missing"])


# ---------------------------------------------------------------------------
# what the built distributions carry
# ---------------------------------------------------------------------------
_BUILD = (
    "import sys\n"
    "from setuptools import build_meta\n"
    "out = sys.argv[1]  # setuptools rewrites sys.argv while it builds\n"
    "build_meta.build_wheel(out)\n"
    "build_meta.build_sdist(out)\n"
)


def _copy_project(target: Path) -> None:
    """The project's files (tracked, or new and not ignored) copied to `target`."""
    names = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
    ).stdout.split("\0")
    for name in filter(None, names):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            (target / name).write_bytes(source.read_bytes())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """File names in the wheel and in the sdist, built from a copy of the
    project with the installed setuptools (no network)."""
    source, out = tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("dist")
    _copy_project(source)
    proc = subprocess.run([sys.executable, "-c", _BUILD, str(out)], cwd=source,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    (wheel,), (sdist,) = out.glob("*.whl"), out.glob("*.tar.gz")
    with zipfile.ZipFile(wheel) as z:
        wheel_names = z.namelist()
        metadata = next(z.read(n).decode() for n in wheel_names if n.endswith(".dist-info/METADATA"))
    with tarfile.open(sdist) as t:
        sdist_names = [n.split("/", 1)[1] for n in t.getnames() if "/" in n]
    return {"wheel": wheel_names, "sdist": sdist_names, "metadata": metadata.splitlines()}


def test_license_file_is_the_declared_license() -> None:
    cfg = _config()
    assert cfg["metadata"]["license"] == "Apache-2.0"
    assert _lines(cfg["metadata"]["license_files"]) == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text  # the full text, not a notice


def test_wheel_installs_the_license_and_type_markers(built: dict[str, list[str]]) -> None:
    wheel = built["wheel"]
    assert "autokeras_nas/py.typed" in wheel and "autokeras_nas_plugins/py.typed" in wheel
    assert any(n.split("/")[0].endswith(".dist-info") and n.endswith("/LICENSE") for n in wheel), wheel
    assert "License: Apache-2.0" in built["metadata"]
    assert "autokeras_nas/tuner/convenience.py" in wheel


def test_sdist_carries_the_license_and_the_docs(built: dict[str, list[str]]) -> None:
    sdist = built["sdist"]
    for name in ("LICENSE", "README.md", "docs/benchmarks.md", "autokeras_nas/py.typed",
                 "plugins/py.typed"):
        assert name in sdist, f"{name} is missing from the sdist"
    docs = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").rglob("*.md"))
    assert docs and set(docs) <= set(sdist)
