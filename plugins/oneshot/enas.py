"""Plugin `enas`: Efficient Neural Architecture Search (Pham et al. 2018).

The controller of ENAS is a neural network, so it lives on the Keras side,
inside the supernet's trial (task "enas", `autokeras_nas.tuner.trainers.
enas`): the supernet trains one path per batch sampled by an LSTM
controller, and the controller learns by REINFORCE from the accuracy of its
samples on validation minibatches. This strategy stays numpy-only and runs
the same three phases as the other one-shot strategies
(`autokeras_nas.core.OneShotStrategy`):

1. one trial of task "enas" (the supernet and its controller);
2. estimates (task "estimate", parent = the enas trial) of the
   architectures the trained controller reported, most probable first;
3. the best of them retrained (from the supernet's weights by default).
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Mapping, Sequence

from autokeras_nas.core import BaseStrategy, OneShotStrategy, Suggestion, architecture_values

#: The task of ENAS's supernet trial (the trainer registered under it trains
#: the supernet and its controller).
TASK_ENAS = "enas"


class ControllerArchitectures(BaseStrategy):
    """The inner strategy of `Enas`: proposes the given architectures in
    order (the controller's, most probable first), as values of the space's
    choices, skipping any that is not an architecture of the space or was
    proposed already; "done" after the last. Given none (the enas trial
    reported none: a trainer that is not ENAS's ran it, or a table stood
    in for training), it proposes random new architectures instead, each
    noted as such.

    Args:
        architectures: Mappings choice name -> candidate (a candidate
            matches a value of the choice equal to it or to its text).
        source: What found them, noted on each proposal (`notes["source"]`).
        **kwargs: As for `BaseStrategy` (`seed`).
    """

    name = "enas-controller"

    def __init__(self, architectures: Sequence[Mapping[str, Any]], *,
                 source: str = "controller", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.architectures = [dict(a) for a in architectures]
        self.source = source

    def propose(self, trial_id: str) -> Suggestion:
        if not self.architectures:
            values = self.sample_new()
            if values is None:
                return Suggestion.done("every architecture of the space was proposed")
            return Suggestion.run(values, notes={"source": "random: the supernet trial "
                                                           "reported no architectures"})
        for rank, arch in enumerate(self.architectures):
            values = self._values(arch)
            if values is not None and self.is_new(values):
                return Suggestion.run(values, notes={"source": self.source, "rank": rank})
        return Suggestion.done(f"proposed every architecture the {self.source} reported "
                               f"({len(self.architectures)})")

    def _values(self, arch: Mapping[str, Any]) -> dict[str, Any] | None:
        """The architecture as complete values of the space, or None when it
        names a choice or a candidate the space does not have."""
        values = architecture_values(self.space, arch)
        if values is None:
            return None
        try:
            return self.space.complete(values)
        except ValueError:
            return None


class Enas(OneShotStrategy):
    """ENAS (Pham et al. 2018): a single-path supernet trained on paths
    sampled by an LSTM controller, itself trained by REINFORCE on the
    validation accuracy of its samples, both in one trial of task "enas";
    the architectures the trained controller finds most probable are
    estimated with the supernet's weights and the best is retrained from
    scratch (the paper samples several and retrains the best on validation).

    Args:
        controller_steps: Controller updates after each supernet epoch
            (`task_config["controller_steps"]`); default 50, the paper's
            number per epoch in its CIFAR search.
        hidden_size: The controller's LSTM units; None (default) leaves the
            trainer's default.
        controller_lr: The controller's learning rate; None (default): the
            trainer's.
        entropy_weight: The controller's entropy bonus; None (default): the
            trainer's.
        candidates: Architectures the controller reports and the search
            estimates (at most); default 10: a trained controller puts most
            of its probability on a few architectures.
        top_k: Best estimates retrained; default 1, the paper's.
        **kwargs: As for `autokeras_nas.core.OneShotStrategy` (sizes,
            `conditional`, `seed`).

    Raises:
        ValueError: A bad setting or size.
    """

    name = "enas"
    mode: ClassVar[str] = "single"
    supernet_task: ClassVar[str] = TASK_ENAS

    def __init__(self, *, controller_steps: int = 50, hidden_size: int | None = None,
                 controller_lr: float | None = None, entropy_weight: float | None = None,
                 candidates: int = 10, top_k: int = 1, **kwargs: Any) -> None:
        super().__init__(candidates=candidates, top_k=top_k, **kwargs)
        if type(controller_steps) is not int or controller_steps < 1:
            raise ValueError(f"controller_steps must be an int >= 1, got {controller_steps!r}")
        if hidden_size is not None and (type(hidden_size) is not int or hidden_size < 1):
            raise ValueError(f"hidden_size must be an int >= 1 or None, got {hidden_size!r}")
        if controller_lr is not None and not (_number(controller_lr) and controller_lr > 0):
            raise ValueError(f"controller_lr must be a positive number or None, "
                             f"got {controller_lr!r}")
        if entropy_weight is not None and not (_number(entropy_weight) and entropy_weight >= 0):
            raise ValueError(f"entropy_weight must be a number >= 0 or None, "
                             f"got {entropy_weight!r}")
        self.controller_steps = controller_steps
        self.controller_settings = {"hidden_size": hidden_size, "controller_lr": controller_lr,
                                    "entropy_weight": entropy_weight}

    def supernet_options(self) -> dict[str, Any]:
        """The enas trial's controller settings: its steps, as many
        architectures as the search estimates, the strategy's seed."""
        options: dict[str, Any] = {"controller_steps": self.controller_steps,
                                   "architectures": max(1, self.plan().estimates),
                                   "seed": int(self.seed)}
        options.update({k: v for k, v in self.controller_settings.items() if v is not None})
        return options

    def make_inner(self, seed: int) -> BaseStrategy:
        supernet = self.supernet_result()
        found = supernet.outputs.get("architectures") if supernet is not None else None
        listed = [a for a in found or [] if isinstance(a, Mapping)]
        return ControllerArchitectures(listed, seed=seed)


def _number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))
