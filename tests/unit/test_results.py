"""The results export: atomic writes, strict JSON, clear errors on bad files."""

import json
import os

import pytest

from autokeras_nas.core import Objective
from autokeras_nas.results import (
    ResultsError,
    SearchDirectoryError,
    check_search_directory,
    make_results,
    read_results,
    write_results,
)


def _results(**trial):
    return make_results(strategy="random", objectives=[Objective("val_accuracy", "max")],
                        max_trials=2, trials=[trial], best_trial_ids=[])


def test_round_trip_with_non_finite_values_as_null(tmp_path):
    path = write_results(str(tmp_path), _results(trial_id="0", metrics={"val_loss": float("nan")}))
    assert os.listdir(tmp_path) == ["results.json"]  # no temporary file left behind
    data = read_results(str(tmp_path))
    assert data["trials"][0]["metrics"]["val_loss"] is None
    assert data["objectives"] == [{"name": "val_accuracy", "direction": "max"}]
    assert read_results(path) == data


@pytest.mark.parametrize("content, message", [
    (None, "no results file"),
    ("{broken", "cannot read"),
    (json.dumps({"format": "other"}), "not an autokeras_nas results file"),
    (json.dumps({"format": "autokeras_nas.results", "version": 99, "trials": []}), "unsupported"),
])
def test_bad_results_files_give_one_line_errors(tmp_path, content, message):
    if content is not None:
        (tmp_path / "results.json").write_text(content)
    with pytest.raises(ResultsError, match=message) as info:
        read_results(str(tmp_path))
    assert "\n" not in str(info.value)


def _search_dir(tmp_path):
    (tmp_path / "tuner0.json").write_text("{}")
    (tmp_path / "oracle.json").write_text(json.dumps({"nas": {}, "end_order": []}))
    (tmp_path / "trial_0").mkdir()
    (tmp_path / "trial_0" / "trial.json").write_text(
        json.dumps({"trial_id": "0", "hyperparameters": {}}))
    return tmp_path


def test_a_sound_search_directory_passes(tmp_path):
    check_search_directory(str(_search_dir(tmp_path)), str(tmp_path / "tuner0.json"))


@pytest.mark.parametrize("damage, message", [
    (lambda d: (d / "tuner0.json").unlink(), "tuner0.json is missing"),
    (lambda d: (d / "oracle.json").write_text("[1,"), "oracle.json is corrupted"),
    (lambda d: (d / "oracle.json").write_text('{"end_order": []}'), "not written by autokeras_nas"),
    (lambda d: (d / "trial_0" / "trial.json").write_text("{}"), "trial_0/trial.json lacks"),
])
def test_a_damaged_search_directory_names_the_file(tmp_path, damage, message):
    _search_dir(tmp_path)
    damage(tmp_path)
    with pytest.raises(SearchDirectoryError, match=message):
        check_search_directory(str(tmp_path), str(tmp_path / "tuner0.json"))
