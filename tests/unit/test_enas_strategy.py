"""The `enas` strategy, driven without Keras: one trial of task "enas" (a
fake trainer answers with the architectures a trained controller reports),
estimates of those architectures with the enas trial as parent, the best
retrained; the conformance suite; exact resume."""

from __future__ import annotations

import json
from typing import Any, Mapping

import pytest

from autokeras_nas import plugins
from autokeras_nas.core import (
    PHASE_RETRAIN,
    PHASE_SEARCH,
    PHASE_SUPERNET,
    TASK_ESTIMATE,
    SpaceKind,
    Suggestion,
)
from autokeras_nas.testing import (
    Driver,
    check_strategy,
    nb201_space,
    objective_for,
    supernet_outputs,
)
from autokeras_nas.testing.driver import failure_pattern

Enas = plugins.load("enas")
SMALL = {"supernet_epochs": 3, "candidates": 6, "top_k": 2, "retrain_epochs": 4,
         "controller_steps": 5}


def _drive(strategy: Any, n: int = 40, outputs: Any = None, **kwargs: Any) -> Driver:
    space = nb201_space()
    driver = Driver(strategy, objective_for("nb201"), n, space=space,
                    task_outputs={"enas": outputs or supernet_outputs(space)}, **kwargs)
    driver.run()
    return driver


def _phase(driver: Driver, phase: str) -> list:
    return [s for s in driver.runs() if s.suggestion.notes.get("phase") == phase]


@pytest.mark.parametrize("kwargs", [{}, SMALL], ids=["defaults", "small-plan"])
def test_conformance(kwargs: dict) -> None:
    ran = check_strategy(Enas, make_kwargs=lambda seed: {"seed": seed, **kwargs})
    assert {kind for scenarios in ran.values() for kind, _ in scenarios} == {
        SpaceKind.HYPERPARAMETERS}


def test_an_enas_trial_then_the_controllers_architectures_then_the_best_retrained() -> None:
    space = nb201_space()
    reported = [{"edge_0_1": "nor_conv_3x3", "edge_0_2": "skip_connect"},
                {"edge_0_1": "avg_pool_3x3"},
                {"edge_0_1": "not-an-op"},                    # not of the space: skipped
                {"edge_9_9": "nor_conv_3x3"},                 # nor is this
                {"edge_0_1": "nor_conv_3x3", "edge_0_2": "skip_connect"}]  # a repeat: skipped
    seen = []

    def outputs(suggestion: Suggestion) -> Mapping[str, Any]:
        seen.append(dict(suggestion.task_config))
        return {**supernet_outputs(space)(suggestion), "architectures": reported}

    strategy = Enas(seed=4, controller_steps=7, hidden_size=16, top_k=1, candidates=5)
    driver = _drive(strategy, outputs=outputs, max_trials=20)
    (enas,) = _phase(driver, PHASE_SUPERNET)
    assert enas.suggestion.task == "enas" and enas.suggestion.values == space.complete({})
    assert seen == [{"mode": "single", "conditional": False, "controller_steps": 7,
                     "architectures": 5, "seed": 4, "hidden_size": 16}]
    estimates = _phase(driver, PHASE_SEARCH)
    assert [s.suggestion.values for s in estimates] == [space.complete(a) for a in reported[:2]]
    assert [s.suggestion.notes["rank"] for s in estimates] == [0, 1]
    assert all(s.suggestion.task == TASK_ESTIMATE and s.suggestion.parent_id == enas.trial_id
               for s in estimates)
    (retrain,) = _phase(driver, PHASE_RETRAIN)
    best = max(estimates, key=lambda s: driver.strategy.latest()[s.trial_id].metrics["score"])
    assert retrain.suggestion.values == best.suggestion.values
    assert retrain.suggestion.task is None and retrain.suggestion.epochs == 10
    assert driver.steps[-1].kind == "done"


def test_the_controller_reports_as_many_architectures_as_the_search_estimates() -> None:
    driver = _drive(Enas(seed=0, **SMALL))
    (enas,) = _phase(driver, PHASE_SUPERNET)
    assert enas.suggestion.task_config["architectures"] == 6
    assert len(_phase(driver, PHASE_SEARCH)) == 6 and len(_phase(driver, PHASE_RETRAIN)) == 2
    small = _drive(Enas(seed=0, **SMALL), max_trials=5)
    assert _phase(small, PHASE_SUPERNET)[0].suggestion.task_config["architectures"] == 2


def test_a_failed_enas_trial_ends_the_search_with_its_reason() -> None:
    driver = _drive(Enas(seed=0, **SMALL), outcome=failure_pattern)
    assert len(driver.runs()) == 1
    assert driver.steps[-1].kind == "done"
    assert driver.steps[-1].suggestion.notes["reason"].startswith("supernet failed: ")


def test_without_reported_architectures_random_ones_are_estimated() -> None:
    """An enas trial whose trainer reported no architectures (not ENAS's,
    or a table look-up in place of training): random estimates, noted."""
    space = nb201_space()
    driver = _drive(Enas(seed=0, **SMALL),
                    outputs=lambda s: {"choices": supernet_outputs(space)(s)["choices"]})
    estimates = _phase(driver, PHASE_SEARCH)
    assert len(estimates) == 6 and len(_phase(driver, PHASE_RETRAIN)) == 2
    assert len({json.dumps(dict(s.suggestion.values)) for s in estimates}) == 6
    assert all(s.suggestion.notes["source"].startswith("random") for s in estimates)


def test_resumed_in_the_search_phase_it_proposes_what_it_would_have() -> None:
    reference = _drive(Enas(seed=2, **SMALL))
    driver = Driver(Enas(seed=2, **SMALL), objective_for("nb201"), 40, space=nb201_space(),
                    task_outputs={"enas": supernet_outputs(nb201_space())})
    driver.run(until_event=6)
    state = json.loads(json.dumps(driver.strategy.state_dict()))
    fresh = Enas(seed=99, **SMALL)
    fresh.setup(nb201_space(), driver.strategy.objectives, None)
    fresh.load_state_dict(state)
    driver.strategy = fresh
    resumed = driver.run()
    describe = lambda steps: [(s.trial_id, s.kind, dict(s.suggestion.values), s.suggestion.task)
                              for s in steps]
    assert describe(resumed) == describe(reference.steps)


@pytest.mark.parametrize("kwargs, message", [
    ({"controller_steps": 0}, "controller_steps must be an int >= 1, got 0"),
    ({"hidden_size": 0}, "hidden_size must be an int >= 1 or None, got 0"),
    ({"controller_lr": 0.0}, "controller_lr must be a positive number or None, got 0.0"),
    ({"entropy_weight": -1.0}, "entropy_weight must be a number >= 0 or None, got -1.0"),
    ({"top_k": 0}, "top_k must be an int >= 1, got 0"),
])
def test_bad_settings_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=f"^{message}$"):
        Enas(**kwargs)
