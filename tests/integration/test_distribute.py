"""`distribution_strategy` inside a trial: MirroredStrategy over 2 logical CPUs.

TensorFlow's logical devices must be configured before it initialises its
devices, so the searches run in processes forked from the fork server, which
imported TensorFlow but never initialised its runtime.
"""

import json
import textwrap

import pytest
from autokeras_nas.testing.cli import cli_env
from autokeras_nas.testing.forkserver import ForkServer, script_result

pytestmark = pytest.mark.tf

SCRIPT = textwrap.dedent('''
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
    import keras
    import numpy as np
    from sklearn.datasets import load_digits
    import autokeras_nas

    x, y = load_digits(return_X_y=True)
    x, y = (x / 16.0).astype("float32")[:640], y.astype("int32")[:640]
    mirrored = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])

    class Traced(keras.layers.Layer):
        """Records the batch size each replica's step was traced with."""
        seen = []
        def call(self, inputs):
            Traced.seen.append(inputs.shape[0])
            return inputs

    built = []
    def build(hp):
        built.append(tf.distribute.get_strategy().num_replicas_in_sync)
        model = keras.Sequential([keras.Input((64,)), Traced(),
                                  keras.layers.Dense(hp.Choice("units", [16, 32]), "relu"),
                                  keras.layers.Dense(10, activation="softmax")])
        # 1e-2: one epoch of 8 steps leaves the default rate's model near chance, where
        # 0 of 128 right happened once
        model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        return model

    out = {}
    for name, trials, make in [
        ("NasTuner", 2, lambda **kw: autokeras_nas.NasTuner(build, strategy="random", **kw)),
        ("RandomSearch", 1, lambda **kw: autokeras_nas.RandomSearch(build, seed=1, **kw)),
        ("AgingEvolution", 1, lambda **kw: autokeras_nas.AgingEvolution(build, seed=1, **kw)),
    ]:
        built.clear(); Traced.seen.clear()
        tuner = make(objective="val_accuracy", max_trials=trials, distribution_strategy=mirrored,
                     directory=sys.argv[1], project_name=name)
        built.clear()  # builds while discovering the space run outside the strategy
        tuner.search(x[:512], y[:512], validation_data=(x[512:], y[512:]), epochs=1,
                     batch_size=64, verbose=0)
        results = json.load(open(f"{sys.argv[1]}/{name}/results.json"))
        at_build = list(built)
        model = tuner.get_best_models(1)[0]
        out[name] = {
            "replicas_at_build": at_build,
            "traced_batches": sorted(set(s for s in Traced.seen if s is not None)),
            "mirrored_copies": len(model.trainable_variables[0].value.values),
            "status": [t["status"] for t in results["trials"]],
            "val_accuracy": [t["metrics"].get("val_accuracy") for t in results["trials"]],
        }
    print("RESULT " + json.dumps(out))
''')


def test_trials_train_under_mirrored_strategy_with_every_tuner(tmp_path,
                                                               fork_server: ForkServer):
    # `python -c SCRIPT TMP_PATH`, forked; asserts it exited 0 and printed its RESULT line
    found = script_result(fork_server, SCRIPT, str(tmp_path), CUDA_VISIBLE_DEVICES="-1")
    assert set(found) == {"NasTuner", "RandomSearch", "AgingEvolution"}
    for name, run in found.items():
        trials = 2 if name == "NasTuner" else 1
        assert run["replicas_at_build"] == [2] * trials, name  # built in the strategy's scope
        # each replica trained on half of every batch of 64 (1: the latency probe)
        assert 32 in run["traced_batches"] and 64 not in run["traced_batches"], name
        assert run["mirrored_copies"] == 2, name  # the reloaded best model is mirrored too
        assert run["status"] == ["completed"] * trials, name
        assert all(v is not None and v > 0 for v in run["val_accuracy"]), name


def test_cli_distribute_mirrored_trains_each_trial_under_the_strategy(tmp_path,
                                                                       fork_server: ForkServer):
    proc = fork_server.run(["search", "--dataset", "digits", "--max-trials", "1", "--epochs",
                            "1", "--distribute", "mirrored", "--out", "m"], cwd=tmp_path,
                           env=cli_env(CUDA_VISIBLE_DEVICES="-1"), timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("each trial trains on"))
    assert line.startswith("each trial trains on 1 replica(s):") and "CPU:0" in line
    summary = json.loads((tmp_path / "m" / "summary.json").read_text())
    assert summary["test_accuracy"] > 0.1
