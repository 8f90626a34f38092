"""Parallel trials: a KerasTuner chief and workers as real processes on loopback."""

from __future__ import annotations

import ipaddress
import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from autokeras_nas.launch import (
    HEARTBEAT_ENV,
    ORACLE_IP_ENV,
    ORACLE_PORT_ENV,
    TUNER_ID_ENV,
    ParallelError,
    free_port,
    gpus_for,
    run_parallel,
)
from autokeras_nas.testing import assert_no_pickles
from autokeras_nas.testing.cli import cli_command

pytestmark = pytest.mark.tf

PY = sys.executable


#: How long the launcher tests' workers sleep unless stopped (s).
SLEEPER_S = 60


def _ipv4(address: str) -> str:
    """`address`, or the IPv4 address it maps (gRPC listens on IPv6 sockets
    bound to `::ffff:a.b.c.d`, which accept connections to a.b.c.d only)."""
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    return str(mapped or ip)


def _listening(pid: int) -> set[tuple[str, int]]:
    """The (address, port) of every TCP socket process `pid` listens on."""
    import psutil

    connections = psutil.Process(pid).net_connections(kind="inet")
    return {(_ipv4(c.laddr.ip), c.laddr.port) for c in connections
            if c.status == psutil.CONN_LISTEN}


class ChiefSockets(threading.Thread):
    """Watches this process's descendants for the chief (the child whose
    KERASTUNER_TUNER_ID is "chief") and records every socket it listens on
    while it runs."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.found: set[tuple[str, int]] = set()
        self.port: int | None = None
        self.done = threading.Event()

    def run(self) -> None:
        import psutil

        while not self.done.is_set():
            pid = _children_by_role().get("chief")
            if pid is not None:
                try:
                    self.port = int(psutil.Process(pid).environ()[ORACLE_PORT_ENV])
                    self.found |= _listening(pid)
                except (psutil.Error, OSError, KeyError):
                    pass  # not started yet, or gone
            self.done.wait(0.2)

    def stop(self) -> set[tuple[str, int]]:
        """Stops watching; returns the sockets found."""
        self.done.set()
        self.join(timeout=10)
        return self.found


# -- the launcher alone (no TensorFlow in the children) -------------------------------------
def test_launcher_gives_each_process_its_role_and_prefixes_its_output(tmp_path):
    lines: list[str] = []
    code = ("import os; print(os.environ['KERASTUNER_TUNER_ID'], os.environ['KERASTUNER_ORACLE_IP'],"
            " os.environ.get('TF_NUM_INTRAOP_THREADS'), os.environ.get('CUDA_VISIBLE_DEVICES'))")
    result = run_parallel([PY, "-c", code], workers=2, log_dir=tmp_path / "logs", gpus=[],
                          echo=lines.append)
    assert result.returncodes == {"chief": 0, "tuner0": 0, "tuner1": 0}
    cores = str(max(1, (os.cpu_count() or 1) // 2))
    assert sorted(lines) == sorted(["[chief] chief 127.0.0.1 None None",
                                    f"[tuner0] tuner0 127.0.0.1 {cores} None",
                                    f"[tuner1] tuner1 127.0.0.1 {cores} None"])
    assert (tmp_path / "logs" / "tuner1.log").read_text().startswith("tuner1 127.0.0.1")


def test_workers_get_their_own_gpus_and_the_chief_none(tmp_path):
    code = "import os; print(os.environ['CUDA_VISIBLE_DEVICES'])"
    lines: list[str] = []
    run_parallel([PY, "-c", code], workers=2, log_dir=tmp_path, gpus=["0", "1", "2", "3"],
                 echo=lines.append)
    assert sorted(lines) == ["[chief] -1", "[tuner0] 0,2", "[tuner1] 1,3"]
    assert gpus_for(2, 3, ["0"]) == ["0"] and gpus_for(1, 2, []) == []


def test_a_dying_chief_stops_the_workers_with_a_clear_error(tmp_path):
    t0 = time.monotonic()
    with pytest.raises(ParallelError, match=r"the chief failed \(exit code 3\): cannot bind"):
        run_parallel([PY, "-c", f"import time; time.sleep({SLEEPER_S})"], workers=2,
                     log_dir=tmp_path, echo=None,
                     chief_command=[PY, "-c", "import sys; print('cannot bind'); sys.exit(3)"])
    assert _children_by_role() == {}  # the sleeping workers were stopped, not left behind
    assert time.monotonic() - t0 < SLEEPER_S / 2  # long before they would have ended


def test_workers_finishing_after_the_chief_are_not_failures(tmp_path):
    """The chief may end a moment before its workers have shut down."""
    lines: list[str] = []
    result = run_parallel([PY, "-c", "import time; time.sleep(1.5); print('done')"], workers=2,
                          log_dir=tmp_path, gpus=[], echo=lines.append,
                          chief_command=[PY, "-c", "pass"])
    assert result.returncodes == {"chief": 0, "tuner0": 0, "tuner1": 0}
    assert result.failed_workers == [] and result.stopped_workers == []
    assert sorted(lines) == ["[tuner0] done", "[tuner1] done"]
    # One that never ends is stopped after the grace period, still not a failure.
    result = run_parallel([PY, "-c", f"import time; time.sleep({SLEEPER_S})"], workers=1,
                          log_dir=tmp_path, gpus=[], echo=None, chief_command=[PY, "-c", "pass"],
                          worker_exit_grace=0.5)
    assert result.stopped_workers == ["tuner0"] and result.failed_workers == []
    assert result.wall_s < SLEEPER_S / 2


def test_killing_the_launcher_kills_the_chief_and_workers(tmp_path):
    import psutil

    code = ("import sys; from autokeras_nas.launch import run_parallel; "
            "run_parallel([sys.executable, '-c', 'import time; time.sleep(120)'], workers=2, "
            f"log_dir={str(tmp_path)!r}, echo=None)")
    launcher = subprocess.Popen([PY, "-c", code])
    children: list = []
    try:
        deadline = time.monotonic() + 60
        while len(children) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
            children = psutil.Process(launcher.pid).children()
        assert len(children) == 3
        launcher.kill()  # SIGKILL: no chance to clean up
        launcher.wait()
        gone, alive = psutil.wait_procs(children, timeout=10)
        assert alive == []
    finally:  # what this test started only (the suite's fork server is a child too)
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()
        for child in children:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass


def test_bad_arguments_are_value_errors(tmp_path):
    with pytest.raises(ValueError, match="workers must be a positive int"):
        run_parallel([PY, "-c", "pass"], workers=0, log_dir=tmp_path)
    with pytest.raises(ValueError, match="threads must be"):
        run_parallel([PY, "-c", "pass"], workers=1, log_dir=tmp_path, threads=0)


# -- the chief's oracle over gRPC, in this process ----------------------------------------------
def test_waiting_workers_back_off_instead_of_flooding_the_chief(tmp_path, monkeypatch):
    from autokeras_nas.bench import NB201Table
    from autokeras_nas.core import BaseStrategy, Suggestion
    from autokeras_nas.tuner import parallel
    from autokeras_nas.bench.tabular_search import TabularTuner

    class WaitForOthers(BaseStrategy):
        name = "wait-for-others"

        def propose(self, trial_id):
            if self.asked and len(self.history) < len(self.asked):
                return Suggestion.wait()  # needs every result so far
            return Suggestion.run(self.space.sample(self.rng))

    monkeypatch.setenv(ORACLE_IP_ENV, "127.0.0.1")
    monkeypatch.setenv(ORACLE_PORT_ENV, str(free_port()))
    monkeypatch.setenv(TUNER_ID_ENV, "chief")
    table = NB201Table("cifar10")
    chief = TabularTuner(strategy=WaitForOthers(seed=0), max_trials=2, table=table,
                         directory=str(tmp_path), project_name="p")
    oracle = chief.oracle
    oracle.verbose = 0
    oracle.worker_timeout = 6.0  # the fake worker below leaves without a word
    stats: dict = {}
    server = threading.Thread(target=lambda: stats.update(parallel.serve(oracle)))
    server.start()

    def finish_other():  # as a worker in another process would, 3 s later
        time.sleep(3)
        oracle.update_trial(other.trial_id, {"val_acc": 50.0})
        other.status = "COMPLETED"
        oracle.end_trial(other)

    finisher = threading.Thread(target=finish_other)
    monkeypatch.setenv(TUNER_ID_ENV, "tuner0")
    worker = TabularTuner(strategy=WaitForOthers(seed=0), max_trials=2, table=table,
                          directory=str(tmp_path), project_name="p")
    assert type(worker.oracle).__name__ == "OracleClient"
    other = oracle.create_trial("other-worker")  # a trial running on another worker
    finisher.start()
    t0 = time.monotonic()
    worker.search(verbose=0)
    waited = time.monotonic() - t0
    finisher.join()
    server.join(timeout=30)
    assert not server.is_alive()
    assert [t.status for t in oracle.trials.values()] == ["COMPLETED", "COMPLETED"]
    # The worker asked, was told to wait (IDLE), and asked again with back-off:
    # no more requests than the back-off schedule allows in the time it waited
    # (without back-off, thousands), plus the one that got the trial and the
    # one that ended the search.
    requests = stats["requests"]["CreateTrial"]
    assert 3 <= requests <= _backoff_requests(waited) + 2, (requests, waited, stats)
    # The chief answered at once and the worker slept: the requests took a
    # small part of the wait (a chief holding its one request thread while a
    # worker waits would have spent all of it inside requests).
    assert stats["total_ms"]["CreateTrial"] < 0.5 * waited * 1e3, (waited, stats)
    assert json.loads((tmp_path / "p" / "chief_stats.json").read_text()) == stats


def _backoff_requests(seconds: float) -> int:
    """How many requests a worker sleeping with `IdleBackoff` between IDLE
    answers makes in `seconds`, at most."""
    from autokeras_nas.tuner.parallel import IdleBackoff

    backoff, slept, requests = IdleBackoff(), 0.0, 1
    while slept + backoff.delay <= seconds:
        slept += backoff.delay
        backoff.delay = min(backoff.delay * 2, backoff.longest)
        requests += 1
    return requests


# -- real chief and workers ---------------------------------------------------------------------
def _children_by_role() -> dict[str, int]:
    import psutil

    found = {}
    for child in psutil.Process().children(recursive=True):
        try:
            role = child.environ().get(TUNER_ID_ENV)
        except (psutil.Error, OSError):
            continue
        if role:
            found[role] = child.pid
    return found


def test_killing_a_worker_requeues_its_trial_and_the_search_completes(tmp_path):
    out = tmp_path / "nb201"
    command = [PY, "-m", "autokeras_nas.bench.tabular_search", "--strategy", "random", "--seed", "3",
               "--max-trials", "8", "--trial-seconds", "1.5", "--out", str(out)]
    env = {**os.environ, HEARTBEAT_ENV: "0.5", "TF_CPP_MIN_LOG_LEVEL": "3"}
    done: dict = {}

    def launch():
        try:
            done["result"] = run_parallel(command, workers=2, log_dir=tmp_path / "logs",
                                          worker_timeout=4, env=env, echo=None)
        except BaseException as e:  # reported by the assertions below
            done["error"] = e

    launcher = threading.Thread(target=launch)
    sockets = ChiefSockets()
    sockets.start()
    launcher.start()
    killed = None
    try:
        deadline = time.monotonic() + 300
        while killed is None and time.monotonic() < deadline and launcher.is_alive():
            time.sleep(0.2)
            try:
                ongoing = json.loads((out / "oracle.json").read_text())["ongoing_trials"]
            except (OSError, ValueError, KeyError):
                continue
            pid = _children_by_role().get("tuner0")
            if "tuner0" in ongoing and pid:
                os.kill(pid, signal.SIGKILL)
                killed = ongoing["tuner0"]
        launcher.join(timeout=300)
    finally:
        listening = sockets.stop()
        for pid in _children_by_role().values():
            os.kill(pid, signal.SIGKILL)
    # run_parallel's default: the chief listens on loopback only, on its port.
    assert listening == {("127.0.0.1", sockets.port)}, listening
    assert killed is not None, "tuner0 never ran a trial"
    assert "error" not in done, done.get("error")
    result = done["result"]
    assert result.returncodes["chief"] == 0 and result.failed_workers == ["tuner0"]
    trials = json.loads((out / "results.json").read_text())["trials"]
    assert len(trials) == 8 and all(t["status"] == "completed" for t in trials)
    assert len({json.dumps(t["values"], sort_keys=True) for t in trials}) == 8
    chief_log = (tmp_path / "logs" / "chief.log").read_text()
    assert f"trial {killed} re-queued" in chief_log
    assert_no_pickles(out)


def test_the_cli_chief_listens_on_loopback_by_default():
    """What `search --workers` passes to run_parallel when --oracle-host is
    not given (the socket itself is checked above, with run_parallel's own
    default, and below with --oracle-host)."""
    from autokeras_nas.cli.search import search

    option = next(p for p in search.params if p.name == "oracle_host")
    assert option.default == "127.0.0.1"


def test_cli_search_with_two_workers(tmp_path):
    """--workers auto on two cores (and no GPU) starts two workers.
    --oracle-host: the chief listens on that address, and only there (a
    second loopback address, never one reachable from another host)."""
    cores = sorted(os.sched_getaffinity(0))[:2]
    assert len(cores) == 2, "the test needs two cores"
    sockets = ChiefSockets()
    sockets.start()
    proc = subprocess.Popen(
        cli_command() + ["search", "--dataset", "digits", "--max-trials", "4", "--epochs", "1",
                         "--workers", "auto", "--oracle-host", "127.0.0.2", "--out", "par"],
        cwd=tmp_path, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "AUTOKERAS_NAS_GPUS": ""},
        text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        preexec_fn=lambda: os.sched_setaffinity(0, cores))
    try:
        output, _ = proc.communicate(timeout=600)
    finally:
        listening = sockets.stop()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 0, output[-3000:]
    assert "Traceback" not in output
    out = tmp_path / "par"
    assert "a chief and 2 worker(s) on 127.0.0.2" in output
    assert f"[chief] chief: oracle listening on 127.0.0.2:{sockets.port}" in output
    assert listening == {("127.0.0.2", sockets.port)}, listening
    assert "[chief] best trial" in output
    trials = json.loads((out / "results.json").read_text())["trials"]
    assert len(trials) == 4 and all(t["status"] == "completed" for t in trials)
    for worker in ("tuner0", "tuner1"):  # both trained, each in its own log
        assert ": completed" in (out / "logs" / f"{worker}.log").read_text()
        assert f"[{worker}] trial " in output
    assert_no_pickles(out)
    import keras

    model = keras.models.load_model(out / "best_model.keras", safe_mode=True)
    assert model.output_shape == (None, 10)
