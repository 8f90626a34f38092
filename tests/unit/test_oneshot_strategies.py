"""One-shot strategies (`spos`, `random-ws`, `oneshot`) and their phase
machinery (`autokeras_nas.core.OneShotStrategy`), driven without Keras: a
fake supernet task answers with the outputs a supernet trainer reports."""

from __future__ import annotations

import json
from typing import Any, Mapping

import pytest

from autokeras_nas import plugins
from autokeras_nas.core import (
    ESTIMATE_TASKS,
    PHASE_RETRAIN,
    PHASE_SEARCH,
    PHASE_SUPERNET,
    TASK_ESTIMATE,
    TASK_SUPERNET,
    BaseStrategy,
    Boolean,
    Choice,
    Condition,
    HyperSpace,
    Objective,
    Observation,
    OneShotStrategy,
    SpaceKind,
    Suggestion,
    TrialStatus,
    choice_subspace,
    makes_model,
    supernet_choices,
)
from autokeras_nas.core import oneshot_plan
from autokeras_nas.testing import (
    FOUNDATION_TASKS,
    SCORE,
    Driver,
    Step,
    check_failed_observations,
    check_strategy,
    mixed_space,
    nb201_space,
    objective_for,
    supernet_outputs,
)
from autokeras_nas.testing.driver import FAILURE_MESSAGE

NAMES = ("spos", "random-ws", "oneshot")
MODES = {"spos": "single", "random-ws": "single", "oneshot": "all"}
INNER = {"spos": "aging-evolution", "random-ws": "random", "oneshot": "random"}
#: A short plan: every phase within a few dozen trials.
SMALL = {"supernet_epochs": 3, "candidates": 8, "top_k": 2, "retrain_epochs": 4}


def _new(name: str, seed: int = 0, **kwargs: Any) -> Any:
    return plugins.load(name)(seed=seed, **kwargs)


def _drive(strategy: Any, space_name: str = "nb201", n: int = 80, *,
           outputs: Any = None, **kwargs: Any) -> Driver:
    space = {"nb201": nb201_space, "mixed": mixed_space}[space_name]()
    driver = Driver(strategy, objective_for(space_name), n, space=space,
                    task_outputs={TASK_SUPERNET: outputs or supernet_outputs(space)}, **kwargs)
    driver.run()
    return driver


def _phases(driver: Driver) -> list[str]:
    return [step.suggestion.notes.get("phase") for step in driver.runs()]


def _of_phase(driver: Driver, phase: str) -> list[Step]:
    return [step for step in driver.runs() if step.suggestion.notes.get("phase") == phase]


# -- conformance -----------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, SMALL], ids=["defaults", "small-plan"])
@pytest.mark.parametrize("name", NAMES)
def test_conformance(name: str, kwargs: dict) -> None:
    """Every check, with the default plan (the search outlasts the checks'
    trials) and with a small one (every phase and the end within them)."""
    ran = check_strategy(plugins.load(name), make_kwargs=lambda seed: {"seed": seed, **kwargs})
    assert {kind for scenarios in ran.values() for kind, _ in scenarios} == {
        SpaceKind.HYPERPARAMETERS}


class GivesUpOnFailedEstimate(plugins.load("random-ws")):  # type: ignore[misc]
    """Ends the search when an estimate fails: what the relaxed check of
    failures must still catch."""

    name = "test-gives-up"

    def observe(self, observation: Observation) -> None:
        super().observe(observation)
        if observation.trial_id in self.estimates and observation.status is TrialStatus.FAILED:
            self.reason = "gave up"

    def propose(self, trial_id: str) -> Suggestion:
        return Suggestion.done(self.reason) if self.reason else super().propose(trial_id)


def test_check_of_failures_catches_a_one_shot_strategy_giving_up() -> None:
    with pytest.raises(AssertionError, match="stopped proposing after"):
        check_failed_observations(GivesUpOnFailedEstimate)
    assert FOUNDATION_TASKS == (TASK_SUPERNET,)


# -- the phases --------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_three_phases_in_order(name: str) -> None:
    told_at_ask: dict[str, set[str]] = {}
    strategy = _new(name, **SMALL)
    space = nb201_space()
    driver = Driver(strategy, objective_for("nb201"), 80, space=space, parallel=3,
                    task_outputs={TASK_SUPERNET: supernet_outputs(space)},
                    on_step=lambda step: step.kind == "run" and told_at_ask.setdefault(
                        step.trial_id, set(driver.told)))
    driver.run()
    assert _phases(driver) == [PHASE_SUPERNET] + [PHASE_SEARCH] * 8 + [PHASE_RETRAIN] * 2
    supernet = driver.runs()[0].suggestion
    expected = {"mode": MODES[name], "conditional": False}
    if name == "oneshot":
        expected["drop_rate"] = 0.3
    assert (supernet.task, supernet.epochs, supernet.task_config) == (TASK_SUPERNET, 3, expected)
    assert dict(supernet.values) == space.complete({})
    estimates, retrains = _of_phase(driver, PHASE_SEARCH), _of_phase(driver, PHASE_RETRAIN)
    for step in estimates:
        s = step.suggestion
        assert (s.task, s.parent_id, s.epochs) == (TASK_ESTIMATE, "0", None)
        assert "0" in told_at_ask[step.trial_id]  # the supernet was told first
    # The retrains: the best two estimates, from the supernet's weights,
    # after every estimate was told.
    by_score = sorted(estimates, key=lambda st: -st.observation.metrics["score"])
    assert [dict(r.suggestion.values) for r in retrains] == [
        dict(e.suggestion.values) for e in by_score[:2]]
    assert [r.suggestion.notes["estimate_trial"] for r in retrains] == [
        e.trial_id for e in by_score[:2]]
    for step in retrains:
        s = step.suggestion
        assert (s.task, s.parent_id, s.epochs) == (None, "0", 4)
        assert s.notes["retrain_from"] == "supernet"
        assert {e.trial_id for e in estimates} <= told_at_ask[step.trial_id]
    last = driver.steps[-1].suggestion
    assert last.kind == "done" and last.notes["reason"] == "retrained the best 2 of the estimates"


def test_supernet_trial_is_waited_for() -> None:
    strategy = _new("spos", **SMALL)
    strategy.setup(nb201_space(), [SCORE])
    assert strategy.ask("0").task == TASK_SUPERNET
    assert strategy.ask("1").kind == "wait"
    assert strategy.ask("1").kind == "wait"


def test_estimates_change_only_the_choices() -> None:
    """On a space with other hyperparameters (conditional ones too), each
    estimate keeps the supernet's values of every active non-choice."""
    driver = _drive(_new("spos", candidates=30), "mixed", parallel=3)
    supernet = dict(driver.runs()[0].suggestion.values)
    estimates = [dict(s.suggestion.values) for s in _of_phase(driver, PHASE_SEARCH)]
    for values in estimates:
        for name in ("input_size", "layers", "learning_rate", "dropout"):
            assert values[name] == supernet[name]
        if values["block"] == "conv":
            assert values["filters"] == supernet["filters"]
        else:
            assert values["units"] == 16  # newly active: the space's default
    # activation x (conv x 3 kernel sizes + dense): 12 architectures, each once.
    keys = {json.dumps(v, sort_keys=True) for v in estimates}
    assert len(estimates) == len(keys) == 12
    assert driver.steps[-1].suggestion.kind == "done"


def test_search_covers_the_choices_the_supernet_reports() -> None:
    """Only the choices named in the supernet's outputs are searched: two
    edges of five operations are 25 architectures, then the search ends."""
    space = nb201_space()

    def outputs(suggestion: Suggestion) -> Mapping[str, Any]:
        return {"choices": {"edge_0_1": list(space.get("edge_0_1").values),
                            "edge_2_3": list(space.get("edge_2_3").values)}}

    driver = _drive(_new("random-ws"), outputs=outputs)
    defaults = space.complete({})
    estimates = [dict(s.suggestion.values) for s in _of_phase(driver, PHASE_SEARCH)]
    assert len({(v["edge_0_1"], v["edge_2_3"]) for v in estimates}) == len(estimates) == 25
    for values in estimates:
        assert {k: v for k, v in values.items() if k not in ("edge_0_1", "edge_2_3")} == {
            k: v for k, v in defaults.items() if k not in ("edge_0_1", "edge_2_3")}
    assert len(_of_phase(driver, PHASE_RETRAIN)) == 2


# -- failures ------------------------------------------------------------------------
def test_failed_supernet_ends_the_search() -> None:
    driver = _drive(_new("spos", **SMALL),
                    outcome=lambda i, t, v: TrialStatus.FAILED if i == 0 else TrialStatus.COMPLETED)
    assert [s.kind for s in driver.steps] == ["run", "done"]
    assert driver.steps[-1].suggestion.notes["reason"] == f"supernet failed: {FAILURE_MESSAGE}"


def test_failed_estimates_are_never_retrained() -> None:
    failing = {2, 3, 5, 8}  # run indexes: estimates, among them good ones

    def outcome(index: int, trial_id: str, values: Any) -> TrialStatus:
        return TrialStatus.FAILED if index in failing else TrialStatus.COMPLETED

    driver = _drive(_new("random-ws", **SMALL), outcome=outcome)
    estimates = _of_phase(driver, PHASE_SEARCH)
    completed = [e for e in estimates if e.observation.status is TrialStatus.COMPLETED]
    assert len(completed) == 8 - len(failing)
    best = sorted(completed, key=lambda e: -e.observation.metrics["score"])[:2]
    assert [r.suggestion.notes["estimate_trial"] for r in _of_phase(driver, PHASE_RETRAIN)] == [
        e.trial_id for e in best]


def test_search_ends_when_every_retrain_fails() -> None:
    def outcome(index: int, trial_id: str, values: Any) -> TrialStatus:
        return TrialStatus.FAILED if index > 8 else TrialStatus.COMPLETED  # the retrains

    driver = _drive(_new("spos", **SMALL), outcome=outcome, parallel=2)
    assert len(_of_phase(driver, PHASE_RETRAIN)) == 2
    assert driver.steps[-1].suggestion.notes["reason"] == "every retrain failed (2)"
    assert driver.finished


def test_search_ends_when_no_estimate_succeeds() -> None:
    def outcome(index: int, trial_id: str, values: Any) -> TrialStatus:
        return TrialStatus.COMPLETED if index == 0 else TrialStatus.FAILED

    driver = _drive(_new("oneshot", **SMALL), outcome=outcome)
    assert _phases(driver) == [PHASE_SUPERNET] + [PHASE_SEARCH] * 8
    reason = driver.steps[-1].suggestion.notes["reason"]
    assert reason == "no estimate succeeded: nothing to retrain"


# -- sizes and budget ----------------------------------------------------------------------
@pytest.mark.parametrize("max_trials, estimates, retrains", [
    (1, 0, 0), (3, 1, 1), (4, 2, 1), (5, 2, 2), (9, 6, 2), (200, 10, 2),
])
def test_max_trials_splits_supernet_estimates_retrains(max_trials: int, estimates: int,
                                                       retrains: int) -> None:
    driver = _drive(_new("spos", candidates=10), max_trials=max_trials, parallel=3)
    assert _phases(driver) == ([PHASE_SUPERNET] + [PHASE_SEARCH] * estimates
                               + [PHASE_RETRAIN] * retrains)
    assert driver.n_run <= max_trials


def _tell(strategy: Any, trial_id: str, suggestion: Suggestion, *, seconds: float,
          score: float = 0.5, epochs: int | None = None, outputs: Mapping | None = None) -> None:
    strategy.tell(Observation(trial_id, dict(suggestion.values), TrialStatus.COMPLETED,
                              {"score": score}, epochs=epochs or suggestion.epochs or 1,
                              outputs=outputs or {}, seconds=seconds))


def _to_first_retrain(supernet_seconds: float = 400.0, supernet_epochs: int = 40,
                      estimates: int = 4) -> tuple[Any, Any, Suggestion, int]:
    """A spos search with a 1000 s budget driven through its supernet (told
    `supernet_seconds`) and its `estimates` (30 s each, the later the
    better) to its first retrain: (strategy, space, that retrain, its trial
    number)."""
    strategy = _new("spos", **SMALL)
    space = nb201_space()
    strategy.setup(space, [SCORE])
    strategy.set_time_budget(1000.0)
    supernet = strategy.ask("0")
    assert supernet.task_config["time_budget_s"] == 500.0
    assert "stop_ahead" not in supernet.task_config
    assert supernet.epochs == oneshot_plan.BUDGET_SUPERNET_EPOCHS
    _tell(strategy, "0", supernet, seconds=supernet_seconds, epochs=supernet_epochs,
          outputs=supernet_outputs(space)(supernet))
    trial = 1
    while (s := strategy.ask(str(trial))).notes.get("phase") == PHASE_SEARCH:
        _tell(strategy, str(trial), s, seconds=30.0, score=float(trial))
        trial += 1
    assert trial - 1 == estimates
    assert s.notes["phase"] == PHASE_RETRAIN
    return strategy, space, s, trial


@pytest.mark.parametrize("supernet_seconds, supernet_epochs, estimates, expected_seconds", [
    # a tenth of the budget: 4 estimates of 30 s; 0.95 x (1000 - 400 - 4 x 30) / 2 retrains
    (400.0, 10, 4, 228.0),
    (10.0, 100, 4, 413.25),  # 0.95 x (1000 - 10 - 4 x 30) / 2
    # The supernet overran its half: 540 + 2 x 30 reached 0.6 of the budget.
    (540.0, 20, 2, 190.0),  # 0.95 x (1000 - 540 - 2 x 30) / 2
    (990.0, 9, 1, 1.0),     # nothing left after the one estimate: the least share, one epoch
])
def test_time_budget_splits_the_phases(supernet_seconds: float, supernet_epochs: int,
                                       estimates: int, expected_seconds: float) -> None:
    _, _, s, _ = _to_first_retrain(supernet_seconds, supernet_epochs, estimates)
    assert s.task is None  # a plain training
    # Its share of the rest ends it; the supernet's epochs are a ceiling.
    assert s.task_config == {"time_budget_s": expected_seconds}
    assert s.epochs == supernet_epochs
    assert s.notes["estimate_trial"] == str(estimates)  # the best estimate first


def test_a_retrain_from_scratch_is_not_capped_at_the_supernets_epochs() -> None:
    strategy = _new("spos", retrain_from="scratch", **SMALL)
    space = nb201_space()
    strategy.setup(space, [SCORE])
    strategy.set_time_budget(1000.0)
    supernet = strategy.ask("0")
    # the retrains' only training is what the supernet leaves: it stops
    # before an epoch that would pass its share (spos's default, from the
    # supernet's weights, does not: `_to_first_retrain`)
    assert supernet.task_config == {"mode": "single", "conditional": False,
                                    "time_budget_s": 500.0, "stop_ahead": True}
    _tell(strategy, "0", supernet, seconds=400.0, epochs=3,
          outputs=supernet_outputs(space)(supernet))
    trial = 1
    while (s := strategy.ask(str(trial))).notes.get("phase") == PHASE_SEARCH:
        _tell(strategy, str(trial), s, seconds=30.0, score=float(trial))
        trial += 1
    # its share of the budget ends it, not the supernet's 3 epochs
    assert s.parent_id is None and s.epochs == oneshot_plan.BUDGET_SUPERNET_EPOCHS
    assert s.task_config == {"time_budget_s": 228.0}


@pytest.mark.parametrize("first_seconds, expected", [
    (228.0, 239.4),  # used its share: 0.95 x (480 - 228), a little more
    (100.0, 361.0),  # stopped early: the second gets what it left
    (340.0, 133.0),  # overran, but the second still gets half the plan
    (420.0, None),   # 57 s, under half the planned 228: not retrained
    (600.0, None),   # nothing left
])
def test_a_later_retrain_gets_what_the_earlier_ones_left(first_seconds: float,
                                                         expected: float | None) -> None:
    """A retrain proposed after the first was told gets the rest of the
    budget, and is not proposed when that is under half its planned share."""
    strategy, space, s, trial = _to_first_retrain()
    # 0.95 x (1000 - 400 - 4 x 30) / 2 retrains
    assert s.task_config == {"time_budget_s": 228.0}
    _tell(strategy, str(trial), s, seconds=first_seconds, epochs=21)
    second = strategy.ask(str(trial + 1))
    if expected is not None:
        assert second.notes["phase"] == PHASE_RETRAIN and second.epochs == 40
        assert second.task_config == {"time_budget_s": expected}
        return
    assert second.kind == "done"
    assert second.notes["reason"] == ("retrained the best 1 of the estimates; the time "
                                      "budget left under half the planned 228 s of "
                                      "training for the other 1")
    restored = _new("spos", **SMALL)  # the shortened plan survives a restart
    restored.setup(space, [SCORE])
    restored.load_state_dict(json.loads(json.dumps(strategy.state_dict())))
    assert restored.ask(str(trial + 2)).kind == "done"


def test_retrains_running_side_by_side_share_the_planned_seconds() -> None:
    """With parallel workers the second retrain starts before the first is
    told: it gets the planned share, not the whole rest."""
    strategy, _, s, trial = _to_first_retrain()
    second = strategy.ask(str(trial + 1))
    assert [x.task_config for x in (s, second)] == [{"time_budget_s": 228.0}] * 2


def test_retrain_seconds() -> None:
    assert oneshot_plan.retrain_seconds(budget=300.0, spent=100.0, retrains=2) == 95.0
    assert oneshot_plan.retrain_seconds(budget=300.0, spent=100.0, retrains=1) == 190.0
    assert oneshot_plan.retrain_seconds(budget=300.0, spent=400.0, retrains=1) \
        == oneshot_plan.MIN_RETRAIN_SECONDS


def test_search_over() -> None:
    def estimate(status: TrialStatus, seconds: float, load: float = 0.0) -> Observation:
        return Observation("e", {}, status, {oneshot_plan.LOAD_METRIC: load}, seconds=seconds)

    over = oneshot_plan.search_over
    done, failed = TrialStatus.COMPLETED, TrialStatus.FAILED
    # The estimates' own share: the one that loaded the supernet not counted.
    assert over(budget=100.0, spent=30.0, estimates=[estimate(done, 10.0)])
    assert not over(budget=100.0, spent=30.0, estimates=[estimate(done, 10.0, load=2.0)])
    # All that was spent, once an estimate succeeded: the supernet overran.
    assert over(budget=100.0, spent=60.0, estimates=[estimate(done, 5.0, load=2.0)])
    assert not over(budget=100.0, spent=59.0, estimates=[estimate(done, 5.0, load=2.0)])
    # Without a successful estimate the search goes on (nothing to retrain yet).
    assert not over(budget=100.0, spent=90.0, estimates=[estimate(failed, 5.0, load=2.0)])
    assert not over(budget=100.0, spent=90.0, estimates=[])


def test_retrains_without_a_time_budget_train_their_epochs() -> None:
    strategy = _new("spos", supernet_epochs=1, candidates=2, top_k=1, retrain_epochs=7)
    space = nb201_space()
    strategy.setup(space, [SCORE])
    supernet = strategy.ask("0")
    _tell(strategy, "0", supernet, seconds=10.0, epochs=1,
          outputs=supernet_outputs(space)(supernet))
    for trial in ("1", "2"):
        _tell(strategy, trial, strategy.ask(trial), seconds=1.0, score=0.5)
    retrain = strategy.ask("3")
    assert retrain.notes["phase"] == PHASE_RETRAIN
    assert retrain.epochs == 7 and retrain.task_config is None


def test_estimates_that_loaded_the_supernet_do_not_count_in_the_search_share() -> None:
    def estimate(seconds: float, load: float) -> Observation:
        return Observation("1", {}, TrialStatus.COMPLETED,
                           {"score": 0.5, oneshot_plan.LOAD_METRIC: load}, seconds=seconds)

    assert oneshot_plan.search_spent([estimate(20.0, 4.0), estimate(1.0, 0.0),
                                      estimate(2.0, 0.0), estimate(9.0, 3.0)]) == 3.0


# -- state ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
def test_state_holds_the_inner_strategy_and_resumes_exactly(name: str) -> None:
    reference = _drive(_new(name, seed=3, **SMALL), parallel=3)
    driver = Driver(_new(name, seed=3, **SMALL), objective_for("nb201"), 80,
                    space=nb201_space(), parallel=3,
                    task_outputs={TASK_SUPERNET: supernet_outputs(nb201_space())})
    while len(driver.told) < 5:
        driver.step()
    state = json.loads(json.dumps(driver.strategy.state_dict(), allow_nan=False))
    extra = state["extra"]
    assert extra["phase"] == PHASE_SEARCH and extra["supernet_id"] == "0"
    assert extra["inner"]["strategy"] == INNER[name]
    fresh = _new(name, seed=99, **SMALL)
    fresh.setup(nb201_space(), [SCORE])
    fresh.load_state_dict(state)
    driver.strategy = fresh
    driver.run()
    assert [(s.trial_id, s.kind, dict(s.suggestion.values), s.suggestion.task)
            for s in driver.steps] == [
        (s.trial_id, s.kind, dict(s.suggestion.values), s.suggestion.task)
        for s in reference.steps]


def test_spos_evolves_its_estimates() -> None:
    """The inner aging evolution mutates tournament winners once its
    population is filled with estimates; random-ws only samples."""
    origins = {name: [s.suggestion.notes.get("origin")
                      for s in _of_phase(_drive(_new(name, candidates=40)), PHASE_SEARCH)]
               for name in ("spos", "random-ws")}
    assert origins["spos"][:10] == ["random"] * 10 and "mutation" in origins["spos"][10:]
    assert set(origins["random-ws"]) == {None}


# -- arguments, spaces, helpers ---------------------------------------------------------------
@pytest.mark.parametrize("kwargs, fragment", [
    ({"supernet_epochs": 0}, "supernet_epochs"),
    ({"candidates": 2.5}, "candidates"),
    ({"top_k": True}, "top_k"),
    ({"retrain_epochs": -1}, "retrain_epochs"),
    ({"conditional": "yes"}, "conditional"),
    ({"retrain_from": "parent"}, "retrain_from must be one of supernet, scratch"),
])
def test_bad_arguments(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        _new("spos", **kwargs)


@pytest.mark.parametrize("rate", [1.0, -0.1, "0.2", True])
def test_bad_drop_rate(rate: Any) -> None:
    with pytest.raises(ValueError, match="drop_rate"):
        _new("oneshot", drop_rate=rate)


@pytest.mark.parametrize("retrain_from, parent", [("supernet", "0"), ("scratch", None)])
def test_retrains_start_from_the_supernet_or_from_scratch(retrain_from: str,
                                                          parent: str | None) -> None:
    driver = _drive(_new("random-ws", retrain_from=retrain_from, **SMALL))
    retrains = [step.suggestion for step in _of_phase(driver, PHASE_RETRAIN)]
    assert len(retrains) == 2
    assert all(s.parent_id == parent and s.notes["retrain_from"] == retrain_from
               for s in retrains)


def test_conditional_weights_reach_the_supernet_task() -> None:
    strategy = _new("spos", conditional=True)
    strategy.setup(nb201_space(), [SCORE])
    assert strategy.ask("0").task_config == {"mode": "single", "conditional": True}


@pytest.mark.parametrize("name", NAMES)
def test_searches_supernet_and_hyperparameter_spaces(name: str) -> None:
    strategy = _new(name)
    assert strategy.space_kinds == (SpaceKind.SUPERNET, SpaceKind.HYPERPARAMETERS)
    strategy.use_space("supernet")
    strategy.use_space(SpaceKind.HYPERPARAMETERS)
    with pytest.raises(ValueError, match="cannot search a cells space"):
        strategy.use_space("cells", {"cells": 1})


def test_choice_subspace_resolves_conditions() -> None:
    space = HyperSpace([
        Boolean("wide"),
        Choice("op", ["a", "b"], conditions=(Condition("wide", [True]),)),
        Choice("kind", ["x", "y"]),
        Choice("size", [1, 2, 3], conditions=(Condition("kind", ["x"]),)),
        Choice("ignored", ["p", "q"]),
    ])
    names = ["op", "kind", "size", "wide"]  # "wide" is no Choice: never searched
    narrow = choice_subspace(space, names, {"wide": False, "kind": "x", "size": 1})
    assert [p.name for p in narrow.params] == ["kind", "size"]
    assert narrow.get("size").conditions == (Condition("kind", ["x"]),)
    assert narrow.size() == 4  # x with 3 sizes, or y
    wide = choice_subspace(space, names, {"wide": True, "op": "a", "kind": "y"})
    assert [(p.name, p.conditions) for p in wide.params[:1]] == [("op", ())]


def test_supernet_choices_from_outputs_or_the_space() -> None:
    space = mixed_space()
    assert supernet_choices(space, {"choices": {"block": ["conv", "dense"]}}) == ["block"]
    assert supernet_choices(space, {}) == ["activation", "block", "kernel_size"]


def test_driver_answers_supernet_trials_with_their_outputs() -> None:
    space = mixed_space()
    outputs = supernet_outputs(space)
    suggestion = Suggestion.run(space.complete({}), task=TASK_SUPERNET,
                                task_config={"mode": "all", "conditional": True})
    assert outputs(suggestion) == {
        "choices": {"activation": ["relu", "tanh", "gelu"], "block": ["conv", "dense"],
                    "kernel_size": [3, 5, 7]},
        "mode": "all", "conditional": True}
    driver = _drive(_new("spos", **SMALL), "mixed")
    observations = [s.observation for s in driver.runs()]
    assert observations[0].outputs["choices"] == outputs(suggestion)["choices"]
    assert all(o.outputs == {} for o in observations[1:])


def test_every_task_but_the_estimates_makes_a_model() -> None:
    assert ESTIMATE_TASKS == {"supernet", "estimate", "score", "saliency", "enas", "differentiable",
                              "smash"}
    assert makes_model(None) and makes_model("train") and makes_model("evaluate")
    assert makes_model("a-third-party-task") and not makes_model("enas")
    assert not makes_model("differentiable")
    assert not makes_model(TASK_SUPERNET) and not makes_model(TASK_ESTIMATE)


def test_multi_objective_ranking_runs_every_phase() -> None:
    objectives = [Objective("score", "max"), Objective("params", "min")]
    driver = _drive(_new("spos", **SMALL), objectives=objectives)
    assert _phases(driver)[-2:] == [PHASE_RETRAIN] * 2


class ListedArchitectures(BaseStrategy):
    """Proposes the given values in order (an inner strategy of a one-shot
    strategy whose supernet task finds the architectures, as ENAS's does)."""

    name = "test-listed"

    def __init__(self, listed: list[dict], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.listed = listed

    def propose(self, trial_id: str) -> Suggestion:
        if len(self.asked) >= len(self.listed):
            return Suggestion.done("every listed architecture was proposed")
        return Suggestion.run(self.listed[len(self.asked)])


class FromSupernetOutputs(OneShotStrategy):
    """A third-party one-shot strategy: its search phase estimates the
    architectures the supernet trial reported (`supernet_result`)."""

    name = "test-from-outputs"

    def make_inner(self, seed: int) -> BaseStrategy:
        found = self.supernet_result().outputs.get("architectures", [])
        return ListedArchitectures([dict(a) for a in found], seed=seed)


def test_a_one_shot_strategy_can_estimate_what_its_supernet_found() -> None:
    space = nb201_space()
    found = [space.complete({"edge_0_1": op}) for op in ("skip_connect", "nor_conv_3x3")]

    def outputs(suggestion: Suggestion) -> Mapping[str, Any]:
        return {**supernet_outputs(space)(suggestion), "architectures": found}

    strategy = FromSupernetOutputs(seed=0, top_k=1)
    driver = _drive(strategy, outputs=outputs)
    assert [dict(s.suggestion.values) for s in _of_phase(driver, PHASE_SEARCH)] == found
    assert len(_of_phase(driver, PHASE_RETRAIN)) == 1
    assert strategy.supernet_result().trial_id == "0"
