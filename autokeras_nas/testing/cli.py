"""Running the `autokeras-nas` command in a subprocess, as a user would.

`cli_command()` is the console script next to this interpreter, or
`python -m autokeras_nas.cli` where it is not installed; `run_cli` runs it
with TensorFlow's C++ logs quiet and returns the finished process.
`probe_cli` runs it in a fresh interpreter and reports which heavy modules
it imported; `one_line_error` checks the shape of a usage error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Mapping


def cli_command() -> list[str]:
    """The argv prefix that runs `autokeras-nas`."""
    script = Path(sys.executable).with_name("autokeras-nas")
    return [str(script)] if script.exists() else [sys.executable, "-m", "autokeras_nas.cli"]


def cli_env(**extra: str) -> dict[str, str]:
    """This process's environment with TensorFlow's C++ logs quiet, plus `extra`."""
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **extra}


def run_cli(*args: str, cwd: str | Path, timeout: float = 600,
            env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
    """Runs `autokeras-nas ARGS` in `cwd`; returns it with its text output."""
    return subprocess.run(cli_command() + list(args), cwd=cwd,
                          env=dict(env) if env is not None else cli_env(),
                          capture_output=True, text=True, timeout=timeout)


#: Modules the light commands must not import.
HEAVY_MODULES = ("tensorflow", "keras", "keras_tuner")

_PROBE = """
import json, sys
watched = json.loads(sys.argv[1])
from autokeras_nas.cli import main
try:
    main(sys.argv[2:], prog_name="autokeras-nas")
    code = 0
except SystemExit as e:
    code = e.code
print("PROBE " + json.dumps({"code": code, "loaded": [m for m in watched if m in sys.modules]}))
"""


def probe_cli(*args: str, cwd: str | Path | None = None, watch: tuple[str, ...] = HEAVY_MODULES,
              timeout: float = 120) -> tuple[dict, str, str]:
    """Runs `autokeras-nas ARGS` in a fresh interpreter.

    Returns:
        ({"code": exit code, "loaded": the modules of `watch` it imported},
        its stdout without the report line, its stderr).
    """
    proc = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(list(watch)), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd)
    lines = proc.stdout.splitlines()
    report = next((ln for ln in lines if ln.startswith("PROBE ")), None)
    if report is None:
        raise AssertionError(f"the command died before reporting: {proc.stderr[-2000:]}")
    stdout = "\n".join(ln for ln in lines if not ln.startswith("PROBE "))
    return json.loads(report[len("PROBE "):]), stdout, proc.stderr


def one_line_error(text: str) -> str:
    """Asserts `text` is one `Error: ...` line without a traceback; returns it."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text and lines[0].startswith("Error: "), text
    return lines[0]
