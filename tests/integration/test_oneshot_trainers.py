"""The one-shot trainers on a tiny real supernet: "supernet" trains every
candidate of a `choose` space with one path per batch, "estimate" scores a
sub-architecture with the shared weights, and a one-shot strategy's
retrained answer is a plain Keras model."""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest

from autokeras_nas.oneshot import choose
from autokeras_nas.testing.driver import ScriptedStrategy
from autokeras_nas.tuner import NasTuner

pytestmark = pytest.mark.tf


def build_model(hp):
    """Digits (64 inputs) through two chosen layers; batch norm so that
    recalibration matters."""
    inputs = keras.Input((64,))
    x = keras.layers.Dense(32, activation="relu")(inputs)
    x = choose(hp, "first", {
        "wide": lambda: keras.Sequential([keras.layers.Dense(32, activation="relu"),
                                          keras.layers.BatchNormalization()]),
        "tanh": lambda: keras.layers.Dense(32, activation="tanh"),
        "skip": lambda: keras.layers.Identity(),
    })(x)
    x = choose(hp, "second", {
        "relu": lambda: keras.layers.Dense(32, activation="relu"),
        "zero": lambda: keras.layers.Rescaling(0.0),
    })(x)
    outputs = keras.layers.Dense(10, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


ESTIMATES = [{"first": "wide", "second": "relu"}, {"first": "skip", "second": "zero"},
             {"first": "tanh", "second": "relu"}]


def _search(tmp_path: Path, digits, script, **kwargs) -> NasTuner:
    x, y, xv, yv = digits
    tuner = NasTuner(build_model, strategy=ScriptedStrategy(script, seed=0),
                     objective="val_accuracy", max_trials=len(script),
                     directory=str(tmp_path), project_name="p", **kwargs)
    tuner.search(x, y, validation_data=(xv, yv), epochs=1, batch_size=64, verbose=0)
    return tuner


def test_supernet_then_estimates_then_a_plain_retrained_model(tmp_path: Path, digits) -> None:
    keras.utils.set_random_seed(0)
    script = [{"task": "supernet", "epochs": 5, "task_config": {"mode": "single"}}]
    script += [{"task": "estimate", "parent_id": "0", "values": v} for v in ESTIMATES]
    script += [{"values": ESTIMATES[0], "epochs": 2}]
    tuner = _search(tmp_path, digits, script)
    trials = {t.trial_id: t for t in tuner.oracle.trials.values()}
    assert all(t.status == "COMPLETED" for t in trials.values()), \
        {i: (t.status, t.message) for i, t in trials.items()}
    results = json.loads((tmp_path / "p" / "results.json").read_text())
    by_id = {r["trial_id"]: r for r in results["trials"]}
    assert by_id["0"]["outputs"]["choices"] == {"first": ["wide", "tanh", "skip"],
                                               "second": ["relu", "zero"]}
    assert by_id["0"]["metrics"]["epochs"] == 5
    assert "latency_ms" not in by_id["0"]["metrics"]  # a supernet is not the final model
    estimates = [by_id[str(i)]["metrics"] for i in (1, 2, 3)]
    assert all(m["epochs"] == 0 and m["train_time_s"] == 0 for m in estimates)
    # The shared weights learned something: a real path beats the zeroed one.
    assert estimates[0]["val_accuracy"] > estimates[1]["val_accuracy"] + 0.2
    # The supernet is loaded once for all estimates.
    assert tuner.trainer("estimate")._supernet[0] == "0"
    # The answer is the retrained trial, a plain model holding only its choices.
    assert [t.trial_id for t in tuner.oracle.get_best_trials(1)] == ["4"]
    model = tuner.get_best_models(1)[0]
    names = [layer.name for layer in model.layers]
    assert "first__wide" in names and "second__relu" in names
    assert not any("tanh" in n or "skip" in n or "zero" in n for n in names)
    path = tmp_path / "best.keras"
    model.save(path)
    keras.saving.load_model(path, safe_mode=True)


#: Each retrain's weights when its training begins (a module global: the
#: tuner deep-copies its callbacks for every trial).
STARTS: list[dict[str, list]] = []


class _Start(keras.callbacks.Callback):
    def on_train_begin(self, logs=None) -> None:
        STARTS.append({layer.name: layer.get_weights() for layer in self.model.layers})


def test_a_retrain_whose_parent_is_the_supernet_starts_from_its_chosen_candidates(
        tmp_path: Path, digits) -> None:
    x, y, xv, yv = digits
    script = [{"task": "supernet", "epochs": 2},
              {"values": ESTIMATES[2], "epochs": 1, "parent_id": "0"},
              {"values": ESTIMATES[2], "epochs": 1}]
    tuner = NasTuner(build_model, strategy=ScriptedStrategy(script, seed=0),
                     objective="val_accuracy", max_trials=3, directory=str(tmp_path),
                     project_name="p")
    STARTS.clear()
    tuner.search(x, y, validation_data=(xv, yv), epochs=1, batch_size=64, verbose=0,
                 callbacks=[_Start()])
    trials = [tuner.oracle.get_trial(str(i)) for i in range(3)]
    assert [t.status for t in trials] == ["COMPLETED"] * 3, [t.message for t in trials]
    supernet = tuner.trainer("supernet").load_model(tuner, trials[0])
    shared = {layer.name: layer for layer in supernet._flatten_layers()}
    inherited, fresh = STARTS[1], STARTS[2]  # STARTS[0]: the supernet's own training
    for name in ("first__tanh", "second__relu"):
        expected = shared[name].get_weights()
        assert all(np.array_equal(a, b) for a, b in zip(inherited[name], expected))
        assert not np.array_equal(fresh[name][0], expected[0])
    assert trials[1].metrics.get_last_value("inherited_layers") >= 2
    assert not trials[2].metrics.exists("inherited_layers")


def test_estimate_with_a_fixed_path_equals_the_inherited_sub_architecture(
        tmp_path: Path, digits) -> None:
    """An estimate (fixed path in the supernet, statistics recalibrated)
    scores what a normally built sub-architecture scores with the
    supernet's weights and the same recalibration."""
    from autokeras_nas import oneshot
    from autokeras_nas.tuner.trainers.evaluate import recalibrate_batch_norm

    config = {"recalibrate_batches": 4}
    script = [{"task": "supernet", "epochs": 2},
              {"task": "estimate", "parent_id": "0", "values": ESTIMATES[0],
               "task_config": config}]
    tuner = _search(tmp_path, digits, script)
    estimate = tuner.oracle.get_trial("1").metrics.get_last_value("val_loss")
    with oneshot.supernet_scope(mode="single"):
        supernet = tuner.load_model(tuner.oracle.get_trial("0"))
    hp = tuner.oracle.get_trial("1").hyperparameters.copy()
    keras.backend.clear_session()  # auto-named layers named as in the supernet's build
    model = build_model(hp)
    assert oneshot.inherit_supernet_weights(model, supernet) >= 4
    x, _, xv, yv = digits
    recalibrate_batch_norm(model, (x[i * 64:(i + 1) * 64] for i in range(4)))
    loss = model.evaluate(xv, yv, batch_size=64, verbose=0, return_dict=True)["loss"]
    assert loss == pytest.approx(estimate, rel=1e-4)


def test_a_space_without_choose_fails_the_supernet_with_a_reason(tmp_path: Path, digits,
                                                                 build_model) -> None:
    x, y, xv, yv = digits
    tuner = NasTuner(build_model, strategy=ScriptedStrategy([{"task": "supernet", "epochs": 1}],
                                                            seed=0),
                     objective="val_accuracy", max_trials=1, directory=str(tmp_path),
                     project_name="p")
    tuner.search(x, y, validation_data=(xv, yv), epochs=1, verbose=0)
    trial = tuner.oracle.get_trial("0")
    assert trial.status == "FAILED"
    assert "no choose(" in trial.message


def test_spos_end_to_end_retrains_its_best_estimate(tmp_path: Path, digits) -> None:
    from autokeras_nas_plugins.oneshot import Spos

    x, y, xv, yv = digits
    strategy = Spos(supernet_epochs=2, candidates=6, top_k=1, retrain_epochs=2, seed=0)
    tuner = NasTuner(build_model, strategy=strategy, objective="val_accuracy", max_trials=8,
                     directory=str(tmp_path), project_name="p")
    tuner.search(x, y, validation_data=(xv, yv), epochs=1, batch_size=64, verbose=0)
    results = json.loads((tmp_path / "p" / "results.json").read_text())
    phases = [r["notes"]["phase"] for r in results["trials"]]
    assert phases[0] == "supernet" and phases[-1] == "retrain"
    assert set(phases[1:-1]) == {"search"}
    tasks = [r["task"] for r in results["trials"]]
    assert tasks[0] == "supernet" and tasks[-1] == "train"
    assert set(tasks[1:-1]) == {"estimate"}
    estimates = [r for r in results["trials"] if r["notes"]["phase"] == "search"]
    best = max(estimates, key=lambda r: r["metrics"]["val_accuracy"])
    retrained = results["trials"][-1]
    assert {k: retrained["values"][k] for k in ("first", "second")} == \
        {k: best["values"][k] for k in ("first", "second")}
    assert results["best_trial_ids"] == [retrained["trial_id"]]


def test_stop_ahead_is_a_true_or_false_option_of_the_supernet() -> None:
    from keras_tuner.errors import FailedTrialError

    from autokeras_nas.tuner.trainers.supernet import supernet_options

    assert supernet_options({})["stop_ahead"] is False
    assert supernet_options({"time_budget_s": 10.0, "stop_ahead": True})["stop_ahead"] is True
    with pytest.raises(FailedTrialError, match="stop_ahead must be true or false, got 'yes'"):
        supernet_options({"stop_ahead": "yes"})
