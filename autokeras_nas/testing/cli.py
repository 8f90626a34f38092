"""Running the `autokeras-nas` command in a subprocess, as a user would.

`cli_command()` is the console script next to this interpreter, or
`python -m autokeras_nas.cli` where it is not installed; `run_cli` runs it
with TensorFlow's C++ logs quiet and returns the finished process.
`probe_cli` runs it in a fresh interpreter and reports which heavy modules
it imported; `probe_cli_runs` runs several commands in one fresh interpreter
(click's test runner, one start-up for all); `one_line_error` checks the shape
of a usage error. `run_script_result` runs a Python script in a fresh
interpreter and returns the JSON it printed on its `RESULT ` line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Mapping, Sequence

from autokeras_nas.testing.ci import on_ci


def console_script() -> Path:
    """Where `pip install` puts the `autokeras-nas` console script of this interpreter."""
    return Path(sys.executable).with_name("autokeras-nas")


def cli_command() -> list[str]:
    """The argv prefix that runs `autokeras-nas`: the console script, or
    `python -m autokeras_nas.cli` where it is not installed (not on CI,
    where `.ci/run` installs it: there its absence is an error)."""
    script = console_script()
    if script.exists():
        return [str(script)]
    if on_ci():
        raise RuntimeError(f"CI=true: the console script {script} is not installed "
                           "(pip install -e \".[test]\" installs it)")
    return [sys.executable, "-m", "autokeras_nas.cli"]


def cli_env(**extra: str) -> dict[str, str]:
    """This process's environment with TensorFlow's C++ logs quiet, plus `extra`."""
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **extra}


def run_cli(*args: str, cwd: str | Path, timeout: float = 600,
            env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess:
    """Runs `autokeras-nas ARGS` in `cwd`; returns it with its text output."""
    return subprocess.run(cli_command() + list(args), cwd=cwd,
                          env=dict(env) if env is not None else cli_env(),
                          capture_output=True, text=True, timeout=timeout)


def run_script_result(script: str, *, timeout: float = 600, **env: str) -> dict:
    """Runs the Python `script` in a fresh interpreter (this environment with
    TensorFlow's C++ logs quiet, plus `env`) and returns the JSON object it
    printed after `RESULT ` on a line of its own.

    Raises:
        AssertionError: the script failed or printed no RESULT line.
    """
    return script_result_of(subprocess.run([sys.executable, "-c", script], env=cli_env(**env),
                                           capture_output=True, text=True, timeout=timeout))


def script_result_of(proc: subprocess.CompletedProcess) -> dict:
    """The JSON object a finished script printed after `RESULT ` on a line of
    its own (the last such line).

    Raises:
        AssertionError: the script failed or printed no RESULT line.
    """
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    assert lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


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


#: `python -c` script: runs `autokeras-nas` with each of its runs (argv[2], JSON)
#: through click's runner, one after another, printing one PROBE line each.
PROBE_RUNS_SCRIPT = """
import json, sys, time
watched, runs = json.loads(sys.argv[1]), json.loads(sys.argv[2])
from click.testing import CliRunner
from autokeras_nas.cli import main
for args in runs:
    start = time.perf_counter()
    result = CliRunner().invoke(main, args, prog_name="autokeras-nas")
    error = result.exception
    print("PROBE " + json.dumps({
        "code": result.exit_code, "stdout": result.stdout, "stderr": result.stderr,
        "exception": None if error is None or isinstance(error, SystemExit) else repr(error),
        "loaded": [m for m in watched if m in sys.modules],
        "seconds": round(time.perf_counter() - start, 2)}), flush=True)
"""


def probe_cli_runs(*runs: list[str], cwd: str | Path | None = None,
                   watch: tuple[str, ...] = HEAVY_MODULES, timeout: float = 120) -> list[dict]:
    """Runs `autokeras-nas ARGS` for each ARGS of `runs`, in order, in one fresh
    interpreter through click's test runner (in process, one start-up for all).

    Returns:
        One dict per run: "code" (exit code), "stdout", "stderr", "exception"
        (repr of an exception other than SystemExit, or None), "loaded" (the
        modules of `watch` imported so far, by this run or an earlier one)
        and "seconds" (its wall time).
    """
    proc = subprocess.run([sys.executable, "-c", PROBE_RUNS_SCRIPT,
                           *probe_runs_args(runs, watch)],
                          capture_output=True, text=True, timeout=timeout, cwd=cwd)
    return probe_runs_reports(proc, len(runs))


def probe_runs_args(runs: Sequence[Sequence[str]], watch: Sequence[str]) -> list[str]:
    """The arguments of `PROBE_RUNS_SCRIPT` for `runs`, watching `watch`."""
    return [json.dumps(list(watch)), json.dumps([list(args) for args in runs])]


def probe_runs_reports(proc: subprocess.CompletedProcess, n: int) -> list[dict]:
    """The reports `PROBE_RUNS_SCRIPT` printed for its `n` runs.

    Raises:
        AssertionError: it died before reporting them all.
    """
    reports = [json.loads(line[len("PROBE "):]) for line in proc.stdout.splitlines()
               if line.startswith("PROBE ")]
    if len(reports) != n:
        raise AssertionError(f"the probe died after {len(reports)} of {n} runs "
                             f"(exit code {proc.returncode}): {proc.stderr[-2000:]}")
    return reports


def one_line_error(text: str) -> str:
    """Asserts `text` is one `Error: ...` line without a traceback; returns it."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    assert len(lines) == 1, text
    assert "Traceback" not in text and lines[0].startswith("Error: "), text
    return lines[0]
