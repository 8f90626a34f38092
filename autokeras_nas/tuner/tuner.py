"""`NasTuner`: a `keras_tuner.Tuner` that trains what a strategy suggests.

Besides the user's metrics it records, for every trial, `train_time_s` (wall
time of `fit`), `params`, `latency_ms` (median single-sample inference),
`epochs` run and `stopped_early`. It reports every epoch to the oracle so
early-stopping rules act, loads a parent's weights when a suggestion names
one (layers whose names and shapes match), stops a trial at once on a NaN or
infinite loss (failed, with the reason), and frees memory between trials
(its models and their traced graphs, `autokeras_nas.tuner.graphs`).
A trial over `trial_timeout` seconds fails, one that runs out of memory is
retried with half the batch size (`autokeras_nas.tuner.failures`). As a
distributed worker it sends heartbeats while it trains; as the chief it
serves the oracle (`autokeras_nas.tuner.parallel`). Every file it writes
is JSON or Keras weights, replaced atomically.
"""

from __future__ import annotations

import copy
import gc
import json
import math
import os
import statistics
import time
import warnings
from typing import Any, Callable

import keras
import keras_tuner
import numpy as np

from autokeras_nas import plugins
from autokeras_nas.core import EPOCHS, INITIAL_EPOCH, PARENT
from autokeras_nas.results import SearchDirectoryError, check_search_directory
from autokeras_nas.tuner import failures, parallel
from autokeras_nas.tuner.budget import (
    STOPPED_BY_BUDGET,
    BudgetStop,
    SearchBudget,
    stopped_trial,
)
from autokeras_nas.tuner.graphs import GraphRegistrations
from autokeras_nas.tuner.oracle import (
    EPOCH_KEY,
    StrategyOracle,
    result_status,
    write_json_atomic,
)

Progress = Callable[[dict[str, Any]], None]

#: Back-off while the oracle has no trial to give (KerasTuner would spin).
_IDLE_SLEEP_S = (0.05, 2.0)


class _EpochReporter(keras.callbacks.Callback):
    """Reports each epoch to the oracle, keeps the best epoch's weights and logs,
    and stops training on a stop request or a non-finite loss."""

    def __init__(self, tuner: "NasTuner", trial: Any, checkpoint: str, saved: list[float]):
        super().__init__()
        self.tuner = tuner
        self.trial = trial
        self.checkpoint = checkpoint
        self.primary = tuner.objectives[0]
        self.best_value = -math.inf
        self.best_logs: dict[str, float] = {}
        #: Best value saved to the checkpoint so far, shared across executions.
        self.saved = saved
        self.epochs_run = 0
        self.bad_loss: str | None = None
        #: The batch size after running out of memory (None: as given).
        self.batch_size: int | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}
        self.epochs_run += 1
        for name in ("loss", "val_loss"):
            if name in logs and not math.isfinite(logs[name]):
                self.bad_loss = f"non-finite {name} ({logs[name]}) at epoch {epoch + 1}"
                self.model.stop_training = True
                return
        self._keep_if_best(logs)
        done = epoch + 1
        reply = self.tuner.oracle.update_trial(
            self.trial.trial_id, {EPOCH_KEY: done, **logs}, step=epoch
        )
        if getattr(reply, "status", None) == "STOPPED":
            self.model.stop_training = True
        self.tuner._emit({"event": "epoch_end", "trial_id": self.trial.trial_id,
                          "epoch": done, "logs": logs})

    def _keep_if_best(self, logs: dict[str, float]) -> None:
        """Keeps this execution's best epoch's logs; saves the weights when
        they beat every execution so far (the last epoch when the first
        objective is not a per-epoch metric, e.g. `latency_ms`)."""
        value = math.inf
        if self.primary.name in logs:
            value = self.primary.signed(logs[self.primary.name])
            if not value > self.best_value:
                return
        self.best_value = value
        self.best_logs = dict(logs)
        if value >= self.saved[0]:
            self.saved[0] = value
            self.model.save_weights(self.checkpoint)


def measure_latency_ms(model: Any, repeats: int = 20) -> float | None:
    """Median wall time, in ms, of predicting one zero-filled sample.

    Returns None for models whose input shapes are not fully known.
    """
    inputs = getattr(model, "inputs", None)
    if not inputs:
        return None
    batch = []
    for t in inputs:
        shape = tuple(t.shape[1:])
        if any(d is None for d in shape):
            return None
        batch.append(np.zeros((1,) + shape, dtype=t.dtype))
    x = batch[0] if len(batch) == 1 else batch
    for _ in range(3):  # trace and warm up
        model.predict_on_batch(x)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.predict_on_batch(x)
        times.append((time.perf_counter() - t0) * 1000.0)
    return float(statistics.median(times))


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
            the recorded cost metrics `train_time_s`, `params`, `latency_ms`.
            Defaults to "val_loss".
        max_trials: Maximum number of trials.
        early_stopping: `None`, "asha", "median" or a `StoppingRule`.
        hyperparameters, tune_new_entries, allow_new_entries,
        max_retries_per_trial, max_consecutive_failed_trials: As for
            `keras_tuner.RandomSearch`.
        progress: Optional callable receiving event dicts: `trial_begin`
            (`trial_id`, `values`), `epoch_end` (`trial_id`, `epoch`, `logs`),
            `trial_end` (`trial_id`, `status`, `metrics`, `message`).
        latency_repeats: Timed single-sample predictions per trial.
        trial_timeout: Seconds a trial may train (all its executions); past
            them it stops at the next batch end and fails with the reason
            "timeout after Ns". `None`: no limit.
        time_budget: Wall-clock seconds for the whole `search()` call (the
            clock starts anew on every call, so a resumed search gets the
            full budget again): past them no new trial starts and the running
            trial stops at its next epoch end, kept with its metrics so far
            (`stopped_early` and `stopped_by_budget` set to 1). `None`: no
            limit. See `autokeras_nas.tuner.budget`.
        oom_retries: Times a trial that runs out of memory during `fit` is
            retried, each time with half the batch size, before it fails.
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
        trial_timeout: float | None = None,
        oom_retries: int = 1,
        time_budget: float | None = None,
        **kwargs: Any,
    ) -> None:
        self.budget = SearchBudget(time_budget)
        self.trial_timeout = failures.check_timeout(trial_timeout)
        self.oom_retries = failures.check_retries(oom_retries)
        if oracle is None:
            if strategy is None:
                raise ValueError("NasTuner needs a strategy (an instance or a plugin name)")
            if isinstance(strategy, str):
                strategy = plugins.load(strategy)()
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
        elif strategy is not None or objective is not None or max_trials is not None:
            raise ValueError("pass either oracle= or strategy=/objective=/max_trials=, not both")
        self.progress = progress
        self.latency_repeats = latency_repeats
        # Kept here: on a distributed worker `self.oracle` becomes a gRPC client.
        self.objectives = oracle.objectives
        self._heartbeat: parallel.Heartbeat | None = None
        self._graphs = GraphRegistrations()
        if not kwargs.get("overwrite", False) and not parallel.is_worker():
            parallel.prepare_resume(kwargs.get("directory"), kwargs.get("project_name"),
                                    os.environ.get("KERASTUNER_TUNER_ID", "tuner0"))
        super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)
        if os.environ.get("KERASTUNER_TUNER_ID") != "chief":
            self._add_idle_backoff()
        if not self._is_worker():
            self._add_budget_stop()

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
        write_json_atomic(self._get_tuner_fname(), self.get_state())

    # -- search loop ---------------------------------------------------------
    def search(self, *fit_args: Any, **fit_kwargs: Any) -> None:
        """As KerasTuner's; a distributed chief serves the oracle with
        `autokeras_nas.tuner.parallel.serve` (re-queues the trials of lost
        workers, stops as soon as the last worker leaves)."""
        self.budget.start()
        if not parallel.is_chief():
            super().search(*fit_args, **fit_kwargs)
            return
        self.oracle.verbose = fit_kwargs.get("verbose", self.oracle.verbose)
        self.save()
        parallel.serve(self.oracle)

    def _add_idle_backoff(self) -> None:
        """Sleeps, with exponential back-off, after each IDLE answer.

        KerasTuner's `search` asks again at once when the oracle is IDLE; on a
        worker that would flood the chief. The sleep happens here, on the
        asking side, never inside the oracle's lock or the chief's only
        request thread.
        """
        create_trial = self.oracle.create_trial
        delay = [_IDLE_SLEEP_S[0]]

        def create_trial_with_backoff(tuner_id: str) -> Any:
            trial = create_trial(tuner_id)
            if trial.status == "IDLE":
                time.sleep(delay[0])
                delay[0] = min(delay[0] * 2, _IDLE_SLEEP_S[1])
            else:
                delay[0] = _IDLE_SLEEP_S[0]
            return trial

        self.oracle.create_trial = create_trial_with_backoff

    def _add_budget_stop(self) -> None:
        """Answers STOPPED, once the time budget has passed, where trials are
        created (the local oracle, or a distributed chief's, so that every
        worker is told to stop as when `max_trials` is reached)."""
        create_trial = self.oracle.create_trial
        oracle = self.oracle

        def create_trial_within_budget(tuner_id: str) -> Any:
            if self.budget.exhausted and tuner_id not in oracle.ongoing_trials:
                _forget_tuner(oracle, tuner_id)
                return stopped_trial()
            return create_trial(tuner_id)

        self.oracle.create_trial = create_trial_within_budget

    def _emit(self, event: dict[str, Any]) -> None:
        if self.progress is not None:
            self.progress(event)

    def on_trial_begin(self, trial: Any) -> None:
        self._graphs.start()
        super().on_trial_begin(trial)
        if self._is_worker():
            self._heartbeat = parallel.Heartbeat(self.oracle, trial.trial_id)
        self._emit({"event": "trial_begin", "trial_id": trial.trial_id,
                    "values": dict(trial.hyperparameters.values)})

    def on_trial_end(self, trial: Any) -> None:
        if self._heartbeat is not None:
            self._heartbeat.stop()
            self._heartbeat = None
        super().on_trial_end(trial)
        # The trial's models are gone; free their traced graphs (see graphs.py).
        self._graphs.release()
        gc.collect()
        if self.progress is None:
            return
        final = self.oracle.get_trial(trial.trial_id)
        metrics = {n: final.metrics.get_last_value(n) for n in final.metrics.metrics}
        self._emit({"event": "trial_end", "trial_id": trial.trial_id,
                    "status": result_status(final.status, metrics),
                    "metrics": metrics, "message": final.message or ""})

    # -- one trial -------------------------------------------------------------
    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
        hp = trial.hyperparameters
        kwargs = copy.copy(kwargs)
        if EPOCHS in hp.values:
            kwargs["epochs"] = int(hp.values[EPOCHS])
        if INITIAL_EPOCH in hp.values:
            kwargs["initial_epoch"] = int(hp.values[INITIAL_EPOCH])
        planned = int(kwargs.get("epochs", 1)) - int(kwargs.get("initial_epoch", 0))
        user_callbacks = kwargs.pop("callbacks", [])

        parent = self._load_parent(hp.values.get(PARENT))
        runs, saved = [], [-math.inf]
        timeout = None
        if self.trial_timeout is not None:
            timeout = failures.TrialTimeout(time.monotonic() + self.trial_timeout, self.trial_timeout)
        for execution in range(self.executions_per_trial):
            if runs and self.budget.exhausted:
                break
            callbacks = self._deepcopy_callbacks(user_callbacks)
            self._configure_tensorboard_dir(callbacks, trial, execution)
            if timeout is not None:
                callbacks.append(timeout)
            budget_stop = BudgetStop(self.budget)
            callbacks.append(budget_stop)
            model, reporter, inherit_metrics, train_time = self._fit_execution(
                trial, parent, callbacks, saved, args, kwargs)
            if timeout is not None and timeout.timed_out:
                raise keras_tuner.errors.FailedTrialError(timeout.message)
            if reporter.bad_loss:
                raise keras_tuner.errors.FailedTrialError(reporter.bad_loss)
            metrics = dict(reporter.best_logs)
            metrics.update(train_time_s=train_time, params=float(model.count_params()),
                           epochs=float(reporter.epochs_run),
                           stopped_early=float(reporter.epochs_run < planned))
            if budget_stop.stopped and reporter.epochs_run < planned:
                metrics[STOPPED_BY_BUDGET] = 1.0
            metrics.update(inherit_metrics)
            if reporter.batch_size is not None:  # halved after running out of memory
                metrics["batch_size"] = float(reporter.batch_size)
            latency = measure_latency_ms(model, self.latency_repeats)
            if latency is not None:
                metrics["latency_ms"] = latency
            self._save_build_config(trial.trial_id, model)
            runs.append(metrics)
            del model
            gc.collect()
        return self._check_objectives(_average(runs))

    def _fit_execution(self, trial: Any, parent: Any, callbacks: list, saved: list[float],
                       args: tuple, kwargs: dict) -> tuple[Any, "_EpochReporter", dict, float]:
        """Builds, inherits and fits one execution; on running out of memory,
        retries with half the batch size (`oom_retries` times), then fails.

        Returns:
            (model, its epoch reporter, inheritance metrics, fit wall time).
        """
        hp = trial.hyperparameters
        reduced = None
        for attempt in range(self.oom_retries + 1):
            reporter = _EpochReporter(self, trial, self._get_checkpoint_fname(trial.trial_id), saved)
            reporter.batch_size = reduced
            model = self._try_build(hp)
            inherit_metrics = self._inherit(hp, model, parent, args, kwargs)
            t0 = time.perf_counter()
            try:
                self.hypermodel.fit(hp, model, *args, callbacks=callbacks + [reporter], **kwargs)
            except Exception as e:
                if not failures.is_out_of_memory(e):
                    raise
                size = failures.current_batch_size(args, kwargs)
                if attempt == self.oom_retries or size is None or size < 2:
                    raise failures.out_of_memory_failure(e, size) from e
                reduced = size // 2
                print(f"trial {trial.trial_id}: out of memory at batch size {size}; "
                      f"retrying with {reduced}", flush=True)
                args, kwargs = failures.with_batch_size(reduced, args, kwargs)
                del model
                gc.collect()
                continue
            return model, reporter, inherit_metrics, time.perf_counter() - t0
        raise AssertionError("unreachable")  # pragma: no cover

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
        with open(self._get_build_config_fname(trial_id), "w") as f:
            json.dump(model.get_build_config(), f)

    def _load_parent(self, parent_id: Any) -> tuple[Any, Any] | None:
        """(model with the best checkpoint's weights, hyperparameters) of the
        parent trial, loaded from the search directory; None without one."""
        if parent_id is None:
            return None
        parent = self.oracle.get_trial(str(parent_id))
        return self.load_model(parent), parent.hyperparameters

    def _inherit(self, hp: Any, model: Any, parent: tuple[Any, Any] | None,
                 args: tuple, kwargs: dict) -> dict[str, float]:
        """Starts `model` from its parent's weights; returns metrics about it.

        A hypermodel with a method `inherit(hp, model, parent_model,
        parent_hp, x)` does it itself (network morphisms transfer weights
        exactly and measure on `x`, a batch of training inputs, that the
        function is preserved); otherwise the layers whose name and weight
        shapes match are copied.
        """
        if parent is None:
            return {}
        parent_model, parent_hp = parent
        hook = getattr(self.hypermodel, "inherit", None)
        if callable(hook):
            found = hook(hp, model, parent_model, parent_hp, _sample_inputs(args, kwargs))
            return {k: float(v) for k, v in (found or {}).items()}
        weights = {layer.name: layer.get_weights() for layer in parent_model.layers}
        return {"inherited_layers": float(_set_matching_weights(model, weights))}

    def load_model(self, trial: Any) -> Any:
        """The trial's model with its best epoch's weights (optimizer state,
        saved with the weights, is not restored: the model is for inference
        or a fresh `compile`/`fit`)."""
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            return super().load_model(trial)

    def save_model(self, trial_id: str, model: Any, step: int = 0) -> None:
        model.save_weights(self._get_checkpoint_fname(trial_id))


@keras_tuner.synchronized
def _forget_tuner(oracle: Any, tuner_id: str) -> None:
    """What KerasTuner's oracle does when it tells a tuner to stop."""
    oracle.tuner_ids.discard(tuner_id)


def _sample_inputs(args: tuple, kwargs: dict, n: int = 32) -> Any:
    """Up to `n` training inputs from `fit`'s arguments (arrays or a
    tf.data.Dataset of batches), or None."""
    x = args[0] if args else kwargs.get("x")
    if isinstance(x, np.ndarray):
        return x[:n]
    if hasattr(x, "take") and hasattr(x, "element_spec"):
        batch = next(iter(x.take(1)), None)
        if isinstance(batch, (tuple, list)):
            batch = batch[0]
        return None if batch is None else np.asarray(batch)[:n]
    return None


def _set_matching_weights(model: Any, weights: dict[str, list[np.ndarray]] | None) -> int:
    """Copies weights into the layers whose name and weight shapes match."""
    if not weights:
        return 0
    n = 0
    for layer in model.layers:
        source = weights.get(layer.name)
        target = layer.get_weights()
        if source and len(source) == len(target) and all(
            s.shape == t.shape for s, t in zip(source, target)
        ):
            layer.set_weights(source)
            n += 1
    return n


def _average(runs: list[dict[str, float]]) -> dict[str, float]:
    if len(runs) == 1:
        return runs[0]
    keys = set.intersection(*(set(r) for r in runs))
    return {k: float(np.mean([r[k] for r in runs])) for k in sorted(keys)}
