"""Random search over any search space."""

from __future__ import annotations

from autokeras_nas.core import BaseStrategy, Suggestion


class RandomStrategy(BaseStrategy):
    """Samples each trial independently and uniformly from the space.

    Values already proposed are not proposed again; once a finite space is
    exhausted the strategy says "done". Early stopping (asynchronous
    successive halving, Li & Talwalkar 2019) is a separate, composable rule:
    pass `early_stopping="asha"` to the tuner (see
    `autokeras_nas.core.stopping.ASHA`), so random search with early stopping
    is this strategy plus that rule.

    Args:
        seed: Seed of the strategy's generator; `None` draws one and records it.
    """

    name = "random"

    def propose(self, trial_id: str) -> Suggestion:
        values = self.sample_new()
        if values is None:
            return Suggestion.done("search space exhausted")
        return Suggestion.run(values)
