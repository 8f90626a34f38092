"""`SmashTrainer`: the "smash" task, SMASH's hypernetwork (Brock et al.
2017) trained in one trial.

The trial's hypermodel is built as a supernet in mode "hyper"
(`autokeras_nas.oneshot.MixedOp`): every candidate's kernels are generated
from an encoding of the whole architecture by a small hypernetwork of its
choice. Before each training batch a random architecture (one candidate
per choice, uniform) is fixed in the supernet, so the batch trains the
hypernetworks for it; the fit loop is `SupernetTrainer`'s (backup and
resume, time budget, NaN stop). An estimate (task "estimate", this trial
as parent) fixes its architecture, so its kernels are the ones generated
for it: SMASH's ranking by generated weights.

Task options (`nas/task_config`), besides `SupernetTrainer`'s
(`time_budget_s`):

* `hyper_dims` (int >= 1, default 8): the units of each hypernetwork (the
  rank of the generated part of every kernel).
* `seed` (int, default 0): seed of the architectures drawn per batch;
  epoch e draws from (seed, e), so a trial resumed from its per-epoch
  backup trains on the architectures an uninterrupted one would.

Outputs: `SupernetTrainer`'s (`choices`, `mode` "hyper", ...) and
`hyper_dims`.
"""

from __future__ import annotations

from typing import Any

import keras
import keras_tuner
import numpy as np

from autokeras_nas.tuner.trainers.base import TrialContext, TrialResult
from autokeras_nas.tuner.trainers.supernet import SupernetTrainer, supernet_options

_Failed = keras_tuner.errors.FailedTrialError
#: The task of SMASH's supernet trial.
TASK = "smash"
#: Units of each MixedOp's hypernetwork by default.
DEFAULT_HYPER_DIMS = 8


def smash_options(config: dict[str, Any]) -> dict[str, Any]:
    """The options of a "smash" task config, validated (see the module
    docstring); raises FailedTrialError with a one-line reason."""
    options = supernet_options({**config, "mode": config.get("mode", "hyper")},
                               modes=("hyper",))
    if options["conditional"]:
        raise _Failed("smash has no conditional weights (the hypernetworks read the whole "
                      "architecture instead)")
    for key, default, low in (("hyper_dims", DEFAULT_HYPER_DIMS, 1), ("seed", 0, 0)):
        value = config.get(key, default)
        if type(value) is not int or value < low:
            raise _Failed(f"{key} must be an int >= {low}, got {value!r}")
        options[key] = value
    return options


class RandomArchitectures(keras.callbacks.Callback):
    """Before each training batch, fixes a random architecture (one
    candidate per choice, uniform; every use of a choice alike) in the
    supernet: variables, so the training step is not traced again. The
    draws of an epoch are seeded by (seed, epoch): a supernet resumed at an
    epoch trains on the architectures an uninterrupted run would."""

    def __init__(self, seed: int) -> None:
        super().__init__()
        self.seed = int(seed)
        self.rng: np.random.Generator | None = None  # each epoch's, made as it begins
        self.groups: list[list[Any]] = []

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        self.rng = np.random.default_rng([self.seed, int(epoch)])

    def on_train_begin(self, logs: Any = None) -> None:
        from autokeras_nas import oneshot

        groups: dict[str, list[Any]] = {}
        for op in oneshot.all_mixed_ops(self.model):
            groups.setdefault(op.choice, []).append(op)
        self.groups = list(groups.values())

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        for ops in self.groups:
            index = int(self.rng.integers(len(ops[0].candidates)))
            for op in ops:
                op.fixed_path.assign(index)


class SmashTrainer(SupernetTrainer):
    """Trains the supernet's hypernetworks on random architectures (see the
    module docstring)."""

    name = TASK

    def supernet_modes(self) -> tuple[str, ...]:
        return ("hyper",)

    def scope(self, config: dict[str, Any]) -> Any:
        from autokeras_nas import oneshot

        options = smash_options(config)
        return oneshot.supernet_scope(mode="hyper", hyper_dims=options["hyper_dims"])

    def extra_callbacks(self, context: TrialContext) -> list:
        options = smash_options(context.config)
        return [RandomArchitectures(options["seed"])] + super().extra_callbacks(context)

    def run(self, context: TrialContext) -> TrialResult:
        result = super().run(context)
        outputs = dict(result.outputs)
        outputs["hyper_dims"] = smash_options(context.config)["hyper_dims"]
        return TrialResult(result.metrics, outputs)
