"""`autokeras_nas.ZeroCost` and the "score" trainer on digits: architectures
scored at initialization by real proxies, the best (by the proxies'
vote) trained, and that model the search's answer."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

import autokeras_nas
from autokeras_nas import oneshot

pytestmark = pytest.mark.tf


def _mean_ranks(columns: list[list[float]]) -> np.ndarray:
    """Mean over the columns of each row's rank (1 = the highest; ties share
    their mean rank)."""
    ranks = []
    for values in columns:
        values = np.asarray(values)
        ranks.append([np.sum(values > v) + (np.sum(values == v) + 1) / 2 for v in values])
    return np.mean(ranks, axis=0)


@pytest.fixture(scope="module")
def search(search_choose_space):
    return search_choose_space(autokeras_nas.ZeroCost, candidates=5, top_k=1, retrain_epochs=2,
                               proxies="jacob_cov+synflow", score_batch=32)


def test_scores_then_trains_the_best_by_the_vote_and_answers_with_it(search) -> None:
    tuner, results, (x, y) = search
    trials = results["trials"]
    scores = [t for t in trials if t["task"] == "score"]
    retrains = [t for t in trials if t["task"] == "train"]
    assert len(scores) == 5 and len(retrains) == 1
    for trial in scores:
        assert trial["status"] == "completed" and trial["notes"]["phase"] == "search"
        # A proxy's score is no accuracy: the trial reports none.
        assert "val_accuracy" not in trial["metrics"]
        assert trial["metrics"]["epochs"] == 0 and trial["metrics"]["score_time_s"] > 0
        assert trial["outputs"] == {"proxies": ["jacob_cov", "synflow"], "score_batch": 32}
    ranks = _mean_ranks([[t["metrics"][p] for t in scores] for p in ("jacob_cov", "synflow")])
    best = scores[int(np.argmin(ranks))]
    (retrain,) = retrains
    assert retrain["notes"]["estimate_trial"] == best["trial_id"]
    assert retrain["notes"]["estimate"] == {p: best["metrics"][p] for p in ("jacob_cov", "synflow")}
    assert retrain["values"] == best["values"] and retrain["epochs"] == 2
    assert 0.5 < retrain["metrics"]["val_accuracy"] <= 1.0
    assert results["best_trial_ids"] == [retrain["trial_id"]]
    model = tuner.get_best_models(1)[0]
    assert not any(isinstance(layer, oneshot.MixedOp) for layer in model.layers)
    assert model.predict(x[:3], verbose=0).shape == (3, 10)


def _tanh_only(hp):
    inputs = keras.Input((64,))
    x = oneshot.choose(hp, "layer", {
        "a": lambda: keras.layers.Dense(16, activation="tanh"),
        "b": lambda: keras.layers.Dense(32, activation="tanh")})(inputs)
    model = keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(x))
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_a_proxy_that_cannot_score_fails_the_trial_with_its_reason(tmp_path, digits) -> None:
    x, y, xv, yv = digits
    tuner = autokeras_nas.ZeroCost(_tanh_only, "val_accuracy", proxies="naswot", seed=0,
                                   candidates=2, top_k=1, retrain_epochs=1,
                                   max_consecutive_failed_trials=5, directory=str(tmp_path))
    tuner.search(x, y, validation_data=(xv, yv), batch_size=64, verbose=0)
    results = json.loads((tmp_path / "untitled_project" / "results.json").read_text())
    scores = [t for t in results["trials"] if t["task"] == "score"]
    assert len(scores) == 2 and all(t["status"] == "failed" for t in scores)
    assert "naswot cannot score this model: naswot needs a functional model with ReLUs" in \
        scores[0]["message"]
    assert results["best_trial_ids"] == []


def test_scores_read_a_tf_data_pipeline(tmp_path, digits, choose_builder) -> None:
    import tensorflow as tf

    x, y, xv, yv = digits
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(20)
    tuner = autokeras_nas.ZeroCost(choose_builder, "val_accuracy", seed=0, candidates=2,
                                   top_k=1, retrain_epochs=1, score_batch=50,
                                   directory=str(tmp_path))
    tuner.search(train, validation_data=(xv, yv), verbose=0)
    results = json.loads((tmp_path / "untitled_project" / "results.json").read_text())
    scores = [t for t in results["trials"] if t["task"] == "score"]
    assert [t["outputs"]["score_batch"] for t in scores] == [50, 50]
    assert all(np.isfinite(t["metrics"]["jacob_cov"]) for t in scores)
