"""`NasTuner(time_budget=...)`: a wall-clock budget for the whole search."""

import json
import os
import time

import keras
import pytest

from autokeras_nas.testing.driver import ScriptedStrategy
from autokeras_nas.tuner import NasTuner
from autokeras_nas.tuner.budget import SearchBudget, TrainingTimeStop, check_budget

pytestmark = pytest.mark.tf


def _slow_epochs(seconds: float) -> keras.callbacks.Callback:
    """Makes every epoch last at least `seconds` (deterministic budgets)."""
    return keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: time.sleep(seconds))


def _tuner(tmp_path, build_model, budget, max_trials=5, overwrite=True):
    return NasTuner(build_model, strategy="random", objective="val_accuracy",
                    max_trials=max_trials, time_budget=budget, directory=str(tmp_path),
                    project_name="p", overwrite=overwrite)


def _search(tuner, digits, epochs, sleep):
    x, y, xv, yv = digits
    t0 = time.monotonic()
    tuner.search(x, y, validation_data=(xv, yv), epochs=epochs, batch_size=64, verbose=0,
                 callbacks=[_slow_epochs(sleep)])
    return time.monotonic() - t0


def _trials(tmp_path):
    with open(os.path.join(tmp_path, "p", "results.json")) as f:
        return json.load(f)


def test_the_running_trial_stops_at_an_epoch_end_and_no_other_starts(tmp_path, digits,
                                                                      build_model):
    tuner = _tuner(tmp_path, build_model, budget=1.0)
    elapsed = _search(tuner, digits, epochs=50, sleep=0.3)
    results = _trials(tmp_path)
    (trial,) = results["trials"]
    assert trial["status"] == "stopped" and trial["stopped_early"] is True
    assert trial["metrics"]["stopped_by_budget"] == 1.0
    assert 1 <= trial["epochs"] < 50 and len(trial["curve"]) == trial["epochs"]
    assert "val_accuracy" in trial["metrics"]
    assert results["best_trial_ids"] == [trial["trial_id"]]
    assert tuner.budget.exhausted
    assert elapsed < 1.0 + 20  # one epoch past the budget, plus measuring and saving
    (model,) = tuner.get_best_models(1)
    assert model.count_params() == trial["metrics"]["params"]


def test_a_trial_that_ends_within_its_epochs_is_completed_and_then_the_search_ends(
        tmp_path, digits, build_model):
    tuner = _tuner(tmp_path, build_model, budget=0.5)
    _search(tuner, digits, epochs=1, sleep=0.6)
    (trial,) = _trials(tmp_path)["trials"]
    assert trial["status"] == "completed" and "stopped_by_budget" not in trial["metrics"]


def test_a_resumed_search_gets_the_budget_again(tmp_path, digits, build_model):
    _search(_tuner(tmp_path, build_model, budget=0.5), digits, epochs=1, sleep=0.6)
    assert len(_trials(tmp_path)["trials"]) == 1
    resumed = _tuner(tmp_path, build_model, budget=0.5, overwrite=False)
    _search(resumed, digits, epochs=1, sleep=0.6)
    trials = _trials(tmp_path)["trials"]
    assert [t["trial_id"] for t in trials] == ["0", "1"]
    assert all(t["status"] == "completed" for t in trials)


def test_without_a_budget_max_trials_decides(tmp_path, digits, build_model):
    tuner = _tuner(tmp_path, build_model, budget=None, max_trials=2)
    _search(tuner, digits, epochs=1, sleep=0.0)
    assert len(_trials(tmp_path)["trials"]) == 2 and not tuner.budget.exhausted


def test_a_trials_share_of_the_budget_ends_it_before_an_epoch_that_would_pass_it(
        tmp_path, digits, build_model):
    """task_config time_budget_s (a one-shot strategy's retrains): the
    epochs are a ceiling; the trial stops at the end of the last epoch after
    which one more as long would pass its share; a bad share fails the trial."""
    script = [{"epochs": 30, "task_config": {"time_budget_s": 1.2}},
              {"epochs": 2, "task_config": {"time_budget_s": 60}},
              {"epochs": 2, "task_config": {"time_budget_s": -1}}]
    tuner = NasTuner(build_model, strategy=ScriptedStrategy(script, seed=0),
                     objective="val_accuracy", max_trials=3, directory=str(tmp_path),
                     project_name="p")
    _search(tuner, digits, epochs=30, sleep=0.25)
    shared, ample, bad = _trials(tmp_path)["trials"]
    assert shared["status"] == "stopped" and shared["stopped_early"] is True
    assert "stopped_by_budget" not in shared["metrics"]  # its share, not the search's budget
    assert 1 <= shared["epochs"] < 30  # 30 epochs take over 7 s
    assert ample["status"] == "completed" and ample["epochs"] == 2
    assert bad["status"] == "failed"
    assert bad["message"] == "time_budget_s must be a positive number, got -1"


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "3m", True])
def test_time_budget_is_validated(tmp_path, build_model, bad):
    with pytest.raises(ValueError, match="time_budget must be None or positive seconds"):
        _tuner(tmp_path, build_model, budget=bad)


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize("ahead, prior, epochs, expected", [
    (False, 0.0, [3, 3, 3, 3], 4),  # 12 s: stops in the epoch that passes 10
    (True, 0.0, [3, 3, 3, 3], 3),   # 9 s, and 3 more would pass 10
    (True, 0.0, [4, 3, 3], 2),      # the first epoch's tracing: 7 + 3 = 10
    (True, 0.0, [12], 1),           # always one epoch
    (True, 5.0, [2, 2, 2], 2),      # a resumed trial's seconds count
])
def test_training_time_stop(monkeypatch, ahead, prior, epochs, expected):
    clock = _Clock()
    monkeypatch.setattr(time, "perf_counter", clock)
    stop = TrainingTimeStop(10.0, prior, ahead=ahead)
    stop.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    stop.model.stop_training = False
    stop.on_train_begin()
    ran = 0
    for epoch, seconds in enumerate(epochs):
        stop.on_epoch_begin(epoch)
        clock.now += seconds
        stop.on_epoch_end(epoch)
        ran += 1
        if stop.model.stop_training:
            break
    assert ran == expected


def test_search_budget_clock():
    budget = SearchBudget(0.05)
    assert not budget.exhausted and budget.elapsed == 0.0  # not started
    budget.start()
    assert not budget.exhausted
    time.sleep(0.06)
    assert budget.exhausted and budget.elapsed >= 0.05
    assert not SearchBudget(None).exhausted and check_budget(2) == 2.0
