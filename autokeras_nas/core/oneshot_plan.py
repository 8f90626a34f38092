"""How a one-shot search splits its trials and its time budget.

`autokeras_nas.core.oneshot.OneShotStrategy` asks these functions; they
depend only on their arguments (the strategy's history), so a restored
strategy gets the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from autokeras_nas.core.strategy import Observation, TrialStatus

#: Share of a time budget given to the supernet's training: the supernet is
#: what every estimate relies on, so it gets the largest share.
SUPERNET_SHARE = 0.5
#: Share of a time budget after which no new estimate is proposed: an
#: estimate only evaluates, so a small share ranks many architectures.
SEARCH_SHARE = 0.1
#: Share of a time budget after which, counting all it spent (the supernet's
#: overrun included), no new estimate is proposed once one succeeded: the
#: retrains keep the rest even when the supernet's first epoch (its trace)
#: took more than its share.
SEARCH_END = SUPERNET_SHARE + SEARCH_SHARE
#: The supernet's epochs under a time budget: a ceiling the budget reaches
#: first on anything but a tiny dataset.
BUDGET_SUPERNET_EPOCHS = 100
#: Share of the measured rest of the budget the retrains' training takes,
#: leaving room for building their models and saving them.
RETRAIN_FILL = 0.95
#: The least training seconds a retrain is given (it trains one epoch anyway).
MIN_RETRAIN_SECONDS = 1.0
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


def search_over(*, budget: float, spent: float, estimates: Sequence[Observation],
                share: float = SEARCH_SHARE) -> bool:
    """Whether the search phase proposes no more estimates: its estimates
    took `share` of `budget` (`search_spent`), or, once an estimate
    succeeded, everything the search spent so far (`spent`: the supernet
    and the estimates) reached `SEARCH_END` of it."""
    if search_spent(estimates) >= share * float(budget):
        return True
    succeeded = any(o.status is not TrialStatus.FAILED for o in estimates)
    return succeeded and float(spent) >= SEARCH_END * float(budget)


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
    def make(cls, *, candidates: int, top_k: int, max_trials: int | None,
             supernet: bool = True, estimates: bool = True) -> "Plan":
        """`candidates` estimates and `top_k` retrains; with `max_trials` m
        (one trial being the supernet, when there is one: s = 1, else 0)
        min(top_k, (m - s) // 2) retrains and the rest, at most
        `candidates`, estimates. Without `estimates` (the supernet trial
        names the architectures to retrain): no estimate and min(top_k,
        m - s) retrains."""
        rest = None if max_trials is None else max(0, max_trials - (1 if supernet else 0))
        if not estimates:
            return cls(0, top_k if rest is None else min(top_k, rest))
        if rest is None:
            return cls(candidates, top_k)
        retrains = min(top_k, rest // 2)
        return cls(min(candidates, rest - retrains), retrains)


def supernet_seconds(budget: float) -> float:
    """The supernet's share of a time budget, in seconds (`SUPERNET_SHARE`)."""
    return round(SUPERNET_SHARE * float(budget), 3)


def retrain_seconds(*, budget: float, spent: float, retrains: int) -> float:
    """Seconds of training each of `retrains` trials run one after another
    may take: `RETRAIN_FILL` of the rest of the budget (`budget - spent`)
    shared equally, at least `MIN_RETRAIN_SECONDS` (a retrain always trains
    one epoch)."""
    share = RETRAIN_FILL * (float(budget) - float(spent)) / max(1, retrains)
    return round(max(MIN_RETRAIN_SECONDS, share), 3)
