"""Running the `autokeras-nas` command in a subprocess, as a user would.

`cli_command()` is the console script next to this interpreter, or
`python -m autokeras_nas.cli` where it is not installed; `run_cli` runs it
with TensorFlow's C++ logs quiet and returns the finished process.
"""

from __future__ import annotations

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
