"""Promotion-based ASHA on real Keras models: a promoted trial continues its
configuration's training (weights, optimizer state, epoch counter) instead of
starting again, and the epochs trained add up to what the rungs require."""

import json

import keras
import numpy as np

from autokeras_nas.tuner import NasTuner

#: What each `fit` of the search saw, in the order the trials ran.
FITS: list[dict] = []


class Recorder(keras.callbacks.Callback):
    """Records the weights and optimizer step a fit starts and ends with,
    and the index of its first epoch."""

    def on_train_begin(self, logs=None):
        FITS.append({"start": [w.copy() for w in self.model.get_weights()],
                     "start_step": int(self.model.optimizer.iterations.numpy()),
                     "first_epoch": None})

    def on_epoch_begin(self, epoch, logs=None):
        if FITS[-1]["first_epoch"] is None:
            FITS[-1]["first_epoch"] = epoch

    def on_train_end(self, logs=None):
        FITS[-1]["end"] = [w.copy() for w in self.model.get_weights()]
        FITS[-1]["end_step"] = int(self.model.optimizer.iterations.numpy())


def test_promoted_trials_continue_from_their_state(tmp_path, digits, build_model):
    FITS.clear()
    x, y, xv, yv = digits
    tuner = NasTuner(build_model, strategy="random", objective="val_accuracy", max_trials=13,
                     early_stopping="asha", directory=str(tmp_path), project_name="p",
                     latency_repeats=2)
    tuner.search(x, y, validation_data=(xv, yv), epochs=9, batch_size=300, verbose=0,
                 callbacks=[Recorder()])
    results = json.loads((tmp_path / "p" / "results.json").read_text())
    trials = results["trials"]
    assert len(trials) == len(FITS) == 13
    fit_of = {t["trial_id"]: fit for t, fit in zip(trials, FITS)}
    by_id = {t["trial_id"]: t for t in trials}
    steps_per_epoch = -(-len(x) // 300)
    continued = [t for t in trials if t["continues"] is not None]
    assert continued, "no trial was promoted"
    for t in continued:
        parent, fit = by_id[t["parent_id"]], fit_of[t["trial_id"]]
        source = fit_of[parent["trial_id"]]
        # The same configuration, its weights and optimizer step where the parent ended.
        # (KerasTuner adds defaults of hyperparameters registered since.)
        assert {k: t["values"][k] for k in parent["values"]} == parent["values"]
        assert all(np.array_equal(a, b) for a, b in zip(fit["start"], source["end"]))
        assert fit["start_step"] == source["end_step"]
        initial = sum(by_id[p]["epochs"] for p in _lineage(by_id, t)[:-1])
        assert fit["first_epoch"] == initial  # the epoch counter goes on
        assert fit["end_step"] - fit["start_step"] == t["epochs"] * steps_per_epoch
        assert t["notes"]["origin"] == "promotion"
    # Epochs trained per configuration add up to its highest rung, no more.
    rungs = [1, 3, 9]
    reached = {}
    for t in trials:
        config = t["continues"] or t["trial_id"]
        reached.setdefault(config, []).append(t)
    for config, lineage in reached.items():
        total = sum(t["epochs"] for t in lineage)
        assert total == rungs[len(lineage) - 1], config
        assert fit_of[lineage[0]["trial_id"]]["first_epoch"] == 0
    assert max(len(lineage) for lineage in reached.values()) == 3  # one reached 9 epochs
    # The best model is a trial of the top rung, loadable as any other.
    best = tuner.oracle.get_best_trials(1)[0]
    assert tuner.get_best_models(1)[0].count_params() > 0
    assert by_id[best.trial_id]["status"] == "completed"


def _lineage(by_id: dict, trial: dict) -> list[str]:
    """The trial ids from the configuration's first trial to `trial`."""
    chain = [trial["trial_id"]]
    while by_id[chain[0]]["continues"] is not None:
        chain.insert(0, by_id[chain[0]]["parent_id"])
    return chain
