"""A zero-cost warm-up on a real search (`warmup=` of the tuners): random
configurations scored at initialization with a real proxy, then the
strategy's first trials are the best of them, trained."""

from __future__ import annotations

import json

import keras
import pytest

import autokeras_nas

pytestmark = pytest.mark.tf


def test_random_search_starts_from_the_best_scored_configurations(tmp_path, digits,
                                                                  choose_builder) -> None:
    x, y, xv, yv = digits
    keras.utils.set_random_seed(0)
    tuner = autokeras_nas.RandomSearch(choose_builder, "val_accuracy", max_trials=8, seed=0,
                                       warmup="jacob_cov:4:2", directory=str(tmp_path),
                                       project_name="warm")
    tuner.search(x, y, validation_data=(xv, yv), batch_size=64, epochs=1, verbose=0)
    results = json.loads((tmp_path / "warm" / "results.json").read_text())
    trials = results["trials"]
    assert results["strategy"] == "random"
    # the scores take at most half of max_trials
    assert [t["task"] for t in trials] == ["score"] * 4 + ["train"] * 4
    scores, trained = trials[:4], trials[4:]
    assert all(t["notes"] == {"phase": "warmup"} and "val_accuracy" not in t["metrics"]
               and t["status"] == "completed" for t in scores)
    best = sorted(scores, key=lambda t: -t["metrics"]["jacob_cov"])[:2]
    assert [t["values"] for t in trained[:2]] == [t["values"] for t in best]
    assert all(0.0 < t["metrics"]["val_accuracy"] <= 1.0 for t in trained)
    assert set(results["best_trial_ids"]) <= {t["trial_id"] for t in trained}


def test_a_warm_up_of_a_structured_space_is_refused(tmp_path) -> None:
    from autokeras_nas.tuner import MorphHyperModel

    with pytest.raises(ValueError, match="cannot warm up a search of a network space"):
        autokeras_nas.Nash(MorphHyperModel((8, 8, 1), 3), "val_accuracy",
                           warmup="jacob_cov:4", directory=str(tmp_path))
