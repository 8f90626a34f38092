"""The strategy of `autokeras-nas bench oneshot`: a one-shot strategy's own
supernet trial, then an estimate of each sampled architecture with its
weights. Numpy only, like every strategy."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from autokeras_nas.core import (
    TASK_ESTIMATE,
    BaseStrategy,
    Observation,
    SpaceKind,
    Suggestion,
    TrialStatus,
)

__all__ = ["SampleEstimates"]


class SampleEstimates(BaseStrategy):
    """The benchmark's strategy: the one-shot `strategy`'s own supernet trial
    (its first proposal, unchanged), then one estimate of each architecture
    of `sample` with that supernet's weights (the estimate task_config the
    strategy would send), then done. Numpy only.

    Args:
        strategy: A one-shot strategy (`OneShotStrategy`), not set up yet.
        sample: The architectures, choice name -> candidate.
    """

    name = "bench-oneshot"
    allow_repeats = True
    space_kinds = (SpaceKind.SUPERNET, SpaceKind.HYPERPARAMETERS)

    def __init__(self, strategy: Any, sample: Sequence[Mapping[str, str]]) -> None:
        super().__init__(seed=strategy.seed)
        self.strategy = strategy
        self.sample = [dict(arch) for arch in sample]
        self.supernet_id: str | None = None
        self.supernet: Suggestion | None = None
        #: Trial id of each estimate, in sample order.
        self.estimate_ids: list[str] = []

    def setup(self, space: Any, objectives: Sequence[Any], max_trials: int | None = None) -> None:
        super().setup(space, objectives, max_trials)
        self.strategy.setup(space, objectives, None)

    def supernet_observation(self) -> Observation | None:
        """The supernet trial's result, once told."""
        return next((o for o in self.history if o.trial_id == self.supernet_id), None)

    def propose(self, trial_id: str) -> Suggestion:
        if self.supernet_id is None:
            suggestion = self.strategy.ask(trial_id)
            if suggestion.kind == "run":
                self.supernet_id, self.supernet = trial_id, suggestion
            return suggestion
        told = self.supernet_observation()
        if told is None:
            return Suggestion.wait()
        if told.status is TrialStatus.FAILED:
            return Suggestion.done(f"supernet failed: {told.message or 'no message'}")
        if len(self.estimate_ids) >= len(self.sample):
            return Suggestion.done(f"estimated the {len(self.sample)} sampled architectures")
        arch = self.sample[len(self.estimate_ids)]
        values = self.space.complete({**self.asked[self.supernet_id], **arch})
        self.estimate_ids.append(trial_id)
        return Suggestion.run(values, parent_id=self.supernet_id, task=TASK_ESTIMATE,
                              task_config=self.strategy.estimate_options(),
                              notes={"phase": "search", "sample": len(self.estimate_ids) - 1})
