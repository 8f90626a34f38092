"""The zero-cost warm-up of any strategy (`autokeras_nas.core.warmup`),
driven without Keras: its "score" trials are told the proxies' values an
analytic function gives them."""

from __future__ import annotations

from typing import Any, Mapping

import pytest

from autokeras_nas import plugins
from autokeras_nas.core import TASK_SCORE, SpaceKind, TrialStatus
from autokeras_nas.core.warmup import ZeroCostWarmup, parse_warmup, vote_order
from autokeras_nas.testing import SCORE, Driver, check_strategy, nb201_space
from autokeras_nas.testing.driver import make_observation
from autokeras_nas.workflow import WorkflowError, make_strategy


def _proxies(values: Mapping[str, Any]) -> dict[str, float]:
    """Made-up proxies of an NB201 cell: `jacob_cov` counts its 3x3
    convolutions, `naswot` its edges that are not "none"; the objective is
    their sum."""
    edges = [v for k, v in values.items() if k.startswith("edge_")]
    conv = float(sum(v == "nor_conv_3x3" for v in edges))
    alive = float(sum(v != "none" for v in edges))
    return {"score": conv + alive, "jacob_cov": conv, "naswot": alive}


def _warmed(name: str = "aging-evolution", seed: int = 0, **kwargs: Any) -> ZeroCostWarmup:
    return ZeroCostWarmup(plugins.load(name)(seed=seed), **{"pool": 20, "keep": 5, **kwargs})


def _drive(strategy: Any, n: int = 30, **kwargs: Any) -> Driver:
    driver = Driver(strategy, _proxies, n, space=nb201_space(), **kwargs)
    driver.run()
    return driver


class WarmedRandom(ZeroCostWarmup):
    """Random search after a small warm-up, as a class for the conformance suite."""

    def __init__(self, *, seed: int | None = None) -> None:
        super().__init__(plugins.load("random")(seed=seed), pool=6, keep=3,
                         proxies="jacob_cov+naswot")


def test_conformance() -> None:
    ran = check_strategy(WarmedRandom, make_kwargs=lambda seed: {"seed": seed})
    assert {kind for scenarios in ran.values() for kind, _ in scenarios} == {
        SpaceKind.HYPERPARAMETERS}


def test_the_strategy_starts_from_the_best_scored_of_the_pool() -> None:
    driver = _drive(_warmed())
    runs = driver.runs()
    scores, rest = runs[:20], runs[20:]
    assert all(s.suggestion.task == TASK_SCORE and s.suggestion.notes == {"phase": "warmup"}
               and s.suggestion.task_config == {"proxies": ["jacob_cov"], "batch_size": 64}
               for s in scores)
    assert all(s.suggestion.task is None for s in rest)
    best = vote_order([s.observation for s in scores], ("jacob_cov",))[:5]
    by_id = {s.trial_id: s.suggestion.values for s in scores}
    # aging evolution's first population begins with the five best-scored cells
    assert [s.suggestion.values for s in rest[:5]] == [by_id[t] for t in best]
    assert [s.observation.metrics["jacob_cov"] for s in rest[:5]] == sorted(
        (s.observation.metrics["jacob_cov"] for s in scores), reverse=True)[:5]
    # the wrapped strategy was told its own trials only
    inner = driver.strategy.inner
    assert list(inner.asked) == [s.trial_id for s in rest]
    assert [o.trial_id for o in inner.history] == [s.trial_id for s in rest]
    assert driver.strategy.name == "aging-evolution"


def test_a_vote_of_proxies_orders_the_pool_by_mean_rank() -> None:
    driver = _drive(_warmed("random", proxies="jacob_cov+naswot", pool=12, keep=3), n=15)
    scores, rest = driver.runs()[:12], driver.runs()[12:]
    best = vote_order([s.observation for s in scores], ("jacob_cov", "naswot"))[:3]
    by_id = {s.trial_id: s.suggestion.values for s in scores}
    assert [s.suggestion.values for s in rest] == [by_id[t] for t in best]


def test_max_trials_counts_the_scores_and_a_pool_that_would_fill_it_is_halved() -> None:
    driver = _drive(_warmed(), n=100, max_trials=46)
    assert [s.suggestion.task for s in driver.runs()] == [TASK_SCORE] * 20 + [None] * 26
    assert driver.strategy.inner.max_trials == 26
    driver = _drive(_warmed(), n=100, max_trials=15)
    assert [s.suggestion.task for s in driver.runs()] == [TASK_SCORE] * 7 + [None] * 8


def test_a_time_budget_ends_the_scoring_after_a_fifth() -> None:
    driver = _drive(_warmed(pool=100), n=40, time_budget=50.0)
    tasks = [s.suggestion.task for s in driver.runs()]
    # each trial of the driver takes its train_time_s + 1 s; the scores stop at 10 s
    scored = tasks.index(None)
    spent = sum(s.observation.seconds for s in driver.runs()[:scored])
    assert 0 < scored < 100 and spent >= 10.0
    assert spent - driver.runs()[scored - 1].observation.seconds < 10.0
    assert set(tasks[scored:]) == {None}


def _run(strategy: Any, start: int, stop: int) -> list[dict]:
    """Asks for trials start..stop-1 one after another, telling each."""
    proposed = []
    for i in range(start, stop):
        suggestion = strategy.ask(str(i))
        assert suggestion.kind == "run"
        proposed.append(dict(suggestion.values))
        strategy.tell(make_observation(str(i), suggestion, _proxies, TrialStatus.COMPLETED))
    return proposed


def test_a_restored_warm_up_goes_on_as_if_never_stopped() -> None:
    def new() -> ZeroCostWarmup:
        strategy = _warmed(seed=4)
        strategy.setup(nb201_space(), [SCORE])
        return strategy

    straight = _run(new(), 0, 30)
    for stop in (7, 20, 24):
        first = new()
        proposed = _run(first, 0, stop)
        copy = new()
        copy.load_state_dict(first.state_dict())
        assert proposed + _run(copy, stop, 30) == straight, stop
    plain = plugins.load("aging-evolution")(seed=4)
    plain.setup(nb201_space(), [SCORE])
    with pytest.raises(ValueError, match="has no warm-up: the search was started without one"):
        _warmed(seed=4).load_state_dict(plain.state_dict())


def test_failed_scores_are_no_candidates() -> None:
    def outcome(index: int, trial_id: str, values: Mapping[str, Any]) -> TrialStatus:
        return TrialStatus.FAILED if index % 2 else TrialStatus.COMPLETED

    driver = _drive(_warmed("random", pool=10, keep=10), n=12, outcome=outcome)
    completed = [s.trial_id for s in driver.runs()[:10]
                 if s.observation.status is TrialStatus.COMPLETED]
    assert len(completed) == 5 and sorted(driver.strategy.ranked()) == sorted(completed)


@pytest.mark.parametrize("text, message", [
    ("jacob_cov", "a warm-up is PROXIES:POOL or PROXIES:POOL:KEEP"),
    ("fisher:100", "unknown proxy 'fisher'"),
    ("jacob_cov:5:10", "1 <= KEEP <= POOL"),
    ("jacob_cov:x", "a warm-up is PROXIES:POOL"),
])
def test_bad_warm_ups_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_warmup(text)


def test_parse_and_the_strategies_that_take_one() -> None:
    assert parse_warmup("jacob_cov+naswot:200") == {"proxies": ("jacob_cov", "naswot"),
                                                    "pool": 200, "keep": 10}
    assert parse_warmup("synflow:4:2") == {"proxies": ("synflow",), "pool": 4, "keep": 2}
    with pytest.raises(ValueError, match="'spos' cannot be warmed up"):
        ZeroCostWarmup(plugins.load("spos")(seed=0))
    with pytest.raises(ValueError, match="cannot warm up a search of a network space"):
        _warmed("nash").use_space("network", object())
    # the command line's --param warmup=... wraps any strategy
    strategy = make_strategy("aging-evolution", seed=1, params={"warmup": "jacob_cov:30:4"})
    assert isinstance(strategy, ZeroCostWarmup)
    assert (strategy.pool, strategy.keep, strategy.proxies) == (30, 4, ("jacob_cov",))
    assert strategy.inner.name == "aging-evolution" and strategy.inner.seed == 1
    with pytest.raises(WorkflowError, match="cannot create strategy 'random'.*unknown proxy"):
        make_strategy("random", params={"warmup": "fisher:10"})
