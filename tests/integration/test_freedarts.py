"""FreeDARTS on the Keras side: `zerocost.operation_saliency` against values
computed by hand, on the NAS-Bench-201 cell supernet, and
`autokeras_nas.FreeDARTS` with the "saliency" trainer on digits."""

from __future__ import annotations

import keras
import keras_tuner
import numpy as np
import pytest

import autokeras_nas
from autokeras_nas import oneshot, zerocost
from autokeras_nas.report import format_oneshot, oneshot_summary

pytestmark = pytest.mark.tf


def _float64_supernet(build):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float64")
    try:
        return oneshot.build_supernet(build, keras_tuner.HyperParameters(), mode="darts")
    finally:
        keras.config.set_dtype_policy(previous)


def _one_choice(hp):
    inputs = keras.Input((3,))
    x = oneshot.choose(hp, "op", {
        "dense": lambda: keras.layers.Dense(3, use_bias=False, kernel_initializer="ones"),
        "skip": keras.layers.Identity,
        "half": lambda: keras.layers.Rescaling(0.5),
        "none": oneshot.zero})(inputs)
    out = keras.layers.Dense(1, use_bias=False, kernel_initializer=keras.initializers.Constant(
        np.array([[1.0], [-2.0], [0.5]])))(x)
    return keras.Model(inputs, out)


def test_saliency_is_the_flow_of_each_candidate_less_its_share_and_pruning_iterates() -> None:
    supernet = _float64_supernet(_one_choice)
    logits = np.asarray(supernet.get_layer("op").arch_logits)
    found = zerocost.operation_saliency(supernet)
    # With weights |w| and an input of ones, the flow through each candidate
    # (dR/dp) is: dense 3 x 3.5, skip 3.5, half 1.75; "none" never competes.
    flow = {"dense": 10.5, "skip": 3.5, "half": 1.75}
    mean = sum(flow.values()) / 3
    assert found["saliency"]["op"] == pytest.approx(
        {c: (f - mean) / 3 for c, f in flow.items()}, rel=1e-12)
    # round 1 drops half; round 2 (dense and skip at 1/2 each) drops skip
    assert found["order"]["op"] == ["dense", "skip", "half", "none"]
    assert found["architecture"] == {"op": "dense"} and found["rounds"] == 2
    once = zerocost.operation_saliency(supernet, iterative=False)
    assert once["rounds"] == 1 and once["order"]["op"] == ["dense", "skip", "half", "none"]
    # the supernet is left as it was
    assert np.array_equal(np.asarray(supernet.get_layer("op").arch_logits), logits)


def test_a_supernet_that_is_not_float64_darts_is_refused() -> None:
    with pytest.raises(ValueError, match="needs a supernet built in 'darts' mode"):
        zerocost.operation_saliency(oneshot.build_supernet(
            _one_choice, keras_tuner.HyperParameters(), mode="single"))
    with pytest.raises(ValueError, match="needs a float64 supernet"):
        zerocost.operation_saliency(oneshot.build_supernet(
            _one_choice, keras_tuner.HyperParameters(), mode="darts"))


def test_the_cell_supernet_derives_a_cell_without_none_in_one_trace() -> None:
    from autokeras_nas.spaces import Nb201Space

    keras.utils.set_random_seed(0)
    space = Nb201Space(input_shape=(8, 8, 1), num_classes=3, channels=4, cells_per_stage=1,
                       conditional=False)
    supernet = _float64_supernet(space)
    found = zerocost.operation_saliency(supernet)
    arch = found["architecture"]
    assert set(arch) == {f"edge_{i}_{j}" for j in range(1, 4) for i in range(j)}
    assert "none" not in arch.values()
    assert found["rounds"] == 3  # four candidates besides "none" on every edge
    for name, order in found["order"].items():
        assert order[0] == arch[name] and order[-1] == "none"
        assert all(np.isfinite(v) for v in found["saliency"][name].values())


@pytest.fixture(scope="module")
def search(search_choose_space):
    return search_choose_space(autokeras_nas.FreeDARTS, top_k=2, retrain_epochs=2)


def test_freedarts_scores_the_supernet_then_trains_what_it_derived(search) -> None:
    tuner, results, (x, y) = search
    trials = results["trials"]
    assert [t["task"] for t in trials] == ["saliency", "train", "train"]
    saliency, *retrains = trials
    assert saliency["status"] == "completed" and "val_accuracy" not in saliency["metrics"]
    assert saliency["metrics"]["epochs"] == 0 and saliency["metrics"]["saliency_time_s"] > 0
    outputs = saliency["outputs"]
    assert outputs["choices"] == {"first": ["relu", "tanh", "skip"], "second": ["bn", "zero"]}
    derived = outputs["architectures"]
    assert len(derived) == 2 and all(a["second"] == "bn" for a in derived)  # never "zero"
    assert derived[0]["first"] == outputs["order"]["first"][0]
    assert derived[1]["first"] == outputs["order"]["first"][1]
    assert set(outputs["saliency"]["first"]) == {"relu", "tanh", "skip"}
    for rank, retrain in enumerate(retrains):
        assert retrain["notes"]["derived_by"] == saliency["trial_id"]
        assert retrain["notes"]["rank"] == rank and retrain["epochs"] == 2
        assert {k: retrain["values"][k] for k in ("first", "second")} == derived[rank]
        assert 0.3 < retrain["metrics"]["val_accuracy"] <= 1.0
    assert saliency["trial_id"] not in results["best_trial_ids"]
    text = format_oneshot(oneshot_summary(results))
    assert text.startswith(f"saliency: trial {saliency['trial_id']}, completed: every operation "
                           "scored at initialization, no training")
    assert f"derived: first={derived[0]['first']} second=bn" in text
    assert f"  {retrains[0]['trial_id']}    0     " in text
    model = tuner.get_best_models(1)[0]
    assert not any(isinstance(layer, oneshot.MixedOp) for layer in model.layers)
    assert model.predict(x[:3], verbose=0).shape == (3, 10)
