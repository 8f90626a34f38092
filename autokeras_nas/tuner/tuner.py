"""`NasTuner`: a `keras_tuner.Tuner` that runs what a strategy suggests.

A trial is a task (`nas/task`, "train" when absent, with options in
`nas/task_config`): `run_trial` hands it to the trainer registered for the
task (entry-point group `autokeras_nas.trainers`; see
`autokeras_nas.tuner.trainers`). The standard trainer ("train") builds the
model and fits it, recording besides the user's metrics `train_time_s`,
`params`, `latency_ms`, `epochs` and `stopped_early`, reporting every epoch
to the oracle (early stopping), starting from a parent's weights, failing a
trial on a NaN loss or past `trial_timeout`, retrying one that runs out of
memory with half the batch size, and resuming a trial killed after some
epochs at its last finished epoch when the search is resumed; "evaluate"
scores an architecture with its parent's weights and no training. A
trainer returns metrics and JSON outputs; the tuner writes the outputs to
the trial's directory, where the oracle reads them when the trial ends
(`autokeras_nas.tuner.oracle`), so they reach the strategy and results.json
from a distributed worker too.

The tuner frees memory between trials (its models and their traced graphs,
`autokeras_nas.tuner.graphs`), backs off while the oracle has no trial to
give (`autokeras_nas.tuner.parallel.IdleBackoff`), gives the oracle the
search's time budget (`autokeras_nas.tuner.budget`), sends heartbeats as a
distributed worker and serves the oracle as the chief. Every file it writes
is JSON or Keras weights, replaced atomically.
"""

from __future__ import annotations

import gc
import os
import warnings
from typing import Any, Callable, Mapping, Sequence

import keras_tuner

from autokeras_nas import plugins
from autokeras_nas.core import make_constraints, makes_model
from autokeras_nas.results import SearchDirectoryError, check_search_directory
from autokeras_nas.tuner import failures, parallel
from autokeras_nas.tuner.budget import BUDGET_SCOPES, SearchBudget
from autokeras_nas.tuner.graphs import GraphRegistrations, collector_skips_older_objects
from autokeras_nas.tuner.oracle import (
    EPOCH_KEY,
    failure_reason,
    StrategyOracle,
    remove_outputs,
    result_status,
    save_json,
    write_outputs,
)
from autokeras_nas.tuner.trainers import Trainer, TrialContext
from autokeras_nas.tuner.trainers.base import check_trainers, trial_task
from autokeras_nas.tuner.trainers.measure import DEPLOYED_METRICS, check_measurements
from autokeras_nas.tuner.trainers.weights import save_weights_atomic

Progress = Callable[[dict[str, Any]], None]


class NasTuner(keras_tuner.Tuner):
    """KerasTuner tuner driven by an autokeras_nas strategy.

    Args:
        hypermodel: A `build_model(hp)` function or a `keras_tuner.HyperModel`.
        strategy: A strategy instance, or the name of an installed plugin
            (e.g. "random"). Not used when `oracle` is given.
        oracle: A ready `StrategyOracle` (instead of `strategy` and the
            oracle arguments below).
        objective: A metric name, `keras_tuner.Objective`, "name:min|max", or
            a list of them (multi-objective, ranked by Pareto front). May name
            the recorded cost metrics `train_time_s`, `params`, `latency_ms`,
            and the TFLite measurements `tflite_latency_ms`,
            `tflite_int8_latency_ms`, `int8_val_accuracy` (measured then,
            see `measure`). Defaults to "val_loss".
        max_trials: Maximum number of trials.
        early_stopping: `None`, "asha" (promotions: new configurations
            train to the lowest rung, the best continue from their state;
            see `autokeras_nas.core.ASHA`), "asha-stop" (the per-epoch
            stopping variant), "median", a `StoppingRule` or a
            `PromotionScheduler`.
        hyperparameters, tune_new_entries, allow_new_entries,
        max_retries_per_trial, max_consecutive_failed_trials: As for
            `keras_tuner.RandomSearch`.
        progress: Optional callable receiving event dicts: `trial_begin`
            (`trial_id`, `values`), `epoch_end` (`trial_id`, `epoch`, `logs`),
            `trial_end` (`trial_id`, `status`, `metrics`, `message`).
        latency_repeats: Timed single-sample predictions per trial.
        measure: TFLite measurements every trial records besides those the
            objectives name: among `tflite_latency_ms` (the float32
            model's median latency of one sample in the TFLite
            interpreter), `tflite_int8_latency_ms` (the int8 model's) and
            `int8_val_accuracy` (the int8 model's validation accuracy), e.g.
            for a constraint or the leaderboard. Each costs a conversion
            (about a second for a small model); the protocol (1 thread, 10
            warm-up and 100 timed runs, median) and the spread go to the
            trial's output `tflite`. See
            `autokeras_nas.tuner.trainers.measure.DEPLOYED_METRICS`.
        trial_timeout: Seconds a trial may train (all its executions); past
            them it stops at the next batch end and fails with the reason
            "timeout after Ns". `None`: no limit.
        time_budget: Wall-clock seconds for the whole `search()` call:
            past them no new trial starts and the running trial stops at
            its next epoch end, kept with its metrics so far
            (`stopped_early` and `stopped_by_budget` set to 1). `None`: no
            limit. See `autokeras_nas.tuner.budget`.
        time_budget_scope: "run" (default): the clock starts anew on every
            `search()` call, so a resumed search gets the whole budget
            again; "search": the seconds earlier runs of this search spent
            (results.json's `search_seconds`) count against it.
        oom_retries: Times a trial that runs out of memory during `fit` is
            retried, each time with half the batch size, before it fails.
        trainers: Trainer instances by task name, used before the installed
            ones (entry-point group `autokeras_nas.trainers`). `None`: the
            installed trainers only.
        constraints: Hard constraints on the models trained, e.g.
            `["params<=200000", "latency_ms<=2"]` (see
            `autokeras_nas.core.constraints`): a candidate that violates
            one is built and measured but not trained; its trial is
            "infeasible" with the reason (it counts as a trial). A search
            whose first 20 trials are all infeasible stops, saying so.
        max_params, max_latency_ms, max_model_kb: Shortcuts for the
            constraints `params<=N`, `latency_ms<=N`, `model_kb<=N`.
        warmup: A zero-cost warm-up for the strategy, "PROXIES:POOL" or
            "PROXIES:POOL:KEEP" (e.g. "jacob_cov:200"): the first POOL
            trials are random configurations scored at initialization by the
            proxies (no training; they count among `max_trials`), and the
            strategy starts from the best KEEP (default 10). For strategies
            that start from random configurations of a hyperparameter
            space; see `autokeras_nas.core.warmup`. `None`: none.
        **kwargs: Passed to `keras_tuner.Tuner` (`directory`, `project_name`,
            `overwrite`, `distribution_strategy`, `executions_per_trial`,
            `max_model_size`, `optimizer`, `loss`, `metrics`, ...).
    """

    def __init__(
        self,
        hypermodel: Any = None,
        *,
        strategy: Any = None,
        oracle: StrategyOracle | None = None,
        objective: Any = None,
        max_trials: int | None = None,
        early_stopping: Any = None,
        hyperparameters: Any = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        progress: Progress | None = None,
        latency_repeats: int = 20,
        measure: Sequence[str] = (),
        trial_timeout: float | None = None,
        oom_retries: int = 1,
        time_budget: float | None = None,
        time_budget_scope: str = "run",
        trainers: Mapping[str, Trainer] | None = None,
        constraints: Any = None,
        max_params: float | None = None,
        max_latency_ms: float | None = None,
        max_model_kb: float | None = None,
        warmup: str | None = None,
        **kwargs: Any,
    ) -> None:
        #: The hard constraints, cheapest to measure first.
        self.constraints = make_constraints(constraints, max_params=max_params,
                                            max_latency_ms=max_latency_ms,
                                            max_model_kb=max_model_kb)
        if time_budget_scope not in BUDGET_SCOPES:
            raise ValueError(f"time_budget_scope must be one of {', '.join(BUDGET_SCOPES)}, "
                             f"got {time_budget_scope!r}")
        self.budget = SearchBudget(time_budget)
        self.time_budget_scope = time_budget_scope
        self.trial_timeout = failures.check_timeout(trial_timeout)
        self.oom_retries = failures.check_retries(oom_retries)
        self._trainers = check_trainers(trainers)
        #: task -> whether its trials make a model (`task_makes_model`).
        self._makes_model: dict[str, bool] = {}
        if oracle is None:
            if strategy is None:
                raise ValueError("NasTuner needs a strategy (an instance or a plugin name)")
            if isinstance(strategy, str):
                strategy = plugins.load(strategy)()
            if warmup is not None:
                strategy = with_warmup(strategy, warmup, hypermodel)
            oracle = StrategyOracle(
                strategy,
                objective=objective,
                max_trials=max_trials,
                early_stopping=early_stopping,
                hyperparameters=hyperparameters,
                tune_new_entries=tune_new_entries,
                allow_new_entries=allow_new_entries,
                max_retries_per_trial=max_retries_per_trial,
                max_consecutive_failed_trials=max_consecutive_failed_trials,
            )
        elif (strategy is not None or objective is not None or max_trials is not None
              or warmup is not None):
            raise ValueError("pass either oracle= or strategy=/objective=/max_trials=/warmup=, "
                             "not both")
        self.progress = progress
        self.latency_repeats = latency_repeats
        #: The TFLite measurements of every trial: `measure` and the objectives'.
        self.measure = check_measurements(
            tuple(measure or ()) + tuple(o.name for o in oracle.objectives
                                         if o.name in DEPLOYED_METRICS))
        # Kept here: on a distributed worker `self.oracle` becomes a gRPC client.
        self.objectives = oracle.objectives
        self._heartbeat: parallel.Heartbeat | None = None
        self._graphs = GraphRegistrations()
        self._idle = parallel.IdleBackoff()
        #: What the last `retrain_best` trained: trial id, epochs, seconds.
        self.retrained: dict[str, Any] | None = None
        if not kwargs.get("overwrite", False) and not parallel.is_worker():
            parallel.prepare_resume(kwargs.get("directory"), kwargs.get("project_name"),
                                    os.environ.get("KERASTUNER_TUNER_ID", "tuner0"))
        if isinstance(oracle, StrategyOracle):
            oracle.makes_model = self.task_makes_model
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)
        if not self._is_worker():
            # Trials are created here (or on this chief): the oracle stops
            # handing them out once the budget has passed.
            self.oracle.budget = self.budget

    def reload(self) -> None:
        """Reloads a search directory (`overwrite=False`), or raises
        `SearchDirectoryError` naming the file that is missing or corrupted.
        Nothing in the directory is changed either way."""
        check_search_directory(self.project_dir, self._get_tuner_fname())
        try:
            super().reload()
        except Exception as e:
            raise SearchDirectoryError(
                f"cannot resume the search in {self.project_dir}: {type(e).__name__}: {e}"
            ) from e

    def save(self) -> None:
        """As KerasTuner's, with every file replaced atomically."""
        if not self._is_worker():
            self.oracle.save()
        save_json(self._get_tuner_fname(), self.get_state())

    # -- search loop ---------------------------------------------------------
    def search(self, *fit_args: Any, **fit_kwargs: Any) -> None:
        """As KerasTuner's; a distributed chief serves the oracle with
        `autokeras_nas.tuner.parallel.serve` (re-queues the trials of lost
        workers, stops as soon as the last worker leaves)."""
        self.budget.start()
        if self.time_budget_scope == "search" and not self._is_worker():
            self.budget.spent = self.oracle.seconds_before
        if not self._is_worker():
            # The top rung of a multi-fidelity scheduler ("asha").
            self.oracle.set_search_epochs(int(fit_kwargs.get("epochs", 1)))
            self.oracle.begin_run()
        if not parallel.is_chief():
            with collector_skips_older_objects():
                super().search(*fit_args, **fit_kwargs)
            return
        self.oracle.verbose = fit_kwargs.get("verbose", self.oracle.verbose)
        self.save()
        parallel.serve(self.oracle)

    def on_search_begin(self) -> None:
        super().on_search_begin()
        self._idle = parallel.IdleBackoff()

    def pre_create_trial(self) -> None:
        """Before each request for a trial: back off after an IDLE answer."""
        self._idle.before_request()

    def _emit(self, event: dict[str, Any]) -> None:
        if self.progress is not None:
            self.progress(event)

    def on_trial_begin(self, trial: Any) -> None:
        self._idle.trial_began()
        self._graphs.start()
        super().on_trial_begin(trial)
        remove_outputs(self.get_trial_dir(trial.trial_id))
        if self._is_worker():
            self._heartbeat = parallel.Heartbeat(self.oracle, trial.trial_id)
        self._emit({"event": "trial_begin", "trial_id": trial.trial_id,
                    "values": dict(trial.hyperparameters.values)})

    def on_trial_end(self, trial: Any) -> None:
        # The trial's models are gone; free their traced graphs (see graphs.py),
        # before the oracle ends the trial, so that the trial's seconds, by
        # which strategies plan a time budget, include it.
        self._graphs.release()
        if getattr(self._trainers.get(trial_task(trial)), "collects_garbage", True):
            gc.collect()
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None
        super().on_trial_end(trial)
        if self.progress is None:
            return
        final = self.oracle.get_trial(trial.trial_id)
        metrics = {n: final.metrics.get_last_value(n) for n in final.metrics.metrics}
        self._emit({"event": "trial_end", "trial_id": trial.trial_id,
                    "status": result_status(final.status, metrics, final.message),
                    "metrics": metrics, "message": failure_reason(final.message)})

    # -- one trial -------------------------------------------------------------
    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
        """Runs the trial's task with its trainer; returns its metrics and
        writes its outputs to the trial's directory."""
        context = TrialContext(self, trial, args, kwargs)
        result = self.trainer(context.task).run(context)
        metrics = {k: float(v) for k, v in result.metrics.items()}
        if self.task_makes_model(context.task) or all(o.name in metrics
                                                      for o in self.objectives):
            metrics = self._check_objectives(metrics)
        try:
            write_outputs(self.get_trial_dir(trial.trial_id), result.outputs)
        except ValueError as e:
            raise keras_tuner.errors.FailedTrialError(
                f"trainer {context.task!r} returned bad outputs: {e}") from None
        return metrics

    def _run_and_update_trial(self, trial: Any, *fit_args: Any, **fit_kwargs: Any) -> None:
        """As KerasTuner's, but a trial of a task that makes no model
        (`task_makes_model`: a proxy's score) may report no objective: its
        metrics go to the oracle as they are."""
        if self.task_makes_model(trial_task(trial)):
            super()._run_and_update_trial(trial, *fit_args, **fit_kwargs)
            return
        metrics = self.run_trial(trial, *fit_args, **fit_kwargs)
        self.oracle.update_trial(trial.trial_id, metrics)

    def task_makes_model(self, task: str | None) -> bool:
        """Whether a trial of `task` (None: "train") ends with a model that
        can be the search's answer: not for the package's own estimate
        tasks (`autokeras_nas.core.ESTIMATE_TASKS`) nor for a task whose
        trainer (given in `trainers`, or installed) says `makes_model =
        False`; an unknown task is taken to make one."""
        if not makes_model(task):
            return False
        name = "train" if task is None else str(task)
        cache = self._makes_model
        if name not in cache:
            trainer: Any = self._trainers.get(name)
            if trainer is None:
                try:
                    trainer = plugins.load_trainer(name)
                except Exception:  # noqa: BLE001 - unknown or broken: its trials fail anyway
                    trainer = None
            cache[name] = bool(getattr(trainer, "makes_model", True))
        return cache[name]

    def trainer(self, task: str) -> Trainer:
        """The trainer of `task` (made once per tuner).

        Raises:
            keras_tuner.errors.FailedTrialError: no trainer runs `task`, or
                it cannot be loaded (the trial fails with that reason).
        """
        if task not in self._trainers:
            try:
                self._trainers[task] = plugins.load_trainer(task)()
            except plugins.UnknownTrainerError as e:
                raise keras_tuner.errors.FailedTrialError(str(e)) from None
            except Exception as e:
                raise keras_tuner.errors.FailedTrialError(
                    f"cannot load the trainer {task!r}: {failures.first_line(e)}") from e
        return self._trainers[task]

    def report_epoch(self, trial_id: str, epoch: int, logs: Mapping[str, float]) -> bool:
        """Reports a trial's logs after `epoch` completed epochs to the oracle
        (see `TrialContext.report_epoch`); False when the trial should stop."""
        reply = self.oracle.update_trial(trial_id, {EPOCH_KEY: epoch, **logs}, step=epoch - 1)
        return getattr(reply, "status", None) != "STOPPED"

    def _check_objectives(self, metrics: dict[str, float]) -> dict[str, float]:
        missing = [o.name for o in self.objectives if o.name not in metrics]
        if missing:
            raise keras_tuner.errors.FailedTrialError(
                f"objective {missing} not among the metrics {sorted(metrics)}; "
                "pass validation data, or choose another objective"
            )
        if len(self.objectives) > 1:
            # KerasTuner validates its weighted-sum key; ranking stays Pareto.
            metrics[self.oracle.objective.name] = float(
                sum(-o.signed(metrics[o.name]) for o in self.objectives)
            )
        return metrics

    def _save_build_config(self, trial_id: str, model: Any) -> None:
        save_json(self._get_build_config_fname(trial_id), model.get_build_config())

    def check_constraints(self, model: Any) -> dict[str, float]:
        """Measures what the constraints bound on a built model (before it
        trains); returns the values.

        Raises:
            autokeras_nas.tuner.constraints.InfeasibleTrialError: a
                constraint is violated (the trial is infeasible).
        """
        if not self.constraints:
            return {}
        from autokeras_nas.tuner.constraints import check_model

        return check_model(model, self.constraints, self.latency_repeats)

    def retrain_best(self, x: Any = None, y: Any = None, *, validation_data: Any = None,
                     epochs: int | None = None, trial_id: str | None = None,
                     seed: int | None = None, **fit_kwargs: Any) -> Any:
        """The best trial's configuration trained from scratch on the
        training and validation data together: the final model.

            tuner.search(x, y, validation_data=(x_val, y_val), epochs=9)
            model = tuner.retrain_best(x, y, validation_data=(x_val, y_val))
            model.evaluate(x_test, y_test)

        Args:
            x, y: The training data, as for `fit` (arrays, or a batched
                `tf.data.Dataset` as `x` and no `y`).
            validation_data: `(x_val, y_val)` or a `tf.data.Dataset`,
                appended to the training data. `None`: train on `x`, `y` only.
            epochs: Epochs to train. `None`: the epoch at which the trial
                was best in its learning curve, plus the epochs of the
                weights it started from (a promoted trial's earlier rungs
                count; see `autokeras_nas.results.retrain_epochs`).
            trial_id: The trial to retrain; `None`: the best (the first of
                the Pareto front with several objectives).
            seed: Seeds Keras before the model is built, for repeatable
                weights; `None`: not seeded.
            **fit_kwargs: Passed to `fit` (`batch_size`, `callbacks`, ...;
                `verbose` defaults to 0). A `HyperModel`'s own `fit` is used.

        Returns:
            The trained `keras.Model`. `tuner.retrained` records the trial
            id, the epochs and the seconds of training.

        Raises:
            ValueError: no finished trial, an unknown `trial_id`, bad
                `epochs`, or validation data that do not match `x`.
        """
        from autokeras_nas.tuner.retrain import retrain_best

        return retrain_best(self, x, y, validation_data=validation_data, epochs=epochs,
                            trial_id=trial_id, seed=seed, **fit_kwargs)

    def load_model(self, trial: Any) -> Any:
        """The trial's model with its best epoch's weights (optimizer state,
        saved with the weights, is not restored: the model is for inference
        or a fresh `compile`/`fit`)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            return super().load_model(trial)

    def save_model(self, trial_id: str, model: Any, step: int = 0) -> None:
        """Saves `model`'s weights as the trial's checkpoint, atomically."""
        save_weights_atomic(model, self._get_checkpoint_fname(trial_id))



def with_warmup(strategy: Any, warmup: str | Mapping[str, Any], hypermodel: Any = None) -> Any:
    """`strategy` wrapped in a zero-cost warm-up (`autokeras_nas.core.warmup.
    ZeroCostWarmup`): `warmup` is "PROXIES:POOL[:KEEP]" or a mapping of its
    arguments (`proxies`, `pool`, `keep`, `score_batch`).

    Raises:
        ValueError: a bad warm-up, a strategy that cannot take one, or a
            hypermodel of a structured space (a network or cells: the
            warm-up scores configurations of a hyperparameter space).
    """
    from autokeras_nas.core import ZeroCostWarmup, parse_warmup
    from autokeras_nas.tuner.cellmodel import CellHyperModel
    from autokeras_nas.tuner.morphable import MorphHyperModel

    options = parse_warmup(warmup) if isinstance(warmup, str) else dict(warmup)
    for klass, kind in ((MorphHyperModel, "network"), (CellHyperModel, "cells")):
        if isinstance(hypermodel, klass):
            raise ValueError(f"a zero-cost warm-up scores configurations of a hyperparameter "
                             f"space; it cannot warm up a search of a {kind} space")
    return ZeroCostWarmup(strategy, **options)
