"""Hard constraints: a violating candidate is measured, never trained, and recorded."""

from __future__ import annotations

import time

import keras
import numpy as np
import pytest

import autokeras_nas
from autokeras_nas.core import Constraint, make_constraints, parse_constraint


def _build(hp):
    model = keras.Sequential([keras.Input((64,)),
                              keras.layers.Dense(hp.Choice("units", [8, 64, 512]), activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


PARAMS = {8: 64 * 8 + 8 + 8 * 10 + 10, 64: 64 * 64 + 64 + 64 * 10 + 10,
          512: 64 * 512 + 512 + 512 * 10 + 10}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(200, 64)).astype("float32"), rng.integers(0, 10, 200)


def test_infeasible_candidates_are_not_trained_and_are_recorded(data, tmp_path):
    x, y = data
    fits = []

    class Count(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            fits.append(self.model.count_params())

    tuner = autokeras_nas.GridSearch(_build, objective="val_accuracy", max_params=6000,
                                     directory=str(tmp_path))
    t0 = time.perf_counter()
    tuner.search(x, y, validation_data=(x, y), epochs=1, verbose=0, callbacks=[Count()])
    results = tuner.oracle.results()
    by_units = {t["values"]["units"]: t for t in results["trials"]}
    assert by_units[512]["status"] == "infeasible"
    assert by_units[512]["message"] == f"infeasible: params {PARAMS[512]:,} > 6,000"
    assert by_units[512]["metrics"] == {} and by_units[512]["curve"] == []
    assert {by_units[u]["status"] for u in (8, 64)} == {"completed"}
    assert sorted(fits) == [PARAMS[8], PARAMS[64]]  # the 512-unit model never trained
    assert results["best_trial_ids"][0] in (by_units[8]["trial_id"], by_units[64]["trial_id"])
    assert by_units[512]["seconds"] < 1.0, by_units[512]["seconds"]
    strategy = tuner.oracle.strategy
    told = {o.trial_id: o for o in strategy.history}
    assert told[by_units[512]["trial_id"]].status.value == "failed"
    assert time.perf_counter() - t0 < 60


def test_size_and_latency_constraints_and_an_impossible_one(data, tmp_path):
    x, y = data
    tuner = autokeras_nas.RandomSearch(_build, objective="val_accuracy", max_trials=3, seed=0,
                                       constraints=["model_kb<=1", "latency_ms<=1000"],
                                       directory=str(tmp_path), project_name="kb")
    tuner.search(x, y, validation_data=(x, y), epochs=1, verbose=0)  # 3 trials, none feasible
    trials = tuner.oracle.results()["trials"]
    assert [t["status"] for t in trials] == ["infeasible"] * 3
    assert all(t["message"].startswith("infeasible: model_kb ") for t in trials)

    def wide(hp):
        model = keras.Sequential([keras.Input((64,)),
                                  keras.layers.Dense(hp.Int("units", 8, 512), activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])
        model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    impossible = autokeras_nas.RandomSearch(wide, objective="val_accuracy", max_trials=30, seed=0,
                                            max_params=5, directory=str(tmp_path),
                                            project_name="none")
    with pytest.raises(RuntimeError, match="no feasible model in the first 20 trials "
                                           r"\(the last: infeasible: params [0-9,]+ > 5\); "
                                           "the space may hold none"):
        impossible.search(x, y, validation_data=(x, y), epochs=1, verbose=0)
    assert len(impossible.oracle.results()["trials"]) == 20


def test_a_tflite_latency_constraint_converts_and_times_the_candidate(data, tmp_path):
    x, y = data
    tuner = autokeras_nas.GridSearch(_build, objective="val_accuracy", directory=str(tmp_path),
                                     constraints=["tflite_latency_ms<=0.000001"])
    tuner.search(x, y, validation_data=(x, y), epochs=1, verbose=0)
    messages = [t["message"] for t in tuner.oracle.results()["trials"]]
    assert len(messages) == 3
    assert all(m.startswith("infeasible: tflite_latency_ms ") and m.endswith("> 1e-06")
               for m in messages), messages


def test_parsing_constraints_gives_one_line_errors():
    assert parse_constraint("params<=200000") == Constraint("params", 200000)
    assert parse_constraint(" latency_ms < 2.5 ") == Constraint("latency_ms", 2.5)
    assert make_constraints(["params<=10", "params<=5"], max_model_kb=3) == (
        Constraint("params", 5), Constraint("model_kb", 3))
    for bad, message in (("flops<=3", "cannot constrain 'flops'"),
                         ("params>=3", "is not METRIC<=NUMBER"),
                         ("params<=0", "must be a positive number")):
        with pytest.raises(ValueError, match=message):
            parse_constraint(bad)
    with pytest.raises(ValueError, match="cannot constrain"):
        autokeras_nas.RandomSearch(_build, constraints=["flops<=1"])
