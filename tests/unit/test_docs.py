"""No file of the project refers to a document the project does not contain.

Every text file of the tree (tracked, or new and not ignored: README.md,
docs/, the modules' docstrings and comments, the tutorials, setup.cfg, ...)
is read for references to documents: a `*.md` name, a `docs/...` path, a
relative Markdown link. Each must exist in the project. Documents that live
beside the project and never ship with it are refused outright. The sources
of the documentation site (mkdocs.yml and docs/) may also name its pages:
those under docs/ and those docs/hooks.py makes from the README and the
tutorials; every page of the site's navigation must be one.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
from pathlib import Path

import yaml

import autokeras_nas

ROOT = Path(__file__).resolve().parents[2]
#: Documents a user of the package never has (the developers' shared folder),
#: spelled in pieces so that this file does not name them itself.
OUTSIDE = ("../" + "shared", "BENCHMARKS" + ".md", "DESIGN" + ".md")
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://\S+")
_MD_NAME = re.compile(r"(?<![\w./-])((?:\.{1,2}/)*[\w-][\w./-]*\.md)\b")
_DOCS_PATH = re.compile(r"(?<![\w./-])(docs/[\w./-]*[\w-])")
_MD_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def project_files(root: Path) -> list[Path]:
    """The project's files: tracked or new and not ignored by git (every
    file under `root` when it is not a git work tree)."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=root, capture_output=True, text=True, check=True, timeout=60,
        ).stdout
        files = [root / name for name in out.split("\0") if name]
    except (OSError, subprocess.CalledProcessError):
        files = [p for p in root.rglob("*") if p.is_file() and ".git" not in p.parts]
    return sorted(p for p in files if p.is_file())


def _text(path: Path) -> str | None:
    data = path.read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _exists(reference: str, source: Path, root: Path, names: set[str]) -> bool:
    """A bare document name exists anywhere in the project; a path, from
    the referring file's folder or from the project root."""
    reference = reference.rstrip("/.")
    if "/" not in reference:
        return reference in names
    return any((base / reference).resolve().exists() for base in (source.parent, root))


def site_pages(root: Path) -> set[str]:
    """The pages of the documentation site, as paths under docs/: the
    Markdown files there and the pages docs/hooks.py generates."""
    docs = root / "docs"
    pages = {p.relative_to(docs).as_posix() for p in docs.rglob("*.md")} if docs.is_dir() else set()
    if (docs / "hooks.py").is_file():
        spec = importlib.util.spec_from_file_location("_docs_hooks", docs / "hooks.py")
        hooks = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(hooks)
        pages |= set(hooks.generated_pages(root))
    return pages


def _on_site(path: Path, root: Path) -> bool:
    return path == root / "mkdocs.yml" or root / "docs" in path.parents


def missing_references(root: Path, exempt: tuple[Path, ...] = ()) -> list[str]:
    """`file:line: reference` for every reference to a document the project
    at `root` does not contain, and every one to a document outside it; the
    `exempt` files are not read."""
    files = project_files(root)
    names = {p.name for p in files}
    pages = site_pages(root)
    problems = []
    for path in files:
        text = None if path in exempt else _text(path)
        if text is None:
            continue
        rel = path.relative_to(root)
        for number, line in enumerate(text.splitlines(), 1):
            for outside in OUTSIDE:
                if outside in line:
                    problems.append(f"{rel}:{number}: {outside} (not part of the project)")
            line = _URL.sub("", line)
            found = set(_MD_NAME.findall(line)) | set(_DOCS_PATH.findall(line))
            if path.suffix == ".md":
                found |= {link for link in _MD_LINK.findall(line) if ":" not in link}
            for reference in sorted(found):
                if reference in OUTSIDE or _exists(reference, path, root, names):
                    continue
                if not (_on_site(path, root) and reference.rstrip("/.") in pages):
                    problems.append(f"{rel}:{number}: {reference} does not exist")
    return problems


def test_every_referenced_document_exists() -> None:
    # This file is exempt: its last test writes references to missing documents.
    problems = missing_references(ROOT, exempt=(Path(__file__).resolve(),))
    assert not problems, "references to documents the project does not contain:\n" + "\n".join(problems)


def test_the_benchmarks_page_and_license_exist() -> None:
    assert (ROOT / "docs" / "benchmarks.md").is_file()
    assert "Apache License" in (ROOT / "LICENSE").read_text()


def test_the_check_finds_missing_and_outside_documents(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text("See [the benchmarks](benchmarks.md#top).\n")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "mod.py").write_text(
        '"""Protocols: docs/guide.md and docs/protocols.md."""\n'
        f"# as in {OUTSIDE[1]} and {OUTSIDE[0]}/notes\n"
        "# https://example.org/CHANGES.md is a web page, not a project file\n"
    )
    (tmp_path / "README.md").write_text(
        "[Guide](docs/guide.md), [license](LICENSE), see pkg/mod.py and HISTORY.md.\n"
        "[site](https://example.org/x.md)\n"
    )
    problems = missing_references(tmp_path)
    assert problems == [
        "README.md:1: HISTORY.md does not exist",
        "README.md:1: LICENSE does not exist",
        "docs/guide.md:1: benchmarks.md does not exist",
        "pkg/mod.py:1: docs/protocols.md does not exist",
        f"pkg/mod.py:2: {OUTSIDE[0]} (not part of the project)",
        f"pkg/mod.py:2: {OUTSIDE[1]} (not part of the project)",
    ]
    (tmp_path / "docs" / "benchmarks.md").write_text("# Benchmarks\n")
    (tmp_path / "LICENSE").write_text("Apache License\n")
    assert len(missing_references(tmp_path)) == 4


def test_site_sources_may_name_generated_pages(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "hooks.py").write_text(
        "def generated_pages(root):\n    return {'index.md': root / 'README.md'}\n"
    )
    (tmp_path / "mkdocs.yml").write_text("nav:\n  - index.md\n  - guide/index.md\n")
    (tmp_path / "README.md").write_text("See docs/index.md.\n")
    assert site_pages(tmp_path) == {"index.md"}
    assert missing_references(tmp_path) == [
        "README.md:1: docs/index.md does not exist",
        "mkdocs.yml:3: guide/index.md does not exist",
    ]


def _nav_pages(nav: object) -> list[str]:
    if isinstance(nav, str):
        return [nav]
    if isinstance(nav, dict):
        return [page for value in nav.values() for page in _nav_pages(value)]
    return [page for item in nav or [] for page in _nav_pages(item)]


def test_the_site_navigation_covers_its_pages_and_the_public_modules() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    nav = _nav_pages(config["nav"])
    pages = site_pages(ROOT)
    assert sorted(set(nav) - pages) == [], "pages in mkdocs.yml's nav that the site lacks"
    assert sorted(pages - set(nav)) == [], "pages of the site missing from mkdocs.yml's nav"
    reference = "\n".join((ROOT / "docs" / page).read_text() for page in nav if page.startswith("api/"))
    documented = set(re.findall(r"^::: ([\w.]+)", reference, re.M))
    missing = [m for m in autokeras_nas.PUBLIC_MODULES if m not in documented]
    assert not missing, f"public modules without a page in the API reference: {missing}"
