"""Trainers: what runs a trial's task (`nas/task`).

* `Trainer`, `TrialContext`, `TrialResult`: the interface a third party
  implements and registers under the entry-point group
  `autokeras_nas.trainers` (see `base`).
* `FitTrainer` ("train", the default task): build the model and fit it.
* `EvaluateTrainer` ("evaluate"): inherit the parent's weights by layer
  name and evaluate, with zero epochs of training.
"""

from autokeras_nas.tuner.trainers.base import Parent, Trainer, TrialContext, TrialResult
from autokeras_nas.tuner.trainers.evaluate import EvaluateTrainer, recalibrate_batch_norm
from autokeras_nas.tuner.trainers.fit import FitTrainer
from autokeras_nas.tuner.trainers.measure import measure_latency_ms

__all__ = [
    "EvaluateTrainer", "FitTrainer", "Parent", "Trainer", "TrialContext", "TrialResult",
    "measure_latency_ms", "recalibrate_batch_norm",
]
