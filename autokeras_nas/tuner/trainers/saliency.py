"""`SaliencyTrainer`: the "saliency" task, FreeDARTS' training-free
derivation (`autokeras_nas.zerocost.operation_saliency`).

The trial's hypermodel is built as a relaxed supernet ("darts" mode: every
choice the weighted sum of its candidates) in float64, so that the
synaptic flow through it never overflows; the saliency of every candidate
of every choice is computed at initialization (data-free: an input of ones,
the weights' absolute values), the least salient candidates are pruned
round by round, and the architectures kept are the trial's outputs. Nothing
trains and nothing is saved: the strategy retrains what the trial derived.

Task options (`nas/task_config`):

* `iterative` (bool, default true): prune one candidate per choice per
  round and score the rest again (FreeDARTS); false ranks once.
* `architectures` (int >= 1, default 1): how many architectures to output:
  the derived one first, then the next by the candidates' order within
  each choice (the product of 2^-rank, ranks from 0: the architectures
  that swap the fewest and least salient choices come first).
* `seed` (int, optional): seeds Keras' generators before the supernet is
  built: its initialization is what the saliencies score.
* `time_budget_s`: accepted and ignored (the trial trains nothing).

Metrics: `saliency_time_s` (scoring; building the supernet not counted),
`params` (the supernet's), `train_time_s` = 0 and `epochs` = 0. Outputs:
`choices`, `mode` ("darts"), `architectures`, `saliency` (choice ->
candidate -> the first round's saliency), `order` (choice -> candidates,
kept first), `rounds` and `parameter_free_share` (the share of the derived
architecture's choices that took a weightless candidate).
"""

from __future__ import annotations

import time
from typing import Any

import keras_tuner

from autokeras_nas.tuner.trainers.base import Trainer, TrialContext, TrialResult

_Failed = keras_tuner.errors.FailedTrialError
#: The task of FreeDARTS' supernet trial.
TASK = "saliency"


def saliency_options(config: dict[str, Any]) -> dict[str, Any]:
    """The options of a "saliency" task config, validated (see the module
    docstring); raises FailedTrialError with a one-line reason."""
    iterative = config.get("iterative", True)
    if not isinstance(iterative, bool):
        raise _Failed(f"iterative must be true or false, got {iterative!r}")
    count = config.get("architectures", 1)
    if type(count) is not int or count < 1:
        raise _Failed(f"architectures must be an int >= 1, got {count!r}")
    seed = config.get("seed")
    if seed is not None and (type(seed) is not int or seed < 0):
        raise _Failed(f"seed must be an int >= 0, got {seed!r}")
    return {"iterative": iterative, "architectures": count, "seed": seed}


class SaliencyTrainer(Trainer):
    """Scores the operations of the trial's supernet at initialization and
    derives architectures (see the module docstring)."""

    name = TASK
    makes_model = False

    def run(self, context: TrialContext) -> TrialResult:
        import keras

        from autokeras_nas import oneshot, zerocost
        from autokeras_nas.tuner.trainers.differentiable import parameter_free_share

        options = saliency_options(context.config)
        if options["seed"] is not None:
            keras.utils.set_random_seed(options["seed"] % 2**32)
        with oneshot.supernet_scope(mode="darts"):
            model = context.build_model(constrained=False, training_state=False, dtype="float64")
        ops = oneshot.mixed_ops(model)
        if not ops:
            raise _Failed("the space has no choose(...) operation: no operation to score "
                          "(write alternatives with autokeras_nas.oneshot.choose)")
        t0 = time.perf_counter()
        try:
            found = zerocost.operation_saliency(model, iterative=options["iterative"])
        except (ValueError, FloatingPointError) as e:
            raise _Failed(f"saliency: {e}") from None
        seconds = time.perf_counter() - t0
        zero = oneshot.zero_candidates(model)
        ranks = {name: {c: 0.5 ** i for i, c in enumerate(order)}
                 for name, order in found["order"].items()}
        try:
            architectures = oneshot.derive(ranks, excluded=zero, top=options["architectures"])
        except ValueError as e:  # a choice offering "none" alone
            raise _Failed(f"saliency: {e}") from None
        free = oneshot.parameter_free(model)
        metrics = {"saliency_time_s": seconds, "params": float(model.count_params()),
                   "train_time_s": 0.0, "epochs": 0.0}
        outputs = {"choices": {name: list(op.candidates) for name, op in ops.items()},
                   "mode": "darts", "conditional": False, "architectures": architectures,
                   "saliency": found["saliency"], "order": found["order"],
                   "rounds": found["rounds"], "iterative": options["iterative"],
                   "parameter_free_share": parameter_free_share(architectures[0], free)}
        return TrialResult(metrics, outputs)
