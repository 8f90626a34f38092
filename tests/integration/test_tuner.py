"""The oracle layer and NasTuner on tiny real Keras models."""

import json
import os
import threading
import time

import keras
import keras_tuner
import pytest

import autokeras_nas
from autokeras_nas.core import BaseStrategy, Suggestion, non_dominated_sort
from autokeras_nas.tuner import NasTuner

pytestmark = pytest.mark.tf


def _results(tuner):
    with open(os.path.join(tuner.project_dir, "results.json")) as f:
        return json.load(f)


def _search(tuner, digits, epochs=1):
    x, y, xv, yv = digits
    tuner.search(x, y, validation_data=(xv, yv), epochs=epochs, batch_size=64, verbose=0)


def test_keras_io_build_model_runs_unchanged_with_random_search(tmp_path, digits, build_model):
    tuner = autokeras_nas.RandomSearch(
        build_model, objective="val_accuracy", max_trials=3, seed=3,
        directory=str(tmp_path), project_name="p",
    )
    _search(tuner, digits, epochs=2)
    (model,) = tuner.get_best_models(1)
    x, y, xv, yv = digits
    _, acc = model.evaluate(xv, yv, verbose=0)
    best = tuner.oracle.get_best_trials(1)[0]
    assert acc == pytest.approx(best.metrics.get_last_value("val_accuracy"), abs=1e-4)
    assert acc > 0.5  # well above chance (0.1) after 2 epochs
    tuner.search_space_summary()
    tuner.results_summary(2)  # KerasTuner's own reports keep working
    hp = tuner.get_best_hyperparameters(1)[0]
    assert {"num_layers", "units_0", "activation", "dropout", "lr"} <= set(hp.values)

    results = _results(tuner)
    assert [t["status"] for t in results["trials"]] == ["completed"] * 3
    for t in results["trials"]:
        m = t["metrics"]
        assert m["train_time_s"] > 0 and m["params"] > 0 and m["latency_ms"] > 0
        assert m["epochs"] == 2 and t["epochs"] == 2 and t["stopped_early"] is False
        assert [c["epoch"] for c in t["curve"]] == [1, 2]
        assert all(type(v) in (bool, int, float, str) for v in t["values"].values())
    assert results["best_trial_ids"][0] == best.trial_id
    vals = [t["metrics"]["val_accuracy"] for t in results["trials"]]
    ranked = [next(t for t in results["trials"] if t["trial_id"] == i)["metrics"]["val_accuracy"]
              for i in results["best_trial_ids"]]
    assert ranked == sorted(vals, reverse=True)


def test_trial_values_are_complete_python_scalars(tmp_path, digits, build_model):
    tuner = autokeras_nas.RandomSearch(build_model, objective="val_accuracy", max_trials=4,
                                       seed=0, directory=str(tmp_path), project_name="p")
    _search(tuner, digits)
    for trial in tuner.oracle.trials.values():
        values = trial.hyperparameters.values
        n = values["num_layers"]
        # exactly what the space's active params are: KerasTuner filled nothing
        assert {f"units_{i}" for i in range(n)} <= set(values)
        assert all(type(v) in (bool, int, float, str) for v in values.values())


def test_asha_stop_stops_trials_exactly_where_the_rule_says(tmp_path, digits, build_model):
    tuner = autokeras_nas.RandomSearch(
        build_model, objective="val_accuracy", max_trials=7, seed=1,
        early_stopping="asha-stop", directory=str(tmp_path), project_name="p",
    )
    _search(tuner, digits, epochs=9)
    trials = _results(tuner)["trials"]
    # Replay the recorded curves through a fresh rule, in the order they ran.
    replay = autokeras_nas.StoppingASHA(eta=3)
    for t in trials:
        expected = 9
        for point in t["curve"]:
            if not replay.report(t["trial_id"], point["epoch"], point["val_accuracy"]):
                expected = point["epoch"]
                break
        assert t["epochs"] == expected, t["trial_id"]
        assert len(t["curve"]) == t["epochs"]
        assert t["stopped_early"] == (t["epochs"] < 9)
        assert t["status"] == ("stopped" if t["epochs"] < 9 else "completed")
    epochs = [t["epochs"] for t in trials]
    assert min(epochs) == 1 and max(epochs) == 9


def test_multi_objective_best_trials_are_pareto_ranked(tmp_path, digits, build_model):
    tuner = NasTuner(
        build_model, strategy="random",
        objective=[keras_tuner.Objective("val_accuracy", "max"), "params:min"],
        max_trials=6, directory=str(tmp_path), project_name="p",
    )
    _search(tuner, digits)
    trials = _results(tuner)["trials"]
    points = [(t["metrics"]["val_accuracy"], -t["metrics"]["params"]) for t in trials]
    front = {trials[i]["trial_id"] for i in non_dominated_sort(points)[0]}
    best = [t.trial_id for t in tuner.oracle.get_best_trials(len(trials))]
    assert set(best[: len(front)]) == front
    assert _results(tuner)["best_trial_ids"] == best


def test_resume_continues_with_the_saved_strategy_state(tmp_path, digits, build_model):
    def tuner(directory, max_trials, overwrite=True):
        return autokeras_nas.RandomSearch(build_model, objective="val_accuracy",
                                          max_trials=max_trials, seed=11, overwrite=overwrite,
                                          directory=str(directory), project_name="p")

    straight = tuner(tmp_path / "a", 4)
    _search(straight, digits)
    first = tuner(tmp_path / "b", 2)
    _search(first, digits)
    resumed = tuner(tmp_path / "b", 4, overwrite=False)  # a new process would do the same
    _search(resumed, digits)
    values = lambda t: [x["values"] for x in _results(t)["trials"]]
    assert len(values(resumed)) == 4
    assert values(resumed) == values(straight)


class _WaitOnce(BaseStrategy):
    """Waits while a trial started elsewhere runs; then proposes its default."""

    name = "wait-once"

    def __init__(self, other_done, **kw):
        super().__init__(**kw)
        self.other_done = other_done

    def propose(self, trial_id):
        if trial_id != "0" and not self.other_done.is_set():
            return Suggestion.wait()
        return Suggestion.run(self.space.complete({"lr": 1e-3 * (1 + int(trial_id))}))


class _SleepRecorder:
    """Stands in for the `time` module of `autokeras_nas.tuner.parallel`:
    records each sleep instead of sleeping, runs `on_sleep(n)` after the
    n-th, and passes every other attribute to `time`."""

    def __init__(self, on_sleep) -> None:
        self.sleeps: list[float] = []
        self.on_sleep = on_sleep

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.on_sleep(len(self.sleeps))

    def __getattr__(self, name):
        return getattr(time, name)


def test_waiting_strategy_does_not_busy_loop(tmp_path, digits, monkeypatch):
    from autokeras_nas.tuner import parallel

    def build(hp):
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])
        model.compile(keras.optimizers.Adam(hp.Float("lr", 1e-4, 1e-1, sampling="log")),
                      "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    done = threading.Event()
    tuner = NasTuner(build, strategy=_WaitOnce(done, seed=0), objective="val_accuracy",
                     max_trials=2, directory=str(tmp_path), project_name="p")
    oracle = tuner.oracle
    other = oracle.create_trial("other-worker")  # a trial running on another worker
    answers = []
    inner = oracle.populate_space

    def populate_space(trial_id):
        if len(answers) >= 20:
            raise AssertionError("20 requests for a trial without the expected back-off")
        out = inner(trial_id)
        answers.append(out["status"])
        return out

    oracle.populate_space = populate_space

    def finish_other(n_sleeps):
        if n_sleeps == 4:  # the other worker's trial ends after the 4th back-off
            oracle.update_trial(other.trial_id, {"val_accuracy": 0.5})
            other.status = "COMPLETED"
            oracle.end_trial(other)
            done.set()

    recorder = _SleepRecorder(finish_other)
    monkeypatch.setattr(parallel, "time", recorder)
    _search(tuner, digits)
    assert len(oracle.trials) == 2
    # Every IDLE answer is followed by a sleep, doubling from 50 ms: no busy loop.
    assert answers == ["IDLE"] * 4 + ["RUNNING"]
    assert recorder.sleeps == pytest.approx([0.05, 0.1, 0.2, 0.4])


def test_strategy_waiting_with_nothing_running_is_an_error(tmp_path, digits, build_model):
    never = threading.Event()
    tuner = NasTuner(build_model, strategy=_WaitOnce(never, seed=0), objective="val_accuracy",
                     max_trials=3, directory=str(tmp_path), project_name="p")
    with pytest.raises(RuntimeError, match="waits for results, but no trial is running"):
        _search(tuner, digits)


def test_nan_loss_fails_the_trial_with_its_reason_and_search_goes_on(tmp_path, digits):
    def nan_loss(y_true, y_pred):
        return keras.ops.mean(y_pred) * float("nan")

    def build(hp):
        loss = hp.Choice("loss", ["good", "nan"])
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy" if loss == "good" else nan_loss,
                      metrics=["accuracy"])
        return model

    tuner = NasTuner(build, strategy="random", objective="val_accuracy", max_trials=2,
                     directory=str(tmp_path), project_name="p")
    _search(tuner, digits, epochs=3)
    trials = {t["values"]["loss"]: t for t in _results(tuner)["trials"]}
    assert trials["nan"]["status"] == "failed"
    assert "non-finite loss (nan) at epoch 1" in trials["nan"]["message"]
    assert len(trials["nan"]["curve"]) == 0  # stopped at once, nothing reported
    assert trials["good"]["status"] == "completed"


class _ChildOfFirst(BaseStrategy):
    name = "child-of-first"

    def propose(self, trial_id):
        values = self.space.complete({})
        if trial_id == "0":
            return Suggestion.run(values)
        return Suggestion.run(dict(values, units=64 if trial_id == "1" else 32),
                              parent_id="0", notes={"op": "copy"})


def test_child_inherits_matching_parent_weights(tmp_path, digits):
    def build(hp):
        inputs = keras.Input((64,))
        h = keras.layers.Dense(32, activation="relu", name="hidden")(inputs)
        h = keras.layers.Dense(hp.Choice("units", [32, 64]), activation="relu", name="extra")(h)
        outputs = keras.layers.Dense(10, activation="softmax", name="out")(h)
        model = keras.Model(inputs, outputs)
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    tuner = NasTuner(build, strategy=_ChildOfFirst(seed=0), objective="val_accuracy",
                     max_trials=3, directory=str(tmp_path), project_name="p")
    x, y, xv, yv = digits
    tuner.search(x, y, validation_data=(xv, yv), epochs=1, verbose=0)
    trials = _results(tuner)["trials"]
    assert trials[1]["parent_id"] == "0" and trials[1]["notes"] == {"op": "copy"}
    # units=64 changes "extra" and "out" shapes: only "hidden" matches
    assert trials[1]["metrics"]["inherited_layers"] == 1
    assert trials[2]["metrics"]["inherited_layers"] == 3  # same architecture
    # the inheriting child starts where its parent ended: far above chance
    assert trials[2]["curve"][0]["val_accuracy"] >= trials[0]["curve"][0]["val_accuracy"] - 0.05


def test_distribution_strategy_is_passed_through_to_build_and_fit(tmp_path, digits):
    import tensorflow as tf

    mirrored = tf.distribute.MirroredStrategy(["/cpu:0"])
    seen = []

    def build(hp):
        seen.append(tf.distribute.get_strategy())
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(hp.Choice("u", [8, 16])),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    tuner = NasTuner(build, strategy="random", objective="val_accuracy", max_trials=2,
                     distribution_strategy=mirrored, directory=str(tmp_path), project_name="p")
    seen.clear()  # builds while discovering the space run outside the strategy
    _search(tuner, digits)
    assert len(seen) == 2 and all(s is mirrored for s in seen)
    assert [t["status"] for t in _results(tuner)["trials"]] == ["completed"] * 2


def test_a_model_that_fails_to_build_is_a_failed_trial_with_its_reason(tmp_path, digits):
    def build(hp):
        width = hp.Choice("width", [16, -1])
        if width < 0:
            raise ValueError("negative width is not a layer")
        model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(width),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    tuner = NasTuner(build, strategy="random", objective="val_accuracy", max_trials=2,
                     directory=str(tmp_path), project_name="p")
    _search(tuner, digits)
    trials = {t["values"]["width"]: t for t in _results(tuner)["trials"]}
    assert trials[-1]["status"] == "failed"
    assert trials[-1]["message"] == "ValueError: negative width is not a layer"
    assert trials[16]["status"] == "completed"
    # the strategy was told of the failure too
    told = {o.trial_id: o.status.value for o in tuner.oracle.strategy.history}
    assert sorted(told.values()) == ["completed", "failed"]


def test_executions_per_trial_average_metrics_and_keep_the_best_weights(tmp_path, digits, build_model):
    tuner = autokeras_nas.RandomSearch(build_model, objective="val_accuracy", max_trials=1, seed=5,
                                       executions_per_trial=2, directory=str(tmp_path),
                                       project_name="p")
    _search(tuner, digits, epochs=2)
    (trial,) = _results(tuner)["trials"]
    mean_best = trial["metrics"]["val_accuracy"]
    (model,) = tuner.get_best_models(1)
    _, acc = model.evaluate(digits[2], digits[3], verbose=0)
    assert acc >= mean_best - 1e-6  # the better execution's best epoch was kept
    assert trial["metrics"]["epochs"] == 2


class _ProposesNothing(BaseStrategy):
    name = "proposes-nothing"
    allow_repeats = True

    def propose(self, trial_id):
        return Suggestion.run({})


def test_values_a_strategy_leaves_out_are_defaults_not_keras_tuner_random(tmp_path, digits, build_model):
    tuner = NasTuner(build_model, strategy=_ProposesNothing(seed=0), objective="val_accuracy",
                     max_trials=3, directory=str(tmp_path), project_name="p")
    _search(tuner, digits)
    defaults = {"num_layers": 1, "units_0": 32, "activation": "relu", "dropout": False, "lr": 1e-4}
    for trial in tuner.oracle.trials.values():
        values = {k: v for k, v in trial.hyperparameters.values.items() if k in defaults}
        assert values == defaults


def test_trial_that_hits_the_failure_limit_is_still_recorded(tmp_path, digits):
    calls = []

    def hypermodel(hp):
        hp.Choice("width", [16, 32])
        calls.append(1)
        if len(calls) == 1:  # KerasTuner builds once to discover the space
            return keras.Sequential([keras.Input((64,)), keras.layers.Dense(10)])
        raise ValueError("this model never builds")

    tuner = NasTuner(hypermodel, strategy="random", objective="val_accuracy", max_trials=3,
                     max_consecutive_failed_trials=1, directory=str(tmp_path), project_name="p")
    with pytest.raises(RuntimeError, match="consecutive failures"):
        _search(tuner, digits)
    (trial,) = _results(tuner)["trials"]
    assert trial["status"] == "failed"
    assert trial["message"] == "ValueError: this model never builds"
    with open(os.path.join(tuner.project_dir, "trial_0", "trial.json")) as f:
        assert json.load(f)["status"] == "FAILED"
