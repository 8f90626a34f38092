"""ForkServer: each run is a process of its own, with its own directory,
environment, output files, exit code and process group, forked from one
interpreter (here one that preloads nothing, so that no TensorFlow starts)."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from autokeras_nas.testing.forkserver import ForkServer
from autokeras_nas.testing.processes import finish, kill_when


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ForkServer(tmp_path_factory.mktemp("logs"), preload=()) as s:
        yield s


def test_a_script_sees_its_arguments_directory_and_environment(server, tmp_path) -> None:
    script = ("import os, sys; print(sys.argv, os.getcwd(), os.environ.get('WHO'), "
              "os.getpid() == os.getpgid(0)); print('oops', file=sys.stderr)")
    done = server.run(["a", "b"], script=script, cwd=tmp_path, env={"WHO": "me"})
    assert done.returncode == 0
    assert done.stdout == f"['-c', 'a', 'b'] {tmp_path} me True\n"  # its own process group
    assert done.stderr == "oops\n"
    again = server.run([], script="import os; print(os.environ.get('WHO'))", cwd=tmp_path)
    assert again.stdout == "None\n"  # the environment is the run's, not the last run's


@pytest.mark.parametrize("script, code", [
    ("pass", 0), ("import sys; sys.exit(3)", 3), ("import sys; sys.exit('bad')", 1),
    ("raise ValueError('boom')", 1), ("import os, signal; os.kill(os.getpid(), signal.SIGTERM)",
                                      -signal.SIGTERM)])
def test_exit_codes_are_a_fresh_processs(server, tmp_path, script, code) -> None:
    done = server.run([], script=script, cwd=tmp_path)
    assert done.returncode == code
    if code == 1:
        assert "boom" in done.stderr or "bad" in done.stderr


def test_stdin_is_empty_and_the_timeout_ends_a_run(server, tmp_path) -> None:
    assert server.run([], script="import sys; print(repr(sys.stdin.read()))",
                      cwd=tmp_path).stdout == "''\n"
    started = time.monotonic()
    done = server.run([], script="import time; time.sleep(30)", cwd=tmp_path, timeout=1)
    assert done.returncode == -signal.SIGALRM and time.monotonic() - started < 10


def test_a_started_run_is_killed_with_what_it_started(server, tmp_path) -> None:
    script = ("import subprocess, sys, time; "
              "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
              "open('child', 'w').write(str(p.pid)); print('started', flush=True); time.sleep(60)")
    run = server.start([], script=script, cwd=tmp_path, merge_stderr=True)
    assert run.poll() is None
    child = tmp_path / "child"
    assert kill_when(run, lambda: child.exists() and child.read_text())
    assert run.returncode == -signal.SIGKILL
    grandchild = int((tmp_path / "child").read_text())
    deadline = time.monotonic() + 10
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)  # the whole process group went
    assert finish(run) == "started\n"


def test_communicate_kills_a_run_past_its_wait(server, tmp_path) -> None:
    run = server.start([], script="import time; time.sleep(60)", cwd=tmp_path)
    with pytest.raises(subprocess.TimeoutExpired):
        run.communicate(timeout=0.5)
    assert run.returncode == -signal.SIGKILL


def test_the_default_target_is_the_command_line(server, tmp_path) -> None:
    done = server.run(["--help"], cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("Usage: autokeras-nas ")
    wrong = server.run(["search", "--no-such-option"], cwd=tmp_path)
    assert wrong.returncode == 2 and "No such option" in wrong.stderr


def test_a_function_targets_int_is_its_exit_code(server, tmp_path) -> None:
    # len(argv) as a command's main: an int returned is the exit code
    assert server.run(["a", "b", "c"], target="builtins:len", cwd=tmp_path).returncode == 3


def test_a_dead_server_says_so(tmp_path) -> None:
    server = ForkServer(tmp_path, preload=("no_such_module_here",))
    died = r"(?s)the fork server died \(exit code 1\): .*no_such_module_here"
    with pytest.raises(RuntimeError, match=died):
        server.run([], script="pass")
    server.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (reaped by nobody yet) counts as gone
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False
