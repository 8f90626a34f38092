"""Aging evolution: conformance, the population, tournaments, mutations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autokeras_nas.core import (
    Choice,
    Condition,
    Float,
    HyperSpace,
    Int,
    Objective,
    Observation,
    Suggestion,
    TrialStatus,
    make_rng,
    non_dominated_sort,
)
from autokeras_nas.testing import check_strategy
from autokeras_nas.testing.driver import run_async
from autokeras_nas.testing.spaces import NB201_EDGES, nb201_objective, nb201_space
from autokeras_nas_plugins.aging_evolution import AgingEvolution
from autokeras_nas_plugins.aging_evolution import mutations as m

SCORE = (Objective("score", "max"),)


def _tell(strategy: AgingEvolution, trial_id: str, suggestion: Suggestion, metrics: dict,
          status: TrialStatus = TrialStatus.COMPLETED) -> None:
    strategy.tell(Observation(trial_id, dict(suggestion.values), status,
                              metrics if status is not TrialStatus.FAILED else {}))


def _run(strategy: AgingEvolution, n: int, objective=nb201_objective, space=None,
         objectives=SCORE) -> list[Suggestion]:
    """Sequential ask/tell; returns the suggestions."""
    strategy.setup(space or nb201_space(), objectives, None)
    out = []
    for i in range(n):
        s = strategy.ask(str(i))
        assert s.kind == "run"
        out.append(s)
        value = objective(s.values)
        _tell(strategy, str(i), s, value if isinstance(value, dict) else {"score": value})
    return out


def _hamming(a: dict, b: dict) -> int:
    return sum(a.get(k) != b.get(k) for k in set(a) | set(b))


@pytest.mark.parametrize("kwargs", [{}, {"population_size": 3, "sample_size": 2},
                                    {"population_size": 5, "sample_size": 5}])
def test_conformance(kwargs):
    check_strategy(AgingEvolution, make_kwargs=lambda seed: {"seed": seed, **kwargs})


def test_the_first_population_is_random_then_children_mutate_one_value_of_a_member():
    strategy = AgingEvolution(population_size=6, sample_size=3, seed=0)
    suggestions = _run(strategy, 40)
    assert [s.notes["origin"] for s in suggestions[:6]] == ["random"] * 6
    by_id = {str(i): s.values for i, s in enumerate(suggestions)}
    for i, s in enumerate(suggestions[6:], start=6):
        assert s.notes["origin"] == "mutation" and s.notes["mutation"] == "change_one"
        parent = s.notes["parent"]
        assert int(parent) < i
        assert _hamming(by_id[parent], s.values) == 1
        assert s.parent_id is None  # no weight inheritance by default


def test_the_population_keeps_the_last_results_and_never_the_failed():
    strategy = AgingEvolution(population_size=4, sample_size=2, seed=1)
    strategy.setup(nb201_space(), SCORE, None)
    for i in range(10):
        s = strategy.ask(str(i))
        failed = i in (7, 8)
        _tell(strategy, str(i), s, {"score": float(i)},
              TrialStatus.FAILED if failed else TrialStatus.COMPLETED)
    assert [member[0] for member in strategy.population] == ["4", "5", "6", "9"]


def test_a_continued_trial_replaces_its_member_s_result_and_keeps_its_age():
    strategy = AgingEvolution(population_size=3, sample_size=1, seed=1)
    strategy.setup(nb201_space(), SCORE, None)
    for i in range(3):
        _tell(strategy, str(i), strategy.ask(str(i)), {"score": float(i)})
    values = dict(strategy.asked["0"])
    strategy.tell(Observation("5", values, TrialStatus.COMPLETED, {"score": 9.0}, epochs=3,
                              continues="0"))
    assert [(m[0], m[2]) for m in strategy.population] == [("0", (9.0,)), ("1", (1.0,)),
                                                           ("2", (2.0,))]
    strategy.tell(Observation("6", values, TrialStatus.FAILED, continues="0"))
    _tell(strategy, "3", strategy.ask("3"), {"score": 3.0})  # "0" ages out all the same
    assert [m[0] for m in strategy.population] == ["1", "2", "3"]
    restored = AgingEvolution(population_size=3, sample_size=1, seed=2)
    restored.setup(nb201_space(), SCORE, None)
    restored.load_state_dict(strategy.state_dict())
    assert list(restored.population) == list(strategy.population)


def test_with_a_time_budget_the_population_is_a_quarter_of_what_it_affords():
    strategy = AgingEvolution(seed=4)
    strategy.setup(nb201_space(), SCORE, None)
    strategy.set_time_budget(480.0)
    assert strategy.population_size == 12
    for i in range(8):
        s = strategy.ask(str(i))
        strategy.tell(Observation(str(i), dict(s.values), TrialStatus.COMPLETED,
                                  {"score": nb201_objective(s.values)}, seconds=15.0))
    # 480 s / 15 s per configuration = 32 affordable: P = 8, decided at the
    # 4th proposal (3 observed), so the 8 random ones make the population.
    assert (strategy.population_size, strategy.sample_size) == (8, 7)
    origins = [strategy.ask(str(i)).notes["origin"] for i in range(8, 10)]
    assert origins == ["mutation", "mutation"]
    restored = AgingEvolution(seed=5)
    restored.setup(nb201_space(), SCORE, None)
    restored.set_time_budget(480.0)
    restored.load_state_dict(strategy.state_dict())
    assert (restored.population_size, restored.sample_size) == (8, 7)
    # An explicit population or max_trials is never resized by the budget.
    fixed = AgingEvolution(population_size=12, seed=4)
    fixed.setup(nb201_space(), SCORE, None)
    fixed.set_time_budget(480.0)
    _run_observed(fixed, 8)
    assert fixed.population_size == 12


def _run_observed(strategy: AgingEvolution, n: int) -> None:
    for i in range(n):
        s = strategy.ask(str(i))
        strategy.tell(Observation(str(i), dict(s.values), TrialStatus.COMPLETED,
                                  {"score": nb201_objective(s.values)}, seconds=15.0))


def test_a_stopped_trial_joins_the_population_with_its_metrics():
    strategy = AgingEvolution(population_size=2, sample_size=1, seed=1)
    strategy.setup(nb201_space(), SCORE, None)
    s = strategy.ask("0")
    _tell(strategy, "0", s, {"score": 0.25}, TrialStatus.STOPPED)
    assert list(strategy.population)[0][2] == (0.25,)


def test_with_the_whole_population_in_the_tournament_the_parent_is_the_best_member():
    strategy = AgingEvolution(population_size=5, sample_size=5, seed=3)
    strategy.setup(nb201_space(), SCORE, None)
    for i in range(30):
        best_before = max(strategy.population, key=lambda mem: mem[2][0], default=None)
        s = strategy.ask(str(i))
        if s.notes["origin"] == "mutation":
            assert s.notes["parent"] == best_before[0]
        _tell(strategy, str(i), s, {"score": nb201_objective(s.values)})


def test_a_tournament_of_one_picks_parents_uniformly():
    strategy = AgingEvolution(population_size=4, sample_size=1, seed=5)
    strategy.setup(nb201_space(), SCORE, None)
    for i in range(4):
        s = strategy.ask(str(i))
        _tell(strategy, str(i), s, {"score": float(i)})
    counts = {str(i): 0 for i in range(4)}
    for _ in range(400):
        counts[strategy._tournament()[0][0]] += 1
    assert min(counts.values()) > 60  # 100 expected each


def test_it_never_waits_with_many_trials_pending():
    strategy = AgingEvolution(population_size=4, sample_size=2, seed=2)
    steps = run_async(strategy, nb201_objective, 40, parallel=8, space=nb201_space(),
                      objectives=SCORE)
    assert all(step.kind == "run" for step in steps)
    assert len({nb201_space().key(step.suggestion.values) for step in steps}) == 40


def test_it_beats_random_sampling_on_an_analytic_objective():
    def best_after(strategy, n=80):
        suggestions = _run(strategy, n)
        return max(nb201_objective(s.values) for s in suggestions)

    from autokeras_nas_plugins.random_search import RandomStrategy

    evolved = np.mean([best_after(AgingEvolution(seed=s)) for s in range(10)])
    random = np.mean([best_after(RandomStrategy(seed=s)) for s in range(10)])
    assert evolved > random


def test_multi_objective_tournaments_pick_a_pareto_optimal_member():
    objectives = (Objective("score", "max"), Objective("cost", "min"))

    def objective(values):
        score = nb201_objective(values)
        return {"score": score, "cost": float(sum(values[e] != "none" for e in NB201_EDGES))}

    strategy = AgingEvolution(population_size=6, sample_size=6, seed=4)
    strategy.setup(nb201_space(), objectives, None)
    for i in range(40):
        population = list(strategy.population)
        s = strategy.ask(str(i))
        if s.notes["origin"] == "mutation":
            points = np.array([mem[2] for mem in population])
            front = {population[j][0] for j in non_dominated_sort(points)[0]}
            assert s.notes["parent"] in front
        _tell(strategy, str(i), s, objective(s.values))


def test_a_custom_rule_is_used_and_named_in_the_notes():
    calls = []

    def swap_first_two_edges(values, space, rng):
        calls.append(dict(values))
        a, b = NB201_EDGES[:2]
        if values[a] == values[b]:
            return None  # not applicable: change_one takes over below
        return {**values, a: values[b], b: values[a]}

    strategy = AgingEvolution(population_size=3, sample_size=2, seed=0,
                              mutations={swap_first_two_edges: 3.0, m.change_one: 1.0})
    suggestions = _run(strategy, 40)
    names = {s.notes.get("mutation") for s in suggestions[3:]}
    assert calls and names <= {"swap_first_two_edges", "change_one"}
    assert "swap_first_two_edges" in names


@pytest.mark.parametrize("kwargs, message", [
    ({"population_size": 0}, "population_size"),
    ({"sample_size": 0}, "sample_size"),
    ({"population_size": 3, "sample_size": 4}, "must not exceed"),
    ({"mutations": "bogus"}, "large-scale"),
    ({"mutations": []}, "at least one rule"),
    ({"mutations": {m.change_one: -1.0}}, "non-negative"),
    ({"mutations": [42]}, "callables"),
])
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AgingEvolution(**kwargs)


# -- large-scale evolution (Real et al. 2017) ----------------------------------
def image_like_space() -> HyperSpace:
    """The shape of the package's image space (spaces/image.py)."""
    params = [Int("conv_blocks", 1, 3), Choice("kernel_size", [3, 5])]
    for i in range(3):
        params.append(Choice(f"filters_{i}", [16, 32, 64],
                             conditions=(Condition("conv_blocks", list(range(i + 1, 4))),)))
    params.append(Float("learning_rate", 3e-4, 3e-2, sampling="log", default=1e-3))
    return HyperSpace(params)


def _by_name(name):
    return next(r for r in m.large_scale_mutations() if m.rule_name(r) == name)


def test_insert_and_remove_convolution_change_depth_by_one_and_fill_new_layers():
    space, rng = image_like_space(), make_rng(0)
    values = space.complete({"conv_blocks": 1, "filters_0": 32})
    deeper = _by_name("insert-convolution")(values, space, rng)
    assert deeper["conv_blocks"] == 2 and deeper["filters_0"] == 32 and "filters_1" in deeper
    assert space.complete(deeper) == deeper
    shallower = _by_name("remove-convolution")(deeper, space, rng)
    assert shallower["conv_blocks"] == 1 and "filters_1" not in shallower
    assert _by_name("remove-convolution")(values, space, rng) is None  # already the minimum


def test_alter_channels_moves_one_layer_one_step():
    space, rng = image_like_space(), make_rng(1)
    values = space.complete({"conv_blocks": 2, "filters_0": 32, "filters_1": 32})
    for _ in range(20):
        child = _by_name("alter-number-of-channels")(values, space, rng)
        changed = [k for k in values if child[k] != values[k]]
        assert len(changed) == 1 and changed[0].startswith("filters_")
        assert child[changed[0]] in (16, 64)


def test_alter_learning_rate_stays_within_a_factor_of_two_and_the_range():
    space, rng = image_like_space(), make_rng(2)
    values = space.complete({"learning_rate": 1e-3})
    for _ in range(50):
        lr = _by_name("alter-learning-rate")(values, space, rng)["learning_rate"]
        assert 5e-4 - 1e-12 <= lr <= 2e-3 + 1e-12 and lr != 1e-3
    top = space.complete({"learning_rate": 3e-2})
    for _ in range(20):
        assert _by_name("alter-learning-rate")(top, space, rng)["learning_rate"] <= 3e-2


def test_large_scale_mode_inherits_weights_and_uses_only_applicable_rules():
    strategy = AgingEvolution(population_size=4, sample_size=2, mutations="large-scale", seed=0)
    assert strategy.inherit_weights
    space = image_like_space()
    suggestions = _run(strategy, 30, objective=lambda v: -abs(v["conv_blocks"] - 2.5),
                       space=space)
    children = [s for s in suggestions if s.notes["origin"] == "mutation"]
    assert children and all(s.parent_id == s.notes["parent"] for s in children)
    used = {s.notes["mutation"] for s in children}
    assert used <= set(m.applicable(m.large_scale_mutations(), space))
    assert "alter-stride" not in used and "add-or-remove-skip" not in used


def test_large_scale_mode_refuses_a_space_without_structural_parameters():
    strategy = AgingEvolution(mutations="large-scale", seed=0)
    with pytest.raises(ValueError, match="large-scale"):
        strategy.setup(nb201_space(), SCORE, None)


def test_roles_can_be_renamed():
    space = HyperSpace([Int("n_cells", 1, 4), Choice("width", [8, 16, 32])])
    rules = m.large_scale_mutations(roles={"depth": "n_cells"})
    assert "insert-convolution" in m.applicable(rules, space)
    with pytest.raises(ValueError, match="unknown mutation roles"):
        m.large_scale_mutations(roles={"colour": "x"})


def test_after_thousands_of_trials_every_proposal_is_still_new():
    strategy = AgingEvolution(seed=0)
    suggestions = _run(strategy, 3000)
    keys = {nb201_space().key(s.values) for s in suggestions}
    assert len(keys) == 3000
    assert math.isfinite(nb201_objective(suggestions[-1].values))
