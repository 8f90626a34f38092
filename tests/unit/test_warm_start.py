"""`BaseStrategy.warm_start` (a strategy's random draws return the given
configurations first) and the zero-cost warm-up of `bench nb201`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from autokeras_nas import plugins
from autokeras_nas.bench.nb201 import cell_index, cell_values
from autokeras_nas.bench.searchers import drive_strategy, strategy_searcher
from autokeras_nas.bench.warmup import Warmup, WarmupError
from autokeras_nas.core import Observation, TrialStatus
from autokeras_nas.testing import SCORE, nb201_space, objective_for

BEST = [cell_values(i) for i in (15624, 7, 12345, 3)]


def _drive(name: str, n: int, warm: Any = None, **kwargs: Any) -> list[dict]:
    proposed = []

    def evaluate(values):
        proposed.append(dict(values))
        return {"score": objective_for("nb201")(values)}

    strategy = plugins.load(name)(seed=1, **kwargs)
    drive_strategy(strategy, nb201_space(), (SCORE,), n, evaluate, warm=warm)
    return proposed


@pytest.mark.parametrize("name", ["random", "aging-evolution", "popnas"])
def test_a_warm_started_strategy_proposes_the_given_cells_first(name: str) -> None:
    proposed = _drive(name, 20, warm=BEST)
    assert proposed[:4] == BEST
    # Otherwise the search goes on as it would: never a repeat.
    assert len({cell_index(v) for v in proposed}) == 20


def test_aging_evolutions_first_population_holds_the_warm_cells() -> None:
    """With population 6, the first 6 proposals are the population: the 4
    warm cells then 2 random ones; the 7th is a mutation of one of them."""
    strategy = plugins.load("aging-evolution")(seed=0, population_size=6, sample_size=6)
    strategy.setup(nb201_space(), [SCORE], 50)
    strategy.warm_start(BEST)
    for i in range(7):
        suggestion = strategy.ask(str(i))
        if i < 4:
            assert dict(suggestion.values) == BEST[i]
        if i < 6:
            assert suggestion.notes["origin"] == "random"
            strategy.tell(Observation(str(i), dict(suggestion.values), TrialStatus.COMPLETED,
                                      {"score": -float(i)}))  # the first warm cell is best
    assert suggestion.notes["origin"] == "mutation"
    assert suggestion.notes["parent"] == "0"


def test_warm_cells_already_proposed_are_skipped_and_the_queue_resumes_exactly() -> None:
    strategy = plugins.load("random")(seed=0)
    strategy.setup(nb201_space(), [SCORE], 50)
    first = strategy.ask("0")
    strategy.warm_start([first.values, BEST[0], {"edge_0_1": "none"}])
    assert dict(strategy.ask("1").values) == BEST[0]  # the first was proposed already
    state = strategy.state_dict()
    again = plugins.load("random")(seed=99)
    again.setup(nb201_space(), [SCORE], 50)
    again.load_state_dict(state)
    # Completed with the space's defaults; the same next proposal after a reload.
    expected = nb201_space().complete({"edge_0_1": "none"})
    assert dict(again.ask("2").values) == dict(strategy.ask("2").values) == expected


def test_warm_start_checks_its_configurations() -> None:
    strategy = plugins.load("random")(seed=0)
    with pytest.raises(RuntimeError, match="setup"):
        strategy.warm_start(BEST)
    strategy.setup(nb201_space(), [SCORE])
    with pytest.raises(ValueError):
        strategy.warm_start([{"edge_0_1": "conv_7x7"}])


def test_the_warmup_ranks_a_seeded_pool_by_the_scores() -> None:
    scores = np.arange(15625, dtype=float) % 1000  # best: the cells whose index ends in 999
    warmup = Warmup.parse("synflow:3000:5")
    cells = warmup.cells(scores, seed=3)
    assert len(cells) == 5 and warmup.cells(scores, seed=3) == cells
    pool = np.random.default_rng([3, 20]).choice(15625, size=3000, replace=False)
    expected = sorted(pool, key=lambda i: (-scores[i], list(pool).index(i)))[:5]
    assert [cell_index(c) for c in cells] == [int(i) for i in expected]
    assert warmup.cells(scores, seed=4) != cells
    assert Warmup.parse("synflow:3000") == Warmup("synflow", 3000, 10)
    assert Warmup.parse("synflow:5").keep == 5


@pytest.mark.parametrize("text, message", [
    ("synflow", "PROXIES:POOL or PROXIES:POOL:KEEP"),
    ("synflow:many", "PROXIES:POOL or PROXIES:POOL:KEEP"),
    ("jacob_cov:3000", "no NAS-Bench-201 scores of 'jacob_cov'; the package ships synflow"),
    ("synflow+naswot:3000", "no NAS-Bench-201 scores of 'synflow\\+naswot'"),
    ("tea_leaves:3000", "unknown proxy 'tea_leaves'"),
    ("synflow:10:20", "1 <= KEEP <= POOL"),
    ("synflow:20000", "1 <= KEEP <= POOL <= 15625"),
])
def test_bad_warmups_are_refused(text: str, message: str) -> None:
    with pytest.raises(WarmupError, match=message):
        Warmup.parse(text)


def test_a_warm_searcher_is_labelled_and_starts_each_run_from_its_seeds_cells() -> None:
    searcher = strategy_searcher("random", warm=lambda seed: [cell_values(seed)],
                                 warm_label="warmup=x")
    assert searcher.label == "random warmup=x"
    seen = []
    searcher.run(nb201_space(), (SCORE,), 3, 42, lambda v: seen.append(dict(v)) or {"score": 0.0})
    assert seen[0] == cell_values(42)
