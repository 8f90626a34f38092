"""Many runs of a heavy command for the price of one interpreter start-up.

A test suite that runs `autokeras-nas` a hundred times pays TensorFlow's
import a hundred times (4 to 8 s each on 2 cores). `ForkServer` starts one
interpreter that prepares TensorFlow's environment as the command does
(`tfenv.prepare()`) and imports TensorFlow, Keras, KerasTuner and the
command once; then every `start` or `run` forks a child of it. The child is
a process of its own, in its own process group (`killpg(pid)` ends it and what it
started): it takes the run's working directory and environment, reads
nothing on stdin, writes its output to files, and calls the target (by
default the `autokeras-nas` command) with the run's arguments, or runs a
script as `python -c SCRIPT ARGS` would. Its exit code is a fresh
process's: SystemExit's code, 1 for an uncaught exception, -N when killed
by signal N. `script_result(server, SCRIPT)` runs a script that prints its
findings on a `RESULT ` line and returns them (as `testing.cli.run_script_result`).

What a forked run does not show is start-up: the modules are imported
already, so environment variables read at import (`TF_ENABLE_ONEDNN_OPTS`,
`TF_CPP_MIN_LOG_LEVEL`) are the server's and which modules a command
imports can't be seen (`probe_cli` shows that, in a fresh interpreter);
and every child of one server has the server's string-hash seed, so a run
that must not depend on it (a resume that ends as an uninterrupted search)
should be compared with a run of another server. The server only imports:
TensorFlow's runtime starts in each child (which can still configure its
logical devices).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

from autokeras_nas.testing.cli import cli_env, script_result_of

#: The `autokeras-nas` command's entry point.
CLI_TARGET = "autokeras_nas.cli:main"

_SERVER = r"""
import importlib, json, os, signal, sys, traceback
from autokeras_nas import tfenv
tfenv.prepare()
for heavy in json.loads(sys.argv[1]):
    importlib.import_module(heavy)
codes = {}


def child(request):
    os.setpgid(0, 0)  # also done by the server, so the group exists when its pid is sent
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    out = os.open(request["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(out, 1)
    if request["stderr"] == request["stdout"]:
        os.dup2(out, 2)
    else:
        os.dup2(os.open(request["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), 2)
    sys.stdin = open(os.devnull)
    signal.alarm(max(1, int(request["timeout"])))  # as subprocess.run's timeout
    if "script" in request:
        sys.argv = ["-c", *request["args"]]
        exec(compile(request["script"], "<string>", "exec"), {"__name__": "__main__"})
        return 0
    module, _, name = request["target"].partition(":")
    target = getattr(importlib.import_module(module), name)
    sys.argv = [request["prog"], *request["args"]]
    if hasattr(target, "main") and hasattr(target, "params"):  # a click command
        target.main(request["args"], prog_name=request["prog"])
        return 0
    returned = target(request["args"])
    return returned if isinstance(returned, int) else 0


for line in sys.stdin:
    request = json.loads(line)
    if request["op"] == "poll":
        pid = request["pid"]
        if pid not in codes:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                codes[pid] = os.waitstatus_to_exitcode(status)
        print(json.dumps(codes.get(pid)), flush=True)
        continue
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = child(request)
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            if not isinstance(e.code, (int, type(None))):
                print(e.code, file=sys.stderr)
        except BaseException:
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    try:
        os.setpgid(pid, pid)
    except OSError:  # the child did it first, or has ended already
        pass
    print(json.dumps(pid), flush=True)
"""


class Forked:
    """A run started by `ForkServer.start`: its `pid` (also its process
    group's), `poll()`, `wait()`, `communicate()` and `returncode` as a
    `subprocess.Popen`'s, its output in files (`stdout` is None: no pipe)."""

    stdout = None

    def __init__(self, server: "ForkServer", pid: int, args: list[str],
                 out: Path, err: Path) -> None:
        self._server, self.pid, self.args = server, pid, args
        self.out_path, self.err_path = out, err
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._server._request({"op": "poll", "pid": self.pid})
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout)
            time.sleep(0.02)
        return self.returncode

    def kill(self) -> None:
        """SIGKILLs the run's process group (what it started too)."""
        if self.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def communicate(self, timeout: float | None = None) -> tuple[str, str | None]:
        """Waits (the run is killed after `timeout` s, raising TimeoutExpired);
        returns its stdout and, when written apart, its stderr."""
        try:
            self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self.wait()
            raise
        err = None if self.err_path == self.out_path else self.err_path.read_text()
        return self.out_path.read_text(), err


class ForkServer:
    """One interpreter that forks a child per run (see the module docstring).

    Args:
        logs: a directory for the runs' output files.
        preload: modules the server imports once.
    """

    def __init__(self, logs: str | Path,
                 preload: Sequence[str] = ("tensorflow", "keras", "keras_tuner",
                                           "autokeras_nas.cli")) -> None:
        self.logs = Path(logs)
        self.logs.mkdir(parents=True, exist_ok=True)
        self._count = 0
        self._server_err = self.logs / "server.err"
        with open(self._server_err, "w") as err:
            self._server = subprocess.Popen(
                [sys.executable, "-c", _SERVER, json.dumps(list(preload))],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, text=True,
                start_new_session=True)

    def _request(self, request: dict[str, Any]) -> Any:
        try:
            self._server.stdin.write(json.dumps(request) + "\n")
            self._server.stdin.flush()
            reply = self._server.stdout.readline()
        except (BrokenPipeError, ValueError):
            reply = ""
        if not reply:
            try:
                code = self._server.wait(timeout=5)
            except subprocess.TimeoutExpired:
                code = None
            raise RuntimeError(f"the fork server died (exit code {code}): "
                               + self._server_err.read_text()[-3000:])
        return json.loads(reply)

    def start(self, args: Sequence[str], *, target: str = CLI_TARGET, script: str | None = None,
              prog: str = "autokeras-nas", cwd: str | Path | None = None,
              env: Mapping[str, str] | None = None, merge_stderr: bool = False,
              timeout: float = 600) -> Forked:
        """Starts a run in a forked child and returns at once.

        Args:
            args: its arguments.
            target: `"module:function"`: a click command (the `autokeras-nas`
                command by default) or a function of argv that returns an
                exit code.
            script: Python source to run instead of `target`, as
                `python -c SCRIPT ARGS` would.
            prog: the program name the target sees (`sys.argv[0]`, click's usage).
            cwd: its working directory (default: this process's).
            env: its whole environment (default: this process's, with
                TensorFlow's C++ logs quiet).
            merge_stderr: stderr into stdout's file (`stderr=STDOUT`).
            timeout: seconds before SIGALRM ends it (exit code -14).
        """
        out = self.logs / f"{self._count}.out"
        err = out if merge_stderr else self.logs / f"{self._count}.err"
        self._count += 1
        request: dict[str, Any] = {
            "op": "start", "args": [str(a) for a in args], "prog": prog, "target": target,
            "cwd": str(Path(cwd) if cwd is not None else Path.cwd()),
            "env": dict(env) if env is not None else cli_env(),
            "stdout": str(out), "stderr": str(err), "timeout": timeout}
        if script is not None:
            request["script"] = script
        return Forked(self, self._request(request), list(args), out, err)

    def run(self, args: Sequence[str], *, timeout: float = 600,
            **options: Any) -> subprocess.CompletedProcess:
        """`start(args, **options)`, waited for: the finished run (exit code,
        stdout and stderr as text), as `subprocess.run(capture_output=True,
        text=True)` returns it."""
        run = self.start(args, timeout=timeout, **options)
        out, err = run.communicate(timeout + 30)
        return subprocess.CompletedProcess(list(args), run.returncode, out, err or "")

    def close(self) -> None:
        """Ends the server (and any child it left behind)."""
        try:
            self._server.stdin.close()
            self._server.wait(timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            if self._server.poll() is None:
                os.killpg(self._server.pid, signal.SIGKILL)
                self._server.wait()
            self._server.stdout.close()

    def __enter__(self) -> "ForkServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def script_result(server: ForkServer, script: str, *args: str, timeout: float = 600,
                  **env: str) -> dict:
    """Runs the Python `script` as `python -c SCRIPT ARGS` would, forked from
    `server`, in this environment with TensorFlow's C++ logs quiet plus `env`;
    returns the JSON object it printed after `RESULT ` on a line of its own
    (`autokeras_nas.testing.cli.run_script_result`, without the start-up).

    Raises:
        AssertionError: the script failed or printed no RESULT line.
    """
    return script_result_of(server.run(list(args), script=script, timeout=timeout,
                                       env=cli_env(**env)))


def forked_cli_runs(server: ForkServer, *runs: Sequence[str], cwd: str | Path | None = None,
                    watch: Sequence[str] = (), timeout: float = 1500) -> list[dict]:
    """`autokeras_nas.testing.cli.probe_cli_runs` in a process forked from
    `server` instead of a fresh interpreter: the `autokeras-nas ARGS` of each
    of `runs`, in order, one after another in one process (click's test
    runner), without TensorFlow's import. Returns one dict per run as
    `probe_cli_runs` does ("code", "stdout", "stderr", "exception", "loaded":
    modules of `watch` imported so far, which in a forked process says
    nothing about the command: the server imported them).
    """
    from autokeras_nas.testing.cli import PROBE_RUNS_SCRIPT, probe_runs_args, probe_runs_reports

    proc = server.run(probe_runs_args(runs, watch), script=PROBE_RUNS_SCRIPT, cwd=cwd,
                      timeout=timeout)
    return probe_runs_reports(proc, len(runs))
