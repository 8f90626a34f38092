"""`autokeras_nas.Nash` on tiny real models: morphisms through the oracle layer."""

import json
import math
import os

import numpy as np
import pytest

import autokeras_nas

pytestmark = pytest.mark.tf

SHAPE = (8, 8, 1)


def _results(tuner):
    with open(os.path.join(tuner.project_dir, "results.json")) as f:
        return json.load(f)


@pytest.fixture(scope="module")
def morph_search(tmp_path_factory, digits):
    x, y, xv, yv = digits
    tuner = autokeras_nas.Nash(
        input_shape=SHAPE, num_classes=10, objective="val_accuracy", max_trials=6, seed=0,
        n_neigh=2, n_nm=2, epochs_start=2, epochs_neigh=1, epochs_final=1,
        directory=str(tmp_path_factory.mktemp("nash")), project_name="p",
    )
    tuner.search(x.reshape(-1, *SHAPE), y, validation_data=(xv.reshape(-1, *SHAPE), yv),
                 batch_size=64, verbose=0)
    return tuner


def test_children_name_parent_morphisms_and_preservation_error(morph_search):
    trials = _results(morph_search)["trials"]
    assert [t["notes"]["origin"] for t in trials] == (
        ["start"] + ["neighbour"] * 4 + ["final"])
    assert all(t["status"] == "completed" for t in trials)
    ids = {t["trial_id"] for t in trials}
    for t in trials[1:]:
        assert t["parent_id"] in ids and t["parent_id"] == t["notes"]["parent"]
        assert t["arch"]["net"]["nodes"] and isinstance(t["arch"]["morphisms"], list)
        assert [str(m) for m in t["notes"]["morphisms"]] == t["notes"]["morphisms"]
        # every child computed its parent's function when it started
        assert t["outputs"]["preservation_error"] < 1e-4
    morphed = [t for t in trials if t["arch"] and t["arch"]["morphisms"]]
    assert morphed and all(len(t["notes"]["morphisms"]) == len(t["arch"]["morphisms"])
                           for t in morphed)


def test_a_child_starts_where_its_parent_ended(morph_search):
    trials = {t["trial_id"]: t for t in _results(morph_search)["trials"]}
    for t in trials.values():
        if t["parent_id"] is None:
            continue
        parent_val = trials[t["parent_id"]]["metrics"]["val_accuracy"]
        # one epoch of SGDR from inherited weights does not fall to chance (0.1)
        assert t["curve"][0]["val_accuracy"] > min(0.5, parent_val - 0.3)


def test_the_final_training_continues_the_best_and_the_ensemble_works(morph_search, digits):
    trials = _results(morph_search)["trials"]
    final = trials[-1]
    neighbours = [t for t in trials if t["notes"]["origin"] == "neighbour"]
    assert final["parent_id"] in [t["trial_id"] for t in trials[:-1]]
    assert final["notes"]["snapshot_ensemble"]
    ensemble = morph_search.snapshot_ensemble()
    x, y, xv, yv = digits
    predictions = ensemble.predict(xv.reshape(-1, *SHAPE), verbose=0)
    assert np.allclose(predictions.sum(axis=1), 1.0, atol=1e-4)
    assert np.mean(np.argmax(predictions, axis=1) == yv) > 0.3
    assert neighbours


def test_on_a_build_model_nash_hill_climbs_with_warm_starts(tmp_path, digits, build_model):
    x, y, xv, yv = digits
    tuner = autokeras_nas.Nash(build_model, objective="val_accuracy", max_trials=5, seed=1,
                               n_neigh=2, epochs_start=1, epochs_neigh=1,
                               directory=str(tmp_path), project_name="p")
    tuner.search(x, y, validation_data=(xv, yv), batch_size=64, verbose=0)
    trials = _results(tuner)["trials"]
    assert len(trials) == 5 and trials[0]["notes"]["origin"] == "start"
    for t in trials[1:]:
        assert t["parent_id"] is not None and t["arch"] is None
        assert "inherited_layers" in t["metrics"]
        assert "preservation_error" not in t["outputs"]
    assert not math.isnan(trials[-1]["metrics"]["val_accuracy"])


def test_the_ensemble_takes_members_built_alike(morph_search, digits):
    # The parent trained further has its parent's network: Keras must not see
    # two sub-models of one name (a CI failure once).
    trials = _results(morph_search)["trials"]
    continued = next(t for t in trials if t["notes"].get("morphisms") == [] and
                     t["notes"]["origin"] == "neighbour")
    state = morph_search.oracle.strategy._state
    saved = list(state["step_bests"])
    state["step_bests"] = [continued["parent_id"], continued["trial_id"]]
    try:
        ensemble = morph_search.snapshot_ensemble()
    finally:
        state["step_bests"] = saved
    x, y, xv, yv = digits
    assert ensemble.predict(xv[:8].reshape(-1, *SHAPE), verbose=0).shape == (8, 10)
