"""Parallel trials: the distributed chief, worker heartbeats, lost workers.

KerasTuner's distributed mode (a chief process serving the oracle over
gRPC, workers asking it for trials; see `autokeras_nas.launch`) with what a
long search needs:

* `serve(oracle)` replaces KerasTuner's chief loop: it listens where
  `KERASTUNER_ORACLE_IP/PORT` say (the launcher uses 127.0.0.1), re-queues
  the trials of workers that went silent, stops within a second of the last
  worker leaving (KerasTuner polls every 20 s), counts and times every
  request in `chief_stats.json`, and raises the search's failure (too many
  consecutive failed trials) after the workers have been stopped.
* `Heartbeat`: while a worker trains, it reports every few seconds, so the
  chief tells a long epoch from a dead worker.
* `ChiefMixin`: the oracle's side of the above (`StrategyOracle` uses it).

The chief's gRPC server has one request thread: no oracle method may sleep
or wait in it. Waiting is the asking side's job: `IdleBackoff`, which
`NasTuner` runs before each request for a trial, sleeps after an IDLE answer.

    from autokeras_nas.launch import run_parallel   # also exported here
    run_parallel([sys.executable, "search.py"], workers=2, log_dir="runs/logs")
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Callable

import keras_tuner

from autokeras_nas.launch import (
    HEARTBEAT_ENV,
    ORACLE_IP_ENV,
    ORACLE_PORT_ENV,
    ParallelError,
    is_chief,
    is_worker,
    run_parallel,
)
from autokeras_nas.results import write_json_atomic

#: Key of a worker's heartbeat: an `update_trial` that records nothing.
HEARTBEAT_KEY = "nas/heartbeat"
#: Seconds between heartbeats unless `AUTOKERAS_NAS_HEARTBEAT` says otherwise.
DEFAULT_HEARTBEAT_S = 10.0
#: Requests slower than this are reported on the chief's output.
SLOW_REQUEST_S = 1.0
STATS_FILENAME = "chief_stats.json"

#: Back-off while the oracle has no trial to give: first and longest sleep (s).
IDLE_SLEEP_S = (0.05, 2.0)

__all__ = [
    "ChiefMixin", "Heartbeat", "HEARTBEAT_KEY", "IdleBackoff", "ParallelError",
    "distribution_strategy",
    "is_chief", "is_worker", "prepare_resume", "run_parallel", "serve",
]


def _quiet_condition_protos() -> None:
    """KerasTuner 1.4.8's `conditions.Parent.to_proto` prints the condition's
    first value, so every trial of a conditional space sent over gRPC would
    print it: `print` is shadowed in that module only (its one print)."""
    from keras_tuner.src.engine import conditions

    conditions.print = lambda *args, **kwargs: None


_quiet_condition_protos()


class ChiefMixin:
    """Oracle methods for a distributed chief: which workers are alive, and
    re-queueing the trials of those that are not. Expects a
    `keras_tuner.Oracle` with the attributes `worker_timeout`, `_seen_at`
    (tuner id -> monotonic time) and `_chief` (`is_chief()` when built)."""

    def _heard_about(self, trial_id: str) -> None:
        """Notes that the worker running `trial_id` is alive."""
        if not self._chief:
            return
        for tuner_id, ongoing in self.ongoing_trials.items():
            if ongoing.trial_id == trial_id:
                self._seen_at[tuner_id] = time.monotonic()

    def _forget_ongoing(self, trial_id: str) -> None:
        for tuner_id, ongoing in list(self.ongoing_trials.items()):
            if ongoing.trial_id == trial_id:
                del self.ongoing_trials[tuner_id]

    def _accept_end(self, trial_id: str) -> bool:
        """Whether a final report is new: a worker thought lost may report a
        trial that was re-queued (taken back from the queue) or already
        ended by another worker (ignored)."""
        if trial_id in self.end_order:
            print(f"trial {trial_id} already ended: a second report is ignored", flush=True)
            self._forget_ongoing(trial_id)
            return False
        if trial_id in self._retry_queue and not self._is_running(trial_id):
            self._retry_queue.remove(trial_id)
        return True

    def _is_running(self, trial_id: str) -> bool:
        return any(t.trial_id == trial_id for t in self.ongoing_trials.values())

    @keras_tuner.synchronized
    def requeue_lost_trials(self) -> list[str]:
        """Forgets the workers not heard from for `worker_timeout` seconds and
        re-queues their running trials (distributed chief only).

        Returns:
            The ids of the re-queued trials.
        """
        if not self._chief:
            return []
        now = time.monotonic()
        requeued = []
        for tuner_id, seen in list(self._seen_at.items()):
            if now - seen <= self.worker_timeout:
                continue
            del self._seen_at[tuner_id]
            self.tuner_ids.discard(tuner_id)
            trial = self.ongoing_trials.pop(tuner_id, None)
            if trial is None or trial.trial_id in self._retry_queue:
                continue
            self._retry_queue.append(trial.trial_id)
            requeued.append(trial.trial_id)
            print(f"worker {tuner_id} silent for {now - seen:.0f}s: "
                  f"trial {trial.trial_id} re-queued", flush=True)
        if requeued:
            self.save()
            self._write_results()
        return requeued



class _TimedServicer:
    """Wraps KerasTuner's `OracleServicer`: counts and times each request."""

    METHODS = ("GetSpace", "UpdateSpace", "CreateTrial", "UpdateTrial", "EndTrial",
               "GetTrial", "GetBestTrials")

    def __init__(self, oracle: Any) -> None:
        from keras_tuner.src.distribute import oracle_chief

        self.inner = oracle_chief.OracleServicer(oracle)
        self.counts = {m: 0 for m in self.METHODS}
        self.max_s = {m: 0.0 for m in self.METHODS}
        self.total_s = {m: 0.0 for m in self.METHODS}
        self.started = time.monotonic()
        #: Seconds from serving to the first CreateTrial and to the last EndTrial.
        self.first_create_s: float | None = None
        self.last_end_s: float | None = None
        for name in self.METHODS:
            setattr(self, name, self._timed(name, getattr(self.inner, name)))

    @property
    def stop_triggered(self) -> bool:
        return self.inner.stop_triggered

    def _timed(self, name: str, method: Callable) -> Callable:
        def call(request: Any, context: Any) -> Any:
            t0 = time.perf_counter()
            if name == "CreateTrial" and self.first_create_s is None:
                self.first_create_s = time.monotonic() - self.started
            try:
                return method(request, context)
            finally:
                spent = time.perf_counter() - t0
                if name == "EndTrial":
                    self.last_end_s = time.monotonic() - self.started
                self.counts[name] += 1
                self.total_s[name] += spent
                self.max_s[name] = max(self.max_s[name], spent)
                if spent > SLOW_REQUEST_S:
                    print(f"chief: a {name} request took {spent:.1f}s", flush=True)
        return call

    def stats(self) -> dict[str, Any]:
        """Requests per method, their longest and total time, and the
        seconds from the first trial request to the last trial end."""
        span = None
        if self.first_create_s is not None and self.last_end_s is not None:
            span = round(self.last_end_s - self.first_create_s, 3)
        return {"requests": dict(self.counts),
                "max_ms": {k: round(v * 1e3, 3) for k, v in self.max_s.items()},
                "total_ms": {k: round(v * 1e3, 3) for k, v in self.total_s.items()},
                "trials_span_s": span}


def _search_over(oracle: Any) -> bool:
    @keras_tuner.synchronized
    def check(o: Any) -> bool:
        return not o.ongoing_trials and not o.tuner_ids

    return check(oracle)


def serve(oracle: Any, *, poll_s: float = 0.5) -> dict[str, Any]:
    """Serves `oracle` to the workers until the search is over (the chief's
    `search`). Returns the request statistics, also written to
    `chief_stats.json` in the search directory.

    Raises:
        ParallelError: The address cannot be bound.
        RuntimeError: The search stopped on too many consecutive failures.
    """
    from concurrent import futures

    import grpc
    from keras_tuner.src import protos

    address = f"{os.environ[ORACLE_IP_ENV]}:{os.environ[ORACLE_PORT_ENV]}"
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = _TimedServicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError:
        bound = 0
    if not bound:
        raise ParallelError(f"the chief cannot listen on {address} (address in use?)")
    server.start()
    print(f"chief: oracle listening on {address}", flush=True)
    try:
        while not (servicer.stop_triggered and _search_over(oracle)):
            time.sleep(poll_s)
            oracle.requeue_lost_trials()
    finally:
        server.stop(grace=2).wait()
        stats = servicer.stats()
        write_json_atomic(os.path.join(oracle._project_dir, STATS_FILENAME), stats, indent=1)
    if oracle.failure is not None:
        raise RuntimeError(oracle.failure)
    return stats


class IdleBackoff:
    """Sleeps, with exponential back-off, between requests for a trial that
    were answered IDLE.

    KerasTuner's `search` asks again at once when the oracle is IDLE; on a
    worker that would flood the chief. The tuner calls `before_request()`
    from KerasTuner's `pre_create_trial` hook, which runs before every
    request, and `trial_began()` from `on_trial_begin`: a request follows
    another without a trial in between only after an IDLE answer (a STOPPED
    one ends the loop), so the sleep happens exactly then, on the asking
    side (a local tuner, or a worker whose oracle is KerasTuner's gRPC
    client), never inside the oracle's lock or the chief's request thread.

    Args:
        first, longest: The first sleep and the cap of the doubling, in seconds.
    """

    def __init__(self, first: float = IDLE_SLEEP_S[0], longest: float = IDLE_SLEEP_S[1]) -> None:
        self.first, self.longest = float(first), float(longest)
        self.delay = self.first
        self._asked = False

    def before_request(self) -> None:
        """Sleeps if the previous request gave no trial; then notes a request."""
        if self._asked:
            time.sleep(self.delay)
            self.delay = min(self.delay * 2, self.longest)
        self._asked = True

    def trial_began(self) -> None:
        """A request gave a trial: the next one is asked at once."""
        self._asked = False
        self.delay = self.first


class Heartbeat:
    """Tells the chief, every `period` seconds, that a worker still trains a
    trial (a daemon thread; `stop()` ends it).

    Args:
        oracle: The worker's oracle client.
        trial_id: The trial being trained.
        period: Seconds between beats (default: `AUTOKERAS_NAS_HEARTBEAT`, else 10).
    """

    def __init__(self, oracle: Any, trial_id: str, period: float | None = None) -> None:
        if period is None:
            period = float(os.environ.get(HEARTBEAT_ENV, DEFAULT_HEARTBEAT_S))
        if not period > 0:
            raise ValueError(f"heartbeat period must be positive seconds, got {period!r}")
        self.oracle = oracle
        self.trial_id = trial_id
        self.period = period
        self.beats = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{trial_id}",
                                        daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.oracle.update_trial(self.trial_id, {HEARTBEAT_KEY: 1.0})
                self.beats += 1
            except Exception as e:  # the chief may be gone; the trial decides
                print(f"heartbeat of trial {self.trial_id} failed: {type(e).__name__}", flush=True)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.period + 5)


def prepare_resume(directory: str | None, project_name: str | None, tuner_id: str) -> None:
    """Makes KerasTuner reload a search directory that holds an oracle.json
    but no file for this tuner id (a search first run by another process
    layout, e.g. resumed with workers, or killed before its first trial
    ended): KerasTuner would otherwise start afresh over it."""
    project = os.path.join(directory or ".", project_name or "untitled_project")
    tuner_file = os.path.join(project, f"{tuner_id}.json")
    if os.path.isfile(os.path.join(project, "oracle.json")) and not os.path.exists(tuner_file):
        write_json_atomic(tuner_file, {})


def distribution_strategy(name: str | None) -> Any:
    """The `distribution_strategy` of a name: None for "none" (or None);
    for "mirrored", `tf.distribute.MirroredStrategy` over the GPUs this
    process sees (its CPU without GPUs), announced on stdout."""
    if name in (None, "none"):
        return None
    if name != "mirrored":
        raise ValueError(f"distribution must be 'none' or 'mirrored', got {name!r}")
    import tensorflow as tf

    strategy = tf.distribute.MirroredStrategy()
    devices = ", ".join(strategy.extended.worker_devices)
    print(f"each trial trains on {strategy.num_replicas_in_sync} replica(s): {devices}",
          flush=True)
    return strategy
