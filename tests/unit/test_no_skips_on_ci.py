"""On CI (CI=true) a skipped test fails the run; a missing hard requirement
is an error, never a skip.

Each test runs pytest in a subprocess on a tiny test directory that holds a
copy of this suite's tests/conftest.py, as CI would run it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from autokeras_nas.testing.ci import on_ci

TESTS = Path(__file__).resolve().parents[1]
ROOT = TESTS.parent

TINY = '''
import pytest

hidden = pytest.importorskip("a_module_nobody_installed")


def test_never_runs():
    pass
'''

PASSES_AND_SKIPS = '''
import pytest


def test_passes():
    pass


def test_skips():
    pytest.skip("pretend a requirement is missing")
'''


def _env(ci: str | None, **extra: str) -> dict[str, str]:
    """This environment without pytest's own variables, with CI=ci (unset: None)
    and only the plugins asked for with -p (a faster start)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CI"))}
    if ci is not None:
        env["CI"] = ci
    return {**env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", **extra}


def _pytest(directory: Path, *args: str, ci: str | None,
            **env: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
               "-p", "xdist", "-p", "timeout", *args]
    return subprocess.run(command, cwd=directory, env=_env(ci, **env), capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    (tmp_path / "conftest.py").write_text((TESTS / "conftest.py").read_text())
    (tmp_path / "test_tiny.py").write_text(PASSES_AND_SKIPS)
    (tmp_path / "test_tiny_module.py").write_text(TINY)
    return tmp_path


def test_on_ci_reads_the_ci_variable() -> None:
    assert on_ci({"CI": "true"}) and on_ci({"CI": "True"})
    assert not on_ci({}) and not on_ci({"CI": "false"}) and not on_ci({"CI": ""})


def test_outside_ci_a_skip_passes_with_its_reason(tiny: Path) -> None:
    proc = _pytest(tiny, "-n", "0", ci=None)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SKIPPED [1] test_tiny.py:10: pretend a requirement is missing" in proc.stdout
    assert "could not import 'a_module_nobody_installed'" in proc.stdout
    assert "skipped on CI" not in proc.stdout


@pytest.mark.parametrize("workers", ["0", "1"], ids=["one-process", "xdist"])
def test_on_ci_a_skip_fails_the_run_and_is_listed(tiny: Path, workers: str) -> None:
    """With xdist too: the controller gets the workers' reports and sets the status."""
    proc = _pytest(tiny, "-n", workers, ci="true")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "skipped on CI (CI=true): the run fails" in proc.stdout
    assert "SKIPPED test_tiny.py::test_skips: pretend a requirement is missing" in proc.stdout
    assert ("SKIPPED test_tiny_module.py: could not import 'a_module_nobody_installed'"
            in proc.stdout)
    assert "1 passed, 2 skipped" in proc.stdout


def test_on_ci_a_run_of_skipped_modules_only_fails_as_a_failure(tiny: Path) -> None:
    """Not pytest's "no tests collected" (5): the same status as any skip."""
    proc = _pytest(tiny, "-n", "0", "test_tiny_module.py", ci="true")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "SKIPPED test_tiny_module.py: could not import" in proc.stdout


def test_on_ci_a_run_without_skips_passes(tiny: Path) -> None:
    proc = _pytest(tiny, "-n", "0", "test_tiny.py::test_passes", ci="true")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "skipped on CI" not in proc.stdout


#: The modules the TensorFlow tests import without asking, and a shim that
#: hides them as if they were not installed.
HARD_REQUIREMENTS = ("keras", "keras_tuner")
HIDE = "import sys\nfor name in {names!r}:\n    sys.modules[name] = None\n"


def test_a_missing_hard_requirement_is_an_error_not_a_skip(tmp_path: Path) -> None:
    """keras and keras_tuner hidden: collecting the integration tests that
    once used importorskip fails (exit 2), also without CI."""
    (tmp_path / "sitecustomize.py").write_text(HIDE.format(names=HARD_REQUIREMENTS))
    files = [f"tests/integration/{name}.py" for name in
             ("test_image_space", "test_space_keras_tuner", "test_morph", "test_cells")]
    path = os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    proc = _pytest(ROOT, "-n", "0", "--collect-only", *files, ci=None, PYTHONPATH=path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "skipped" not in proc.stdout
    for file in files:
        assert f"ERROR collecting {file}" in proc.stdout, proc.stdout
