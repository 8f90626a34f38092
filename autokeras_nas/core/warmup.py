"""A zero-cost warm-up before any strategy (Abdelfattah et al. 2021), and
the proxy helpers it shares with the `zero-cost` strategy. Numpy only.

`ZeroCostWarmup(strategy, proxies, pool, keep)` wraps a strategy: its first
`pool` trials are configurations drawn at random, each scored at
initialization by training-free proxies (trials of task "score": no
training); once they are told, the best `keep` (by the proxy, or by the
mean rank over several: a vote) are given to the strategy's `warm_start`,
and the strategy searches as it would, its random draws returning them
first: aging evolution's first population, a model-based strategy's initial
design, random search's first trials.

    strategy = ZeroCostWarmup(plugins.load("aging-evolution")(seed=0),
                              **parse_warmup("jacob_cov:200:10"))

`NasTuner(warmup="jacob_cov:200")`, every convenience tuner's `warmup=` and
`autokeras-nas search --param warmup=jacob_cov:200` make it.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Mapping, Sequence

import numpy as np

from autokeras_nas.core.strategy import (
    ARCH,
    TASK_SCORE,
    BaseStrategy,
    Objective,
    Observation,
    SpaceKind,
    Suggestion,
)

#: The proxies the "score" trainer computes (`autokeras_nas.zerocost.PROXIES`,
#: named here because the core never imports TensorFlow).
KNOWN_PROXIES = ("synflow", "snip", "grad_norm", "jacob_cov", "naswot")
#: The default proxy (of a warm-up and of the `zero-cost` strategy): on the
#: Fashion-MNIST ground truth of `bench oneshot`, Jacobian covariance ranked
#: the cells best of the five (Kendall tau 0.671, above the best supernet's
#: 0.525 and above the vote of all five, 0.323; `bench zero-cost`).
DEFAULT_PROXY = "jacob_cov"
#: Best-scored configurations a warmed-up strategy starts from by default:
#: about aging evolution's default population (12) and popnas' initial
#: design (18).
DEFAULT_KEEP = 10
#: Share of a time budget after which the warm-up proposes no more scores.
WARMUP_SHARE = 0.2
#: The phase of a warm-up's score trials (`notes["phase"]`).
PHASE_WARMUP = "warmup"


def parse_proxies(proxies: str | Sequence[str]) -> tuple[str, ...]:
    """Proxy names from a list, or from a text joined by "+" or ","
    ("jacob_cov+naswot"), without repeats.

    Raises:
        ValueError: no name, or an unknown one.
    """
    names = proxies.replace(",", "+").split("+") if isinstance(proxies, str) else list(proxies)
    names = [str(n).strip() for n in names if str(n).strip()]
    if not names:
        raise ValueError("proxies must name at least one proxy")
    unknown = [n for n in names if n not in KNOWN_PROXIES]
    if unknown:
        raise ValueError(f"unknown proxy {unknown[0]!r}; choose from {', '.join(KNOWN_PROXIES)}")
    return tuple(dict.fromkeys(names))


def parse_warmup(text: str) -> dict[str, Any]:
    """`PROXIES:POOL` or `PROXIES:POOL:KEEP` ("jacob_cov:200",
    "jacob_cov+naswot:200:10") as `ZeroCostWarmup`'s arguments
    (`proxies`, `pool`, `keep`; KEEP defaults to min(`DEFAULT_KEEP`, POOL)).

    Raises:
        ValueError: another form, an unknown proxy, or sizes that are not
            1 <= KEEP <= POOL.
    """
    parts = str(text).split(":")
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        pool = int(parts[1])
        keep = int(parts[2]) if len(parts) == 3 else min(DEFAULT_KEEP, pool)
    except ValueError:
        raise ValueError(f"a warm-up is PROXIES:POOL or PROXIES:POOL:KEEP (e.g. "
                         f"jacob_cov:200), got {text!r}") from None
    if not 1 <= keep <= pool:
        raise ValueError(f"a warm-up needs 1 <= KEEP <= POOL, got {text!r}")
    return {"proxies": parse_proxies(parts[0]), "pool": pool, "keep": keep}


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value)


def _ranks(values: np.ndarray) -> np.ndarray:
    """Rank of each value, 1 = the highest; ties share their mean rank."""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    for value in np.unique(values):
        tied = values == value
        ranks[tied] = ranks[tied].mean()
    return ranks


def vote_order(observations: Sequence[Observation], proxies: Sequence[str]) -> list[str]:
    """The trial ids of `observations`, best first: by the mean of their
    ranks under each proxy (one proxy: its score), ties broken by the first
    proxy's score, then by their order; those lacking a finite score of
    every proxy left out."""
    usable = [o for o in observations if all(_finite(o.metrics.get(p)) for p in proxies)]
    if not usable:
        return []
    scores = np.array([[o.metrics[p] for p in proxies] for o in usable], dtype=float)
    ranks = np.column_stack([_ranks(scores[:, j]) for j in range(len(proxies))])
    mean = ranks.mean(axis=1)
    order = sorted(range(len(usable)), key=lambda i: (mean[i], -scores[i, 0], i))
    return [usable[i].trial_id for i in order]


class ZeroCostWarmup(BaseStrategy):
    """A strategy started from the best of `pool` configurations scored at
    initialization (see the module docstring).

    The score trials count among the search's trials: with `max_trials` m,
    min(`pool`, m // 2) are scored and the strategy gets the rest. With a time budget, scoring stops once it
    took a fifth of it (`WARMUP_SHARE`). A score that fails is no candidate
    (its reason is in results.json). The wrapped strategy sees only its own
    trials; the state holds its state (exact resume).

    Args:
        strategy: The strategy to warm up: one that starts from random
            draws (`BaseStrategy.sample_new`) of a hyperparameter space.
        proxies: A proxy, several joined by "+" (a vote), or a list;
            default `DEFAULT_PROXY`.
        pool: Configurations scored; default 100.
        keep: The best of them the strategy starts from; default
            `DEFAULT_KEEP` (at most `pool`).
        score_batch: Training samples a data-dependent proxy sees.
        seed: Seed of the pool's draws; None: the strategy's seed + 1 (so
            the pool is not the strategy's own first draws).

    Raises:
        ValueError: a strategy that takes no warm start (not a
            `BaseStrategy`, or a one-shot strategy, which draws no
            configurations), an unknown proxy or bad sizes.
    """

    #: The task of the warm-up's trials (the conformance suite reports the
    #: proxies, `ranking_metrics`, on them).
    estimate_task: ClassVar[str] = TASK_SCORE

    def __init__(self, strategy: Any, *, proxies: str | Sequence[str] = DEFAULT_PROXY,
                 pool: int = 100, keep: int = DEFAULT_KEEP, score_batch: int = 64,
                 seed: int | None = None) -> None:
        from autokeras_nas.core.oneshot import OneShotStrategy

        if not isinstance(strategy, BaseStrategy) or isinstance(strategy, OneShotStrategy):
            what = getattr(strategy, "name", type(strategy).__name__)
            raise ValueError(f"strategy {what!r} cannot be warmed up: a warm-up needs a "
                             "strategy that starts from random configurations (a "
                             "BaseStrategy that is not one-shot)")
        for arg, value in (("pool", pool), ("keep", keep), ("score_batch", score_batch)):
            if type(value) is not int or value < 1:
                raise ValueError(f"{arg} must be an int >= 1, got {value!r}")
        if keep > pool:
            raise ValueError(f"keep ({keep}) must not exceed pool ({pool})")
        super().__init__(seed=(int(strategy.seed) + 1) % 2**63 if seed is None else seed)
        self.inner = strategy
        #: The wrapped strategy's name: the search is that strategy's.
        self.name = strategy.name
        self.space_kinds = tuple(k for k in strategy.space_kinds
                                 if k in (SpaceKind.HYPERPARAMETERS, SpaceKind.SUPERNET))
        self.proxies = parse_proxies(proxies)
        self.pool = pool
        self.keep = keep
        self.score_batch = score_batch
        self.scores: list[str] = []
        self.warmed = False

    # -- space and set-up --------------------------------------------------------
    def use_space(self, kind: SpaceKind | str, structure: Any = None) -> None:
        if SpaceKind(kind) not in (SpaceKind.HYPERPARAMETERS, SpaceKind.SUPERNET):
            raise ValueError(f"a zero-cost warm-up scores configurations of a hyperparameter "
                             f"space; it cannot warm up a search of a {SpaceKind(kind).value} "
                             "space")
        self.inner.use_space(kind, structure)

    def planned_pool(self) -> int:
        """The configurations scored at most: `pool`, cut to half of
        `max_trials` when it would take more."""
        if self.max_trials is None:
            return self.pool
        return min(self.pool, self.max_trials // 2)

    def setup(self, space: Any, objectives: Sequence[Objective],
              max_trials: int | None = None) -> None:
        super().setup(space, objectives, max_trials)
        self.inner.setup(space, objectives, None if max_trials is None
                         else max_trials - self.planned_pool())

    def set_time_budget(self, seconds: float | None) -> None:
        super().set_time_budget(seconds)
        self.inner.set_time_budget(seconds)

    # -- proposals ---------------------------------------------------------------
    def propose(self, trial_id: str) -> Suggestion:
        if not self.warmed:
            if len(self.scores) < self.planned_pool() and not self._budget_spent():
                values = self.sample_new()
                if values is not None:
                    self.scores.append(trial_id)
                    return Suggestion.run(values, task=TASK_SCORE, task_config={
                        "proxies": list(self.proxies), "batch_size": self.score_batch},
                        notes={"phase": PHASE_WARMUP})
            if self._pending():
                return Suggestion.wait()
            self._warm()
        return self.inner.ask(trial_id)

    def _budget_spent(self) -> bool:
        if self.time_budget is None:
            return False
        own = set(self.scores)
        spent = sum(float(o.seconds) for o in self.history
                    if o.trial_id in own and o.seconds is not None)
        return spent >= WARMUP_SHARE * float(self.time_budget)

    def _pending(self) -> bool:
        told = {o.trial_id for o in self.history}
        return any(t not in told for t in self.scores)

    def ranking_metrics(self) -> tuple[str, ...]:
        """The proxies: the score trials report each under its name."""
        return self.proxies

    def ranked(self) -> list[str]:
        """The scored trials, best first (`vote_order`)."""
        own = set(self.scores)
        return vote_order([o for o in self.history if o.trial_id in own], self.proxies)

    def _warm(self) -> None:
        best = self.ranked()[:self.keep]
        self.inner.warm_start([{k: v for k, v in self.asked[t].items() if k != ARCH}
                               for t in best])
        self.warmed = True

    def observe(self, observation: Observation) -> None:
        if (observation.continues or observation.trial_id) not in self.scores:
            self.inner.tell(observation)

    def score(self, observation: Observation) -> float | None:
        return self.inner.score(observation)

    # -- state -------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return {"warmup": {"proxies": list(self.proxies), "pool": self.pool, "keep": self.keep},
                "scores": list(self.scores), "warmed": self.warmed,
                "inner": self.inner.state_dict()}

    def load_extra_state(self, state: Mapping[str, Any]) -> None:
        if not state:
            return
        if "inner" not in state or "scores" not in state:
            raise ValueError(f"the saved state of {self.name!r} has no warm-up: the search was "
                             "started without one; resume it without the warm-up")
        self.scores = [str(t) for t in state["scores"]]
        self.warmed = bool(state["warmed"])
        self.inner.load_state_dict(state["inner"])
