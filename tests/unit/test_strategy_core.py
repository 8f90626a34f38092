"""The core contracts: Suggestion, Observation, Objective, seeded RNG state."""

import json

import numpy as np
import pytest

from autokeras_nas.core import (
    Objective,
    Observation,
    Suggestion,
    TrialStatus,
    make_rng,
    rng_state,
    set_rng_state,
)


def test_suggestion_carries_reserved_keys_separately():
    s = Suggestion.run({"units": 32}, parent_id="3", epochs=4, notes={"why": "mutant"})
    assert s.kind == "run"
    assert s.hp_values() == {"units": 32, "nas/parent": "3", "nas/epochs": 4}
    assert Suggestion.wait().kind == "wait"
    assert Suggestion.done("exhausted").notes == {"reason": "exhausted"}


@pytest.mark.parametrize("value", [np.int64(3), np.float32(0.5), np.bool_(True), None, [1]])
def test_suggestion_rejects_non_python_scalars(value):
    with pytest.raises(TypeError, match="Python scalars"):
        Suggestion.run({"x": value})


def test_suggestion_rejects_reserved_keys_in_values_and_bad_epochs():
    with pytest.raises(ValueError, match="reserved"):
        Suggestion.run({"nas/parent": "1"})
    with pytest.raises(ValueError, match="epochs"):
        Suggestion.run({"x": 1}, epochs=0)


def test_observation_round_trips_and_orients_objectives():
    obs = Observation("7", {"a": 1}, TrialStatus.STOPPED, {"acc": 0.9, "latency_ms": 2.0}, epochs=3)
    again = Observation.from_dict(json.loads(json.dumps(obs.to_dict())))
    assert again == obs
    objs = [Objective("acc", "max"), Objective("latency_ms", "min")]
    assert obs.objective_vector(objs) == (0.9, -2.0)
    assert Observation("8", {}, TrialStatus.FAILED, {"acc": 1.0}).objective_vector(objs) is None
    assert Observation("9", {}, TrialStatus.COMPLETED, {"acc": float("nan"), "latency_ms": 1}).objective_vector(objs) is None


def test_objective_direction_is_validated():
    with pytest.raises(ValueError):
        Objective("acc", "up")


def test_rng_state_round_trips_through_json():
    rng = make_rng(123)
    rng.random(5)
    state = json.loads(json.dumps(rng_state(rng)))
    expected = rng.random(10)
    other = make_rng(999)
    set_rng_state(other, state)
    np.testing.assert_array_equal(other.random(10), expected)


@pytest.mark.parametrize("seed", [None, -1, 1.5, True, "3"])
def test_make_rng_rejects_bad_seeds(seed):
    with pytest.raises(ValueError):
        make_rng(seed)


def test_direct_construction_is_validated_too():
    with pytest.raises(TypeError):
        Suggestion("run", {"x": np.float64(1.0)})
    with pytest.raises(ValueError):
        Suggestion("maybe")
    with pytest.raises(ValueError):
        Suggestion("wait", {"x": 1})
    with pytest.raises(TypeError):
        Suggestion.run({"x": 1}, parent_id=3)
    with pytest.raises(ValueError, match="initial_epoch"):
        Suggestion.run({"x": 1}, epochs=3, initial_epoch=3)


def _random_strategy(space, seed=0):
    from autokeras_nas_plugins.random_search import RandomStrategy

    strategy = RandomStrategy(seed=seed)
    strategy.setup(space, [Objective("score", "max")], None)
    return strategy


def test_random_search_finds_the_last_unseen_points_of_a_large_finite_space():
    from autokeras_nas.core import Choice, HyperSpace

    space = HyperSpace([Choice(f"e{i}", list(range(5))) for i in range(4)])  # 625 points
    strategy = _random_strategy(space)
    keys = set()
    for i in range(625):
        s = strategy.ask(str(i))
        assert s.kind == "run", f"gave up after {i} of 625 points"
        keys.add(space.key(s.values))
    assert len(keys) == 625
    assert strategy.ask("625").kind == "done"


def test_a_trial_is_told_once():
    from autokeras_nas.core import Choice, HyperSpace

    strategy = _random_strategy(HyperSpace([Choice("a", [1, 2])]))
    s = strategy.ask("0")
    obs = Observation("0", s.values, TrialStatus.COMPLETED, {"score": 1.0})
    strategy.tell(obs)
    with pytest.raises(ValueError, match="already told"):
        strategy.tell(obs)
