"""Plugin `freedarts`: FreeDARTS (Zhang et al. 2021), differentiable search
without training.

One trial of task "saliency" (`autokeras_nas.tuner.trainers.saliency`, the
Keras side) builds the relaxed supernet of DARTS, scores every candidate of
every choice at initialization by the synaptic flow through it
(`autokeras_nas.zerocost.operation_saliency`), prunes the least salient
round by round, and reports the architecture that keeps the most salient;
it is retrained from scratch. There is no search phase: the phases of
`autokeras_nas.core.OneShotStrategy` with `retrains_derived`. Numpy only,
like every strategy.
"""

from __future__ import annotations

from typing import Any, ClassVar

from autokeras_nas.core import TASK_SALIENCY, BaseStrategy, OneShotStrategy


class FreeDarts(OneShotStrategy):
    """FreeDARTS (Zhang et al. 2021): the DARTS supernet scored at
    initialization, its derived architecture retrained, with no training
    before the retrain.

    Without a time budget the retrain trains `retrain_epochs` epochs; with
    one, it takes what the scoring left (its epochs only a ceiling). With
    `max_trials` m: the saliency trial and min(`top_k`, m - 1) retrains.

    Args:
        iterative: Prune the least salient candidate of every choice round
            by round, scoring the rest again (True, the default, as
            FreeDARTS), or rank every candidate once (False).
        top_k: Architectures retrained: the derived one, then the next by
            the candidates' saliency order; default 1.
        retrain_epochs: Epochs of the retrain without a time budget;
            default 10.
        seed: Seed of the strategy's generator.

    Raises:
        ValueError: `iterative` not a bool, a bad size, or `retrain_from`
            other than "scratch" or `conditional` (the supernet is never
            trained and holds one copy of each operation).
    """

    name = "freedarts"
    mode: ClassVar[str] = "darts"
    supernet_task: ClassVar[str] = TASK_SALIENCY
    retrains_derived: ClassVar[bool] = True

    def __init__(self, *, iterative: bool = True, top_k: int = 1,
                 retrain_from: str = "scratch", **kwargs: Any) -> None:
        if retrain_from != "scratch":
            raise ValueError(f"freedarts retrains from scratch (its supernet is never trained), "
                             f"got retrain_from={retrain_from!r}")
        if kwargs.get("conditional"):
            raise ValueError("freedarts has no conditional weights (its supernet holds one copy "
                             "of each operation)")
        if not isinstance(iterative, bool):
            raise ValueError(f"iterative must be True or False, got {iterative!r}")
        super().__init__(top_k=top_k, retrain_from=retrain_from, **kwargs)
        self.iterative = iterative

    def supernet_options(self) -> dict[str, Any]:
        """The trial's options: the pruning, as many architectures as are
        retrained, and the strategy's seed (the supernet's initialization,
        which the saliencies score)."""
        return {"iterative": self.iterative, "architectures": max(1, self.plan().retrains),
                "seed": int(self.seed)}

    def make_inner(self, seed: int) -> BaseStrategy:
        """Never called: the saliency trial names the architectures to
        retrain (`retrains_derived`), with no search phase."""
        raise RuntimeError("freedarts has no search phase to propose estimates in")
