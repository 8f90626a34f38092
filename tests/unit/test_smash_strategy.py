"""The `smash` strategy, driven without Keras: one trial of task "smash" (a
fake trainer answers), random architectures estimated with it as parent,
the best retrained from scratch; the conformance suite; settings."""

from __future__ import annotations

from typing import Any

import pytest

from autokeras_nas import plugins
from autokeras_nas.core import PHASE_RETRAIN, PHASE_SEARCH, PHASE_SUPERNET, TASK_ESTIMATE
from autokeras_nas.testing import Driver, check_strategy, nb201_space, objective_for, \
    supernet_outputs

SMALL = {"supernet_epochs": 3, "candidates": 6, "top_k": 1, "retrain_epochs": 4}


@pytest.mark.parametrize("kwargs", [{}, SMALL], ids=["defaults", "small-plan"])
def test_conformance(kwargs: dict) -> None:
    check_strategy(plugins.load("smash"), make_kwargs=lambda seed: {"seed": seed, **kwargs})


def test_the_hypernetwork_then_random_architectures_then_the_best_from_scratch() -> None:
    space, configs = nb201_space(), []

    def outputs(suggestion: Any) -> dict:
        configs.append(dict(suggestion.task_config))
        return dict(supernet_outputs(space)(suggestion))

    driver = Driver(plugins.load("smash")(seed=5, hyper_dims=4, **SMALL),
                    objective_for("nb201"), 20, space=space, task_outputs={"smash": outputs})
    driver.run()
    by_phase = {p: [s for s in driver.runs() if s.suggestion.notes.get("phase") == p]
                for p in (PHASE_SUPERNET, PHASE_SEARCH, PHASE_RETRAIN)}
    (supernet,) = by_phase[PHASE_SUPERNET]
    assert supernet.suggestion.task == "smash" and supernet.suggestion.epochs == 3
    assert configs == [{"mode": "hyper", "conditional": False, "hyper_dims": 4, "seed": 5}]
    estimates = by_phase[PHASE_SEARCH]
    assert len(estimates) == 6 and len({str(s.suggestion.values) for s in estimates}) == 6
    assert all(s.suggestion.task == TASK_ESTIMATE and s.suggestion.parent_id == supernet.trial_id
               for s in estimates)
    (retrain,) = by_phase[PHASE_RETRAIN]
    best = max(estimates, key=lambda s: driver.strategy.latest()[s.trial_id].metrics["score"])
    assert retrain.suggestion.values == best.suggestion.values
    assert retrain.suggestion.task is None and retrain.suggestion.parent_id is None


@pytest.mark.parametrize("kwargs, message", [
    ({"hyper_dims": 0}, "hyper_dims must be an int >= 1, got 0"),
    ({"conditional": True}, "smash has no conditional weights"),
    ({"candidates": 0}, "candidates must be an int >= 1"),
])
def test_bad_settings_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plugins.load("smash")(**kwargs)
