"""The `freedarts` strategy, driven without Keras: one trial of task
"saliency" (a fake trainer answers with the architectures it derived), then
those architectures retrained from scratch, with no search phase; the
conformance suite; the time budget; settings."""

from __future__ import annotations

from typing import Any, Mapping

import pytest

from autokeras_nas import plugins
from autokeras_nas.core import (
    PHASE_RETRAIN,
    PHASE_SEARCH,
    PHASE_SUPERNET,
    TASK_SALIENCY,
    Observation,
    TrialStatus,
    makes_model,
)
from autokeras_nas.core.oneshot_plan import Plan
from autokeras_nas.testing import SCORE, Driver, check_strategy, nb201_space, objective_for, \
    supernet_outputs

DERIVED = [{"edge_0_1": "nor_conv_3x3", "edge_0_2": "skip_connect", "edge_0_3": "nor_conv_1x1",
            "edge_1_2": "nor_conv_3x3", "edge_1_3": "avg_pool_3x3", "edge_2_3": "nor_conv_3x3"},
           {"edge_0_1": "nor_conv_1x1", "edge_0_2": "skip_connect", "edge_0_3": "nor_conv_1x1",
            "edge_1_2": "nor_conv_3x3", "edge_1_3": "avg_pool_3x3", "edge_2_3": "nor_conv_3x3"}]


def _new(**kwargs: Any) -> Any:
    return plugins.load("freedarts")(**{"seed": 0, **kwargs})


def _drive(strategy: Any, reported: list | None = None, n: int = 10,
           **kwargs: Any) -> tuple[Driver, list[dict]]:
    space, configs = nb201_space(), []

    def outputs(suggestion: Any) -> Mapping[str, Any]:
        configs.append(dict(suggestion.task_config))
        return {**supernet_outputs(space)(suggestion),
                "architectures": DERIVED if reported is None else reported}

    driver = Driver(strategy, objective_for("nb201"), n, space=space,
                    task_outputs={TASK_SALIENCY: outputs}, **kwargs)
    driver.run()
    return driver, configs


def _of_phase(driver: Driver, phase: str) -> list[Any]:
    return [s for s in driver.runs() if s.suggestion.notes.get("phase") == phase]


@pytest.mark.parametrize("kwargs", [{}, {"top_k": 2, "retrain_epochs": 3}],
                         ids=["defaults", "two-retrains"])
def test_conformance(kwargs: dict) -> None:
    check_strategy(plugins.load("freedarts"), make_kwargs=lambda seed: {"seed": seed, **kwargs})


def test_the_saliency_trial_then_its_derived_architecture_retrained_from_scratch() -> None:
    driver, configs = _drive(_new(retrain_epochs=7))
    (saliency,) = _of_phase(driver, PHASE_SUPERNET)
    assert saliency.suggestion.task == TASK_SALIENCY and not makes_model(TASK_SALIENCY)
    assert configs == [{"mode": "darts", "conditional": False, "iterative": True,
                        "architectures": 1, "seed": 0}]
    assert _of_phase(driver, PHASE_SEARCH) == []  # no estimates
    (retrain,) = _of_phase(driver, PHASE_RETRAIN)
    assert retrain.suggestion.values == nb201_space().complete(DERIVED[0])
    assert retrain.suggestion.task is None and retrain.suggestion.parent_id is None
    assert retrain.suggestion.epochs == 7
    assert retrain.suggestion.notes["derived_by"] == saliency.trial_id
    assert retrain.suggestion.notes["rank"] == 0
    assert driver.steps[-1].suggestion.kind == "done"
    assert driver.steps[-1].suggestion.notes["reason"] == "retrained the best 1 of the derived architectures"


def test_top_k_retrains_the_derived_architectures_in_order_skipping_strangers() -> None:
    reported = [DERIVED[0], {"edge_0_1": "conv_7x7"}, {"no_such_choice": "x"}, DERIVED[0],
                DERIVED[1]]
    driver, configs = _drive(_new(top_k=3, iterative=False), reported=reported)
    assert configs[0]["architectures"] == 3 and configs[0]["iterative"] is False
    retrains = _of_phase(driver, PHASE_RETRAIN)
    # the unknown candidate, the unknown choice and the repeat are left out
    assert [r.suggestion.values for r in retrains] == [nb201_space().complete(a)
                                                       for a in DERIVED]
    assert [r.suggestion.notes["rank"] for r in retrains] == [0, 1]


def test_no_derived_architecture_or_a_failed_trial_ends_with_the_reason() -> None:
    driver, _ = _drive(_new(), reported=[{"edge_0_1": "conv_7x7"}])
    assert driver.n_run == 1
    assert driver.steps[-1].suggestion.notes["reason"] == (
        "the supernet trial derived no architecture of the space: nothing to retrain")
    failed, _ = _drive(_new(), outcome=lambda *a: TrialStatus.FAILED)
    assert failed.n_run == 1
    assert failed.steps[-1].suggestion.notes["reason"].startswith("supernet failed")


def test_max_trials_leaves_no_room_for_estimates() -> None:
    assert Plan.make(candidates=100, top_k=3, max_trials=3, estimates=False) == Plan(0, 2)
    assert Plan.make(candidates=100, top_k=3, max_trials=None, estimates=False) == Plan(0, 3)
    driver, configs = _drive(_new(top_k=3), max_trials=2)
    assert configs[0]["architectures"] == 1
    assert [s.suggestion.task for s in driver.runs()] == [TASK_SALIENCY, None]


def test_a_time_budget_goes_to_the_retrains_their_epochs_a_ceiling() -> None:
    space = nb201_space()
    strategy = _new(top_k=2)
    strategy.setup(space, [SCORE])
    strategy.set_time_budget(100.0)
    first = strategy.ask("0")
    assert first.task == TASK_SALIENCY
    outputs = {**supernet_outputs(space)(first), "architectures": DERIVED}
    strategy.tell(Observation(trial_id="0", values=dict(first.values),
                              status=TrialStatus.COMPLETED, metrics={"saliency_time_s": 2.0},
                              epochs=0, outputs=outputs, seconds=4.0))
    # a copy restored from the saved state goes on alike
    copy = _new(top_k=2)
    copy.setup(space, [SCORE])
    copy.set_time_budget(100.0)
    copy.load_state_dict(strategy.state_dict())
    for each in (strategy, copy):
        retrain = each.ask("1")
        assert retrain.values == space.complete(DERIVED[0])
        assert retrain.epochs == 100
        assert retrain.task_config == {"time_budget_s": round(0.95 * (100 - 4) / 2, 3)}


@pytest.mark.parametrize("kwargs, message", [
    ({"retrain_from": "supernet"}, "freedarts retrains from scratch"),
    ({"conditional": True}, "no conditional weights"),
    ({"iterative": "yes"}, "iterative must be True or False"),
    ({"top_k": 0}, "top_k must be an int >= 1"),
])
def test_bad_settings_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _new(**kwargs)
