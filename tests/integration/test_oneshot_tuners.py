"""The one-shot tuners (`autokeras_nas.SPOS`, `.RandomWS`, `.OneShot`,
`.ENAS`, and the differentiable `.DARTS`, `.SNAS`, `.GDAS`,
`.ProxylessNAS`): one user `build_model(hp)` written with `choose` runs unchanged
with `keras_tuner.RandomSearch` (every architecture trained on its own) and
with each one-shot tuner, whose answer is the retrained plain Keras model."""

from __future__ import annotations

import gc
import inspect
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import keras
import keras_tuner
import numpy as np
import pytest

import autokeras_nas
from autokeras_nas import oneshot
from autokeras_nas.tuner.convenience import POSITIONAL

pytestmark = pytest.mark.tf

DIFFERENTIABLE = ("DARTS", "SNAS", "GDAS", "ProxylessNAS")
ONESHOT_TUNERS = ("SPOS", "RandomWS", "OneShot", "ENAS") + DIFFERENTIABLE
#: Small sizes: a run takes seconds on digits.
SIZES = {"supernet_epochs": 2, "candidates": 3, "top_k": 1, "retrain_epochs": 2}
#: Trials of KerasTuner's own RandomSearch (of 1 epoch each): two
#: architectures, each trained alone.
KT_TRIALS = 2
#: ENAS's controller: a few updates per epoch are enough to run the phases.
EXTRA = {"ENAS": {"controller_steps": 3}, "OneShot": {"drop_rate": 0.2}}


def _chosen_layers(model) -> set[str]:
    return {layer.name for layer in model.layers if "__" in layer.name}


class Search(NamedTuple):
    tuner: Any
    results: dict | None  # results.json (None for KerasTuner's own tuner)
    path: Path  # the best model, saved
    model: Any  # the best model: tuner.get_best_models(1)[0]
    #: ("collect", trial id): the tuner's full garbage collection after a
    #: trial; ("end", trial id): the oracle ending it (RandomWS only).
    events: list[tuple[str, str]] | None = None


@pytest.fixture(scope="module")
def searches(tmp_path_factory, digits, choose_builder) -> dict[str, Search]:
    """Runs keras_tuner.RandomSearch and each one-shot tuner with the same
    build_model; returns name -> its `Search`. RandomWS' search records when
    the tuner collects garbage and when the oracle ends each trial."""
    x, y, xv, yv = digits
    root = tmp_path_factory.mktemp("tuners")
    out = {}
    keras.utils.set_random_seed(0)
    kt = keras_tuner.RandomSearch(choose_builder, objective="val_accuracy",
                                  max_trials=KT_TRIALS, seed=0, directory=str(root),
                                  project_name="kt")
    kt.search(x, y, validation_data=(xv, yv), epochs=1, batch_size=64, verbose=0)
    out["RandomSearch"] = Search(kt, None, *_save(kt, root / "RandomSearch.keras"))
    for name in ONESHOT_TUNERS:
        keras.utils.set_random_seed(0)
        tuner = getattr(autokeras_nas, name)(choose_builder, "val_accuracy", seed=0,
                                             directory=str(root), project_name=name,
                                             **SIZES, **EXTRA.get(name, {}))
        events = None
        with pytest.MonkeyPatch.context() as patch:
            if name == "RandomWS":
                events = _watch_collections(tuner, patch)
            tuner.search(x, y, validation_data=(xv, yv), batch_size=64, verbose=0)
        results = json.loads((root / name / "results.json").read_text())
        out[name] = Search(tuner, results, *_save(tuner, root / f"{name}.keras"), events)
    return out


def _save(tuner, path: Path) -> tuple[Path, Any]:
    model = tuner.get_best_models(1)[0]
    model.save(path)
    return path, model


def _watch_collections(tuner, patch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Records, while `patch` lasts, each full collection of the tuner's
    `on_trial_end` (not Keras') and each trial the oracle ends."""
    events: list[tuple[str, str]] = []
    collect, end_trial, on_trial_begin = gc.collect, tuner.oracle.end_trial, tuner.on_trial_begin
    current: list[str] = []

    def counted_collect(*args):
        if sys._getframe(1).f_code.co_name == "on_trial_end":  # the tuner's, not Keras'
            events.append(("collect", current[-1]))
        return collect(*args)

    patch.setattr(gc, "collect", counted_collect)
    patch.setattr(tuner.oracle, "end_trial",
                  lambda trial: events.append(("end", trial.trial_id)) or end_trial(trial))
    patch.setattr(tuner, "on_trial_begin",
                  lambda trial: current.append(trial.trial_id) or on_trial_begin(trial))
    return events


def test_random_search_trains_each_architecture_alone(searches) -> None:
    tuner = searches["RandomSearch"].tuner
    trials = tuner.oracle.get_best_trials(KT_TRIALS)
    assert len({json.dumps(t.hyperparameters.values, sort_keys=True) for t in trials}) \
        == KT_TRIALS
    for trial in trials:
        model = tuner.load_model(trial)
        values = trial.hyperparameters.values
        assert _chosen_layers(model) == {f"first__{values['first']}",
                                         f"second__{values['second']}"}
        assert oneshot.mixed_ops(model) == {}


@pytest.mark.parametrize("name", ONESHOT_TUNERS)
def test_a_oneshot_tuner_runs_its_phases_and_answers_with_the_retrained_model(
        searches, name: str) -> None:
    tuner, results, _, model, _ = searches[name]
    trials = results["trials"]
    assert all(t["status"] == "completed" for t in trials), \
        [(t["trial_id"], t["message"]) for t in trials]
    phases = [t["notes"]["phase"] for t in trials]
    supernet_task = {"ENAS": "enas", **dict.fromkeys(DIFFERENTIABLE, "differentiable")}.get(
        name, "supernet")
    assert phases[0] == "supernet" and trials[0]["task"] == supernet_task
    assert trials[0]["outputs"]["choices"] == {"first": ["relu", "tanh", "skip"],
                                               "second": ["bn", "zero"]}
    assert trials[0]["metrics"]["epochs"] == SIZES["supernet_epochs"]
    # Its steady pace (after the first epoch, which traces) sizes a budget's retrains.
    assert 0 < trials[0]["outputs"]["seconds_per_epoch"] < trials[0]["seconds"]
    # The first estimate loads the supernet; the others reuse it.
    loads = [t["metrics"]["load_time_s"] for t in trials[1:-1]]
    assert loads[0] > 0 and loads[1:] == [0.0] * (len(loads) - 1)
    assert set(phases[1:-1]) == {"search"} and 1 <= len(phases[1:-1]) <= SIZES["candidates"]
    assert {t["task"] for t in trials[1:-1]} == {"estimate"}
    retrained = trials[-1]
    assert phases[-1] == "retrain" and retrained["task"] == "train"
    assert retrained["epochs"] == SIZES["retrain_epochs"]
    # The best estimate is retrained, and it is the search's answer.
    best = max(trials[1:-1], key=lambda t: (t["metrics"]["val_accuracy"],
                                            -int(t["trial_id"])))
    assert retrained["notes"]["estimate_trial"] == best["trial_id"]
    assert results["best_trial_ids"] == [retrained["trial_id"]]
    assert tuner.oracle.get_best_trials(1)[0].trial_id == retrained["trial_id"]
    # model: tuner.get_best_models(1)[0] (the searches fixture's)
    assert oneshot.mixed_ops(model) == {}
    assert _chosen_layers(model) == {f"first__{retrained['values']['first']}",
                                     f"second__{retrained['values']['second']}"}
    assert retrained["metrics"]["val_accuracy"] > 0.5  # it learnt digits (10 classes)


def test_the_exported_models_reload_with_safe_mode_without_the_package(searches,
                                                                       digits) -> None:
    """Every best model is plain Keras: a fresh interpreter that never
    imports autokeras_nas loads it with safe_mode and predicts as the model
    the tuner answered with did."""
    _, _, xv, _ = digits
    paths = {name: str(entry.path) for name, entry in searches.items()}
    expected = {name: keras.ops.convert_to_numpy(entry.model(xv[:8], training=False))
                for name, entry in searches.items()}
    np.save(Path(paths["SPOS"]).with_name("x.npy"), xv[:8])
    code = (
        "import json, sys, numpy as np, keras\n"
        "paths = json.loads(sys.argv[1])\n"
        "x = np.load(sys.argv[2])\n"
        "out = {n: keras.ops.convert_to_numpy(\n"
        "           keras.saving.load_model(p, safe_mode=True)(x, training=False)).tolist()\n"
        "       for n, p in paths.items()}\n"
        "assert not any(m.startswith('autokeras_nas') for m in sys.modules), 'imported'\n"
        "print(json.dumps(out))\n")
    done = subprocess.run([sys.executable, "-c", code, json.dumps(paths),
                           str(Path(paths["SPOS"]).with_name("x.npy"))],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    for name, predictions in expected.items():
        np.testing.assert_allclose(np.array(loaded[name]), predictions, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ONESHOT_TUNERS)
def test_the_tuners_take_keras_tuners_arguments_then_their_strategys(name: str) -> None:
    tuner = getattr(autokeras_nas, name)
    params = inspect.signature(tuner).parameters
    positional = [p.name for p in params.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
    assert positional == list(POSITIONAL)
    # A one-shot trial is mostly a cheap estimate: the strategy sizes the search.
    assert params["max_trials"].default is None
    assert {"supernet_epochs", "candidates", "top_k", "retrain_epochs", "conditional",
            "input_shape", "num_classes"} <= set(params)
    assert "Default" in tuner.__doc__ and "supernet_epochs: Epochs of the supernet" \
        in " ".join(tuner.__doc__.split())


def test_without_a_hypermodel_the_space_is_the_nb201_cell(tmp_path, choose_builder) -> None:
    from autokeras_nas.spaces import Nb201Space

    tuner = autokeras_nas.SPOS(input_shape=(150, 1), num_classes=2, channels=8,
                               objective="val_accuracy", directory=str(tmp_path))
    assert isinstance(tuner.hypermodel, Nb201Space)
    assert tuner.oracle.max_trials is None
    with pytest.raises(ValueError, match="needs a hypermodel, or input_shape"):
        autokeras_nas.RandomWS(objective="val_accuracy", directory=str(tmp_path))
    with pytest.raises(ValueError, match="unknown argument 'population_size'"):
        autokeras_nas.SPOS(choose_builder, population_size=4, directory=str(tmp_path))


def test_oneshot_summary_pairs_estimates_with_retrained_results(searches) -> None:
    tuner, results = searches["SPOS"][:2]
    summary = tuner.oneshot_summary()
    assert summary["supernet"]["trial_id"] == results["trials"][0]["trial_id"]
    assert len(summary["supernet"]["curve"]) == SIZES["supernet_epochs"]
    [row] = summary["retrained"]
    retrained = results["trials"][-1]
    assert row["trial_id"] == retrained["trial_id"]
    assert row["retrained"] == pytest.approx(retrained["metrics"]["val_accuracy"])


def test_the_tuner_collects_garbage_after_model_trials_only(searches) -> None:
    """A full collection after each trial frees its models' graphs; an
    estimate builds none, and with the supernet in memory a collection would
    cost as much as the estimate. The collection happens before the oracle
    ends the trial, so the trial's seconds (the budget's unit) include it.
    (The events of the searches fixture's RandomWS search.)"""
    _, results, _, _, events = searches["RandomWS"]
    expected = []
    for trial in results["trials"]:
        if trial["task"] != "estimate":
            expected.append(("collect", trial["trial_id"]))
        expected.append(("end", trial["trial_id"]))
    assert len(results["trials"]) == 2 + SIZES["candidates"]
    assert events == expected


def test_a_whole_model_target_counts_what_lies_outside_the_choices(tmp_path, digits,
                                                                    choose_builder) -> None:
    """`target_scope="model"`: the trainer measures the reference
    architecture (each choice's cheapest operation but "none") as a normal
    model; what it costs beyond its table cost is every model's fixed part.
    In parameters the prediction is exact: the retrained model has the
    predicted count, within the target. A target below the fixed part
    fails the supernet trial with the figures. A search constraint is the
    same target when no resource is given: the supernet (about 5,800
    parameters) is not held to it, the retrained model is."""
    x, y, xv, yv = digits
    found = {}
    target = {"resource": "params", "target_scope": "model"}
    for label, settings in (("met", {**target, "resource_target": 4000}),
                            ("impossible", {**target, "resource_target": 2000}),
                            ("constraint", {"constraints": ["params<=4000"]})):
        keras.utils.set_random_seed(0)
        tuner = autokeras_nas.DARTS(choose_builder, "val_accuracy", seed=0,
                                    directory=str(tmp_path), project_name=label,
                                    supernet_epochs=1, candidates=2, top_k=1, retrain_epochs=1,
                                    **settings)
        tuner.search(x, y, validation_data=(xv, yv), batch_size=64, verbose=0)
        found[label] = (tuner, json.loads((tmp_path / label / "results.json").read_text()))
    tuner, results = found["met"]
    resource = results["trials"][0]["outputs"]["resource"]
    # outside the choices: Dense(64->32) and the head Dense(32->10); the
    # reference takes skip (0) and bn (Dense 32->32 and 4 x 32 batch-norm numbers)
    assert resource["reference"] == {"first": "skip", "second": "bn"}
    assert resource["reference_model"] == 2080 + 1056 + 128 + 330
    assert resource["fixed"] == 2080 + 330 and resource["target"] == 4000 - 2410
    assert resource["model_target"] == 4000 and resource["scope"] == "model"
    assert resource["from_constraint"] is None
    best = tuner.get_best_models(1)[0]
    assert resource["derived_model"] == best.count_params() <= 4000
    assert _chosen_layers(best) == {"first__skip", "second__bn"}
    tuner, results = found["constraint"]
    supernet, *_, retrained = results["trials"]
    assert supernet["status"] == "completed"
    assert supernet["outputs"]["resource"]["from_constraint"] == "params"
    assert supernet["outputs"]["resource"]["model_target"] == 4000
    assert retrained["status"] == "completed" and retrained["metrics"]["params"] <= 4000
    assert tuner.get_best_models(1)[0].count_params() == retrained["metrics"]["params"]
    _, failed = found["impossible"]
    supernet = failed["trials"][0]
    assert supernet["status"] == "failed"
    assert "the model target 2000 (params) is at or below what the model costs outside its " \
        "choices (2410)" in supernet["message"]
