"""NASH's hill climbing, on analytic objectives (no TensorFlow)."""

from __future__ import annotations

import json

import pytest

from autokeras_nas.core import Objective, Observation, Suggestion, TrialStatus
from autokeras_nas.testing import check_strategy
from autokeras_nas.testing.spaces import mixed_objective, mixed_space
from autokeras_nas_plugins.nash import Nash

SCORE = (Objective("score", "max"),)


def _tell(strategy, trial_id, suggestion, score, train_time=1.0, status=TrialStatus.COMPLETED):
    metrics = {} if status is TrialStatus.FAILED else {
        "score": score, "train_time_s": train_time, "epochs": float(suggestion.epochs or 1)}
    strategy.tell(Observation(trial_id, dict(suggestion.values), status, metrics,
                              epochs=suggestion.epochs))


def _drive(strategy, n, objective=mixed_objective, space=None, max_trials=None, train_time=1.0):
    """Sequential ask/tell; returns the run suggestions by trial id."""
    strategy.setup(space or mixed_space(), SCORE, max_trials)
    out = {}
    for i in range(n):
        s = strategy.ask(str(i))
        if s.kind == "done":
            break
        assert s.kind == "run"
        out[str(i)] = s
        _tell(strategy, str(i), s, objective(s.values), train_time)
    return out


@pytest.mark.parametrize("kwargs", [{}, {"n_neigh": 2, "n_nm": 1}, {"n_neigh": 5, "n_nm": 2}])
def test_conformance(kwargs):
    check_strategy(Nash, make_kwargs=lambda seed: {"seed": seed, **kwargs})


def test_start_then_steps_of_neighbours_of_the_best_so_far():
    strategy = Nash(n_neigh=3, n_nm=1, epochs_start=4, epochs_neigh=2, seed=0)
    runs = _drive(strategy, 13)
    assert runs["0"].notes["origin"] == "start" and runs["0"].epochs == 4
    assert runs["0"].values == mixed_space().complete({})  # the defaults start
    best_id, best = "0", mixed_objective(runs["0"].values)
    for step in range(4):
        ids = [str(1 + 3 * step + k) for k in range(3)]
        for tid in ids:
            s = runs[tid]
            assert s.parent_id == best_id and s.notes["parent"] == best_id
            assert s.notes["step"] == step + 1 and s.epochs == 2
        scores = {tid: mixed_objective(runs[tid].values) for tid in ids}
        top = max(scores, key=scores.get)
        if scores[top] > best:  # hill climbing: the parent stays unless beaten
            best_id, best = top, scores[top]


def test_a_neighbour_changes_at_most_n_nm_hyperparameters():
    strategy = Nash(n_neigh=4, n_nm=1, seed=3)
    runs = _drive(strategy, 9)
    for s in runs.values():
        if s.parent_id is None:
            continue
        parent = runs[s.parent_id].values
        changed = {k for k in set(parent) | set(s.values) if parent.get(k) != s.values.get(k)}
        # one change, plus the parameters it (de)activates
        top_level = changed - {"dropout_rate", "filters", "kernel_size", "units"}
        assert 1 <= len(changed) and len(top_level) <= 1


def test_it_waits_for_the_whole_step_before_the_next():
    strategy = Nash(n_neigh=3, seed=1)
    strategy.setup(mixed_space(), SCORE, None)
    start = strategy.ask("0")
    assert strategy.ask("1").kind == "wait"  # the start network trains first
    _tell(strategy, "0", start, 1.0)
    step = [strategy.ask(str(i)) for i in (1, 2, 3)]
    assert all(s.kind == "run" for s in step)
    assert strategy.ask("4").kind == "wait"
    for i, s in zip((1, 2, 3), step):
        _tell(strategy, str(i), s, 0.5)
    assert strategy.ask("4").kind == "run"


def test_max_trials_and_n_steps_bound_the_search():
    runs = _drive(Nash(n_neigh=2, n_steps=3, seed=0), 100)
    assert len(runs) == 1 + 3 * 2
    runs = _drive(Nash(n_neigh=4, seed=0), 100, max_trials=11)
    assert len(runs) == 9  # start + 2 steps; a third would exceed max_trials


def test_the_time_budget_stops_stepping():
    # Every trial "trains" 10 s per epoch: start 4 epochs = 40 s, a step of
    # 3 neighbours x 2 epochs = 60 s. A 200 s budget fits the start and 2 steps.
    strategy = Nash(n_neigh=3, epochs_start=4, epochs_neigh=2, time_budget_s=200.0, seed=0)
    strategy.setup(mixed_space(), SCORE, None)
    n = 0
    while True:
        s = strategy.ask(str(n))
        if s.kind == "done":
            break
        _tell(strategy, str(n), s, mixed_objective(s.values), train_time=10.0 * s.epochs)
        n += 1
    assert n == 1 + 2 * 3


def test_a_failed_start_is_replaced_and_failed_neighbours_are_ignored():
    strategy = Nash(n_neigh=2, seed=0)
    strategy.setup(mixed_space(), SCORE, None)
    first = strategy.ask("0")
    _tell(strategy, "0", first, 0.0, status=TrialStatus.FAILED)
    second = strategy.ask("1")
    assert second.notes["origin"] == "start" and second.values != first.values
    _tell(strategy, "1", second, 0.3)
    a, b = strategy.ask("2"), strategy.ask("3")
    _tell(strategy, "2", a, 0.0, status=TrialStatus.FAILED)
    _tell(strategy, "3", b, 0.1)
    nxt = strategy.ask("4")
    assert nxt.parent_id == "1"  # 0.1 does not beat the parent's 0.3; the failure is ignored


@pytest.mark.parametrize("kwargs, message", [
    ({"n_neigh": 0}, "n_neigh"), ({"n_nm": 0}, "n_nm"), ({"n_steps": -1}, "n_steps"),
    ({"epochs_final": 0}, "epochs_final"), ({"morphisms": ["sideways"]}, "morphisms"),
    ({"time_budget_s": 0}, "time_budget_s"),
])
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Nash(**kwargs)


def test_suggestion_arch_must_be_json():
    with pytest.raises(ValueError, match="JSON"):
        Suggestion.run({}, arch="{not json")
    assert Suggestion.run({}, arch='{"a": 1}').hp_values() == {"nas/arch": '{"a": 1}'}
    assert json.loads(Suggestion.run({}, arch="[]").arch) == []
