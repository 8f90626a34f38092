"""The fixed cost of a trial: the per-phase measurement of a real digits search,
and the cut it led to (a trial's training state is created before `fit`, so
its training step is traced once instead of twice, with the same result)."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from autokeras_nas.bench import trial_overhead
from autokeras_nas.results import read_results
from autokeras_nas.tuner.trainers.weights import (
    build_training_state,
    copy_weights_file,
    save_weights_atomic,
)

pytestmark = pytest.mark.tf


def test_two_trial_digits_breakdown(tmp_path) -> None:
    result = trial_overhead.trial_overhead("digits", 2, directory=str(tmp_path))
    assert len(result.trials) == 2
    for name in ("build", "compile", "training state", "fit", "fit: first-step trace", "latency",
                 "checkpoint weights", "files: oracle.json", "files: results.json",
                 "gc.collect", "total"):
        wall, cpu, calls = result.phase(name)
        assert wall > 0 and calls >= 1, name
    total = result.phase("total")[0]
    outside = result.outside_fit()[0]
    assert 0 < outside < total
    # The phases and "other" add up to each trial's total.
    for trial in result.trials:
        parts = sum(v[0] for k, v in trial.items() if k != "total")
        assert parts == pytest.approx(trial["total"][0], rel=1e-6)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["trials"] == 2 and set(trial_overhead.PHASES) < set(data["per_trial"])
    assert "total outside fit" in trial_overhead.format_breakdown(result)
    # The search itself is a normal one: latency still measured, and positive.
    records = read_results(os.path.join(str(tmp_path), "overhead"))["trials"]
    assert [r["status"] for r in records] == ["completed", "completed"]
    assert all(r["metrics"]["latency_ms"] > 0 for r in records)
    # The timers were removed.
    assert "fit" not in vars(keras.Model) and "compile" not in vars(keras.Model)


def test_bad_arguments_exit_with_one_line(capsys) -> None:
    assert trial_overhead.main(["--trials", "0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("Error: trials") and "\n" not in err


def _model(hidden: int = 16) -> keras.Model:
    model = keras.Sequential([
        keras.Input((64,)),
        keras.layers.Dense(hidden, activation="relu", name="hidden"),
        keras.layers.BatchNormalization(name="norm"),
        keras.layers.Dropout(0.3, name="drop"),
        keras.layers.Dense(10, activation="softmax", name="out"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _fit(digits, prepare: bool, data: str) -> tuple[int, list[np.ndarray], dict]:
    """Fits a fresh seeded model; returns (training-step traces, weights, history)."""
    x, y, xv, yv = digits
    keras.utils.set_random_seed(3)
    model = _model()
    traces = []
    step = model.train_step
    model.train_step = lambda *a, **k: traces.append(1) or step(*a, **k)
    if data == "dataset":
        args = (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(2000, seed=1).batch(32),)
        kwargs = {"validation_data": tf.data.Dataset.from_tensor_slices((xv, yv)).batch(32),
                  "shuffle": False}
    else:
        args, kwargs = (x, y), {"batch_size": 32, "validation_data": (xv, yv)}
    if prepare:
        assert build_training_state(model, args, kwargs)
    history = model.fit(*args, epochs=2, verbose=0, **kwargs).history
    return len(traces), [w.copy() for w in model.get_weights()], history


@pytest.mark.parametrize("data", ["dataset", "arrays"])
def test_prepared_model_traces_its_step_once_and_trains_the_same(digits, data) -> None:
    plain_traces, plain_weights, plain_history = _fit(digits, False, data)
    traces, weights, history = _fit(digits, True, data)
    assert plain_traces == 2  # TensorFlow retraces a step that created variables
    assert traces == 1
    assert all(np.array_equal(a, b) for a, b in zip(plain_weights, weights))
    assert history == plain_history


def test_models_and_data_left_to_fit(digits) -> None:
    x, y = digits[0], digits[1]
    unbuilt = keras.Sequential([keras.layers.Dense(10, activation="softmax")])
    unbuilt.compile("adam", "sparse_categorical_crossentropy")
    assert not build_training_state(unbuilt, (x, y), {})
    assert not unbuilt.built
    uncompiled = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10)])
    assert not build_training_state(uncompiled, (x, y), {})
    model = _model()
    unlabelled = tf.data.Dataset.from_tensor_slices(x).batch(32)
    assert not build_training_state(model, (unlabelled,), {})
    assert not build_training_state(model, ((b for b in [x]),), {})
    assert not model.optimizer.built
    assert build_training_state(model, (), {"x": x, "y": y})
    assert model.optimizer.built


def test_copy_weights_file_is_atomic_and_independent_of_its_source(tmp_path) -> None:
    model = _model()
    source, copy = str(tmp_path / "a.weights.h5"), str(tmp_path / "b.weights.h5")
    save_weights_atomic(model, source)
    before = [w.copy() for w in model.get_weights()]
    copy_weights_file(source, copy)
    # The source replaced later (as checkpoints are) leaves the copy as it was.
    model.get_layer("out").set_weights([w + 1 for w in model.get_layer("out").get_weights()])
    save_weights_atomic(model, source)
    fresh = _model()
    fresh.load_weights(copy)
    assert all(np.array_equal(a, b) for a, b in zip(before, fresh.get_weights()))
    # A missing source raises and leaves the old copy and no temporary file.
    with pytest.raises(OSError):
        copy_weights_file(str(tmp_path / "missing.weights.h5"), copy)
    assert sorted(os.listdir(tmp_path)) == ["a.weights.h5", "b.weights.h5"]
    fresh.load_weights(copy)
    assert all(np.array_equal(a, b) for a, b in zip(before, fresh.get_weights()))
