"""`EnasTrainer`: the "enas" task, ENAS (Pham et al. 2018) inside one trial.

The trial's hypermodel is built as a single-path supernet
(`SupernetTrainer`, mode "single") and trained by the fit loop, with its
backup, resume, time budget and NaN stop, while an LSTM controller
(`autokeras_nas.oneshot.controller.Controller`) learns which paths are
worth training:

* every training batch runs the path of an architecture sampled from the
  controller (`set_paths` in `on_train_batch_begin`: a variable assignment,
  the training step is never traced again); so does every validation batch,
  so the epoch's `val_*` metrics are those of the controller's policy;
* after each epoch the controller takes `controller_steps` REINFORCE
  steps: sample an architecture, fix its path, reward = its accuracy on
  the next validation minibatch in inference mode, update.

The controller's state is saved after every epoch in the trial's directory
(`enas/controller-<epochs>.npz`, the last two kept), so a trial resumed
after a crash reloads the controller of the epoch its supernet resumes
from. Once trained, the last state stays as `enas/controller.npz`.

After each epoch's controller steps the controller's marginal candidate
probabilities are recorded too (`Controller.probabilities` over
`EPOCH_SAMPLES` architectures drawn by a generator seeded with the task's
`seed` and the epoch, so the controller's own generator, and with it the
search, is untouched). The history so far is saved beside the state of the
same epoch (`enas/probabilities-<epochs>.json`, the last two kept), and a
resumed trial reloads the history of the epoch it resumes from, so the
history never holds an epoch twice; the files go once the trial is trained.

Task options (`nas/task_config`), besides `SupernetTrainer`'s
(`conditional`, `time_budget_s`; `mode` must be "single"):

* `controller_steps` (int, default 50): controller updates per epoch, the
  number the paper's CIFAR search makes; each costs one validation
  minibatch in inference mode, a small share of an epoch.
* `hidden_size`, `controller_lr`, `entropy_weight`, `baseline_decay`: the
  controller's settings (defaults and reasons in
  `autokeras_nas.oneshot.controller`).
* `architectures` (int, default 10): how many architectures to output.
* `seed` (int, default 0): seed of the controller's weights and sampling.

Outputs, besides `SupernetTrainer`'s (`choices`, `mode`, `conditional`):
`architectures` (the most probable distinct architectures among those the
trained controller samples, each a mapping choice -> candidate, the most
probable first), `probabilities` (each choice's marginal candidate
probabilities under the controller), `probabilities_by_epoch` (the same
after each epoch: `[{"epoch": 1, "probabilities": {choice: {candidate:
p}}}, ...]`, epochs of an earlier run of a resumed trial included),
`controller_steps` (updates made in all) and `paths_trained` (distinct
architectures the training batches ran in this process). Per epoch the curve also holds `controller_reward` (the
mean reward of the epoch's controller steps) and `controller_entropy`.
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, Iterator

import keras
import keras_tuner
import numpy as np
import tensorflow as tf

from autokeras_nas.results import write_json_atomic
from autokeras_nas.tuner.trainers.base import TrialContext, TrialResult
from autokeras_nas.tuner.trainers.epochs import epoch_files
from autokeras_nas.tuner.trainers.supernet import SupernetTrainer, supernet_options

_Failed = keras_tuner.errors.FailedTrialError
#: The directory of the controller's states, in the trial's directory.
STATE_DIR = "enas"
#: The trained controller's state, in `STATE_DIR`.
FINAL_STATE = "controller.npz"
#: Architectures the controller samples at once for the training batches.
_CHUNK = 64
#: Architectures drawn to estimate the marginal probabilities after an epoch
#: (one batched pass of the controller).
EPOCH_SAMPLES = 200


def enas_options(config: dict[str, Any]) -> dict[str, Any]:
    """The options of an "enas" task config, validated (see the module
    docstring); raises FailedTrialError with a one-line reason."""
    from autokeras_nas.oneshot import controller as ctl

    if config.get("mode", "single") != "single":
        raise _Failed(f"enas trains a single-path supernet: mode must be 'single', "
                      f"got {config['mode']!r}")
    options = supernet_options(config)
    ints = {"controller_steps": 50, "hidden_size": ctl.DEFAULT_HIDDEN_SIZE,
            "architectures": 10, "seed": 0}
    for key, default in ints.items():
        value = config.get(key, default)
        low = 0 if key == "seed" else 1
        if type(value) is not int or value < low:
            raise _Failed(f"{key} must be an int >= {low}, got {value!r}")
        options[key] = value
    floats = {"controller_lr": ctl.DEFAULT_LEARNING_RATE,
              "entropy_weight": ctl.DEFAULT_ENTROPY_WEIGHT,
              "baseline_decay": ctl.DEFAULT_BASELINE_DECAY}
    for key, default in floats.items():
        value = config.get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise _Failed(f"{key} must be a number, got {value!r}")
        options[key] = float(value)
    checks = {"controller_lr": (options["controller_lr"] > 0, "a positive number"),
              "entropy_weight": (options["entropy_weight"] >= 0, "a number >= 0"),
              "baseline_decay": (0 <= options["baseline_decay"] < 1, "a number in [0, 1)")}
    for key, (ok, what) in checks.items():
        if not ok:
            raise _Failed(f"{key} must be {what}, got {config[key]!r}")
    return options


def new_controller(choices: dict[str, list[str]], options: dict[str, Any]) -> Any:
    """A fresh controller of `choices` with the task's settings."""
    from autokeras_nas.oneshot.controller import Controller

    return Controller(choices, hidden_size=options["hidden_size"],
                      learning_rate=options["controller_lr"],
                      entropy_weight=options["entropy_weight"],
                      baseline_decay=options["baseline_decay"], seed=options["seed"])


class EnasTrainer(SupernetTrainer):
    """Trains a single-path supernet with an ENAS controller choosing its
    paths, and trains the controller on validation rewards (see the module
    docstring)."""

    name = "enas"

    def __init__(self) -> None:
        super().__init__()
        self._callback: _ControllerTraining | None = None

    def make_model(self, context: TrialContext) -> Any:
        enas_options(context.config)
        return super().make_model(context)

    def extra_callbacks(self, context: TrialContext) -> list:
        options = enas_options(context.config)
        validation = context.fit_kwargs.get("validation_data")
        if validation is None:
            raise _Failed("enas needs validation data for the controller's rewards: pass "
                          "validation_data to search()")
        size = int(context.fit_kwargs.get("validation_batch_size")
                   or context.fit_kwargs.get("batch_size") or 32)
        self._callback = _ControllerTraining(
            options, os.path.join(context.directory, STATE_DIR),
            _minibatches(validation, size))
        # First, so a time budget counts the controller's steps of the epoch.
        return [self._callback] + super().extra_callbacks(context)

    def run(self, context: TrialContext) -> TrialResult:
        options = enas_options(context.config)
        self._callback = None
        result = super().run(context)
        directory = os.path.join(context.directory, STATE_DIR)
        latest = epoch_files(directory, *_STATE)
        if not latest:
            raise _Failed("the controller was never trained (no epoch finished)")
        controller = new_controller(self._choices, options)
        controller.load(latest[-1][1])
        samples = max(200, 20 * options["architectures"])
        outputs = dict(result.outputs)
        histories = epoch_files(directory, *_HISTORY)
        outputs.update(
            architectures=controller.most_probable(options["architectures"], samples=samples),
            probabilities=controller.probabilities(samples=samples),
            probabilities_by_epoch=_read_history(histories[-1][1]) if histories else [],
            controller_steps=controller.steps,
            paths_trained=len(self._callback.paths) if self._callback is not None else 0)
        controller.save(os.path.join(directory, FINAL_STATE))
        for _, path in latest + histories:
            os.remove(path)
        return TrialResult(result.metrics, outputs)


class _ControllerTraining(keras.callbacks.Callback):
    """Sets each batch's path from the controller and trains the controller
    after each epoch; saves its state per epoch and reloads it on resume."""

    def __init__(self, options: dict[str, Any], directory: str,
                 rewards_data: Iterator[tuple[Any, Any]]) -> None:
        super().__init__()
        self.options = options
        self.directory = directory
        self.rewards_data = rewards_data
        self.controller: Any = None
        #: Distinct architectures run by the training batches.
        self.paths: set[tuple[str, ...]] = set()
        self._queue: list[dict[str, str]] = []
        self._infer: Any = None
        #: `probabilities_by_epoch` so far.
        self.history: list[dict[str, Any]] = []

    def _next_architecture(self) -> dict[str, str]:
        if not self._queue:
            self._queue = self.controller.sample(_CHUNK)
        return self._queue.pop(0)

    def _set(self, arch: dict[str, str]) -> None:
        from autokeras_nas import oneshot

        oneshot.set_paths(self.model, arch)

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        if self.controller is None:
            from autokeras_nas import oneshot

            self.controller = new_controller(oneshot.choice_names(self.model), self.options)
            saved = dict(epoch_files(self.directory, *_STATE))
            histories = dict(epoch_files(self.directory, *_HISTORY))
            if epoch > 0 and epoch in saved:  # a resumed trial: the supernet's epoch
                self.controller.load(saved[epoch])
                if epoch in histories:
                    self.history = _read_history(histories[epoch])
                # The reward batches go on where the epochs before the restart left them.
                for _ in range(epoch * self.options["controller_steps"]):
                    next(self.rewards_data)
            elif epoch > 0:
                print(f"enas: no controller state of epoch {epoch}; the controller starts "
                      f"afresh", flush=True)
            self._infer = tf.function(lambda x: self.model(x, training=False),
                                      reduce_retracing=True)
        self._queue = []

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        arch = self._next_architecture()
        self.paths.add(tuple(arch.values()))
        self._set(arch)

    def on_test_batch_begin(self, batch: int, logs: Any = None) -> None:
        if self.controller is not None:
            self._set(self._next_architecture())

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        rewards, entropies = [], []
        for _ in range(self.options["controller_steps"]):
            arch = self.controller.sample(1)[0]
            self._set(arch)
            x, y = next(self.rewards_data)
            reward = _accuracy(y, self._infer(x))
            stats = self.controller.update([arch], [reward])
            rewards.append(reward)
            entropies.append(stats["entropy"])
        self._queue = []
        # a generator of its own: the controller's (saved with it) is left as it was
        draws = np.random.default_rng([self.options["seed"], epoch + 1])
        self.history = [h for h in self.history if h["epoch"] <= epoch] + [
            {"epoch": epoch + 1,
             "probabilities": self.controller.probabilities(samples=EPOCH_SAMPLES, rng=draws)}]
        os.makedirs(self.directory, exist_ok=True)
        write_json_atomic(os.path.join(self.directory, f"probabilities-{epoch + 1}.json"),
                          self.history)
        self.controller.save(os.path.join(self.directory, f"controller-{epoch + 1}.npz"))
        for _, path in epoch_files(self.directory, *_STATE)[:-2] + epoch_files(self.directory, *_HISTORY)[:-2]:
            os.remove(path)
        if logs is not None:
            logs["controller_reward"] = float(np.mean(rewards))
            logs["controller_entropy"] = float(np.mean(entropies))


#: File names of the per-epoch controller states and probability histories.
_STATE, _HISTORY = ("controller", "npz"), ("probabilities", "json")


def _read_history(path: str) -> list[dict[str, Any]]:
    with open(path) as f:
        return json.load(f)


def _minibatches(validation: Any, size: int) -> Iterator[tuple[Any, Any]]:
    """Endless (x, y) validation minibatches, in order, starting over at the
    end: a tuple of arrays is cut in batches of `size` (all full, so the
    inference function is traced once), a dataset is repeated as batched.

    Raises:
        FailedTrialError: validation data of another kind.
    """
    if isinstance(validation, (tuple, list)) and len(validation) >= 2:
        return _array_batches(validation[0], validation[1], size)
    if hasattr(validation, "repeat"):
        return ((element[0], element[1]) for element in validation.repeat())
    raise _Failed(f"enas cannot draw minibatches from validation data of type "
                  f"{type(validation).__name__}: give arrays (x, y) or a tf.data.Dataset")


def _array_batches(x: Any, y: Any, size: int) -> Iterator[tuple[Any, Any]]:
    n = len(y)
    size = max(1, min(size, n))
    while True:
        for start in range(0, n - size + 1, size):
            yield (tf.nest.map_structure(lambda a: a[start:start + size], x),
                   y[start:start + size])


def _accuracy(y_true: Any, y_pred: Any) -> float:
    """The share of correct predictions: the arg-max class of a softmax
    output against integer or one-hot labels; a single sigmoid output
    thresholded at 0.5."""
    if isinstance(y_pred, (list, tuple)):
        y_pred = y_pred[0]
    pred = np.asarray(keras.ops.convert_to_numpy(y_pred))
    true = np.asarray(keras.ops.convert_to_numpy(y_true))
    if pred.ndim >= 2 and pred.shape[-1] > 1:
        guess = pred.argmax(axis=-1)
        if true.shape == pred.shape:
            true = true.argmax(axis=-1)
    else:
        guess = (pred.reshape(len(pred), -1)[:, 0] > 0.5).astype("int64")
    return float(np.mean(guess.reshape(-1) == true.reshape(-1).astype(guess.dtype)))
