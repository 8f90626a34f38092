"""ENAS on tiny real models: the controller learns a rewarded candidate by
REINFORCE and its state round-trips through a file; the "enas" task trains
a single-path supernet on digits with a path per batch from the controller,
outputs the controller's architectures, resumes with the controller of the
supernet's epoch, and an "estimate" trial scores one of them."""

import json
import os

import keras
import keras_tuner
import numpy as np
import pytest
from keras import layers

from autokeras_nas import plugins
from autokeras_nas.oneshot import choose, mixed_ops
from autokeras_nas.oneshot.controller import Controller
from autokeras_nas.testing.driver import ScriptedStrategy
from autokeras_nas.tuner import NasTuner
from autokeras_nas.tuner.trainers.enas import FINAL_STATE, STATE_DIR, EnasTrainer
from autokeras_nas.tuner.trainers.supernet import EstimateTrainer

pytestmark = pytest.mark.tf

CHOICES = {"a": ["x", "y", "z", "w"], "b": ["p", "q", "r", "s"], "c": ["k", "l"]}


# -- the controller ------------------------------------------------------------------
def test_reinforce_raises_the_probability_of_a_rewarded_candidate():
    controller = Controller(CHOICES, seed=0)
    before = controller.probabilities(samples=500)["b"]["r"]
    assert 0.15 < before < 0.35  # close to uniform at first
    for _ in range(300):
        arch = controller.sample(1)
        controller.update(arch, [1.0 if arch[0]["b"] == "r" else 0.0])
    probabilities = controller.probabilities(samples=500)
    assert probabilities["b"]["r"] > 0.8
    assert controller.steps == 300 and 0.5 < controller.baseline <= 1.0
    assert all(arch["b"] == "r" for arch in controller.most_probable(3))
    # the entropy bonus keeps the choices without reward from collapsing
    assert max(probabilities["a"].values()) < 0.8


def test_controller_state_round_trips_through_save_and_load(tmp_path):
    trained = Controller(CHOICES, seed=1)
    for _ in range(20):
        arch = trained.sample(2)
        trained.update(arch, [float(a["a"] == "x") for a in arch])
    path = str(tmp_path / "controller.npz")
    trained.save(path)
    assert os.listdir(tmp_path) == ["controller.npz"]  # no temporary left
    restored = Controller(CHOICES, seed=7)
    restored.load(path)
    assert restored.steps == 20 and restored.baseline == trained.baseline
    archs = trained.sample(8)
    assert restored.sample(8) == archs  # the same generator state and weights
    np.testing.assert_allclose(restored.log_probs(archs), trained.log_probs(archs), rtol=1e-6)
    # the optimizer's slots too: one more identical update gives identical policies
    trained.update(archs, list(np.linspace(0, 1, 8)))
    restored.update(archs, list(np.linspace(0, 1, 8)))
    np.testing.assert_allclose(restored.log_probs(archs), trained.log_probs(archs), rtol=1e-5)
    other = Controller({"a": ["x", "y"]}, seed=0)
    with pytest.raises(ValueError, match="holds a controller of other choices"):
        other.load(path)


def test_controller_rejects_bad_arguments_with_clear_errors():
    with pytest.raises(ValueError, match="choices must be a non-empty mapping"):
        Controller({})
    with pytest.raises(ValueError, match="candidates must be distinct names"):
        Controller({"a": ["x", "x"]})
    with pytest.raises(ValueError, match="baseline_decay must be a number in"):
        Controller(CHOICES, baseline_decay=1.0)
    controller = Controller(CHOICES)
    with pytest.raises(ValueError, match="'v' is not a candidate of 'a'"):
        controller.update([{"a": "v", "b": "p", "c": "k"}], [1.0])
    with pytest.raises(ValueError, match="1 architectures but 2 rewards"):
        controller.update(controller.sample(1), [1.0, 0.0])


# -- the enas task -------------------------------------------------------------------
def _dense(units=16):
    return {
        "relu": lambda: layers.Dense(units, activation="relu"),
        "tanh": lambda: layers.Dense(units, activation="tanh"),
        "skip": lambda: layers.Identity(),
    }


def _build(hp):
    inputs = keras.Input((64,))
    x = layers.Dense(16, activation="relu", name="stem")(inputs)
    x = choose(hp, "op1", _dense())(x)
    x = choose(hp, "op2", _dense())(x)
    outputs = layers.Dense(10, activation="softmax", name="head")(x)
    model = keras.Model(inputs, outputs)
    model.compile(keras.optimizers.Adam(0.02), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


class _PathLog(keras.callbacks.Callback):
    """Records the path every training batch ran (the MixedOps' fixed
    paths at the end of the batch); `stop_at` raises KeyboardInterrupt at
    the end of that epoch (1-based), as a kill would stop the trial."""

    def __init__(self, log, stop_at=None):
        super().__init__()
        self.log, self.stop_at = log, stop_at

    def on_train_batch_end(self, batch, logs=None):
        self.log.append(tuple(int(op.fixed_path.numpy()) for op in mixed_ops(self.model).values()))

    def on_epoch_end(self, epoch, logs=None):
        if self.stop_at == epoch + 1:
            raise KeyboardInterrupt


def _tuner(tmp_path, script, callback=None, overwrite=True, enas=None):
    class Space(keras_tuner.HyperModel):
        def build(self, hp):
            return _build(hp)

        def fit(self, hp, model, *args, callbacks=(), **kwargs):
            extra = [] if callback is None else [callback]
            return model.fit(*args, callbacks=list(callbacks) + extra, **kwargs)

    return NasTuner(Space(), strategy=ScriptedStrategy(script, seed=0), objective="val_accuracy",
                    max_trials=len(script), directory=str(tmp_path), project_name="p",
                    overwrite=overwrite, max_consecutive_failed_trials=len(script) + 1,
                    trainers={"enas": enas or EnasTrainer(), "estimate": EstimateTrainer()})


def _results(tuner):
    with open(os.path.join(tuner.project_dir, "results.json")) as f:
        return json.load(f)["trials"]


ENAS = {"task": "enas", "epochs": 3,
        "task_config": {"controller_steps": 10, "architectures": 4, "seed": 3}}


def test_enas_trains_the_supernet_on_the_controllers_paths_and_outputs_architectures(
        tmp_path, digits):
    keras.utils.set_random_seed(0)
    paths = []
    tuner = _tuner(tmp_path, [ENAS, {"task": "estimate", "parent_id": "0"}], _PathLog(paths))
    x, y, xv, yv = digits
    tuner.search(x, y, validation_data=(xv, yv), batch_size=64, verbose=0)
    enas, estimate = _results(tuner)
    assert enas["status"] == "completed", enas.get("message")
    out = enas["outputs"]
    assert out["choices"] == {"op1": ["relu", "tanh", "skip"], "op2": ["relu", "tanh", "skip"]}
    assert out["mode"] == "single" and out["conditional"] is False
    # a path per batch from the controller: never left to in-graph sampling, and many distinct
    assert len(paths) == 3 * 19 and all(min(p) >= 0 for p in paths)
    assert len(set(paths)) >= 5 and out["paths_trained"] == len(set(paths))
    assert len(set(paths[:19])) > 1  # within one epoch too
    archs = out["architectures"]
    assert 1 <= len(archs) <= 4 and len({json.dumps(a, sort_keys=True) for a in archs}) == len(
        archs)
    assert all(set(a) == {"op1", "op2"} and a["op1"] in out["choices"]["op1"] for a in archs)
    assert set(out["probabilities"]) == {"op1", "op2"}
    assert all(sum(p.values()) == pytest.approx(1.0, abs=1e-3)
               for p in out["probabilities"].values())
    assert out["controller_steps"] == 30
    # the marginals after every epoch: distributions over the same choices, moving as it learns
    history = out["probabilities_by_epoch"]
    assert [h["epoch"] for h in history] == [1, 2, 3]
    for h in history:
        assert {c: set(p) for c, p in h["probabilities"].items()} == {
            c: set(v) for c, v in out["choices"].items()}
        assert all(sum(p.values()) == pytest.approx(1.0, abs=1e-3)
                   for p in h["probabilities"].values())
    assert history[0]["probabilities"] != history[-1]["probabilities"]
    curve = enas["curve"]
    assert [c["epoch"] for c in curve] == [1, 2, 3]
    assert all(0 <= c["controller_reward"] <= 1 and c["controller_entropy"] > 0 for c in curve)
    assert enas["metrics"]["val_accuracy"] > 0.2  # above chance (0.1): the supernet learned
    directory = os.path.join(tuner.get_trial_dir("0"), STATE_DIR)
    assert os.listdir(directory) == [FINAL_STATE]
    restored = Controller(out["choices"], seed=0)
    restored.load(os.path.join(directory, FINAL_STATE))
    assert restored.steps == 30
    # the estimate of the default architecture with the supernet's weights
    assert estimate["status"] == "completed", estimate.get("message")
    assert estimate["metrics"]["val_accuracy"] > 0.2


class _KilledAfterTheController(EnasTrainer):
    """Stops the trial (KeyboardInterrupt, as a kill) at the end of epoch
    `stop_at`, after the controller's steps and state of that epoch, before
    the supernet's backup of it: the worst moment for a resume."""

    def __init__(self, stop_at):
        super().__init__()
        self.stop_at = stop_at

    def extra_callbacks(self, context):
        callbacks = super().extra_callbacks(context)
        stop_at = self.stop_at

        class Kill(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch + 1 == stop_at:
                    raise KeyboardInterrupt

        return callbacks[:1] + [Kill()] + callbacks[1:]


def test_a_killed_enas_trial_resumes_with_the_controller_of_its_epoch(tmp_path, digits):
    x, y, xv, yv = digits
    fit = dict(validation_data=(xv, yv), batch_size=64, verbose=0)
    paths = []
    killed = _tuner(tmp_path, [ENAS], _PathLog(paths), enas=_KilledAfterTheController(2))
    with pytest.raises(KeyboardInterrupt):
        killed.search(x, y, **fit)
    directory = os.path.join(tmp_path, "p", "trial_0", STATE_DIR)
    # The controller of epoch 2 was saved, the supernet's backup is epoch 1's.
    assert sorted(os.listdir(directory)) == ["controller-1.npz", "controller-2.npz",
                                             "probabilities-1.json", "probabilities-2.json"]
    with open(os.path.join(directory, "probabilities-1.json")) as f:
        (epoch_1,) = json.load(f)
    resumed = _tuner(tmp_path, [ENAS], _PathLog(paths), overwrite=False)
    resumed.search(x, y, **fit)
    (trial,) = _results(resumed)
    assert trial["status"] == "completed", trial.get("message")
    assert len(paths) == 2 * 19 + 2 * 19  # epochs 1-2, then 2-3 again after the kill
    # 10 steps per epoch: the resumed controller went on from epoch 1's state
    # (from epoch 2's it would have made 40, from scratch 20)
    assert trial["outputs"]["controller_steps"] == 30
    assert [c["epoch"] for c in trial["curve"]] == [1, 2, 3]
    # the probabilities of epoch 1 from before the kill, then epochs 2 and 3 once each
    history = trial["outputs"]["probabilities_by_epoch"]
    assert [h["epoch"] for h in history] == [1, 2, 3] and history[0] == epoch_1
    assert os.listdir(directory) == [FINAL_STATE]


def test_enas_task_options_are_checked(tmp_path, digits):
    bad = [{"task": "enas", "task_config": {"mode": "all"}},
           {"task": "enas", "task_config": {"controller_steps": 0}},
           {"task": "enas", "task_config": {"baseline_decay": 1.5}}]
    tuner = _tuner(tmp_path, bad)
    x, y, xv, yv = digits
    tuner.search(x, y, validation_data=(xv, yv), epochs=1, batch_size=64, verbose=0)
    messages = [t["message"] for t in _results(tuner)]
    assert messages == [
        "enas trains a single-path supernet: mode must be 'single', got 'all'",
        "controller_steps must be an int >= 1, got 0",
        "baseline_decay must be a number in [0, 1), got 1.5",
    ]


def test_enas_is_an_installed_trainer():
    assert plugins.load_trainer("enas") is EnasTrainer
