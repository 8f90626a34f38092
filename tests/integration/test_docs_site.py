"""The documentation site builds with `mkdocs build --strict` and no warning,
and holds what it should: the API reference of the public modules and of the
tuners (with the Args generated from their strategies), the tutorials, the
guides, and cross-references that resolve.

The build (mkdocs.yml, docs/hooks.py, docs/griffe_grouped_args.py) imports
the tuners, hence TensorFlow; it takes about 10-20 s on 2 shared cores.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

import autokeras_nas

pytestmark = pytest.mark.tf

ROOT = Path(__file__).resolve().parents[2]


def _load(path: Path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    start = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    seconds = time.monotonic() - start
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{log[-5000:]}"
    problems = [m.group(0) for m in re.finditer(r"^\s*(WARNING|ERROR)\s+-.*$", log, re.M)]
    assert not problems, "the build logged:\n" + "\n".join(problems)
    print(f"mkdocs build --strict: {seconds:.1f} s")
    return out


def _text(path: Path) -> str:
    """The visible text of the page's main part, whitespace collapsed."""
    page = path.read_text(encoding="utf-8")
    main = page[page.find('role="main"'):]
    main = re.sub(r"<(script|style)\b.*?</\1>", " ", main, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def _section(text: str, start: str, end: str | None = None) -> str:
    i = text.index(start)
    j = text.find(end, i + len(start)) if end else -1
    return text[i:j if j >= 0 else None]


def test_the_tuners_are_documented_with_their_generated_arguments(site: Path) -> None:
    text = _text(site / "api" / "tuners" / "index.html")
    tuners = [name for name, module in autokeras_nas._LAZY.items()
              if module.startswith("autokeras_nas_plugins.")]
    assert {"RandomSearch", "Hyperband", "BayesianOptimization", "SPOS"} <= set(tuners)
    for name in tuners:
        assert f"{name} (" in text, f"{name} has no signature on the tuners' page"
    random_search = _section(text, "RandomSearch (", "Hyperband (")
    hyperband = _section(text, "Hyperband (", "GridSearch (")
    for argument in ("max_epochs", "factor", "hyperband_iterations"):
        assert f"{argument} (" in hyperband, argument
    for argument in ("hypermodel", "objective", "max_trials", "seed", "max_consecutive_failed_trials",
                     "**kwargs"):
        assert f"{argument} (" in random_search, argument
    assert "Random search, optionally with early stopping" in random_search
    # Generated at class creation from the strategy's constructor and docstring.
    aging = _section(text, "AgingEvolution (", "Nash (")
    assert "population_size (" in aging and "sample_size (" in aging
    spos = _section(text, "SPOS (", "RandomWS (")
    assert "supernet_epochs (" in spos and "Epochs of the supernet" in spos
    assert "retrain_from (" in spos


def test_nas_tuner_page_documents_its_arguments(site: Path) -> None:
    page = (site / "api" / "tuner" / "index.html").read_text(encoding="utf-8")
    assert 'id="autokeras_nas.tuner.NasTuner"' in page
    text = _section(_text(site / "api" / "tuner" / "index.html"), "NasTuner (")
    for argument in ("strategy", "early_stopping", "time_budget", "trial_timeout"):
        assert f"{argument} (" in text, argument


def test_every_public_module_has_a_reference(site: Path) -> None:
    anchors = "".join(p.read_text(encoding="utf-8") for p in (site / "api").rglob("*.html"))
    for module in autokeras_nas.PUBLIC_MODULES:
        assert f'id="{module}"' in anchors, f"{module} is not in the API reference"


def test_cross_references_resolve(site: Path) -> None:
    tuners = (site / "api" / "tuners" / "index.html").read_text(encoding="utf-8")
    assert 'href="../tuner/#autokeras_nas.tuner.NasTuner"' in tuners
    assert 'href="../tuner/#autokeras_nas.tuner.StrategyTuner"' in tuners
    target = (site / "api" / "tuner" / "index.html").read_text(encoding="utf-8")
    assert 'id="autokeras_nas.tuner.StrategyTuner"' in target
    # The README's links to docs/ lead to the guides' pages.
    home = (site / "index.html").read_text(encoding="utf-8")
    assert 'href="oneshot/"' in home and 'href="benchmarks/"' in home


def test_the_home_page_is_the_readme(site: Path) -> None:
    text = _text(site / "index.html")
    assert "Neural architecture search for Keras, as drop-in KerasTuner tuners." in text
    assert 'pip install -q -e ".[test]" && python -m pytest -q' in text


def test_the_guides_and_tutorials_are_pages(site: Path) -> None:
    benchmarks = _text(site / "benchmarks" / "index.html")
    assert "Search quality on NAS-Bench-201" in benchmarks
    assert (site / "oneshot" / "index.html").is_file()
    assert "Editing them" in _text(site / "tutorials" / "index.html")
    hooks = _load(ROOT / "docs" / "hooks.py")
    sources = sorted((ROOT / "tutorials").glob("[0-9][0-9]_*.py"))
    assert len(sources) >= 7
    for source in sources:
        page = site / "tutorials" / source.stem / "index.html"
        assert page.is_file(), f"no page for {source.name}"
        text = _text(page)
        assert f"tutorials/{source.stem}.ipynb" in text
        # Its title, and its first code cell as a code block (not run: no outputs).
        markdown = hooks.tutorial_page(source)
        assert re.sub(r"[`*]", "", markdown.splitlines()[0].lstrip("# ")) in text
        first_code = markdown.split("```python\n")[1].split("\n```")[0]
        assert "".join(first_code.split()) in "".join(text.split())
        assert "<pre" in page.read_text(encoding="utf-8")


def test_grouped_args_become_one_entry_each() -> None:
    extension = _load(ROOT / "docs" / "griffe_grouped_args.py")
    doc = (
        "Summary.\n\nArgs:\n    strategy: A strategy.\n"
        "    hyperparameters, tune_new_entries,\n"
        "        max_trials: As for\n        `keras_tuner.Oracle`.\n"
        "    host, port: Where.\n    **kwargs: More.\n\n"
        "Returns:\n    a, b: not arguments.\n"
    )
    assert extension.split_grouped_args(doc) == (
        "Summary.\n\nArgs:\n    strategy: A strategy.\n"
        "    hyperparameters: As for\n        `keras_tuner.Oracle`.\n"
        "    tune_new_entries: As for\n        `keras_tuner.Oracle`.\n"
        "    max_trials: As for\n        `keras_tuner.Oracle`.\n"
        "    host: Where.\n    port: Where.\n    **kwargs: More.\n\n"
        "Returns:\n    a, b: not arguments.\n"
    )
