"""SMASH on the Keras side: a "hyper" MixedOp's kernels generated from the
whole architecture (checked against numpy), and `autokeras_nas.SMASH` with
the "smash" trainer on digits."""

from __future__ import annotations

import keras
import keras_tuner
import numpy as np
import pytest

import autokeras_nas
from autokeras_nas import oneshot
from autokeras_nas.oneshot.mixed import _embedding
from autokeras_nas.tuner.trainers.smash import RandomArchitectures

pytestmark = pytest.mark.tf


def _two_choices(hp):
    inputs = keras.Input((4,))
    x = oneshot.choose(hp, "a", {"d1": lambda: keras.layers.Dense(4),
                                 "d2": lambda: keras.layers.Dense(4, activation="relu")})(inputs)
    x = oneshot.choose(hp, "b", {"p": lambda: keras.layers.Dense(4),
                                 "q": keras.layers.Identity})(x)
    return keras.Model(inputs, keras.layers.Dense(2)(x))


def test_a_candidates_kernels_are_generated_from_the_whole_architecture() -> None:
    model = oneshot.build_supernet(_two_choices, keras_tuner.HyperParameters(), mode="hyper",
                                   hyper_dims=3)
    a = model.get_layer("a")
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    dense = a.branches[0]
    kernel, bias = np.asarray(dense.kernel), np.asarray(dense.bias)
    oneshot.set_paths(model, {"a": "d1", "b": "p"})
    # an untrained hypernetwork (its deltas at zero) is the shared kernel
    assert np.allclose(np.asarray(a(x)), x @ kernel + bias, atol=1e-5)
    delta = np.random.default_rng(1).normal(size=(3, 16)).astype("float32")
    a._deltas[0][0].assign(delta)
    w, b = np.asarray(a.hyper_w), np.asarray(a.hyper_b)

    def expected(path_b: str) -> np.ndarray:
        e = _embedding("a", ("d1", "d2"))[0] + _embedding("b", ("p", "q"))[["p", "q"].index(path_b)]
        h = np.tanh(e @ w + b)
        return x @ (kernel + (h @ delta).reshape(4, 4)) + bias

    outs = {}
    for path_b in ("p", "q"):
        oneshot.set_paths(model, {"a": "d1", "b": path_b})
        outs[path_b] = np.asarray(a(x))
        assert np.allclose(outs[path_b], expected(path_b), atol=1e-4)
    # the same candidate of "a", other weights once "b" takes another path
    assert not np.allclose(outs["p"], outs["q"], atol=1e-3)
    # the hypernetwork's weights are the layer's and saved with it
    names = {v.path.split("/")[-1] for v in a.weights}
    assert {"hyper_w", "hyper_b", "delta_0_0", "delta_1_0"} <= names
    assert "delta_0_1" not in names  # a bias gets no generated part


def test_an_epochs_architectures_do_not_depend_on_the_epochs_before_it() -> None:
    """So a supernet resumed from its backup at an epoch trains what an
    uninterrupted run would."""
    model = oneshot.build_supernet(_two_choices, keras_tuner.HyperParameters(), mode="hyper",
                                   hyper_dims=3)

    def draws(epochs: list[int]) -> list[tuple[int, ...]]:
        callback = RandomArchitectures(seed=5)
        callback.set_model(model)
        callback.on_train_begin()
        seen = []
        for epoch in epochs:
            callback.on_epoch_begin(epoch)
            for batch in range(6):
                callback.on_train_batch_begin(batch)
                seen.append(tuple(int(np.asarray(op.fixed_path))
                                  for op in oneshot.all_mixed_ops(model)))
        return seen

    uninterrupted = draws([0, 1, 2])
    assert draws([2]) == uninterrupted[12:]
    assert len(set(uninterrupted)) > 1 and uninterrupted[:6] != uninterrupted[6:12]


@pytest.fixture(scope="module")
def search(search_choose_space):
    return search_choose_space(autokeras_nas.SMASH, supernet_epochs=3, candidates=4, top_k=1,
                               retrain_epochs=2)


def test_smash_trains_the_hypernetworks_ranks_with_generated_weights_and_retrains(search):
    tuner, results, (x, y) = search
    trials = results["trials"]
    assert [t["task"] for t in trials] == ["smash"] + ["estimate"] * 4 + ["train"]
    supernet, estimates, retrain = trials[0], trials[1:5], trials[5]
    assert supernet["status"] == "completed" and supernet["outputs"]["mode"] == "hyper"
    assert supernet["outputs"]["hyper_dims"] == 8 and supernet["metrics"]["epochs"] == 3
    accuracies = [t["metrics"]["val_accuracy"] for t in estimates]
    assert all(0.0 < a <= 1.0 for a in accuracies)
    assert retrain["notes"]["estimate_trial"] == estimates[int(np.argmax(accuracies))]["trial_id"]
    assert retrain["parent_id"] is None and retrain["epochs"] == 2
    # the hypernetworks trained: their generated part moved from zero
    from autokeras_nas.tuner.trainers.base import load_trial_model

    trained = load_trial_model(tuner, tuner.oracle.get_trial(supernet["trial_id"]))
    deltas = [np.abs(np.asarray(v)).max() for v in trained.weights if "delta_" in v.path]
    assert deltas and max(deltas) > 0
    model = tuner.get_best_models(1)[0]
    assert not any(isinstance(layer, oneshot.MixedOp) for layer in model.layers)
    assert model.predict(x[:3], verbose=0).shape == (3, 10)
