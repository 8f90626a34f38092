"""Parallel trials on one machine: a KerasTuner chief and N workers as processes.

KerasTuner's distributed mode runs the same program several times, told
apart by environment variables: `KERASTUNER_TUNER_ID` ("chief" runs the
oracle as a gRPC server; "tuner0", "tuner1", ... run trials),
`KERASTUNER_ORACLE_IP` and `KERASTUNER_ORACLE_PORT`. `run_parallel` starts
your command (a script, or `autokeras-nas search ...`) that way on loopback:

    from autokeras_nas.launch import run_parallel
    run_parallel([sys.executable, "my_search.py"], workers=2, log_dir="runs/logs")

Every process shares the search directory; each worker gets one GPU (or a
share of them) through `CUDA_VISIBLE_DEVICES` when GPUs exist, else a share
of the CPU cores (TensorFlow's thread pools are sized to it, so 2 workers
on 2 cores do not fight for them); the chief trains nothing and sees no GPU.
Each process writes `log_dir/<id>.log`, and its lines are echoed prefixed
with `[<id>]`. The call waits for the chief, stops the workers if it dies,
and raises `ParallelError` naming the failing process and its last line.

The same recipe runs across hosts without this module: start the chief with
`KERASTUNER_ORACLE_IP` set to an address the workers reach, then the
workers with the same variables and their own ids, all on a shared
directory.

This module imports neither TensorFlow nor KerasTuner.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

TUNER_ID_ENV = "KERASTUNER_TUNER_ID"
ORACLE_IP_ENV = "KERASTUNER_ORACLE_IP"
ORACLE_PORT_ENV = "KERASTUNER_ORACLE_PORT"
#: Seconds without a word from a worker before the chief re-queues its trial.
WORKER_TIMEOUT_ENV = "AUTOKERAS_NAS_WORKER_TIMEOUT"
#: Seconds between a training worker's heartbeats.
HEARTBEAT_ENV = "AUTOKERAS_NAS_HEARTBEAT"
#: GPU ids to hand out ("" for none); overrides detection.
GPUS_ENV = "AUTOKERAS_NAS_GPUS"
_THREAD_ENVS = ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS")
#: Seconds the chief may run on after every worker has gone, some of them
#: having failed, before it is considered stuck.
_STUCK_GRACE_S = 60.0
#: Seconds the workers get to exit on their own after the chief finished.
WORKER_EXIT_GRACE_S = 15.0


class ParallelError(RuntimeError):
    """The chief failed, or no worker was left to finish the search."""


def is_chief() -> bool:
    """Whether this process is a distributed KerasTuner chief."""
    return ORACLE_IP_ENV in os.environ and "chief" in os.environ.get(TUNER_ID_ENV, "")


def is_worker() -> bool:
    """Whether this process is a distributed KerasTuner worker."""
    return ORACLE_IP_ENV in os.environ and not is_chief()


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on `host` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def detect_gpus() -> list[str]:
    """GPU ids visible to this machine, without importing TensorFlow.

    `AUTOKERAS_NAS_GPUS` ("0,1"; "" for none) wins, then an existing
    `CUDA_VISIBLE_DEVICES`, then `nvidia-smi -L`.
    """
    for name in (GPUS_ENV, "CUDA_VISIBLE_DEVICES"):
        if name in os.environ:
            ids = [g.strip() for g in os.environ[name].split(",") if g.strip()]
            return [] if ids == ["-1"] else ids
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        listing = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(
        ln for ln in listing.stdout.splitlines() if ln.startswith("GPU "))]


#: The most CPU workers `auto_workers` starts (each is a TensorFlow process of
#: its own, about a gigabyte of memory).
MAX_AUTO_WORKERS = 8


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the platform
    tells it, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def auto_workers(gpus: Sequence[str] | None = None, cores: int | None = None) -> int:
    """The number of parallel workers that `--workers auto` starts; 0 means
    one process.

    With GPUs: one worker per GPU when there are two or more (one GPU is
    used best by one process). Without: one worker per core, up to
    `MAX_AUTO_WORKERS`, each with TensorFlow's threads sized to its share of
    the cores; a single core gets one process. The rule comes from
    `autokeras-nas bench workers` (the package's benchmarks, §7): the models
    of a search use a second process better than a second TensorFlow thread.
    """
    gpus = detect_gpus() if gpus is None else list(gpus)
    if gpus:
        return len(gpus) if len(gpus) >= 2 else 0
    cores = available_cores() if cores is None else cores
    return min(cores, MAX_AUTO_WORKERS) if cores >= 2 else 0


def gpus_for(index: int, workers: int, gpus: Sequence[str]) -> list[str]:
    """The GPUs of worker `index`: its share when there are enough, else one,
    round-robin."""
    if not gpus:
        return []
    if len(gpus) >= workers:
        return list(gpus[index::workers])
    return [gpus[index % len(gpus)]]


def process_env(tuner_id: str, *, host: str, port: int, gpus: Sequence[str] | None,
                threads: int | None, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of one process of a parallel search.

    Args:
        tuner_id: "chief" or "tuner<i>".
        host, port: Where the chief listens.
        gpus: GPU ids this process sees ([] hides them all; None leaves
            `CUDA_VISIBLE_DEVICES` alone).
        threads: Size of TensorFlow's intra-op thread pool, unless the
            environment already sets it; None leaves it to TensorFlow.
        base: The environment to start from (default: this process's).
    """
    env = dict(os.environ if base is None else base)
    env.update({TUNER_ID_ENV: tuner_id, ORACLE_IP_ENV: host, ORACLE_PORT_ENV: str(port),
                "PYTHONUNBUFFERED": "1"})
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if gpus is not None:
        env["CUDA_VISIBLE_DEVICES"] = ",".join(gpus) if gpus else "-1"
    if threads is not None:
        for name in _THREAD_ENVS:
            env.setdefault(name, str(threads))
        env.setdefault("TF_NUM_INTEROP_THREADS", "1")
    return env


def _exec_tied_to(parent_pid: int, command: Sequence[str]) -> None:  # pragma: no cover
    """Runs `command` in place of this process, killed with SIGKILL when
    `parent_pid` dies (Linux's parent-death signal survives exec), so that a
    launcher killed by SIGKILL leaves no chief or worker behind."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
        if os.getppid() != parent_pid:  # the launcher died before the call
            sys.exit(1)
    os.execvp(command[0], list(command))


@dataclass
class Child:
    """One process of a parallel search, its output going to a log file."""

    name: str
    proc: subprocess.Popen
    log_path: Path
    last_line: str = ""
    pump: threading.Thread | None = None

    @property
    def returncode(self) -> int | None:
        return self.proc.poll()

    def describe_exit(self) -> str:
        code = self.proc.returncode
        if code is not None and code < 0:
            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"


def _pump(child: Child, echo: Callable[[str], None] | None) -> None:
    with open(child.log_path, "a", buffering=1) as log:
        for line in child.proc.stdout:  # type: ignore[union-attr]
            log.write(line)
            text = line.rstrip("\n")
            if text.strip():
                child.last_line = text.strip()
            if echo is not None:
                echo(f"[{child.name}] {text}")


def start_child(name: str, command: Sequence[str], env: Mapping[str, str], log_dir: Path,
                echo: Callable[[str], None] | None, cwd: str | None = None) -> Child:
    """Starts `command` with its output pumped to `log_dir/<name>.log`."""
    tied = [sys.executable, "-m", "autokeras_nas.launch", str(os.getpid()), *command]
    proc = subprocess.Popen(
        tied, env=dict(env), cwd=cwd, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True, bufsize=1,
    )
    child = Child(name, proc, log_dir / f"{name}.log")
    child.pump = threading.Thread(target=_pump, args=(child, echo), daemon=True)
    child.pump.start()
    return child


def stop_children(children: Sequence[Child], timeout: float = 10.0) -> None:
    """SIGTERM, then SIGKILL after `timeout` seconds, for every child still running."""
    running = [c for c in children if c.proc.poll() is None]
    for c in running:
        c.proc.terminate()
    deadline = time.monotonic() + timeout
    for c in running:
        try:
            c.proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            c.proc.kill()
            c.proc.wait()
    for c in children:
        if c.pump is not None:
            c.pump.join(timeout=5)


@dataclass
class ParallelResult:
    """How a parallel search ended."""

    returncodes: dict[str, int | None]
    log_dir: Path
    wall_s: float
    port: int
    #: Workers that exited with an error before the search ended.
    failed_workers: list[str] = field(default_factory=list)
    #: Workers still running `worker_exit_grace` seconds after the chief
    #: finished, stopped by the launcher (not failures).
    stopped_workers: list[str] = field(default_factory=list)


def _echo_stdout(line: str) -> None:
    print(line, flush=True)


def run_parallel(
    command: Sequence[str],
    *,
    workers: int,
    log_dir: str | os.PathLike,
    host: str = "127.0.0.1",
    port: int | None = None,
    gpus: Sequence[str] | None = None,
    threads: int | str | None = "auto",
    worker_timeout: float | None = None,
    echo: Callable[[str], None] | None = _echo_stdout,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    chief_command: Sequence[str] | None = None,
    worker_exit_grace: float = WORKER_EXIT_GRACE_S,
) -> ParallelResult:
    """Runs `command` as a KerasTuner chief and `workers` workers; waits.

    Args:
        command: The program every process runs (it builds the same tuner on
            the same directory and calls `search`).
        workers: Number of worker processes (>= 1).
        log_dir: Directory of the per-process logs (`chief.log`, `tuner0.log`, ...).
        host: Address the chief listens on; loopback by default. Another
            address (e.g. "0.0.0.0") exposes the oracle, unauthenticated, to
            the network.
        port: The chief's port (default: a free one).
        gpus: GPU ids to share among the workers (default: detected).
        threads: TensorFlow intra-op threads per CPU worker: "auto" (the
            cores divided among the workers), an int, or None (TensorFlow's
            default). Ignored for workers with GPUs.
        worker_timeout: Seconds before the chief re-queues the trial of a
            silent worker (default 60; sets `AUTOKERAS_NAS_WORKER_TIMEOUT`).
        echo: Receives every output line, prefixed `[<id>] `; None: logs only.
        env: Base environment of the processes (default: this process's).
        cwd: Working directory of the processes.
        chief_command: The chief's program when it differs from `command`.
        worker_exit_grace: Seconds the workers get to exit on their own
            once the chief has finished, before they are stopped (SIGTERM).

    Returns:
        A `ParallelResult` (exit codes, log directory, wall time).

    Raises:
        ValueError: Bad arguments.
        ParallelError: The chief failed or was stuck without workers.
    """
    if not isinstance(workers, int) or isinstance(workers, bool) or workers < 1:
        raise ValueError(f"workers must be a positive int, got {workers!r}")
    if not command:
        raise ValueError("command must name a program")
    if threads not in ("auto", None) and not (isinstance(threads, int) and threads >= 1):
        raise ValueError(f"threads must be 'auto', None or a positive int, got {threads!r}")
    log_path = Path(log_dir)
    log_path.mkdir(parents=True, exist_ok=True)
    port = free_port(host) if port is None else int(port)
    gpus = detect_gpus() if gpus is None else [str(g) for g in gpus]
    base = dict(os.environ if env is None else env)
    if worker_timeout is not None:
        if not worker_timeout > 0:
            raise ValueError(f"worker_timeout must be positive, got {worker_timeout!r}")
        base[WORKER_TIMEOUT_ENV] = str(worker_timeout)
    cpu_threads = max(1, available_cores() // workers) if threads == "auto" else threads
    specs = [("chief", chief_command or command, process_env(
        "chief", host=host, port=port, gpus=[] if gpus else None, threads=None, base=base))]
    for i in range(workers):
        mine = gpus_for(i, workers, gpus)
        specs.append((f"tuner{i}", command, process_env(
            f"tuner{i}", host=host, port=port, gpus=mine if gpus else None,
            threads=None if mine else cpu_threads, base=base)))
    started = time.monotonic()
    children: list[Child] = []
    stopped: list[str] = []
    try:
        for name, cmd, child_env in specs:
            children.append(start_child(name, cmd, child_env, log_path, echo, cwd))
        _wait(children[0], children[1:], float(base.get(WORKER_TIMEOUT_ENV, 60)))
        # The chief is done; workers told to stop are shutting TensorFlow down.
        deadline = time.monotonic() + worker_exit_grace
        while any(w.proc.poll() is None for w in children[1:]) and time.monotonic() < deadline:
            time.sleep(0.1)
        stopped = [w.name for w in children[1:] if w.proc.poll() is None]
    finally:
        stop_children(children)
    return ParallelResult(
        returncodes={c.name: c.proc.returncode for c in children}, log_dir=log_path,
        wall_s=time.monotonic() - started, port=port,
        failed_workers=[c.name for c in children[1:]
                        if c.proc.returncode != 0 and c.name not in stopped],
        stopped_workers=stopped,
    )


def _wait(chief: Child, workers: Sequence[Child], worker_timeout: float) -> None:
    """Waits for the chief; raises `ParallelError` if it fails or is stuck."""
    stuck_since: float | None = None
    while chief.proc.poll() is None:
        time.sleep(0.2)
        if any(w.proc.poll() is None for w in workers):
            continue
        if all(w.proc.returncode == 0 for w in workers):
            continue  # every worker was told to stop: the chief is finishing
        stuck_since = stuck_since or time.monotonic()
        if time.monotonic() - stuck_since > worker_timeout + _STUCK_GRACE_S:
            lost = ", ".join(f"{w.name} ({w.describe_exit()})" for w in workers)
            raise ParallelError(
                f"every worker has exited ({lost}) before the search finished; "
                f"see the logs in {chief.log_path.parent}; rerun to resume"
            )
    if chief.pump is not None:
        chief.pump.join(timeout=5)
    if chief.proc.returncode != 0:
        raise ParallelError(
            f"the chief failed ({chief.describe_exit()}): {chief.last_line or 'no output'} "
            f"(log: {chief.log_path})"
        )


if __name__ == "__main__":  # python -m autokeras_nas.launch PARENT_PID COMMAND...
    _exec_tied_to(int(sys.argv[1]), sys.argv[2:])
