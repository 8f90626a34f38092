"""Plugin `zero-cost`: search without training, by training-free proxies.

A random sample of architectures is scored at initialization (trials of
task "score", `autokeras_nas.tuner.trainers.score`: one batch of training
data, no training), ranked by a proxy or by the mean rank over several
proxies (a vote), and the best `top_k` are trained from scratch. The phases
are `autokeras_nas.core.OneShotStrategy`'s with no supernet: search, then
retrain. Numpy only, like every strategy.
"""

from __future__ import annotations

from typing import Any, ClassVar, Sequence

from autokeras_nas import plugins
from autokeras_nas.core import (
    DEFAULT_PROXY,
    KNOWN_PROXIES,
    TASK_SCORE,
    WARMUP_SHARE,
    BaseStrategy,
    Observation,
    OneShotStrategy,
    parse_proxies,
    vote_order,
)

__all__ = ["DEFAULT_PROXY", "KNOWN_PROXIES", "ZERO_COST_SEARCH_SHARE", "ZeroCost",
           "parse_proxies"]

#: Share of a time budget spent scoring: scores are cheap, so a fifth of the
#: budget ranks a large sample and leaves most of it to the retrains (the
#: share a warm-up of any strategy scores in, `autokeras_nas.core.WARMUP_SHARE`).
ZERO_COST_SEARCH_SHARE = WARMUP_SHARE


class ZeroCost(OneShotStrategy):
    """Zero-cost search (Abdelfattah et al. 2021): score a random sample of
    architectures with training-free proxies, train the best.

    `candidates` random architectures (the `random` plugin, no repeats) of
    the space's choices (the other hyperparameters at their defaults, as in
    the one-shot strategies) are each built and scored on the first
    `score_batch` training samples (one whose score failed is replaced by
    another); they are ranked by the proxy, or with
    several proxies by the mean of their ranks (ties broken by the first
    proxy), and the best `top_k` are trained from scratch. With a time
    budget, scoring stops once it took a fifth of it
    (`ZERO_COST_SEARCH_SHARE`), and the retrains share the rest, their
    epochs only a ceiling. With `max_trials` m: min(top_k, m // 2)
    retrains, the rest scores.

    Args:
        proxies: A proxy name, several joined by "+" (a vote), or a list;
            default "jacob_cov" (`DEFAULT_PROXY`: the best rank correlation
            on the Fashion-MNIST ground truth).
        score_batch: Training samples each score sees; default 64.
        candidates: Architectures scored (at most); default 100.
        top_k: Best-scored architectures trained; default 2.
        retrain_epochs: Epochs of each retrain without a time budget;
            default 10.
        seed: Seed of the sample.

    Raises:
        ValueError: An unknown proxy, a bad size, or `retrain_from` other
            than "scratch" (there is no supernet to start from).
    """

    name = "zero-cost"
    supernet_task: ClassVar[str | None] = None
    estimate_task: ClassVar[str] = TASK_SCORE
    failed_estimates_count: ClassVar[bool] = False

    def __init__(self, *, proxies: str | Sequence[str] = DEFAULT_PROXY, score_batch: int = 64,
                 retrain_from: str = "scratch", **kwargs: Any) -> None:
        if retrain_from != "scratch":
            raise ValueError(f"zero-cost retrains from scratch (it has no supernet), "
                             f"got retrain_from={retrain_from!r}")
        if kwargs.get("conditional"):
            raise ValueError("zero-cost has no supernet, so no conditional weights")
        super().__init__(retrain_from=retrain_from, **kwargs)
        self.proxies = parse_proxies(proxies)
        if type(score_batch) is not int or score_batch < 2:
            raise ValueError(f"score_batch must be an int >= 2, got {score_batch!r}")
        self.score_batch = score_batch

    def make_inner(self, seed: int) -> BaseStrategy:
        return plugins.load("random")(seed=seed)

    def estimate_options(self) -> dict[str, Any]:
        return {"proxies": list(self.proxies), "batch_size": self.score_batch}

    def search_share(self) -> float:
        return ZERO_COST_SEARCH_SHARE

    def ranking_metrics(self) -> tuple[str, ...]:
        """The proxies: the "score" trials report each under its name."""
        return self.proxies

    def rank_estimates(self, observations: Sequence[Observation]) -> list[str]:
        """Scored architectures, best first: by the mean of their ranks under
        each proxy (one proxy: its score; `autokeras_nas.core.warmup.
        vote_order`), those lacking a finite score of every proxy left out."""
        return vote_order(observations, self.proxies)

    def estimate_record(self, observation: Observation) -> dict[str, float]:
        return {p: float(observation.metrics[p]) for p in self.proxies}
