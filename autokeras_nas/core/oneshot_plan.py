"""How a one-shot search splits its trials and its time budget.

`autokeras_nas.core.oneshot.OneShotStrategy` asks these functions; they
depend only on their arguments (the strategy's history), so a restored
strategy gets the same answers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from autokeras_nas.core.strategy import Observation

#: Share of a time budget given to the supernet's training: the supernet is
#: what every estimate relies on, so it gets the largest share.
SUPERNET_SHARE = 0.5
#: Share of a time budget after which no new estimate is proposed: an
#: estimate only evaluates, so a small share ranks many architectures.
SEARCH_SHARE = 0.1
#: The supernet's epochs under a time budget: a ceiling the budget reaches
#: first on anything but a tiny dataset.
BUDGET_SUPERNET_EPOCHS = 100
#: Share of the measured rest of the budget the retrains are sized to fill,
#: leaving room for building models and saving them.
RETRAIN_FILL = 0.9
#: The supernet trial's output holding its steady seconds per epoch.
PACE_OUTPUT = "seconds_per_epoch"
#: An estimate's metric: seconds it spent loading the supernet (0 when the
#: supernet was kept in memory from an earlier estimate).
LOAD_METRIC = "load_time_s"


def search_spent(estimates: Sequence[Observation]) -> float:
    """Seconds the search's share counts: those of the estimates that did
    not load the supernet (`LOAD_METRIC` > 0: the first of each process,
    which also traces its evaluation, is a fixed cost, not the price of
    ranking one more architecture)."""
    return sum(float(o.seconds) for o in estimates
               if o.seconds is not None and not float(o.metrics.get(LOAD_METRIC) or 0.0) > 0)


@dataclass(frozen=True)
class Plan:
    """The numbers of estimate and retrain trials of a one-shot search.

    Attributes:
        estimates: Estimates proposed at most.
        retrains: Best estimates retrained.
    """

    estimates: int
    retrains: int

    @classmethod
    def make(cls, *, candidates: int, top_k: int, max_trials: int | None) -> "Plan":
        """`candidates` estimates and `top_k` retrains; with `max_trials` m
        (one trial being the supernet) min(top_k, (m - 1) // 2) retrains
        and the rest, at most `candidates`, estimates."""
        if max_trials is None:
            return cls(candidates, top_k)
        retrains = min(top_k, max(0, (max_trials - 1) // 2))
        return cls(min(candidates, max(0, max_trials - 1 - retrains)), retrains)


def supernet_seconds(budget: float) -> float:
    """The supernet's share of a time budget, in seconds (`SUPERNET_SHARE`)."""
    return round(SUPERNET_SHARE * float(budget), 3)


def search_seconds(budget: float) -> float:
    """Seconds of estimates after which the search proposes no more
    (`SEARCH_SHARE` of the budget)."""
    return SEARCH_SHARE * float(budget)


def retrain_epochs(*, budget: float, spent: float, supernet: Observation, retrains: int,
                   default: int) -> int:
    """Epochs of each retrain under a time budget.

    What `RETRAIN_FILL` of the rest of the budget (`budget - spent`, the
    retrains run one after another) affords at the supernet's measured
    seconds per epoch (`supernet_pace`), at least 1
    and at most the supernet's epochs (an architecture alone needs no
    longer training than the supernet that holds it). `default` when the
    supernet's cost was not measured.
    """
    epochs = supernet.epochs or 0
    pace = supernet_pace(supernet)
    if pace is None or epochs < 1:
        return default
    return paced_epochs(budget=budget, spent=spent, per_epoch=pace, retrains=retrains,
                        most=epochs)


def supernet_pace(supernet: Observation) -> float | None:
    """The supernet's seconds per epoch: its steady pace when its trainer
    reported one (`outputs[PACE_OUTPUT]`: on small data tracing the
    supernet's graph makes the first epoch cost many), else its seconds
    over its epochs; None when not measured."""
    reported = supernet.outputs.get(PACE_OUTPUT)
    if isinstance(reported, (int, float)) and not isinstance(reported, bool) \
            and math.isfinite(reported) and reported > 0:
        return float(reported)
    return measured_pace([supernet])


def paced_epochs(*, budget: float, spent: float, per_epoch: float, retrains: int,
                 most: int) -> int:
    """Epochs each of `retrains` trials run one after another can train at
    `per_epoch` seconds in `RETRAIN_FILL` of the rest of the budget, between
    1 and `most`."""
    affordable = RETRAIN_FILL * (float(budget) - float(spent)) / (max(1, retrains) * per_epoch)
    return max(1, min(most, math.floor(affordable)))


def measured_pace(observations: Sequence[Observation]) -> float | None:
    """The slowest seconds per epoch among `observations` (trials that
    trained: their seconds over their epochs), or None when none was measured."""
    paces = [float(o.seconds) / o.epochs for o in observations
             if o.seconds is not None and o.seconds > 0 and o.epochs]
    return max(paces) if paces else None
