"""Single-path one-shot, random search with weight sharing, and Bender et
al.'s one-shot model: the same three phases (supernet, search with
inherited weights, retrain), each with its own supernet mode and inner
strategy. The inner strategies are the package's plugins, loaded by name."""

from __future__ import annotations

from typing import Any, ClassVar

from autokeras_nas import plugins
from autokeras_nas.core import BaseStrategy, OneShotStrategy

#: Bender et al.'s path-dropout rate reached at the end of the supernet's
#: training (see `OneShot`).
DEFAULT_DROP_RATE = 0.3


class Spos(OneShotStrategy):
    """Single-path one-shot (Guo et al. 2019): the supernet trains one path
    per batch, sampled uniformly; architectures are searched by aging
    evolution (the `aging-evolution` plugin) and evaluated with the
    supernet's weights after batch-norm recalibration; the best are
    retrained (from the supernet's weights: `retrain_from`).

    The inner evolution's population and tournament sizes are its defaults
    scaled to the number of estimates (`AgingEvolution`'s `max_trials`
    rule). Sizes and budget: see `autokeras_nas.core.OneShotStrategy`.
    """

    name = "spos"
    mode: ClassVar[str] = "single"

    def make_inner(self, seed: int) -> BaseStrategy:
        return plugins.load("aging-evolution")(seed=seed)


class RandomWS(OneShotStrategy):
    """Random search with weight sharing (Li & Talwalkar 2019): the supernet
    trains a random path per batch, then random architectures (the `random`
    plugin, no repeats) are ranked with the supernet's weights and the best
    retrained. Sizes and budget: see `autokeras_nas.core.OneShotStrategy`.
    """

    name = "random-ws"
    mode: ClassVar[str] = "single"

    def make_inner(self, seed: int) -> BaseStrategy:
        return plugins.load("random")(seed=seed)


class OneShot(OneShotStrategy):
    """Bender et al. 2018, "Understanding and simplifying one-shot
    architecture search": the supernet runs every path on every batch,
    each path dropped independently with a rate raised linearly to
    `drop_rate` over its training (never all of them); random architectures
    are ranked with the one-shot model and the best retrained.

    Args:
        drop_rate: The path-dropout rate at the end of the supernet's
            training (`task_config["drop_rate"]`); default 0.3, so that the
            supernet learns to do without paths while most batches still
            train most of them.
        **kwargs: As for `autokeras_nas.core.OneShotStrategy`.

    Raises:
        ValueError: `drop_rate` outside [0, 1), or a bad size.
    """

    name = "oneshot"
    mode: ClassVar[str] = "all"

    def __init__(self, *, drop_rate: float = DEFAULT_DROP_RATE, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if isinstance(drop_rate, bool) or not isinstance(drop_rate, (int, float)) \
                or not 0.0 <= float(drop_rate) < 1.0:
            raise ValueError(f"drop_rate must be a number in [0, 1), got {drop_rate!r}")
        self.drop_rate = float(drop_rate)

    def supernet_options(self) -> dict[str, Any]:
        return {"drop_rate": self.drop_rate}

    def make_inner(self, seed: int) -> BaseStrategy:
        return plugins.load("random")(seed=seed)
