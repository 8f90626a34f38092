"""KerasTuner's own scripts run with `import autokeras_nas as kt`.

The Hyperband script is TensorFlow's "Introduction to the Keras Tuner"
tutorial, line for line, on digits instead of Fashion-MNIST and with
smaller numbers (`max_epochs`, the retraining's epochs) so that it runs in
seconds; it runs once with `keras_tuner` and once with `autokeras_nas`, and
both train the same schedule.

The scripts run one after another in one fresh interpreter (one TensorFlow
import for all), each in a namespace and a directory of its own; the
`keras_tuner` one first, before anything imports `autokeras_nas`.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from autokeras_nas.testing.cli import run_script_result

_DATA = """
import numpy as np
from sklearn.datasets import load_digits
digits = load_digits()
x = (digits.images / 16.0).astype("float32")
y = digits.target
(img_train, label_train), (img_test, label_test) = (x[:1400], y[:1400]), (x[1400:], y[1400:])
"""

# The tutorial, with `import keras_tuner as kt` replaced by {module}, 28x28 by 8x8,
# max_epochs=10 by 3 and the retraining's 50 epochs by 20.
_HYPERBAND_TUTORIAL = """
import tensorflow as tf
from tensorflow import keras
import {module} as kt

def model_builder(hp):
    model = keras.Sequential()
    model.add(keras.layers.Flatten(input_shape=(8, 8)))
    hp_units = hp.Int('units', min_value=32, max_value=512, step=32)
    model.add(keras.layers.Dense(units=hp_units, activation='relu'))
    model.add(keras.layers.Dense(10))
    hp_learning_rate = hp.Choice('learning_rate', values=[1e-2, 1e-3, 1e-4])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=hp_learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=['accuracy'])
    return model

tuner = kt.Hyperband(model_builder,
                     objective='val_accuracy',
                     max_epochs=3,
                     factor=3,
                     directory='my_dir',
                     project_name='intro_to_kt')
stop_early = tf.keras.callbacks.EarlyStopping(monitor='val_loss', patience=5)
tuner.search(img_train, label_train, epochs=50, validation_split=0.2, callbacks=[stop_early])
best_hps = tuner.get_best_hyperparameters(num_trials=1)[0]
print(best_hps.get('units'), best_hps.get('learning_rate'))

model = tuner.hypermodel.build(best_hps)
history = model.fit(img_train, label_train, epochs=20, validation_split=0.2)
val_acc_per_epoch = history.history['val_accuracy']
best_epoch = val_acc_per_epoch.index(max(val_acc_per_epoch)) + 1
hypermodel = tuner.hypermodel.build(best_hps)
hypermodel.fit(img_train, label_train, epochs=best_epoch, validation_split=0.2)
eval_result = hypermodel.evaluate(img_test, label_test)
"""

_REPORT = """
import glob, json
trials = [json.load(open(f)) for f in glob.glob('my_dir/intro_to_kt/trial_*/trial.json')]
epochs = sorted(t['hyperparameters']['values'].get('tuner/epochs',
                t['hyperparameters']['values'].get('nas/epochs')) for t in trials)
result = {{"trials": len(trials), "epochs": epochs, "units": best_hps.get('units'),
          "test_accuracy": float(eval_result[1])}}
"""

_BAYESIAN = """
from tensorflow import keras
import autokeras_nas as kt

def build_model(hp):
    model = keras.Sequential([keras.Input((8, 8)), keras.layers.Flatten(),
                              keras.layers.Dense(hp.Int('units', 16, 128, step=16),
                                                 activation=hp.Choice('activation', ['relu', 'tanh'])),
                              keras.layers.Dense(10, activation='softmax')])
    model.compile(optimizer=keras.optimizers.Adam(hp.Float('lr', 1e-4, 1e-2, sampling='log')),
                  loss='sparse_categorical_crossentropy', metrics=['accuracy'])
    return model

tuner = kt.BayesianOptimization(build_model, objective='val_accuracy', max_trials=5,
                                num_initial_points=2, alpha=0.001, beta=1.5, seed=3,
                                directory='my_dir', project_name='intro_to_kt')
tuner.search(img_train, label_train, epochs=1, validation_split=0.2, verbose=0)
best_hps = tuner.get_best_hyperparameters(1)[0]
model = tuner.get_best_models(1)[0]
eval_result = model.evaluate(img_test, label_test, verbose=0)
strategy = tuner.oracle.strategy
predictor = strategy._generic_predictor(1)(0)
result = {
    "origins": [t["notes"].get("origin") for t in tuner.oracle.results()["trials"]],
    "n_init": strategy.n_init, "kappa": strategy.kappa, "noises": list(predictor.noises),
    "test_accuracy": float(eval_result[1])}
"""

#: The scripts, in the order they run: name -> (source, its directory).
SCRIPTS = {
    "kt-hyperband": (_HYPERBAND_TUTORIAL.format(module="keras_tuner") + _REPORT.format(), "kt"),
    "hyperband": (_HYPERBAND_TUTORIAL.format(module="autokeras_nas") + _REPORT.format(), "nas"),
    "bayesian": (_BAYESIAN, "bayesian"),
}

_RUN_ALL = """
import json, os
results = {{}}
for name, (source, workdir) in {scripts!r}.items():
    os.chdir(os.path.join({root!r}, workdir))
    namespace = {{}}
    exec(compile({data!r} + source, name, "exec"), namespace)
    results[name] = namespace["result"]
print("RESULT " + json.dumps(results))
"""


@pytest.fixture(scope="module")
def scripts(tmp_path_factory) -> tuple[Path, dict]:
    """`SCRIPTS` run in one fresh interpreter: (their directory, name -> result)."""
    root = tmp_path_factory.mktemp("scripts")
    for _, workdir in SCRIPTS.values():
        (root / workdir).mkdir()
    script = _RUN_ALL.format(root=str(root), data=textwrap.dedent(_DATA), scripts={
        name: (textwrap.dedent(source), workdir) for name, (source, workdir) in SCRIPTS.items()})
    return root, run_script_result(script, timeout=900)


def test_the_hyperband_tutorial_runs_with_autokeras_nas_as_with_keras_tuner(scripts):
    root, results = scripts
    theirs, ours = results["kt-hyperband"], results["hyperband"]
    # The same schedule: brackets of 3 configurations at 1 epoch (the best one
    # continued to 3) and of 2 at 3 epochs, as KerasTuner counts its trials.
    assert theirs["trials"] == ours["trials"] == 6
    assert theirs["epochs"] == ours["epochs"] == [1, 1, 1, 3, 3, 3]
    assert 32 <= ours["units"] <= 512
    # (unseeded, as in the tutorial: one run scored 0.839; chance is 0.1)
    assert ours["test_accuracy"] > 0.75, ours
    results = json.loads((root / "nas/my_dir/intro_to_kt/results.json").read_text())
    promoted = [t for t in results["trials"] if (t["notes"] or {}).get("origin") == "promotion"]
    assert len(promoted) == 1
    parent = next(t for t in results["trials"] if t["trial_id"] == promoted[0]["parent_id"])
    # The promoted trial continued its rung-1 parent: epochs 2 and 3 only.
    assert [c["epoch"] for c in parent["curve"]] == [1]
    assert [c["epoch"] for c in promoted[0]["curve"]] == [2, 3]


def test_bayesian_optimization_takes_keras_tuner_arguments(scripts):
    result = scripts[1]["bayesian"]
    assert result["origins"] == ["random", "random", "model", "model", "model"]
    assert result["n_init"] == 2 and result["kappa"] == 1.5
    assert result["noises"][0] == 0.001
    assert result["test_accuracy"] > 0.5


def test_bayesian_optimization_rejects_bad_arguments():
    import autokeras_nas

    with pytest.raises(ValueError, match="beta must be"):
        autokeras_nas.BayesianOptimization(lambda hp: None, beta=-1)
    with pytest.raises(ValueError, match="alpha must be"):
        autokeras_nas.BayesianOptimization(lambda hp: None, alpha=0)
    with pytest.raises(ValueError, match="factor must be"):
        autokeras_nas.Hyperband(lambda hp: None, factor=1)
    with pytest.raises(ValueError, match="schedules its own"):
        autokeras_nas.Hyperband(lambda hp: None, early_stopping="asha")
