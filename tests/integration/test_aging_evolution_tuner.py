"""`autokeras_nas.AgingEvolution` as a KerasTuner tuner, on tiny real models."""

import json
import os

import pytest

import autokeras_nas
from autokeras_nas.spaces.image import image_classifier

pytestmark = pytest.mark.tf


def _results(tuner):
    with open(os.path.join(tuner.project_dir, "results.json")) as f:
        return json.load(f)


def test_drop_in_for_random_search_on_a_keras_io_build_model(tmp_path, digits, build_model):
    tuner = autokeras_nas.AgingEvolution(
        build_model, objective="val_accuracy", max_trials=6, seed=0,
        population_size=3, sample_size=2, directory=str(tmp_path), project_name="p",
    )
    x, y, xv, yv = digits
    tuner.search(x, y, validation_data=(xv, yv), epochs=1, batch_size=64, verbose=0)
    (model,) = tuner.get_best_models(1)
    assert model.evaluate(xv, yv, verbose=0)[1] > 0.3
    trials = _results(tuner)["trials"]
    assert [t["status"] for t in trials] == ["completed"] * 6
    assert [t["notes"]["origin"] for t in trials[:3]] == ["random"] * 3
    ids = {t["trial_id"]: t for t in trials}
    for child in trials[3:]:
        notes = child["notes"]
        assert notes["origin"] == "mutation" and notes["parent"] in ids
        parent = ids[notes["parent"]]["values"]
        changed = {k for k in set(parent) | set(child["values"])
                   if parent.get(k) != child["values"].get(k)}
        # one hyperparameter changed; a changed num_layers (de)activates units_i
        assert len(changed - {f"units_{i}" for i in range(3)}) <= 1 and changed
        assert child["parent_id"] is None


def test_large_scale_children_inherit_their_parents_layers(tmp_path, digits):
    x, y, xv, yv = digits
    shape = (8, 8, 1)
    tuner = autokeras_nas.AgingEvolution(
        image_classifier(shape, 10), objective="val_accuracy", max_trials=5, seed=1,
        population_size=2, sample_size=2, mutations="large-scale",
        directory=str(tmp_path), project_name="p",
    )
    tuner.search(x.reshape(-1, *shape), y, validation_data=(xv.reshape(-1, *shape), yv),
                 epochs=1, batch_size=64, verbose=0)
    children = [t for t in _results(tuner)["trials"] if t["notes"].get("origin") == "mutation"]
    assert children
    for child in children:
        assert child["parent_id"] == child["notes"]["parent"]
        # every large-scale mutation keeps at least the first conv layer's shape
        assert child["metrics"]["inherited_layers"] >= 1
