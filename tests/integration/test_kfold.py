"""K-fold validation on tiny real models: `KFoldTrainer` folds, the trial's
objective as the mean over folds, per-fold inheritance, and its failures."""

import json
import os

import keras
import numpy as np
import pytest

from autokeras_nas.data.split import stratified_folds
from autokeras_nas.testing.driver import ScriptedStrategy
from autokeras_nas.tuner import NasTuner
from autokeras_nas.tuner.trainers import crossval
from autokeras_nas.tuner.trainers.crossval import KFoldTrainer, fold_mean_curve, fold_parent

pytestmark = pytest.mark.tf




def _data(n=60, classes=3):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(classes), n // classes).astype("int32")
    x = rng.normal(size=(n, 8)).astype("float32") + y[:, None]
    x[:, 0] = np.arange(n)  # an id per sample
    return x, y


def _build(hp):
    model = keras.Sequential([
        keras.Input((8,)),
        keras.layers.Dense(hp.Choice("units", [8, 16]), activation="relu", name="hidden"),
        keras.layers.Dense(3, activation="softmax", name="out"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _search(tmp_path, script, folds=4, epochs=3, **kwargs):
    trainer = KFoldTrainer(folds=folds, seed=1)
    seen = []
    original = crossval._Fold.fit

    def fit(self, train, validation, *args):  # what each fold is given, and starts from
        model = self.shared.get()
        start = (model.get_layer("hidden").get_weights()[0].copy(),
                 int(model.optimizer.iterations.numpy()))
        fit_x = np.concatenate([b[0].numpy() for b in train[0]])
        val_x, val_y = (np.concatenate([b[i].numpy() for b in validation]) for i in (0, 1))
        seen.append((fit_x[:, 0].astype(int), val_x[:, 0].astype(int), val_y, start))
        return original(self, train, validation, *args)

    crossval._Fold.fit = fit
    try:
        return _run(tmp_path, script, trainer, epochs, seen, **kwargs)
    finally:
        crossval._Fold.fit = original


def _run(tmp_path, script, trainer, epochs, seen, **kwargs):
    tuner = NasTuner(_build, strategy=ScriptedStrategy(script, seed=0), objective="val_accuracy",
                     max_trials=len(script), max_consecutive_failed_trials=len(script) + 1,
                     directory=str(tmp_path), project_name="p",
                     trainers={"train": trainer}, **kwargs)
    x, y = _data()
    tuner.search(x, y, epochs=epochs, batch_size=8, verbose=0)
    with open(os.path.join(tuner.project_dir, "results.json")) as f:
        return tuner, json.load(f)["trials"], seen


def test_stratified_folds_partition_the_samples_with_the_class_ratios():
    y = np.array([0] * 26 + [1] * 24 + [2] * 7)
    folds = stratified_folds(y, 5, np.random.default_rng(3))
    assert sorted(np.bincount(folds)) == [11, 11, 11, 12, 12]
    for label, count in ((0, 26), (1, 24), (2, 7)):
        per_fold = np.bincount(folds[y == label], minlength=5)
        assert per_fold.max() - per_fold.min() <= 1 and per_fold.sum() == count
    assert np.array_equal(folds, stratified_folds(y, 5, np.random.default_rng(3)))
    with pytest.raises(ValueError, match="folds must be an integer from 2 to the 57"):
        stratified_folds(y, 58, np.random.default_rng(0))


def test_kfold_trains_every_fold_and_the_objective_is_the_mean_of_the_folds(tmp_path):
    tuner, (trial,), seen = _search(tmp_path, [{}])
    assert trial["status"] == "completed"
    # 4 fits: each validates on one fold, trains on the others; the folds
    # partition the samples and keep the class ratios (5 of each class).
    assert len(seen) == 4
    held = np.concatenate([val for _, val, _, _ in seen])
    assert sorted(held) == list(range(60))
    for fit_ids, val_ids, y_val, (kernel, iterations) in seen:
        assert not set(fit_ids) & set(val_ids) and len(fit_ids) + len(val_ids) == 60
        assert np.array_equal(np.bincount(y_val), [5, 5, 5])
        # every fold starts afresh: the first fold's initial weights, no steps
        assert np.array_equal(kernel, seen[0][3][0]) and iterations == 0
    out = trial["outputs"]
    assert out["validation"] == "4-fold" and out["folds"] == 4
    selected = out["selected_epochs"]
    assert 1 <= selected <= 3
    # The objective is the mean of the folds' values at the selected epoch,
    # which is the best epoch of the fold-mean curve (the trial's curve).
    assert trial["metrics"]["val_accuracy"] == pytest.approx(np.mean(out["fold_val_accuracy"]))
    curve = trial["curve"]
    assert [p["epoch"] for p in curve] == [1, 2, 3]
    assert curve[selected - 1]["val_accuracy"] == pytest.approx(trial["metrics"]["val_accuracy"])
    assert trial["metrics"]["val_accuracy"] == max(p["val_accuracy"] for p in curve)
    assert trial["metrics"]["epochs"] == 3
    for k in range(4):
        assert os.path.exists(os.path.join(tuner.get_trial_dir("0"), f"fold{k}",
                                           "checkpoint.weights.h5"))
    assert not os.path.exists(os.path.join(tuner.get_trial_dir("0"), "kfold.json"))


def test_fold_mean_curve_averages_the_epochs_every_fold_reached():
    curves = [[{"epoch": 1, "a": 0.2, "b": 1.0}, {"epoch": 2, "a": 0.4}],
              [{"epoch": 1, "a": 0.6}, {"epoch": 2, "a": 0.8}, {"epoch": 3, "a": 1.0}]]
    assert fold_mean_curve(curves) == [{"epoch": 1.0, "a": pytest.approx(0.4)},
                                       {"epoch": 2.0, "a": pytest.approx(0.6)}]


@pytest.mark.filterwarnings("ignore:Skipping variable loading")
def test_a_child_starts_each_fold_from_its_parents_model_of_that_fold(tmp_path):
    tuner, (parent, child), _ = _search(tmp_path, [{}, {"parent_id": "0"}], epochs=1)
    assert child["status"] == "completed", child["message"]
    # a child inheriting from one model per fold starts each fold from the
    # parent's model of that fold (the fold models differ)
    context = crossval.TrialContext(tuner, tuner.oracle.get_trial("1"), (), {})
    kernels = [fold_parent(context, k).model.get_layer("hidden").get_weights()[0]
               for k in range(2)]
    assert not np.allclose(kernels[0], kernels[1])
    saved = fold_parent(context, 1).model
    saved.load_weights(os.path.join(tuner.get_trial_dir("0"), "fold1", "checkpoint.weights.h5"))
    assert np.allclose(saved.get_layer("hidden").get_weights()[0], kernels[1])


def test_kfold_refuses_validation_data_and_bad_folds(tmp_path):
    with pytest.raises(ValueError, match="folds must be an integer >= 2"):
        KFoldTrainer(folds=1)
    tuner = NasTuner(_build, strategy=ScriptedStrategy([{}], seed=0), objective="val_accuracy",
                     max_trials=1, directory=str(tmp_path), project_name="p",
                     trainers={"train": KFoldTrainer(folds=3)})
    x, y = _data()
    tuner.search(x, y, epochs=1, validation_data=(x, y), verbose=0)
    with open(os.path.join(tuner.project_dir, "results.json")) as f:
        (trial,) = json.load(f)["trials"]
    assert trial["status"] == "failed"
    assert "makes its own validation folds" in trial["message"]


def test_a_budget_shorter_than_one_trial_keeps_its_cut_trial(tmp_path):
    # 1000 epochs a fold cannot end in 3 s: the budget cuts the first fold of
    # the first trial; no trial has completed, so it is kept as stopped.
    _, trials, seen = _search(tmp_path, [{}, {}], epochs=1000, time_budget=3)
    (trial,) = trials
    assert len(seen) == 1
    assert trial["status"] == "stopped" and trial["metrics"]["stopped_by_budget"] == 1
    assert trial["outputs"]["folds_completed"] == 0
    assert trial["metrics"]["epochs"] < 1000 and "val_accuracy" in trial["metrics"]
