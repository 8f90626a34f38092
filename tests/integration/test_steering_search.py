"""An analyst's edit reaches a running search: the next proposals honour it,
results.json records it, and a resumed search keeps honouring it."""

import json
import os

import keras
import pytest

from autokeras_nas import steering
from autokeras_nas.core import BaseStrategy, Suggestion
from autokeras_nas.tuner import NasTuner
from autokeras_nas_plugins.aging_evolution import AgingEvolution
from autokeras_nas_plugins.random_search import RandomStrategy

pytestmark = pytest.mark.tf


def build(hp):
    act = hp.Choice("activation", ["relu", "tanh", "sigmoid"])
    model = keras.Sequential([keras.Input((64,)),
                              keras.layers.Dense(hp.Choice("units", [8, 16, 32]), activation=act),
                              keras.layers.Dropout(hp.Choice("dropout", [0.0, 0.1, 0.2, 0.3, 0.4])),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _tuner(tmp_path, max_trials, overwrite):
    # A population of 3: mutations of parents that used the excluded value
    # come right after the edit.
    return NasTuner(build, strategy=AgingEvolution(population_size=3, sample_size=2, seed=4),
                    objective="val_accuracy", max_trials=max_trials, overwrite=overwrite,
                    directory=str(tmp_path), project_name="p")


def _search(tuner, digits):
    x, y, xv, yv = digits
    tuner.search(x, y, validation_data=(xv, yv), epochs=1, batch_size=128, verbose=0)


def test_an_edit_made_during_the_search_narrows_the_next_proposals(tmp_path, digits):
    tuner = _tuner(tmp_path, 10, True)
    directory = tuner.project_dir
    end_trial = tuner.oracle.end_trial
    ended, excluded = [], []

    def end_and_edit(trial):
        end_trial(trial)
        ended.append(trial.trial_id)
        if len(ended) == 4:  # the analyst excludes the first trial's activation mid-search
            first = tuner.oracle.trials[ended[0]].hyperparameters.values["activation"]
            excluded.append(first)
            steering.add_edit(directory, action="exclude", param="activation", value=first)
            steering.add_edit(directory, action="pin", param="units", value=32)

    tuner.oracle.end_trial = end_and_edit
    _search(tuner, digits)
    with open(os.path.join(directory, "results.json")) as f:
        results = json.load(f)
    trials = results["trials"]
    assert len(trials) == 10
    before, after = trials[:4], trials[4:]
    assert all(t["edits_seen"] is None for t in before)
    assert all(t["edits_seen"] == 2 for t in after)
    (gone,) = excluded
    assert all(t["values"]["activation"] != gone and t["values"]["units"] == 32 for t in after)
    # the edits, with the first trial proposed under them
    assert [(e["id"], e["action"], e["param"], e["value"], e["first_trial_id"], e["applied"])
            for e in results["edits"]] == [(1, "exclude", "activation", gone, after[0]["trial_id"], True),
                                           (2, "pin", "units", 32, after[0]["trial_id"], True)]
    assert {p["config"]["name"] for p in results["space"]} == {"activation", "units", "dropout"}

    # the edits stay in force for a resumed search; a new one applies from the next proposal
    steering.add_edit(directory, action="clear", param="units")
    tuner = _tuner(tmp_path, 14, False)
    _search(tuner, digits)
    with open(os.path.join(directory, "results.json")) as f:
        resumed = json.load(f)["trials"][10:]
    assert len(resumed) == 4 and all(t["edits_seen"] == 3 for t in resumed)
    assert all(t["values"]["activation"] != gone for t in resumed)


class _Stubborn(BaseStrategy):
    """Proposes relu whatever its space says (a strategy that does not draw
    from the space it is given)."""

    name = "stubborn"

    def propose(self, trial_id):
        return Suggestion.run({"activation": "relu", "units": 8, "dropout": 0.1 * len(self.asked)})


def test_a_proposal_outside_the_narrowed_space_is_moved_into_it(tmp_path, digits):
    tuner = NasTuner(build, strategy=_Stubborn(seed=0), objective="val_accuracy", max_trials=3,
                     directory=str(tmp_path), project_name="p")
    steering.add_edit(tuner.project_dir, action="exclude", param="activation", value="relu")
    _search(tuner, digits)
    with open(os.path.join(tuner.project_dir, "results.json")) as f:
        trials = json.load(f)["trials"]
    assert [t["values"]["dropout"] for t in trials] == [0.0, 0.1, 0.2]
    for t in trials:
        assert t["values"]["activation"] in ("tanh", "sigmoid") and t["values"]["units"] == 8
        assert t["notes"]["steered"] == ["activation='relu'"] and t["edits_seen"] == 1


def test_promotions_of_an_excluded_configuration_are_passed_over(tmp_path, digits):
    tuner = NasTuner(build, strategy=RandomStrategy(seed=1), objective="val_accuracy", max_trials=9,
                     early_stopping="asha", directory=str(tmp_path), project_name="p")
    end_trial, ended, excluded = tuner.oracle.end_trial, [], []

    def end_and_edit(trial):
        end_trial(trial)
        ended.append(trial.trial_id)
        if len(ended) == 3:  # rung 1 is full: its best is due for a promotion; exclude it
            best = tuner.oracle.get_best_trials(1)[0].hyperparameters.values["activation"]
            excluded.append(best)
            steering.add_edit(tuner.project_dir, action="exclude", param="activation", value=best)

    tuner.oracle.end_trial = end_and_edit
    x, y, xv, yv = digits
    tuner.search(x, y, validation_data=(xv, yv), epochs=3, batch_size=128, verbose=0)
    with open(os.path.join(tuner.project_dir, "results.json")) as f:
        trials = json.load(f)["trials"]
    after = trials[3:]
    assert after and all(t["values"]["activation"] != excluded[0] for t in after)
    assert any(t["continues"] is not None for t in after)  # promotions still run, of the others


def test_an_edit_that_cannot_apply_is_recorded_and_the_search_goes_on(tmp_path, digits):
    tuner = _tuner(tmp_path, 3, True)
    steering.add_edit(tuner.project_dir, action="exclude", param="depth", value=3)
    _search(tuner, digits)
    with open(os.path.join(tuner.project_dir, "results.json")) as f:
        results = json.load(f)
    assert len(results["trials"]) == 3
    (edit,) = results["edits"]
    assert edit["applied"] is False and "no hyperparameter 'depth'" in edit["ignored"]
    assert "steering_error" not in results


def test_a_steering_file_that_cannot_be_read_keeps_the_edits_read_before(tmp_path, digits):
    tuner = _tuner(tmp_path, 6, True)
    directory = tuner.project_dir
    steering.add_edit(directory, action="pin", param="units", value=16)
    end_trial, ended = tuner.oracle.end_trial, []

    def end_and_break(trial):
        end_trial(trial)
        ended.append(trial.trial_id)
        if len(ended) == 2:  # a tool other than add_edit leaves the file half-written
            with open(os.path.join(directory, steering.FILENAME), "a") as f:
                f.write("{")

    tuner.oracle.end_trial = end_and_break
    _search(tuner, digits)
    with open(os.path.join(directory, "results.json")) as f:
        results = json.load(f)
    assert len(results["trials"]) == 6
    assert all(t["values"]["units"] == 16 and t["edits_seen"] == 1 for t in results["trials"])
    assert "cannot read" in results["steering_error"] and len(results["edits"]) == 1
