"""Running a search in a child process and killing it, as a crash would.

`spawn` starts a command in its own process group with TensorFlow's C++
logs quiet, its output piped; `finish` waits for it and returns that
output; `kill_when` SIGKILLs the whole group once a condition holds; `kill`
makes sure a process is gone. Linux and macOS only (process groups).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable


def spawn(command: list[str], cwd: Path | str | None = None) -> subprocess.Popen:
    """Starts `command` in a new session (its own process group)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def kill(proc: subprocess.Popen) -> None:
    """SIGKILLs the process group if the process still runs; closes its pipe."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


def finish(proc: subprocess.Popen, timeout: float = 600) -> str:
    """Waits for the process and returns its output; killed after `timeout` s."""
    try:
        output, _ = proc.communicate(timeout=timeout)
    finally:
        kill(proc)
    return output


def kill_when(proc: subprocess.Popen, ready: Callable[[], bool], timeout: float = 300) -> bool:
    """SIGKILLs the process group once `ready()` holds (polled every 10 ms);
    False if the process ended, or `timeout` s passed, first."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if ready():
            kill(proc)
            return True
        time.sleep(0.01)
    finish(proc)
    return False
