"""Plugin `smash`: SMASH (Brock et al. 2017), one-shot search by a
hypernetwork.

One trial of task "smash" (`autokeras_nas.tuner.trainers.smash`, the Keras
side) trains a supernet whose candidates' kernels are generated from an
encoding of the whole architecture, on a random architecture per batch;
random architectures are then ranked with the weights generated for each
(estimates, that trial as parent), and the best is trained from scratch.
The phases are `autokeras_nas.core.OneShotStrategy`'s. Numpy only, like
every strategy.
"""

from __future__ import annotations

from typing import Any, ClassVar

from autokeras_nas import plugins
from autokeras_nas.core import BaseStrategy, OneShotStrategy

#: The task of SMASH's supernet trial.
TASK_SMASH = "smash"


class Smash(OneShotStrategy):
    """SMASH (Brock et al. 2017): a hypernetwork trained once, many random
    architectures ranked with the weights it generates for them, the best
    trained from scratch.

    Args:
        hyper_dims: Units of each choice's hypernetwork (the rank of the
            generated part of every kernel); default 8.
        candidates: Random architectures ranked (at most); default 100.
        top_k: Best-ranked architectures trained; default 1.
        retrain_from: "scratch" (default, the paper's) or "supernet" (the
            shared part of the kernels only).
        **kwargs: As for `autokeras_nas.core.OneShotStrategy` (sizes,
            `seed`).

    Raises:
        ValueError: A bad size, or `conditional` (the hypernetworks read the
            whole architecture instead).
    """

    name = "smash"
    mode: ClassVar[str] = "hyper"
    supernet_task: ClassVar[str] = TASK_SMASH

    def __init__(self, *, hyper_dims: int = 8, top_k: int = 1, retrain_from: str = "scratch",
                 **kwargs: Any) -> None:
        if kwargs.get("conditional"):
            raise ValueError("smash has no conditional weights (its hypernetworks read the "
                             "whole architecture instead)")
        if type(hyper_dims) is not int or hyper_dims < 1:
            raise ValueError(f"hyper_dims must be an int >= 1, got {hyper_dims!r}")
        super().__init__(top_k=top_k, retrain_from=retrain_from, **kwargs)
        self.hyper_dims = hyper_dims

    def supernet_options(self) -> dict[str, Any]:
        """The hypernetworks' size and the seed of the architectures drawn
        per batch."""
        return {"hyper_dims": self.hyper_dims, "seed": int(self.seed)}

    def make_inner(self, seed: int) -> BaseStrategy:
        return plugins.load("random")(seed=seed)
