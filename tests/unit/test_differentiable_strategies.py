"""The `darts`, `snas`, `gdas` and `proxyless` strategies, driven without
Keras: one trial of task "differentiable" in the strategy's mode (a fake
trainer answers with the architectures it derived), estimates of those
architectures with that trial as parent, the best retrained from scratch;
the conformance suite; settings."""

from __future__ import annotations

from typing import Any, Mapping

import pytest

from autokeras_nas import plugins
from autokeras_nas.core import PHASE_RETRAIN, PHASE_SEARCH, PHASE_SUPERNET, TASK_ESTIMATE
from autokeras_nas.testing import Driver, check_strategy, nb201_space, objective_for, \
    supernet_outputs

NAMES = ("darts", "snas", "gdas", "proxyless")
SMALL = {"supernet_epochs": 3, "candidates": 3, "top_k": 1, "retrain_epochs": 4}


@pytest.mark.parametrize("name", NAMES)
def test_conformance_with_a_small_plan(name: str) -> None:
    check_strategy(plugins.load(name), make_kwargs=lambda seed: {"seed": seed, **SMALL})


@pytest.mark.parametrize("name", NAMES)
def test_the_supernet_then_its_architectures_then_the_best_retrained_from_scratch(
        name: str) -> None:
    space = nb201_space()
    reported = [{"edge_0_1": "nor_conv_3x3", "edge_0_2": "skip_connect"},
                {"edge_0_1": "avg_pool_3x3"}, {"edge_0_1": "nor_conv_1x1"}]
    configs = []

    def outputs(suggestion: Any) -> Mapping[str, Any]:
        configs.append(dict(suggestion.task_config))
        return {**supernet_outputs(space)(suggestion), "architectures": reported}

    strategy = plugins.load(name)(seed=3, order=2 if name == "darts" else 1, **SMALL)
    driver = Driver(strategy, objective_for("nb201"), 20, space=space,
                    task_outputs={"differentiable": outputs})
    driver.run()
    by_phase = {p: [s for s in driver.runs() if s.suggestion.notes.get("phase") == p]
                for p in (PHASE_SUPERNET, PHASE_SEARCH, PHASE_RETRAIN)}
    (supernet,) = by_phase[PHASE_SUPERNET]
    assert supernet.suggestion.task == "differentiable"
    assert configs == [{"mode": name, "conditional": False,
                        "order": 2 if name == "darts" else 1, "warmup_epochs": 0,
                        "architectures": 3, "seed": 3,
                        "collapse_stop": 0.5 if name in ("darts", "snas") else None,
                        "max_parameter_free": 0.5 if name == "gdas" else None}]
    estimates = by_phase[PHASE_SEARCH]
    assert [s.suggestion.values for s in estimates] == [space.complete(a) for a in reported]
    assert all(s.suggestion.task == TASK_ESTIMATE and s.suggestion.parent_id == supernet.trial_id
               and s.suggestion.notes["source"] == f"{name} (most probable)" for s in estimates)
    (retrain,) = by_phase[PHASE_RETRAIN]
    best = max(estimates, key=lambda s: driver.strategy.latest()[s.trial_id].metrics["score"])
    assert retrain.suggestion.values == best.suggestion.values
    assert retrain.suggestion.task is None and retrain.suggestion.parent_id is None  # scratch


def test_collapse_stop_is_on_by_default_for_darts_and_snas_and_none_turns_it_off() -> None:
    space = nb201_space()
    for name, kwargs, expected in (("darts", {}, 0.5), ("snas", {}, 0.5), ("gdas", {}, None),
                                   ("proxyless", {}, None), ("gdas", {"collapse_stop": 0.3}, 0.3),
                                   ("darts", {"collapse_stop": None}, None),
                                   ("gdas", {"collapse_stop": "default"}, None)):
        configs = []

        def outputs(suggestion: Any) -> Mapping[str, Any]:
            configs.append(dict(suggestion.task_config))
            return {**supernet_outputs(space)(suggestion),
                    "architectures": [{"edge_0_1": "nor_conv_3x3"}]}

        driver = Driver(plugins.load(name)(seed=1, **SMALL, **kwargs), objective_for("nb201"),
                        3, space=space, task_outputs={"differentiable": outputs})
        driver.run()
        # None is passed on: the trainer's own default would turn it back on.
        assert "collapse_stop" in configs[0] and configs[0]["collapse_stop"] == expected
        # P-DARTS' limit: on for gdas only, and always passed on (None too)
        assert configs[0]["max_parameter_free"] == (0.5 if name == "gdas" else None)


def test_max_parameter_free_reaches_the_supernet_task() -> None:
    space, configs = nb201_space(), []

    def outputs(suggestion: Any) -> Mapping[str, Any]:
        configs.append(dict(suggestion.task_config))
        return supernet_outputs(space)(suggestion)

    for name, kwargs in (("darts", {"max_parameter_free": 0.5}), ("gdas", {"max_parameter_free": None}),
                         ("proxyless", {"max_parameter_free": 1 / 3})):
        Driver(plugins.load(name)(seed=0, **SMALL, **kwargs), objective_for("nb201"),
               3, space=space, task_outputs={"differentiable": outputs}).run()
    assert [c["max_parameter_free"] for c in configs] == [0.5, None, 1 / 3]


def test_proxyless_latency_target_is_a_tflite_latency_resource() -> None:
    space, configs = nb201_space(), []

    def outputs(suggestion: Any) -> Mapping[str, Any]:
        configs.append(dict(suggestion.task_config))
        return supernet_outputs(space)(suggestion)

    strategy = plugins.load("proxyless")(latency_target_ms=0.2, seed=0, **SMALL)
    Driver(strategy, objective_for("nb201"), 6, space=space,
           task_outputs={"differentiable": outputs}).run()
    assert configs[0]["resource"] == "tflite_latency" and configs[0]["resource_target"] == 0.2
    assert configs[0]["resource_weight"] == 1.0
    assert configs[0]["target_scope"] == "model"  # the exported model's latency


@pytest.mark.parametrize("kwargs, message", [
    ({"order": 3}, "order must be 1 or 2, got 3"),
    ({"warmup_epochs": -1}, "warmup_epochs must be an int >= 0, got -1"),
    ({"arch_lr": 0}, "arch_lr must be a positive number or None, got 0"),
    ({"resource": "joules"}, "resource must be one of params, flops, latency, tflite_latency "
                             "or None, got 'joules'"),
    ({"resource_target": 5.0}, "resource_target needs a resource to measure it in"),
    ({"resource": "params", "resource_target": 5.0, "target_scope": "cell"},
     "target_scope must be one of operations, model, got 'cell'"),
    ({"resource": "flops", "resource_target": 5.0, "target_scope": "model"},
     "target_scope='model' needs a resource_target in one of params, latency, tflite_latency"),
    ({"resource": "params", "target_scope": "model"}, "needs a resource_target"),
    ({"collapse_stop": 1.5}, r"collapse_stop must be a share in \(0, 1\) or None, got 1.5"),
    ({"max_parameter_free": 2}, r"max_parameter_free must be a share in \[0, 1\] or None, got 2"),
    ({"conditional": True}, "darts has no conditional weights"),
])
def test_bad_settings_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plugins.load("darts")(**kwargs)
