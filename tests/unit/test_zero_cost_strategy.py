"""The `zero-cost` strategy, driven without Keras: its "score" trials are
told the proxies' values an analytic function gives them."""

from __future__ import annotations

import json
from typing import Any, Mapping

import pytest

from autokeras_nas import plugins
from autokeras_nas.core import (
    PHASE_RETRAIN,
    PHASE_SEARCH,
    TASK_SCORE,
    SpaceKind,
    TrialStatus,
    makes_model,
)
from autokeras_nas.core.oneshot_plan import Plan
from autokeras_nas.testing import SCORE, Driver, check_strategy, mixed_space, nb201_space

SMALL = {"candidates": 8, "top_k": 2, "retrain_epochs": 4}


def _new(seed: int = 0, **kwargs: Any) -> Any:
    return plugins.load("zero-cost")(seed=seed, **kwargs)


def _proxies(values: Mapping[str, Any]) -> dict[str, float]:
    """Made-up proxies of an NB201 cell: `jacob_cov` counts its 3x3
    convolutions, `naswot` its edges that are not "none"; the objective
    (what a retrain reaches) is their sum."""
    edges = [v for k, v in values.items() if k.startswith("edge_")]
    conv = float(sum(v == "nor_conv_3x3" for v in edges))
    alive = float(sum(v != "none" for v in edges))
    return {"score": conv + alive, "jacob_cov": conv, "naswot": alive}


def _drive(strategy: Any, n: int = 40, space: Any = None, **kwargs: Any) -> Driver:
    driver = Driver(strategy, _proxies, n, space=space or nb201_space(), **kwargs)
    driver.run()
    return driver


def _of_phase(driver: Driver, phase: str) -> list[Any]:
    return [s for s in driver.runs() if s.suggestion.notes.get("phase") == phase]


@pytest.mark.parametrize("kwargs", [{}, SMALL], ids=["defaults", "small-plan"])
def test_conformance(kwargs: dict) -> None:
    ran = check_strategy(plugins.load("zero-cost"),
                         make_kwargs=lambda seed: {"seed": seed, **kwargs})
    assert {kind for scenarios in ran.values() for kind, _ in scenarios} == {
        SpaceKind.HYPERPARAMETERS}


def test_scores_a_sample_then_trains_the_best_by_the_proxy() -> None:
    driver = _drive(_new(**SMALL))
    phases = [s.suggestion.notes.get("phase") for s in driver.runs()]
    assert phases == [PHASE_SEARCH] * 8 + [PHASE_RETRAIN] * 2
    scores, retrains = _of_phase(driver, PHASE_SEARCH), _of_phase(driver, PHASE_RETRAIN)
    for step in scores:
        s = step.suggestion
        assert (s.task, s.parent_id, s.epochs) == (TASK_SCORE, None, None)
        assert s.task_config == {"proxies": ["jacob_cov"], "batch_size": 64}
    assert len({json.dumps(dict(s.suggestion.values), sort_keys=True) for s in scores}) == 8
    # Ranked by jacob_cov (the objective is not what ranks them).
    best = sorted(scores, key=lambda st: -st.observation.metrics["jacob_cov"])[:2]
    assert [dict(r.suggestion.values) for r in retrains] == [dict(b.suggestion.values)
                                                           for b in best]
    for step, source in zip(retrains, best):
        s = step.suggestion
        assert (s.task, s.parent_id, s.epochs) == (None, None, 4)
        assert s.notes["estimate_trial"] == source.trial_id
        assert s.notes["estimate"] == {"jacob_cov": source.observation.metrics["jacob_cov"]}
        assert s.notes["retrain_from"] == "scratch"
    assert driver.steps[-1].suggestion.notes["reason"] == "retrained the best 2 of the estimates"
    assert not makes_model(TASK_SCORE)


def test_a_vote_ranks_by_the_mean_rank_of_the_proxies() -> None:
    strategy = _new(proxies="jacob_cov+naswot", candidates=12, top_k=3)
    driver = _drive(strategy)
    scores = _of_phase(driver, PHASE_SEARCH)
    assert scores[0].suggestion.task_config["proxies"] == ["jacob_cov", "naswot"]
    # The expected order, computed by hand: mean of the two ranks (ties
    # sharing their mean rank), then the higher jacob_cov, then the order scored.
    metrics = [s.observation.metrics for s in scores]

    def rank(name: str, i: int) -> float:
        above = sum(m[name] > metrics[i][name] for m in metrics)
        tied = sum(m[name] == metrics[i][name] for m in metrics)
        return above + (tied + 1) / 2

    expected = sorted(range(12), key=lambda i: ((rank("jacob_cov", i) + rank("naswot", i)) / 2,
                                                -metrics[i]["jacob_cov"], i))
    retrains = _of_phase(driver, PHASE_RETRAIN)
    assert [r.suggestion.notes["estimate_trial"] for r in retrains] == [
        scores[i].trial_id for i in expected[:3]]
    assert strategy.rank_estimates([s.observation for s in scores]) == [
        scores[i].trial_id for i in expected]


def test_only_the_choices_are_searched_the_rest_at_their_defaults() -> None:
    space = mixed_space()
    driver = _drive(_new(candidates=30), n=40, space=space)
    defaults = space.complete({})
    scores = [dict(s.suggestion.values) for s in _of_phase(driver, PHASE_SEARCH)]
    for values in scores:
        for name in ("input_size", "layers", "learning_rate", "dropout"):
            assert values[name] == defaults[name]
    # activation x (conv x 3 kernel sizes + dense): 12 architectures, each once.
    assert len({json.dumps(v, sort_keys=True) for v in scores}) == len(scores) == 12


def test_failed_or_unscored_trials_are_never_trained() -> None:
    def outcome(index: int, trial_id: str, values: Mapping[str, Any]) -> TrialStatus:
        return TrialStatus.FAILED if index % 2 == 0 else TrialStatus.COMPLETED

    driver = _drive(_new(**SMALL), outcome=outcome)
    scores = _of_phase(driver, PHASE_SEARCH)
    retrained = {r.suggestion.notes["estimate_trial"] for r in _of_phase(driver, PHASE_RETRAIN)}
    failed = {s.trial_id for s in scores if s.observation.status is TrialStatus.FAILED}
    assert failed and retrained and not retrained & failed
    # A failed score is replaced: 8 architectures were scored all the same.
    assert len(scores) - len(failed) == 8 and len(retrained) == 2

    # Every score failing on a space of 12 architectures: each is tried once.
    every_failed = _drive(_new(**SMALL), space=mixed_space(), n=30,
                          outcome=lambda *a: TrialStatus.FAILED)
    assert every_failed.n_run == 12
    assert every_failed.steps[-1].suggestion.notes["reason"] == (
        "no estimate succeeded: nothing to retrain")
    # A trial without the proxy's metric (a trainer that did not score it) is no candidate.
    assert _new().rank_estimates([scores[1].observation.__class__(
        trial_id="x", values={}, status=TrialStatus.COMPLETED, metrics={"score": 1.0})]) == []


def test_a_time_budget_gives_a_fifth_to_scoring_and_the_rest_to_the_retrains() -> None:
    strategy = _new(top_k=2)
    strategy.setup(nb201_space(), [SCORE])
    strategy.set_time_budget(100.0)
    asked = []
    for i in range(60):
        suggestion = strategy.ask(str(i))
        asked.append(suggestion)
        if suggestion.kind != "run":
            break
        values = dict(suggestion.values)
        strategy.tell(_observation(str(i), values, seconds=3.0))
    scores = [s for s in asked if s.kind == "run" and s.task == TASK_SCORE]
    retrains = [s for s in asked if s.kind == "run" and s.task is None]
    assert len(scores) == 7  # 7 x 3 s >= 20 s, a fifth of 100
    assert [r.epochs for r in retrains] == [100, 100]
    # What is left after 7 scores and the first retrain, 95 % of it, each.
    assert retrains[0].task_config == {"time_budget_s": round(0.95 * (100 - 21) / 2, 3)}
    assert retrains[1].task_config == {"time_budget_s": round(0.95 * (100 - 24) / 1, 3)}


def _observation(trial_id: str, values: Mapping[str, Any], seconds: float) -> Any:
    from autokeras_nas.core import Observation

    return Observation(trial_id=trial_id, values=dict(values), status=TrialStatus.COMPLETED,
                       metrics=_proxies(values), epochs=0, seconds=seconds)


def test_max_trials_counts_no_supernet() -> None:
    assert Plan.make(candidates=100, top_k=2, max_trials=10, supernet=False) == Plan(8, 2)
    assert Plan.make(candidates=100, top_k=2, max_trials=10) == Plan(7, 2)
    driver = _drive(_new(), max_trials=6)
    assert [s.suggestion.task for s in driver.runs()] == [TASK_SCORE] * 4 + [None] * 2


@pytest.mark.parametrize("kwargs, message", [
    ({"proxies": "fisher"}, "unknown proxy 'fisher'; choose from synflow, snip"),
    ({"proxies": ""}, "proxies must name at least one proxy"),
    ({"retrain_from": "supernet"}, "zero-cost retrains from scratch"),
    ({"conditional": True}, "no conditional weights"),
    ({"score_batch": 1}, "score_batch must be an int >= 2"),
    ({"top_k": 0}, "top_k must be an int >= 1"),
])
def test_bad_settings_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _new(**kwargs)


def test_proxies_parse_from_text_and_lists() -> None:
    assert _new(proxies="synflow, naswot").proxies == ("synflow", "naswot")
    assert _new(proxies=["naswot", "naswot", "snip"]).proxies == ("naswot", "snip")
