"""The end of a time budget on real Keras models: once the schedule's next
work no longer fits, the leader continues from its state with its learning
rate annealed to zero, and then the search ends."""

import json
import math
import time

import keras
import numpy as np

from autokeras_nas.tuner import NasTuner

#: (trial's first epoch, learning rate in force) of every epoch run, in order.
EPOCHS: list[tuple[int, float]] = []
#: Weights each fit starts from and ends with.
FITS: list[dict] = []


class Slow(keras.callbacks.Callback):
    """Makes each epoch take at least 0.3 s, so the costs the endgame
    measures do not depend on how fast the machine is; records what ran."""

    def on_train_begin(self, logs=None):
        FITS.append({"start": [w.copy() for w in self.model.get_weights()]})

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        time.sleep(max(0.0, 0.3 - (time.perf_counter() - self._t0)))
        EPOCHS.append((epoch, float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))))

    def on_train_end(self, logs=None):
        FITS[-1]["end"] = [w.copy() for w in self.model.get_weights()]


def build(hp):
    model = keras.Sequential([keras.Input((64,)),
                              keras.layers.Dense(hp.Int("units", 8, 64, step=4), activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(hp.Float("lr", 1e-3, 1e-2, sampling="log")),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_a_time_budget_ends_with_the_leader_trained_on_annealed(tmp_path, digits):
    EPOCHS.clear()
    FITS.clear()
    x, y, xv, yv = digits
    tuner = NasTuner(build, strategy="random", objective="val_accuracy", early_stopping="asha",
                     time_budget=12, directory=str(tmp_path), project_name="p",
                     latency_repeats=1)
    t0 = time.monotonic()
    tuner.search(x, y, validation_data=(xv, yv), epochs=3, batch_size=200, verbose=0,
                 callbacks=[Slow()])
    took = time.monotonic() - t0
    trials = json.loads((tmp_path / "p" / "results.json").read_text())["trials"]
    assert len(trials) == len(FITS) >= 2
    *searched, last = trials
    assert last["notes"]["origin"] == "extension", [t["notes"] for t in trials]
    assert all(t["notes"].get("origin") != "extension" for t in searched)
    by_id = {t["trial_id"]: t for t in trials}
    total = {t["trial_id"]: sum(by_id[p]["epochs"] for p in _lineage(by_id, t)) for t in trials}
    # It continues the best trial of the most-trained rung, from its final state.
    most = max(total[t["trial_id"]] for t in searched)
    parent = by_id[last["parent_id"]]
    assert total[parent["trial_id"]] == most
    assert parent["score"] == max(t["score"] for t in searched if total[t["trial_id"]] == most)
    assert last["continues"] == (parent["continues"] or parent["trial_id"])
    start = FITS[-1]["start"]
    assert all(np.array_equal(a, b) for a, b in zip(start, FITS[trials.index(parent)]["end"]))
    # Its epochs go on from the parent's, the learning rate annealed from the compiled
    # one to about zero.
    n = last["epochs"]
    assert n >= 1
    assert [epoch for epoch, _ in EPOCHS[-n:]] == list(range(most, most + n))
    lr = last["values"]["lr"]
    expected = [lr * 0.5 * (1 + math.cos(math.pi * (i + 0.5) / n)) for i in range(n)]
    assert np.allclose([rate for _, rate in EPOCHS[-n:]], expected, rtol=1e-5)
    # The search ended with it, inside the budget give or take an epoch.
    assert took < 12 + 3


def _lineage(by_id: dict, trial: dict) -> list[str]:
    """The trial ids from the configuration's first trial to `trial`."""
    chain = [trial["trial_id"]]
    while by_id[chain[0]]["continues"] is not None:
        chain.insert(0, by_id[chain[0]]["parent_id"])
    return chain


def test_a_resumed_run_searches_again_and_its_endgame_builds_on_the_last(tmp_path, digits):
    x, y, xv, yv = digits

    def run(budget):
        EPOCHS.clear()
        FITS.clear()
        tuner = NasTuner(build, strategy="random", objective="val_accuracy",
                         early_stopping="asha", time_budget=budget, directory=str(tmp_path),
                         project_name="p", latency_repeats=1)
        tuner.search(x, y, validation_data=(xv, yv), epochs=3, batch_size=200, verbose=0,
                     callbacks=[Slow()])
        return json.loads((tmp_path / "p" / "results.json").read_text())["trials"]

    first = run(6)
    assert first[-1]["notes"]["origin"] == "extension"
    trials = run(6)  # the same directory, a budget of its own
    assert len(trials) > len(first)
    extensions = [t for t in trials if t["notes"].get("origin") == "extension"]
    assert len(extensions) == 2 and trials[-1] is extensions[1]
    # Every trial a run's endgame continues kept its final state, the extension too.
    by_id = {t["trial_id"]: t for t in trials}
    assert (tmp_path / "p" / f"trial_{extensions[1]['parent_id']}").is_dir()
    assert by_id[extensions[1]["parent_id"]]["status"] == "completed"
