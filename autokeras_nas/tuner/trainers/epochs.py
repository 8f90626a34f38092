"""Per-epoch bookkeeping of a fitted trial, and resuming inside a trial.

`EpochReporter` (a Keras callback) reports every epoch to the oracle (early
stopping, the trial's curve), keeps the best epoch's logs and weights (the
checkpoint), and stops training on a stop request or a non-finite loss.

`TrialBackup` lets a trial killed after some epochs (SIGKILL, a lost
machine) resume at its last finished epoch when the search is resumed
(`overwrite=False`, `autokeras-nas search --resume`); KerasTuner's oracle
hands a trial that was running when it was saved back as a retry, with the
same id and values. After every epoch the reporter saves, under
`<trial dir>/backup/`, the model's weights with the optimizer's state (a new
file per epoch) and then, atomically, `state.json`: the epoch, this
execution's best logs and curve, the fit time so far, the batch size, the
states of the model's random generators (`seed_states`), the
metrics of finished executions, and which weights file holds the best
checkpoint. `state.json` is the commit point: a kill at any moment leaves
a state whose weights files exist. On resume the trainer copies the
committed best weights back to the checkpoint, loads the last epoch's
weights, replays the recorded curve to the oracle (the curve and the
early-stopping rule's values are rebuilt; a rule that stops the trial on
replay ends it), and fits from the next epoch (`initial_epoch`). Callbacks
with state of their own (a learning-rate schedule over one `fit` call)
start again over the remaining epochs. The backup is removed when the trial
ends (completed, failed or invalid), so a retried trial starts afresh.
"""

from __future__ import annotations

import glob
import json
import math
import os
import re
import shutil
import time
from typing import Any

import keras
import keras_tuner
import numpy as np

from autokeras_nas.results import write_json_atomic
from autokeras_nas.tuner.trainers.weights import (build_optimizer, copy_weights_file,
                                                  save_weights_atomic)

#: Subdirectory of a trial's directory holding its backup.
BACKUP_DIR = "backup"
_STATE = "state.json"
#: A promotable trial's final state (weights with the optimizer's state,
#: after its last epoch), in its directory, for the trial that continues it.
FINAL_STATE = "final_state.weights.h5"


def epoch_files(directory: str, stem: str, ext: str) -> list[tuple[int, str]]:
    """The per-epoch files `{stem}-{epochs}.{ext}` in `directory` (a
    trainer's state saved after each epoch, for a resume), as (epochs,
    path), oldest first."""
    found = []
    for path in glob.glob(os.path.join(directory, f"{stem}-*.{ext}")):
        match = re.fullmatch(rf"{re.escape(stem)}-(\d+)\.{re.escape(ext)}", os.path.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def keep_final_state(model: Any, trial_dir: str) -> None:
    """Saves the state `model` ended its training in, atomically."""
    save_weights_atomic(model, os.path.join(trial_dir, FINAL_STATE))


def load_final_state(model: Any, trial_dir: str, build_config: str) -> None:
    """Loads the final state kept in `trial_dir` (`keep_final_state`) into
    `model`, optimizer state included: training continues where it ended.
    A model not built yet (no input shape) is built from the saved
    `build_config` file first, as KerasTuner does to load a checkpoint.

    Raises:
        keras_tuner.errors.FailedTrialError: no final state was kept there.
    """
    path = os.path.join(trial_dir, FINAL_STATE)
    if not os.path.exists(path):
        raise keras_tuner.errors.FailedTrialError(
            f"cannot continue: no final state in {trial_dir}")
    _build(model, build_config)
    model.load_weights(path)


def _seed_variables(model: Any) -> list[Any]:
    """The state variables of the model's `keras.random.SeedGenerator`s (a
    supernet's path sampling, dropout), in the model's variable order."""
    return [v for v in getattr(model, "non_trainable_variables", None) or []
            if v.name == "seed_generator_state"]


def seed_states(model: Any) -> list[list[int]]:
    """The current states of the model's random generators. Keras' weight
    files leave them out, so a model restored from one would draw again the
    numbers it drew after its first epoch (another path sequence, other
    dropout masks) instead of the next ones."""
    return [np.asarray(keras.ops.convert_to_numpy(v)).tolist() for v in _seed_variables(model)]


def set_seed_states(model: Any, states: list[list[int]] | None) -> None:
    """Restores `seed_states(model)` as saved (None: nothing saved, as in a
    backup written before they were; a model whose generators differ in
    number is left as it is)."""
    variables = _seed_variables(model)
    if states is None or len(states) != len(variables):
        return
    for variable, state in zip(variables, states):
        variable.assign(np.asarray(state, dtype=keras.backend.standardize_dtype(variable.dtype)))


def _build(model: Any, build_config: str) -> None:
    """Builds `model` (from the `build_config` file when it is not built)
    and its optimizer, so that saved weights can be loaded into them."""
    if not model.built and os.path.exists(build_config):
        with open(build_config) as f:
            model.build_from_config(json.load(f))
    build_optimizer(model)


class TrialBackup:
    """The resume state of one trial (see the module docstring).

    Args:
        directory: The backup directory (`<trial dir>/backup`).
    """

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.state: dict[str, Any] = {"runs": [], "outputs": {}, "saved": None,
                                      "best": None, "current": None}
        try:
            with open(os.path.join(directory, _STATE)) as f:
                self.state.update(json.load(f))
        except (OSError, ValueError):
            pass

    @property
    def runs(self) -> list[dict[str, float]]:
        """Metrics of the executions that finished."""
        return list(self.state["runs"])

    @property
    def outputs(self) -> dict[str, Any]:
        """Outputs of the executions that finished."""
        return dict(self.state["outputs"])

    @property
    def saved(self) -> float:
        """The value of the epoch in the checkpoint (-inf: none yet)."""
        saved = self.state["saved"]
        return -math.inf if saved is None else float(saved)

    def current(self, execution: int) -> dict[str, Any] | None:
        """The last finished epoch of `execution`, or None."""
        current = self.state["current"]
        return current if current and current["execution"] == execution else None

    def restore_checkpoint(self, path: str) -> None:
        """Copies the committed best weights back to the checkpoint `path`
        (a kill may have saved a newer, uncommitted checkpoint)."""
        if self.state["best"] is None:
            return
        directory, name = os.path.split(path)
        tmp = os.path.join(directory, f".{os.getpid()}.tmp.{name}")
        shutil.copyfile(os.path.join(self.directory, self.state["best"]), tmp)
        os.replace(tmp, path)

    def load_into(self, model: Any, current: dict[str, Any], build_config: str) -> None:
        """Loads the weights, optimizer state and random-generator states of
        `current` into `model` (built from the trial's `build_config` file if
        it is not built)."""
        _build(model, build_config)
        model.load_weights(os.path.join(self.directory, current["weights"]))
        set_seed_states(model, current.get("seed_states"))

    def save_epoch(self, model: Any, progress: dict[str, Any], *, best: bool,
                   saved: float, checkpoint: str | None = None) -> None:
        """Saves the model after an epoch, then commits `progress` (which
        holds `execution` and `epoch`); `best`: this epoch is the checkpoint,
        just saved to `checkpoint` from the same state (copied, not saved again)."""
        os.makedirs(self.directory, exist_ok=True)
        name = f"e{progress['execution']}-{progress['epoch']}.weights.h5"
        path = os.path.join(self.directory, name)
        if best and checkpoint is not None:
            copy_weights_file(checkpoint, path)
        else:
            save_weights_atomic(model, path)
        self.state["current"] = dict(progress, weights=name)
        if best:
            self.state["best"] = name
        self.state["saved"] = None if saved == -math.inf else saved
        self._commit()

    def finish_execution(self, metrics: dict[str, float], outputs: dict[str, Any]) -> None:
        """Records a finished execution (skipped when the trial resumes)."""
        self.state["runs"].append(metrics)
        self.state["outputs"].update(outputs)
        self.state["current"] = None
        self._commit()

    def discard_current(self) -> None:
        """Forgets the running execution's epochs (it starts over)."""
        if self.state["current"] is not None:
            self.state["current"] = None
            self._commit()

    def remove(self) -> None:
        """Deletes the backup (the trial has ended)."""
        shutil.rmtree(self.directory, ignore_errors=True)

    def _commit(self) -> None:
        os.makedirs(self.directory, exist_ok=True)
        write_json_atomic(os.path.join(self.directory, _STATE), self.state)
        keep = {_STATE, self.state["best"], (self.state["current"] or {}).get("weights")}
        for name in os.listdir(self.directory):
            if name not in keep and name.endswith(".weights.h5"):
                os.unlink(os.path.join(self.directory, name))


class EpochReporter(keras.callbacks.Callback):
    """Reports each epoch to the oracle, keeps the best epoch's weights and
    logs, backs the epoch up, and stops training on a stop request or a
    non-finite loss.

    Args:
        context: The trial's `TrialContext`.
        saved: A one-element list: the value of the epoch in the checkpoint,
            shared by the trial's executions.
        backup: The trial's `TrialBackup`, or None (no in-trial resume).
        execution: The execution's index.
        keep_last: Checkpoint every epoch (the last one wins) instead of the
            best epoch by the first objective.
    """

    def __init__(self, context: Any, saved: list[float], backup: TrialBackup | None,
                 execution: int, *, keep_last: bool = False) -> None:
        super().__init__()
        self.keep_last = keep_last
        self.context = context
        self.primary = context.objectives[0]
        self.saved = saved
        self.backup = backup
        self.execution = execution
        self.best_value = -math.inf
        self.best_logs: dict[str, float] = {}
        self.epochs_run = 0
        self.curve: list[dict[str, float]] = []
        self.bad_loss: str | None = None
        #: The batch size after running out of memory (None: as given).
        self.batch_size: int | None = None
        #: Fit seconds of the epochs run before a resume.
        self.prior_seconds = 0.0
        #: Whether the trial was stopped while its recorded epochs were replayed.
        self.stopped = False
        self._fit_started = 0.0

    def resume(self, model: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Restores this execution's last backed-up epoch into `model` and
        replays its curve to the oracle; returns `fit`'s keyword arguments
        (with `initial_epoch`). Without a backup, returns `kwargs`."""
        current = self.backup.current(self.execution) if self.backup else None
        if current is None:
            return kwargs
        self.backup.load_into(model, current,
                              self.context.tuner._get_build_config_fname(self.context.trial_id))
        self.best_value = float(current["best_value"])
        self.best_logs = dict(current["best_logs"])
        self.epochs_run = int(current["epochs_run"])
        self.curve = [dict(point) for point in current["curve"]]
        self.prior_seconds = float(current["fit_seconds"])
        print(f"trial {self.context.trial_id}: resuming at epoch {current['epoch'] + 1}",
              flush=True)
        for point in self.curve:
            logs = {k: v for k, v in point.items() if k != "epoch"}
            if not self.context.report_epoch(int(point["epoch"]), logs):
                self.stopped = True
        return dict(kwargs, initial_epoch=int(current["epoch"]))

    def on_train_begin(self, logs: dict | None = None) -> None:
        self._fit_started = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        logs = {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}
        self.epochs_run += 1
        for name in ("loss", "val_loss"):
            if name in logs and not math.isfinite(logs[name]):
                self.bad_loss = f"non-finite {name} ({logs[name]}) at epoch {epoch + 1}"
                self.model.stop_training = True
                return
        best = self._keep_if_best(logs)
        done = epoch + 1
        if not self.context.report_epoch(done, logs):
            self.model.stop_training = True
        self.curve = [c for c in self.curve if c["epoch"] < done] + [{"epoch": done, **logs}]
        if self.backup is not None:
            self.backup.save_epoch(
                self.model, self._progress(done), best=best, saved=self.saved[0],
                checkpoint=self.context.tuner._get_checkpoint_fname(self.context.trial_id))
        self.context.emit({"event": "epoch_end", "trial_id": self.context.trial_id,
                           "epoch": done, "logs": logs})

    def _progress(self, epoch: int) -> dict[str, Any]:
        return {"execution": self.execution, "epoch": epoch, "best_value": self.best_value,
                "best_logs": self.best_logs, "epochs_run": self.epochs_run,
                "curve": self.curve, "batch_size": self.batch_size,
                "fit_seconds": self.prior_seconds + time.perf_counter() - self._fit_started,
                "seed_states": seed_states(self.model)}

    def _keep_if_best(self, logs: dict[str, float]) -> bool:
        """Keeps this execution's best epoch's logs; saves the weights when
        they beat every execution so far (the last epoch when the first
        objective is not a per-epoch metric, e.g. `latency_ms`). Returns
        whether the checkpoint was saved."""
        value = math.inf
        if self.primary.name in logs and not self.keep_last:
            value = self.primary.signed(logs[self.primary.name])
            if not value > self.best_value:
                return False
        self.best_value = value
        self.best_logs = dict(logs)
        if value >= self.saved[0]:
            self.saved[0] = value
            self.context.save_checkpoint(self.model)
            return True
        return False
