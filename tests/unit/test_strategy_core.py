"""The core contracts: Suggestion, Observation, Objective, seeded RNG state."""

import json

import numpy as np
import pytest

from autokeras_nas.core import (
    ARCH,
    BaseStrategy,
    Choice,
    HyperSpace,
    Objective,
    Observation,
    SpaceKind,
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


# ---------------------------------------------------------------------------
# architectures in asked, de-duplication and state; kinds of space
# ---------------------------------------------------------------------------
class _Scripted(BaseStrategy):
    """Proposes the (values, arch) pairs it is given, in order."""

    name = "test-scripted"
    space_kinds = (SpaceKind.NETWORK, SpaceKind.HYPERPARAMETERS)

    def __init__(self, *, seed=0, script=()):
        super().__init__(seed=seed)
        self.script = list(script)
        self.bound = []

    def propose(self, trial_id):
        values, arch = self.script[len(self.asked)]
        return Suggestion.run(values, arch=arch)

    def bind_structure(self, kind, structure):
        self.bound.append((kind, structure))


def _scripted(script, space=None):
    strategy = _Scripted(script=script)
    strategy.setup(space or HyperSpace([Choice("a", [1, 2])]), [Objective("score", "max")], None)
    return strategy


NET_A = '{"net": {"nodes": 3, "kind": "2d"}, "morphisms": []}'
NET_A_REORDERED = '{"morphisms":[],"net":{"kind":"2d","nodes":3}}'
NET_B = '{"net": {"nodes": 4, "kind": "2d"}, "morphisms": []}'


def test_asked_holds_the_architecture_and_survives_the_state_round_trip():
    strategy = _scripted([({"a": 1}, NET_A), ({"a": 1}, None)])
    strategy.ask("0")
    strategy.ask("1")
    assert strategy.asked == {"0": {"a": 1, ARCH: NET_A}, "1": {"a": 1}}
    state = json.loads(json.dumps(strategy.state_dict(), allow_nan=False))
    fresh = _scripted([])
    fresh.load_state_dict(state)
    assert fresh.asked == strategy.asked
    assert not fresh.is_new({"a": 1}, NET_A)  # de-duplication restored with the state
    assert not fresh.is_new({"a": 1})
    assert fresh.is_new({"a": 1}, NET_B) and fresh.is_new({"a": 2})


def test_same_values_with_different_architectures_are_both_new():
    strategy = _scripted([({"a": 1}, NET_A)])
    assert strategy.is_new({"a": 1}, NET_A) and strategy.is_new({"a": 1}, NET_B)
    strategy.ask("0")
    assert not strategy.is_new({"a": 1}, NET_A)
    assert strategy.is_new({"a": 1}, NET_B)
    assert strategy.is_new({"a": 1})  # the values alone, without architecture, are not seen


def test_new_key_is_the_spaces_key_of_values_not_proposed_yet():
    space = HyperSpace([Choice("a", [1, 2])])
    strategy = _scripted([({"a": 1}, None)], space)
    assert strategy.new_key({"a": 1}) == space.key({"a": 1}) != space.key({"a": 2})
    strategy.ask("0")
    assert strategy.new_key({"a": 1}) is None and not strategy.is_new({"a": 1})
    assert strategy.new_key({"a": 2}) == space.key({"a": 2})


def test_the_same_architecture_written_in_another_key_order_is_not_new():
    strategy = _scripted([({"a": 1}, NET_A)])
    strategy.ask("0")
    assert json.loads(NET_A) == json.loads(NET_A_REORDERED) and NET_A != NET_A_REORDERED
    assert not strategy.is_new({"a": 1}, NET_A_REORDERED)
    assert not strategy.is_new({"a": 1, ARCH: NET_A_REORDERED})  # as asked stores it


def test_architecture_trials_do_not_use_up_the_values_sample_new_draws_from():
    strategy = _scripted([({"a": 1}, NET_A), ({"a": 2}, NET_A)])
    strategy.ask("0")
    strategy.ask("1")
    drawn = {strategy.sample_new()["a"] for _ in range(20)}
    assert drawn == {1, 2}


def test_an_architecture_must_be_a_json_string_for_is_new():
    strategy = _scripted([])
    with pytest.raises(TypeError, match="JSON string"):
        strategy.is_new({"a": 1}, {"net": {}})


def test_use_space_binds_declared_structured_kinds_only():
    strategy = _Scripted()
    strategy.use_space("network", {"nodes": []})
    strategy.use_space(SpaceKind.HYPERPARAMETERS)  # nothing to bind
    assert strategy.bound == [(SpaceKind.NETWORK, {"nodes": []})]
    with pytest.raises(ValueError) as info:
        strategy.use_space(SpaceKind.CELLS, {"ops": []})
    message = str(info.value)
    assert "'test-scripted' cannot search a cells space" in message
    assert "it searches: network, hyperparameters" in message and "\n" not in message
    with pytest.raises(ValueError, match="unknown kind of space 'graph'; one of: hyperparameters"):
        strategy.use_space("graph", {})
    with pytest.raises(ValueError, match="needs its structure"):
        strategy.use_space(SpaceKind.NETWORK)
    assert strategy.bound == [(SpaceKind.NETWORK, {"nodes": []})]


def test_a_declared_kind_without_bind_structure_says_so():
    class Undeclared(_Scripted):
        name = "test-undeclared"
        space_kinds = (SpaceKind.CELLS,)
        bind_structure = BaseStrategy.bind_structure

    with pytest.raises(NotImplementedError, match="declares cells spaces but does not implement"):
        Undeclared().use_space(SpaceKind.CELLS, {"ops": ["identity"]})
