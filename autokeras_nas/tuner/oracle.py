"""`StrategyOracle`: any `autokeras_nas.core.Strategy` as a KerasTuner oracle.

The mapping:

* `populate_space(trial_id)` -> `strategy.ask(trial_id)`; "wait" -> IDLE,
  "done" -> STOPPED. Values are completed against the space (exactly the
  active hyperparameters, defaults for any the strategy left out) so that
  KerasTuner never fills a value with its unseeded sampler, and are plain
  Python scalars (KerasTuner's gRPC layer rejects numpy types).
* `early_stopping="asha"` or `"hyperband"` (a `PromotionScheduler`, see
  `autokeras_nas.core.stopping`): before asking the strategy,
  `populate_space` asks the scheduler for a promotion (and, when the
  scheduler takes no new configuration now, answers IDLE while trials
  run, STOPPED when none does); a promotion becomes
  a trial of the configuration's values with `nas/parent` = the trial it
  continues, `nas/initial_epoch` / `nas/epochs` = the two rungs and
  `nas/continues` = the trial the strategy asked for. A strategy's
  suggestion without its own `epochs` trains to the lowest rung; only
  trials of the "train" task are scheduled (a supernet or an estimate is
  neither promoted nor stopped per epoch). Trials a
  promotion may continue carry `nas/promotable`, so their trainer keeps
  their final state. The strategy is told a promoted trial's result like
  any other, with `Observation.continues` set. In a search with a time
  budget the scheduler's `endgame` is asked first (with the seconds left
  and each configuration's measured seconds per epoch): its promotion
  continues the leader past its rung with `nas/anneal` set, and every
  scheduled trial then keeps its final state so that the leader can be
  continued whatever its rung.
* `update_trial` with the reserved key `nas/epoch` -> an intermediate
  (per-epoch) report fed to the early-stopping rule; the returned trial has
  status "STOPPED" when the rule stops it. Without that key it is KerasTuner's
  final report.
* `end_trial` -> `strategy.tell(Observation)` once a trial is final
  (completed, stopped early, or failed; not while it waits for a retry), then
  `results.json` is rewritten. The observation carries the trial's metrics,
  its architecture (`nas/arch`) and its JSON outputs.
* Outputs: a trial's trainer may return JSON beside its metrics
  (`autokeras_nas.tuner.Trainer`). KerasTuner's gRPC protocol carries only
  the `Trial` proto (numbers), so the tuner that ran the trial writes them,
  atomically, to `outputs.json` in the trial's directory before it ends the
  trial, and the oracle reads that file when the trial ends: the search
  directory is shared by a distributed chief and its workers anyway (parent
  weights and checkpoints live there), and a file written before the
  `end_trial` request is complete when the request arrives. The oracle
  keeps them in its state and results.json records them per trial
  (`"outputs"`).
* `create_trial` answers STOPPED, as when `max_trials` is reached, once the
  search's time budget (`budget`, set by `NasTuner`) has passed, to the
  local tuner or to every worker of a distributed chief.
* `get_state` / `set_state` carry the strategy's and the stopping rule's
  `state_dict`, so `overwrite=False` resumes into exactly the saved state.
* `get_best_trials(n)` ranks multi-objective searches by Pareto front
  (non-dominated first, then by crowding distance), not by a weighted sum.
  It, and so `get_best_models` and the best trials of results.json,
  skips the trials of a task that makes no model (`ESTIMATE_TASKS`:
  "supernet", "estimate", "enas"): a supernet or an estimate is no answer
  of a search.

Crash safety: every JSON file (oracle.json, trial.json) is replaced
atomically, and a reload drops a trial whose creation was never committed
to oracle.json, so a search killed at any moment resumes with the same
trial ids and proposals. On a distributed chief
(`autokeras_nas.tuner.parallel.serve`), a worker not heard from for
`worker_timeout` seconds is forgotten and its trial re-queued (workers send
heartbeats while they train), live workers wait (IDLE) instead of leaving
while trials are still running elsewhere, and reaching
`max_consecutive_failed_trials` stops the workers instead of killing the
request that hit it.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import time
import zlib
from typing import Any, Callable, Mapping

import keras_tuner
import numpy as np
from keras_tuner.engine import trial as trial_module

from autokeras_nas.core import (
    ANNEAL,
    ARCH,
    CONTINUES,
    EDITS_SEEN,
    EPOCHS,
    INITIAL_EPOCH,
    PARENT,
    PROMOTABLE,
    TASK,
    TASK_TRAIN,
    Promotion,
    PromotionScheduler,
    HyperSpace,
    Objective,
    Observation,
    TrialStatus,
    is_infeasible,
    is_reserved,
    make_stopping_rule,
    makes_model,
    pareto_order,
    to_python,
)
from autokeras_nas import results as results_module
from autokeras_nas import steering as steering_module
from autokeras_nas.results import write_json_atomic
from autokeras_nas.launch import WORKER_TIMEOUT_ENV, is_chief
from autokeras_nas.tuner.parallel import HEARTBEAT_KEY, ChiefMixin

#: Key of an intermediate report: the number of epochs completed so far.
EPOCH_KEY = "nas/epoch"
#: Seconds without a word from a worker before its trial is re-queued.
DEFAULT_WORKER_TIMEOUT_S = 60.0
#: Final metric set to 1.0 when the stopping rule ended the trial early.
STOPPED_EARLY = "stopped_early"
#: Trials, all infeasible (rejected by hard constraints), after which a
#: search stops: its space may hold no feasible model.
INFEASIBLE_PATIENCE = 20
#: A trial's JSON outputs, in its directory (written by the tuner that ran it).
OUTPUTS_FILENAME = "outputs.json"

_KT = trial_module.TrialStatus


def _objectives_of(kt_objective: Any) -> tuple[Objective, ...]:
    objs = getattr(kt_objective, "objectives", None) or [kt_objective]
    out = []
    for o in objs:
        if o.direction not in ("min", "max"):
            raise ValueError(f"objective {o.name!r} needs a direction ('min' or 'max')")
        out.append(Objective(o.name, o.direction))
    return tuple(out)


def to_keras_tuner_objective(objective: Any) -> Any:
    """Accepts what KerasTuner accepts, plus `core.Objective` and "name:min|max"."""
    if objective is None:
        return keras_tuner.Objective("val_loss", "min")
    if isinstance(objective, (list, tuple)):
        return [to_keras_tuner_objective(o) for o in objective]
    if isinstance(objective, Objective):
        return keras_tuner.Objective(objective.name, objective.direction)
    if isinstance(objective, str) and objective.rsplit(":", 1)[-1] in ("min", "max"):
        name, direction = objective.rsplit(":", 1)
        return keras_tuner.Objective(name, direction)
    return objective


class StrategyOracle(ChiefMixin, keras_tuner.Oracle):
    """A KerasTuner `Oracle` driven by a strategy plugin.

    Args:
        strategy: An object implementing the Strategy protocol.
        objective: As for KerasTuner (a metric name, a `keras_tuner.Objective`,
            or a list of them for a multi-objective search); also
            `autokeras_nas.core.Objective` and "name:min|max". Defaults to
            "val_loss" (min).
        max_trials: Maximum number of trials.
        early_stopping: `None`, "asha" (promotions, see
            `autokeras_nas.core.ASHA`), "hyperband" (synchronous
            brackets), "asha-stop", "median", a
            `StoppingRule` (acts on the first objective after every epoch)
            or a `PromotionScheduler`.
        hyperparameters, allow_new_entries, tune_new_entries,
        max_retries_per_trial, max_consecutive_failed_trials: As for
            `keras_tuner.Oracle`.
        worker_timeout: On a distributed chief, seconds without a request
            or heartbeat from a worker before its running trial is re-queued
            for another worker. Defaults to the environment variable
            `AUTOKERAS_NAS_WORKER_TIMEOUT`, else 60.

    Attributes:
        budget: The search's time budget (an object with a boolean
            `exhausted`, e.g. `autokeras_nas.tuner.budget.SearchBudget`), or
            None. `NasTuner` sets it; once exhausted, no new trial starts.
    """

    def __init__(
        self,
        strategy: Any,
        objective: Any = None,
        max_trials: int | None = None,
        *,
        early_stopping: Any = None,
        hyperparameters: Any = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        worker_timeout: float | None = None,
    ) -> None:
        if max_trials is not None and (not isinstance(max_trials, int) or max_trials < 1):
            raise ValueError(f"max_trials must be a positive int or None, got {max_trials!r}")
        if not isinstance(max_consecutive_failed_trials, int) or max_consecutive_failed_trials < 1:
            raise ValueError("max_consecutive_failed_trials must be a positive int, "
                             f"got {max_consecutive_failed_trials!r}")
        if worker_timeout is None:
            worker_timeout = float(os.environ.get(WORKER_TIMEOUT_ENV, DEFAULT_WORKER_TIMEOUT_S))
        if not worker_timeout > 0:
            raise ValueError(f"worker_timeout must be positive seconds, got {worker_timeout!r}")
        super().__init__(
            objective=to_keras_tuner_objective(objective),
            max_trials=max_trials,
            hyperparameters=hyperparameters,
            allow_new_entries=allow_new_entries,
            tune_new_entries=tune_new_entries,
            # KerasTuner's own sampler is never used; a fixed seed keeps it
            # from touching the global `random` module.
            seed=1,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        self.strategy = strategy
        self.objectives = _objectives_of(self.objective)
        rule = make_stopping_rule(early_stopping)
        #: The multi-fidelity scheduler ("asha"), or None.
        self.scheduler: PromotionScheduler | None = (
            rule if isinstance(rule, PromotionScheduler) else None)
        #: The per-epoch stopping rule ("asha-stop", "median"), or None.
        self.stopping = None if self.scheduler is not None else rule
        #: trial id -> wall-clock time it was created (running trials).
        self._started_at: dict[str, float] = {}
        #: trial id -> wall-clock seconds from creation to end.
        self._seconds: dict[str, float] = {}
        self._space: HyperSpace | None = None
        self._space_signature: Any = None
        #: KerasTuner's space before the analyst's edits (`_space` is narrowed).
        self._full_space: HyperSpace | None = None
        #: The edits read from the steering file, and their effect.
        self._edits: list[dict[str, Any]] = []
        self._steering: steering_module.Steering | None = None
        self._steering_signature: Any = None
        self._steering_error: str | None = None
        self._notes: dict[str, dict[str, Any]] = {}
        self._curves: dict[str, list[dict[str, float]]] = {}
        self._outputs: dict[str, dict[str, Any]] = {}
        self._told: set[str] = set()
        self.budget: Any = None
        #: Whether a trial of a task ends with a model (the search's answers
        #: are among those): the package's own rule, until the tuner gives its
        #: `task_makes_model`, which asks the trainers too.
        self.makes_model: Callable[[str | None], bool] = makes_model
        #: Wall-clock seconds earlier runs of this search spent in `search()`.
        self.seconds_before = 0.0
        self.worker_timeout = float(worker_timeout)
        self._chief = is_chief()
        #: Distributed chief only: tuner id -> monotonic time last heard from.
        self._seen_at: dict[str, float] = {}
        #: Why the search stopped early on a distributed chief, or None.
        self.failure: str | None = None

    # -- space -------------------------------------------------------------
    def _sync_space(self) -> HyperSpace:
        """(Re)binds the strategy when KerasTuner's space has grown or the
        analyst's edits (the steering file) changed: the strategy gets the
        space narrowed by the edits in force."""
        config = self.hyperparameters.get_config()
        signature = ([(p["class_name"], p["config"]["name"]) for p in config["space"]],
                     self._read_steering())
        if self._space is None or signature != self._space_signature:
            self._full_space = HyperSpace.from_keras_tuner_config(config)
            self._steering = steering_module.narrow(self._full_space, self._edits)
            self._space = self._steering.space
            self._space_signature = signature
            self.strategy.setup(self._space, self.objectives, self.max_trials)
            seconds = getattr(self.budget, "seconds", None)
            if seconds and hasattr(self.strategy, "set_time_budget"):
                self.strategy.set_time_budget(seconds)
        return self._space

    def _read_steering(self) -> Any:
        """Rereads the steering file when it changed; returns its signature.
        A file that cannot be read keeps the last edits read, and results.json
        says why (`steering_error`) until it reads again; it never stops the
        search."""
        directory = getattr(self, "_project_dir", None)
        if not directory:
            return None
        signature = steering_module.signature(directory)
        if signature != self._steering_signature:
            try:
                self._edits = steering_module.read_edits(directory)
                self._steering_error = None
            except steering_module.SteeringError as e:
                self._steering_error = str(e)
            self._steering_signature = signature
        return tuple(int(e.get("id") or 0) for e in self._edits)

    def _steer(self, trial_id: str, values: dict[str, Any]) -> dict[str, Any]:
        """A proposal moved into the narrowed space: a value the edits
        exclude (a strategy's parent from before an edit, a rule that does not
        draw from the space) is redrawn, seeded by the trial id, and the
        trial's notes say what moved."""
        steering = self._steering
        if steering is None or not steering.last_id:
            return values
        moved = steering.violations(values)
        if moved:
            rng = np.random.default_rng(zlib.crc32(f"steer:{trial_id}".encode()))
            values = self._space.project(values, rng)
            self._notes.setdefault(trial_id, {})["steered"] = moved
        values[EDITS_SEEN] = steering.last_id
        return values

    def begin_run(self) -> None:
        """A run of `search()` begins: a scheduler whose earlier run ended
        with its endgame goes on (`autokeras_nas.core.ASHA.reopen`)."""
        reopen = getattr(self.scheduler, "reopen", None)
        if reopen is not None:
            reopen()

    def set_search_epochs(self, epochs: int) -> None:
        """The `epochs` of the search (`fit`'s): the top rung of a scheduler
        that was not given its own."""
        if self.scheduler is not None:
            self.scheduler.set_max_epochs(int(epochs))

    # -- trials ------------------------------------------------------------
    def populate_space(self, trial_id: str) -> dict[str, Any]:
        space = self._sync_space()
        if self.scheduler is not None:
            promotion = self._endgame() or self._next_promotion(trial_id)
            if promotion is not None:
                return {"status": _KT.RUNNING, "values": self._promote(trial_id, promotion)}
            if not self.scheduler.accepts_new():
                # A synchronous rung is still running, or the schedule is done.
                status = _KT.IDLE if self.ongoing_trials else _KT.STOPPED
                return {"status": status, "values": None}
        suggestion = self.strategy.ask(trial_id)
        if suggestion.kind == "done":
            return {"status": _KT.STOPPED, "values": None}
        if suggestion.kind == "wait":
            if not self.ongoing_trials:
                raise RuntimeError(
                    f"strategy {self.strategy.name!r} waits for results, but no trial is running"
                )
            return {"status": _KT.IDLE, "values": None}
        if suggestion.notes:
            self._notes[trial_id] = dict(suggestion.notes)
        proposed = self._steer(trial_id, suggestion.hp_values())
        values = space.complete(proposed)
        values.update(proposed)
        if self.scheduler is not None and suggestion.epochs is None \
                and (suggestion.task or TASK_TRAIN) == TASK_TRAIN:
            values[EPOCHS] = self.scheduler.start_new(trial_id)
            if self._continuable(trial_id):
                values[PROMOTABLE] = True
        values = {k: to_python(v) for k, v in values.items()}
        return {"status": _KT.RUNNING, "values": values}

    def _next_promotion(self, trial_id: str) -> Promotion | None:
        """The scheduler's next promotion, passing over configurations the
        analyst's edits exclude: each is recorded as started and ended
        without a result (under an id that is never a trial), so the
        scheduler does not offer it again and ranks the others as usual."""
        promotion = self.scheduler.promotion()
        while promotion is not None and self._steering is not None and self._steering.last_id \
                and self._steering.violations(_user_values(self.trials[promotion.source])):
            passed = f"{trial_id}:excluded:{promotion.source}"
            self.scheduler.start_promotion(passed, promotion)
            self.scheduler.finish(passed, None)
            promotion = self.scheduler.promotion()
        return promotion

    def _continuable(self, trial_id: str) -> bool:
        """Whether a trial may be continued: promoted by the scheduler, or,
        whatever its rung, by the end of a time budget (`_endgame`, in this
        run or a later one)."""
        return self.scheduler.is_promotable(trial_id) or (
            hasattr(self.scheduler, "endgame") and getattr(self.scheduler, "extend_best", True)
            and bool(getattr(self.budget, "seconds", None)))

    def _endgame(self) -> Promotion | None:
        """The scheduler's last promotion at the end of a time budget
        (`autokeras_nas.core.ASHA.endgame`), or None: asked before every
        trial of a search with a time budget, with the seconds left and the
        measured seconds per epoch of each configuration."""
        endgame = getattr(self.scheduler, "endgame", None)
        seconds = getattr(self.budget, "seconds", None)
        if endgame is None or not seconds:
            return None
        remaining = seconds - self.budget.spent - self.budget.elapsed
        promotion = endgame(remaining, self._seconds_per_epoch(), seconds)
        if promotion is not None and self._steering is not None and self._steering.last_id \
                and self._steering.violations(_user_values(self.trials[promotion.source])):
            return None  # the analyst's edits exclude the leader
        return promotion

    def _seconds_per_epoch(self) -> dict[str, float]:
        """Configuration (the trial the strategy asked for) -> wall seconds
        per epoch trained, over its trials that ended with epochs (a trial's
        build, saving and other overhead included)."""
        seconds: dict[str, float] = {}
        epochs: dict[str, float] = {}
        for trial_id, spent in self._seconds.items():
            trial = self.trials.get(trial_id)
            if trial is None or trial.status != _KT.COMPLETED:
                continue
            trained = _final_metrics(trial).get("epochs")
            if not trained or not math.isfinite(trained):
                continue
            configuration = str(trial.hyperparameters.values.get(CONTINUES, trial_id))
            seconds[configuration] = seconds.get(configuration, 0.0) + spent
            epochs[configuration] = epochs.get(configuration, 0.0) + trained
        return {c: seconds[c] / epochs[c] for c in seconds}

    def _promote(self, trial_id: str, promotion: Promotion) -> dict[str, Any]:
        """The values of the trial that runs `promotion`."""
        values = dict(self.trials[promotion.source].hyperparameters.values)
        values.pop(PROMOTABLE, None)
        values.update({PARENT: promotion.source, INITIAL_EPOCH: promotion.initial_epoch,
                       EPOCHS: promotion.epochs, CONTINUES: promotion.configuration})
        self.scheduler.start_promotion(trial_id, promotion)
        if self._continuable(trial_id):
            values[PROMOTABLE] = True
        if promotion.anneal:
            values[ANNEAL] = True
        self._notes[trial_id] = {"origin": "extension" if promotion.anneal else "promotion",
                                 "continued_from": promotion.source,
                                 "rung_epochs": promotion.epochs}
        return values

    @keras_tuner.synchronized
    def create_trial(self, tuner_id: str) -> Any:
        if self.budget is not None and self.budget.exhausted \
                and tuner_id not in self.ongoing_trials:
            self.tuner_ids.discard(tuner_id)  # as KerasTuner does when it stops a tuner
            return trial_module.Trial(self.get_space(), status=_KT.STOPPED)
        if self._chief:
            self._seen_at[tuner_id] = time.monotonic()
            self.requeue_lost_trials()
            if self.failure is not None:
                self.tuner_ids.discard(tuner_id)
                return trial_module.Trial(self.get_space(), status=_KT.STOPPED)
        trial = super().create_trial(tuner_id)
        if trial.status == _KT.STOPPED and self._chief and self.ongoing_trials:
            # Trials still run elsewhere; one may be re-queued if its worker
            # vanished, so this worker waits (it backs off) instead of leaving.
            self.tuner_ids.add(tuner_id)
            trial.status = _KT.IDLE
        if trial.status == _KT.RUNNING:
            self._started_at[trial.trial_id] = time.time()
            # A retried trial starts afresh (one resumed inside replays its epochs).
            self._curves.pop(trial.trial_id, None)
            self._outputs.pop(trial.trial_id, None)
            self._write_results()
        elif trial.status == _KT.STOPPED:
            # The search ends: results.json says how every trial ended, even
            # when a resumed search had nothing left to run (a crash after
            # the oracle saved the last trial but before results.json did).
            self._write_results()
        return trial

    @keras_tuner.synchronized
    def update_trial(self, trial_id: str, metrics: Mapping[str, Any], step: int = 0) -> Any:
        self._heard_about(trial_id)
        if HEARTBEAT_KEY in metrics:
            return copy.copy(self.trials[trial_id])
        if EPOCH_KEY not in metrics:
            if self._objective_optional(trial_id, metrics):
                return self._record_metrics(trial_id, metrics, step)
            return super().update_trial(trial_id, dict(metrics), step)
        epoch = int(metrics[EPOCH_KEY])
        logs = {k: float(v) for k, v in metrics.items() if k != EPOCH_KEY}
        curve = [c for c in self._curves.get(trial_id, []) if c["epoch"] < epoch]
        self._curves[trial_id] = curve + [{"epoch": epoch, **logs}]
        reply = copy.copy(self.trials[trial_id])
        primary = self.objectives[0]
        trained = self.trials[trial_id].hyperparameters.values.get(TASK, TASK_TRAIN) == TASK_TRAIN
        if self.stopping is not None and trained and primary.name in logs:
            if not self.stopping.report(trial_id, epoch, primary.signed(logs[primary.name])):
                reply.status = _KT.STOPPED
        return reply

    def _objective_optional(self, trial_id: str, metrics: Mapping[str, Any]) -> bool:
        """Whether `metrics` lack an objective and may: the trial's task
        makes no model (`ESTIMATE_TASKS`, e.g. a proxy's score)."""
        task = self.trials[trial_id].hyperparameters.values.get(TASK, TASK_TRAIN)
        return not self.makes_model(task) and any(o.name not in metrics for o in self.objectives)

    def _record_metrics(self, trial_id: str, metrics: Mapping[str, Any], step: int) -> Any:
        """KerasTuner's `update_trial` without its check that the objective
        is there (see `_objective_optional`)."""
        trial = self.trials[trial_id]
        for name, value in metrics.items():
            if not trial.metrics.exists(name):
                trial.metrics.register(name)
            trial.metrics.update(name, value, step=step)
        self._save_trial(trial)
        return trial

    def _check_consecutive_failures(self) -> None:
        """As KerasTuner's, but an infeasible trial (a hard constraint
        rejected it, untrained) neither counts as a failure nor ends a run
        of them; and a search whose first `INFEASIBLE_PATIENCE` trials were
        all infeasible stops, since its space may hold no feasible model.

        Raises:
            RuntimeError: too many failures in a row, or nothing feasible.
        """
        ended = [self.trials[t] for t in self.end_order if t in self.trials]
        infeasible = [is_infeasible(failure_reason(t.message)) for t in ended]
        if len(ended) >= INFEASIBLE_PATIENCE and all(infeasible):
            raise RuntimeError(
                f"no feasible model in the first {len(ended)} trials (the last: "
                f"{failure_reason(ended[-1].message)}); the space may hold none: relax the "
                "constraints or give a space of smaller models")
        failures = 0
        for trial, skip in zip(ended, infeasible):
            if skip:
                continue
            failures = failures + 1 if trial.status == _KT.FAILED else 0
            if failures == self.max_consecutive_failed_trials:
                raise RuntimeError(
                    f"Number of consecutive failures exceeded the limit of "
                    f"{self.max_consecutive_failed_trials}.\n" + (trial.message or ""))

    @keras_tuner.synchronized
    def end_trial(self, trial: Any) -> None:
        self._heard_about(trial.trial_id)
        if self._chief and not self._accept_end(trial.trial_id):
            return
        started = self._started_at.pop(trial.trial_id, None)
        if started is not None:
            self._seconds[trial.trial_id] = max(0.0, time.time() - started)
        try:
            super().end_trial(trial)
        except BaseException as e:
            # Raised when max_consecutive_failed_trials is reached, before
            # KerasTuner saves the trial: record it all the same.
            self._save_trial(self.trials[trial.trial_id])
            if not (self._chief and isinstance(e, RuntimeError)):
                raise
            # On a chief, the search stops: workers get STOPPED, `serve` raises.
            self.failure = str(e)
            self._forget_ongoing(trial.trial_id)
        finally:
            self._tell_final_trials()
            self.save()
            self._write_results()

    def _tell_final_trials(self) -> None:
        """Tells the strategy every final trial it has not been told yet.

        Also run after a reload: a crash between KerasTuner saving a trial and
        this oracle saving the strategy must not lose the observation.
        """
        for trial_id in self.end_order:
            trial = self.trials.get(trial_id)
            if trial_id in self._told or trial is None:
                continue
            if trial.status not in (_KT.COMPLETED, _KT.FAILED):
                continue
            self._sync_space()
            observation = self._observation(trial)
            if self.scheduler is not None:
                vector = observation.objective_vector(self.objectives[:1])
                self.scheduler.finish(trial_id, None if vector is None else vector[0])
            self.strategy.tell(observation)
            self._told.add(trial_id)

    def _observation(self, trial: Any) -> Observation:
        metrics = _final_metrics(trial)
        if trial.status == _KT.FAILED:
            status = TrialStatus.FAILED
        elif metrics.get(STOPPED_EARLY, 0.0) > 0:
            status = TrialStatus.STOPPED
        else:
            status = TrialStatus.COMPLETED
        epochs = metrics.get("epochs")
        values = trial.hyperparameters.values
        arch = values.get(ARCH)
        continues = values.get(CONTINUES)
        if continues is not None and epochs is not None:
            epochs += int(values.get(INITIAL_EPOCH, 0))  # a continuation's total
        return Observation(
            trial_id=trial.trial_id,
            values=_user_values(trial),
            status=status,
            metrics=metrics,
            epochs=None if epochs is None else int(epochs),
            message=failure_reason(trial.message),
            outputs=dict(self._outputs_of(trial)),
            arch=arch if isinstance(arch, str) else None,
            continues=None if continues is None else str(continues),
            seconds=self._seconds.get(trial.trial_id),
        )

    def _outputs_of(self, trial: Any) -> dict[str, Any]:
        """The outputs of a final trial (read once from its `outputs.json`,
        then kept in the oracle's state); {} while it runs."""
        if trial.trial_id in self._outputs:
            return self._outputs[trial.trial_id]
        if trial.status not in (_KT.COMPLETED, _KT.FAILED):
            return {}
        outputs = read_outputs(self._get_trial_dir(trial.trial_id))
        self._outputs[trial.trial_id] = outputs
        return outputs

    def score_trial(self, trial: Any) -> None:
        metrics = _final_metrics(trial)
        if self._objective_optional(trial.trial_id, metrics):
            # No objective (a proxy's score): KerasTuner's worst score, so it
            # completes (a NaN would make it invalid) and never ranks first.
            trial.score = -math.inf if self.objective.direction == "max" else math.inf
            trial.best_step = 0
            return
        if len(self.objectives) == 1:
            super().score_trial(trial)
            return
        # KerasTuner's weighted sum, kept for display only: ranking is Pareto.
        values = {o.name: metrics.get(o.name, math.nan) for o in self.objectives}
        trial.score = float(sum(-o.signed(values[o.name]) for o in self.objectives))
        trial.best_step = trial.metrics.get_best_step(self.objectives[0].name) or 0

    def get_best_trials(self, num_trials: int = 1) -> list[Any]:
        """The completed trials with finite objectives, Pareto-ranked (front by
        front, by crowding within a front), then, only to make up
        `num_trials`, the others (completed ones first); of the trials whose
        task makes a model only (`makes_model`)."""
        ranked, rest = self._pareto_ranked()
        if len(ranked) < num_trials:
            ranked += sorted(rest, key=lambda t: t.status != _KT.COMPLETED)
        return ranked[:num_trials]

    def _pareto_ranked(self) -> tuple[list[Any], list[Any]]:
        """(the rankable trials in Pareto order, the rest) among the trials
        whose task makes a model: a trial is rankable when it completed with
        every objective finite."""
        completed, vectors, rest = [], [], []
        for t in self.trials.values():
            if not self.makes_model(t.hyperparameters.values.get(TASK)):
                continue
            vec = None
            if t.status == _KT.COMPLETED:
                vec = _vector(_final_metrics(t), self.objectives)
            if vec is None:
                rest.append(t)
            else:
                completed.append(t)
                vectors.append(vec)
        order = pareto_order(vectors) if vectors else []
        return [completed[i] for i in order], rest

    # -- state -------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        state["nas"] = {
            "strategy": self.strategy.state_dict(),
            "stopping": None if self.stopping is None else self.stopping.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "started_at": self._started_at,
            "seconds": self._seconds,
            "notes": self._notes,
            "curves": self._curves,
            "outputs": self._outputs,
            "told": sorted(self._told),
            "search_seconds": self.search_seconds(),
        }
        return state

    def set_state(self, state: Mapping[str, Any]) -> None:
        # A trial file written just before a crash, for a trial whose creation
        # oracle.json never recorded: forget it, its id is asked again.
        started = set(state.get("start_order", ()))
        for trial_id in [t for t in self.trials if t not in started]:
            del self.trials[trial_id]
        super().set_state(state)
        # KerasTuner saves oracle.json in end_trial before it drops the trial
        # from the ongoing ones: a crash then must not run a final trial again.
        ended = set(self.end_order)
        self.ongoing_trials = {k: t for k, t in self.ongoing_trials.items()
                               if t.trial_id not in ended}
        nas = state.get("nas")
        if not nas:
            raise ValueError("the search directory was not written by autokeras_nas")
        self._space = None
        self._sync_space()
        self.strategy.load_state_dict(nas["strategy"])
        if self.stopping is not None and nas.get("stopping"):
            self.stopping.load_state_dict(nas["stopping"])
        if self.scheduler is not None and nas.get("scheduler"):
            self.scheduler.load_state_dict(nas["scheduler"])
        self._started_at = {k: float(v) for k, v in nas.get("started_at", {}).items()}
        self._seconds = {k: float(v) for k, v in nas.get("seconds", {}).items()}
        self._notes = {k: dict(v) for k, v in nas["notes"].items()}
        self._curves = {k: list(v) for k, v in nas["curves"].items()}
        self._outputs = {k: dict(v) for k, v in nas.get("outputs", {}).items()}
        self._told = set(nas["told"])
        self.seconds_before = float(nas.get("search_seconds") or 0.0)
        self._tell_final_trials()

    def save(self) -> None:
        """Writes oracle.json atomically (KerasTuner truncates, then writes)."""
        save_json(self._get_oracle_fname(), self.get_state())

    def _save_trial(self, trial: Any) -> None:
        path = os.path.join(self._get_trial_dir(trial.trial_id), "trial.json")
        save_json(path, trial.get_state())

    def search_seconds(self) -> float:
        """Wall-clock seconds of `search()` so far, all runs together."""
        return self.seconds_before + (self.budget.elapsed if self.budget is not None else 0.0)

    # -- results export ----------------------------------------------------
    def results(self) -> dict[str, Any]:
        """The results export as a dict (the content of `results.json`)."""
        # Only rankable trials: one that completed with a NaN or infinite
        # objective is no "best" (it used to be listed after the ranked ones).
        best = [t.trial_id for t in self._pareto_ranked()[0]]
        trials = [self._trial_record(self.trials[tid]) for tid in self.start_order if tid in self.trials]
        return results_module.make_results(
            strategy=self.strategy.name,
            objectives=self.objectives,
            max_trials=self.max_trials,
            trials=trials,
            best_trial_ids=best,
            search_seconds=self.search_seconds(),
            space=None if self._full_space is None else self._full_space.to_config()["space"],
            edits=self._edit_records(trials) if self._edits else None,
            steering_error=self._steering_error,
        )

    def _edit_records(self, trials: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The edits with what became of them: the first trial proposed with
        each in force, and why an edit was not applied."""
        ignored = {id(e): why for e, why in (self._steering.ignored if self._steering else ())}
        records = []
        for edit in self._edits:
            first = next((t["trial_id"] for t in trials
                          if (t.get("edits_seen") or 0) >= int(edit.get("id") or 0)), None)
            record = {**edit, "first_trial_id": first, "applied": id(edit) not in ignored}
            if id(edit) in ignored:
                record["ignored"] = ignored[id(edit)]
            records.append(record)
        return records

    def _trial_record(self, trial: Any) -> dict[str, Any]:
        metrics = _final_metrics(trial)
        stopped = metrics.get(STOPPED_EARLY, 0.0) > 0
        status = result_status(trial.status, metrics, trial.message)
        values = trial.hyperparameters.values
        epochs = metrics.get("epochs")
        return {
            "trial_id": trial.trial_id,
            "strategy": self.strategy.name,
            "status": status,
            "values": _user_values(trial),
            "metrics": metrics,
            "score": trial.score,
            "task": values.get(TASK, TASK_TRAIN),
            "parent_id": values.get(PARENT),
            "continues": values.get(CONTINUES),
            "edits_seen": values.get(EDITS_SEEN),
            "seconds": self._seconds.get(trial.trial_id),
            "arch": _arch(values.get(ARCH)),
            "epochs": None if epochs is None else int(epochs),
            "stopped_early": stopped,
            "notes": dict(self._notes.get(trial.trial_id, {})),
            "outputs": self._outputs_of(trial),
            "message": failure_reason(trial.message),
            "curve": self._curves.get(trial.trial_id, []),
        }

    def _write_results(self) -> None:
        results_module.write_results(self._project_dir, self.results())


def save_json(path: str, obj: Any) -> None:
    """Writes a search-directory file: atomically (`write_json_atomic`) on a
    local path; remote paths (`gs://...`) are written by KerasTuner."""
    if "://" in path:
        from keras_tuner.src import utils as kt_utils

        kt_utils.save_json(path, obj)
        return
    write_json_atomic(path, obj)


def write_outputs(trial_dir: str, outputs: Mapping[str, Any]) -> None:
    """Writes a trial's outputs to its directory (see `OUTPUTS_FILENAME`).

    Raises:
        ValueError: `outputs` is not a JSON object.
    """
    if not isinstance(outputs, Mapping):
        raise ValueError(f"outputs must be a mapping, got {type(outputs).__name__}")
    try:
        write_json_atomic(os.path.join(trial_dir, OUTPUTS_FILENAME), dict(outputs))
    except TypeError as e:
        raise ValueError(f"outputs must be JSON: {e}") from None


def remove_outputs(trial_dir: str) -> None:
    """Deletes the outputs of an earlier run of the trial, if any."""
    try:
        os.unlink(os.path.join(trial_dir, OUTPUTS_FILENAME))
    except FileNotFoundError:
        pass


def read_outputs(trial_dir: str) -> dict[str, Any]:
    """A trial's outputs; {} when it wrote none (or they are unreadable)."""
    try:
        with open(os.path.join(trial_dir, OUTPUTS_FILENAME)) as f:
            outputs = json.load(f)
    except (OSError, ValueError):
        return {}
    return outputs if isinstance(outputs, dict) else {}


def result_status(kt_status: str, metrics: Mapping[str, float], message: str | None = None) -> str:
    """A trial's status in results.json: completed, stopped, failed,
    infeasible (failed by a hard constraint, `message` says), running, invalid."""
    if kt_status == _KT.COMPLETED and metrics.get(STOPPED_EARLY, 0.0) > 0:
        return "stopped"
    if kt_status == _KT.FAILED and is_infeasible(failure_reason(message)):
        return "infeasible"
    return str(kt_status).lower()


def _final_metrics(trial: Any) -> dict[str, float]:
    out = {}
    for name in trial.metrics.metrics:
        value = trial.metrics.get_last_value(name)
        if value is not None:
            out[name] = float(value)
    return out


def _vector(metrics: Mapping[str, float], objectives: tuple[Objective, ...]) -> tuple | None:
    vec = []
    for o in objectives:
        v = metrics.get(o.name)
        if v is None or not math.isfinite(v):
            return None
        vec.append(o.signed(v))
    return tuple(vec)


def _arch(text: Any) -> Any:
    """The trial's structured architecture (parsed), or None."""
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _user_values(trial: Any) -> dict[str, Any]:
    return {k: v for k, v in trial.hyperparameters.values.items() if not is_reserved(k)}


def failure_reason(message: str | None) -> str:
    """The error a trial ended with, from its message. KerasTuner records the
    traceback: the reason is the line that starts the last exception (its
    message may run over many lines; the traceback's frames are indented).
    Keras wraps an error raised inside a layer's `call` as "Exception
    encountered when calling LAYER." followed by the error itself (after
    "Could not automatically infer the output shape ... Error encountered:"
    when the layer failed on symbolic inputs): the reason is then the error,
    with the layer in parentheses. The reason alone for a
    `FailedTrialError` (NaN loss, timeout, out of memory) or an
    `InfeasibleTrialError`. A message with no traceback: its last non-empty
    line."""
    lines = [_ANSI.sub("", ln).rstrip() for ln in (message or "").splitlines()]
    starts = [i for i, ln in enumerate(lines) if ln.startswith("Traceback (most recent call")]
    if starts:
        # the frames are indented; the exception starts at the first line that is not
        after = lines[starts[-1] + 1:]
        first = next((i for i, ln in enumerate(after) if ln and not ln[0].isspace()), len(after))
        body = [ln.strip() for ln in after[first:] if ln.strip()]
    else:
        body = [ln.strip() for ln in lines if ln.strip()][-1:]
    if len(body) > 1 and body[0].endswith(":"):  # a message that starts with a newline
        body = [f"{body[0]} {body[1]}", *body[2:]]
    reason = body[0] if body else ""
    head, sep, rest = reason.partition(": ")
    wrapped = _KERAS_WRAPPED.fullmatch(rest) if sep else None
    if wrapped and len(body) > 1:
        # a call that failed on symbolic inputs says so first, then the error
        inner = 2 if body[1].endswith("Error encountered:") and len(body) > 2 else 1
        rest = f"{body[inner]} (in {wrapped.group(1)})"
        reason = f"{head}: {rest}"
    if sep and head.rsplit(".", 1)[-1] in ("FailedTrialError", "InfeasibleTrialError"):
        return rest
    return reason


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# Keras' wrapper of an error raised in a layer's call (keras.src.utils.traceback_utils)
_KERAS_WRAPPED = re.compile(r"Exception encountered when calling (.+)\.")
