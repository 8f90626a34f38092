"""Failed trials on tiny real models: recorded with their reason, counted, and
the search goes on (or stops at `max_consecutive_failed_trials`)."""

import json
import os
import time

import keras
import keras_tuner
import pytest
import tensorflow as tf

from autokeras_nas.tuner import NasTuner
from autokeras_nas.testing.forkserver import ForkServer

pytestmark = pytest.mark.tf


def _results(tuner):
    with open(os.path.join(tuner.project_dir, "results.json")) as f:
        return json.load(f)


def _dense(units=10, loss="sparse_categorical_crossentropy"):
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(units, activation="softmax")])
    model.compile("adam", loss, metrics=["accuracy"])
    return model


def _nan_loss(y_true, y_pred):
    return keras.ops.mean(y_pred) * float("nan")


class _Refuses(keras.layers.Layer):
    def call(self, x):
        raise ValueError("this layer refuses its input\n  (a second line of the message)")


def test_build_failure_and_nan_loss_fail_with_their_reason_and_the_search_goes_on(tmp_path, digits):
    def build(hp):
        kind = hp.Choice("kind", ["ok", "no-build", "nan", "layer"])
        if kind == "no-build":
            raise ValueError("this layer stack does not fit together")
        if kind == "layer":  # Keras wraps the error in a message of many lines
            keras.Sequential([keras.Input((64,)), _Refuses(name="refuses")])
        return _dense(loss=_nan_loss if kind == "nan" else "sparse_categorical_crossentropy")

    tuner = NasTuner(build, strategy="random", objective="val_accuracy", max_trials=4,
                     max_consecutive_failed_trials=4, directory=str(tmp_path), project_name="p")
    x, y, xv, yv = digits
    tuner.search(x, y, validation_data=(xv, yv), epochs=2, batch_size=64, verbose=0)
    trials = {t["values"]["kind"]: t for t in _results(tuner)["trials"]}
    assert trials["ok"]["status"] == "completed"
    assert trials["no-build"]["status"] == "failed"
    assert trials["no-build"]["message"] == "ValueError: this layer stack does not fit together"
    assert trials["nan"]["status"] == "failed"
    assert trials["nan"]["message"] == "non-finite loss (nan) at epoch 1"
    # the error, not the last line of Keras' account of the layer's arguments
    assert trials["layer"]["message"] == ("ValueError: this layer refuses its input "
                                          "(in _Refuses.call())"), trials["layer"]["message"]
    told = sorted(o.status.value for o in tuner.oracle.strategy.history)
    assert told == ["completed", "failed", "failed", "failed"]


def test_the_reason_is_the_exception_line_of_the_last_traceback() -> None:
    from autokeras_nas.tuner.oracle import failure_reason

    chained = ("Traceback (most recent call last):\n  File \"a.py\", line 1, in f\n    g()\n"
               "KeyError: 'x'\n\nDuring handling of the above exception, another exception "
               "occurred:\n\nTraceback (most recent call last):\n  File \"a.py\", line 3, in h\n"
               "    raise ValueError('bad shape\\nexpected (8,)')\n"
               "ValueError: bad shape\nexpected (8,)\n")
    assert failure_reason(chained) == "ValueError: bad shape"
    assert failure_reason("Traceback (most recent call last):\n  File \"a.py\", line 1\n"
                          "RuntimeError: \nthe reason on the next line\n") == \
        "RuntimeError: the reason on the next line"
    assert failure_reason("Traceback (most recent call last):\n  File \"a.py\", line 1\n"
                          "autokeras_nas.tuner.failures.FailedTrialError: timeout after 5s\n") == \
        "timeout after 5s"
    assert failure_reason("no traceback\nits last line") == "its last line"
    assert failure_reason(None) == "" and failure_reason("") == ""


class _RunsOutOfMemory(keras_tuner.HyperModel):
    """A real small model whose `fit` raises TensorFlow's out-of-memory error
    for batches larger than `limit`, as a GPU would."""

    def __init__(self, limit):
        super().__init__()
        self.limit = limit
        self.sizes = []

    def build(self, hp):
        return _dense(hp.Choice("units", [10]))

    def fit(self, hp, model, x, *args, **kwargs):
        if isinstance(x, tf.data.Dataset):
            size = int(next(iter(x))[0].shape[0])
        else:
            size = kwargs.get("batch_size", 32)
        self.sizes.append(size)
        if size > self.limit:
            raise tf.errors.ResourceExhaustedError(None, None, f"OOM when allocating [{size},64]")
        return model.fit(x, *args, **kwargs)


@pytest.mark.parametrize("data", ["arrays", "dataset"])
def test_out_of_memory_is_retried_with_half_the_batch_size(tmp_path, digits, data):
    x, y, xv, yv = digits
    hypermodel = _RunsOutOfMemory(limit=40)
    tuner = NasTuner(hypermodel, strategy="random", objective="val_accuracy", max_trials=1,
                     directory=str(tmp_path), project_name="p")
    if data == "arrays":
        tuner.search(x, y, validation_data=(xv, yv), epochs=1, batch_size=64, verbose=0)
    else:
        train = tf.data.Dataset.from_tensor_slices((x, y)).batch(64)
        val = tf.data.Dataset.from_tensor_slices((xv, yv)).batch(64)
        tuner.search(train, validation_data=val, epochs=1, verbose=0)
    assert hypermodel.sizes == [64, 32]
    (trial,) = _results(tuner)["trials"]
    assert trial["status"] == "completed"
    assert trial["outputs"]["batch_size"] == 32 and "batch_size" not in trial["metrics"]
    assert trial["metrics"]["epochs"] == 1 and "val_accuracy" in trial["metrics"]


def test_out_of_memory_again_fails_the_trial_with_the_reason(tmp_path, digits):
    x, y, xv, yv = digits
    hypermodel = _RunsOutOfMemory(limit=10)
    tuner = NasTuner(hypermodel, strategy="random", objective="val_accuracy", max_trials=1,
                     directory=str(tmp_path), project_name="p")
    tuner.search(x, y, validation_data=(xv, yv), epochs=1, batch_size=64, verbose=0)
    assert hypermodel.sizes == [64, 32]  # one retry (oom_retries=1), then failed
    (trial,) = _results(tuner)["trials"]
    assert trial["status"] == "failed"
    assert trial["message"] == ("out of memory at batch size 32 "
                                "(ResourceExhaustedError: OOM when allocating [32,64])")


class _SlowBatches(keras.callbacks.Callback):
    def __init__(self, seconds):
        super().__init__()
        self.seconds = seconds
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        time.sleep(self.seconds)


def test_a_trial_over_the_time_limit_stops_at_the_next_batch_and_fails(tmp_path, digits):
    slow = _SlowBatches(1.0)

    class Slow(keras_tuner.HyperModel):
        def build(self, hp):
            hp.Choice("speed", ["slow", "fast"])
            return _dense()

        def fit(self, hp, model, *args, callbacks=(), **kwargs):
            extra = [slow] if hp.values["speed"] == "slow" else []
            return model.fit(*args, callbacks=list(callbacks) + extra, **kwargs)

    tuner = NasTuner(Slow(), strategy="random", objective="val_accuracy", max_trials=2,
                     trial_timeout=8, directory=str(tmp_path), project_name="p")
    x, y, xv, yv = digits
    tuner.search(x, y, validation_data=(xv, yv), epochs=3, batch_size=64, verbose=0)
    trials = {t["values"]["speed"]: t for t in _results(tuner)["trials"]}
    assert trials["slow"]["status"] == "failed"
    assert trials["slow"]["message"] == "timeout after 8s"
    # 3 epochs of 19 one-second batches would take 57 s: stopped after about 8 s, inside the
    # first epoch (how many batches fit in 8 s depends on the machine's load: no exact bound)
    assert 2 <= slow.batches < 19
    assert trials["fast"]["status"] == "completed"
    with pytest.raises(ValueError, match="trial_timeout must be None or positive seconds"):
        NasTuner(Slow(), strategy="random", trial_timeout=0, directory=str(tmp_path),
                 project_name="q")


def test_the_search_stops_after_max_consecutive_failed_trials(tmp_path, digits):
    builds = []

    def build(hp):
        hp.Int("units", 8, 64)
        builds.append(1)
        if len(builds) > 1:  # the first build only discovers the space
            raise ValueError("never builds")
        return _dense()

    tuner = NasTuner(build, strategy="random", objective="val_accuracy", max_trials=10,
                     max_consecutive_failed_trials=2, directory=str(tmp_path), project_name="p")
    x, y, xv, yv = digits
    with pytest.raises(RuntimeError, match="Number of consecutive failures exceeded the limit of 2"):
        tuner.search(x, y, validation_data=(xv, yv), epochs=1, verbose=0)
    trials = _results(tuner)["trials"]
    assert [t["status"] for t in trials] == ["failed", "failed"]
    assert {t["message"] for t in trials} == {"ValueError: never builds"}
    assert len(builds) == 3  # the third trial never started


def test_cli_trial_timeout_and_max_failures_reach_the_search(tmp_path, fork_server: ForkServer):
    proc = fork_server.run(["search", "--dataset", "digits", "--max-trials", "5", "--epochs", "1",
                            "--trial-timeout", "0.001", "--max-failures", "2", "--out", "t"],
                           cwd=tmp_path, timeout=600)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert "Number of consecutive failures exceeded the limit of 2" in last
    assert "Traceback" not in proc.stderr
    trials = json.loads((tmp_path / "t" / "results.json").read_text())["trials"]
    assert [t["status"] for t in trials] == ["failed", "failed"]
    assert {t["message"] for t in trials} == {"timeout after 0.001s"}
