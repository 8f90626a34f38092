"""The oracle layer: the only package that subclasses KerasTuner.

`StrategyOracle` wraps any strategy as a `keras_tuner.Oracle`; `NasTuner`
hands each trial's task to a trainer (`Trainer`: `FitTrainer` trains,
`EvaluateTrainer` evaluates with inherited weights; third parties register
their own) and reports; `MorphHyperModel` is a network grown by
function-preserving morphisms (NASH). Importing this package imports TensorFlow.
"""

from autokeras_nas.tuner.cellmodel import CellHyperModel
from autokeras_nas.tuner.morphable import CosineAnnealing, MorphHyperModel
from autokeras_nas.tuner.oracle import StrategyOracle, to_keras_tuner_objective
from autokeras_nas.tuner.trainers import (
    EvaluateTrainer,
    FitTrainer,
    Trainer,
    TrialContext,
    TrialResult,
    measure_latency_ms,
)
from autokeras_nas.tuner.trainers.measure import latency_timer
from autokeras_nas.tuner.tuner import NasTuner
from autokeras_nas.tuner.retrain import train_from_scratch
from autokeras_nas.tuner.convenience import DEFAULT_MAX_TRIALS, DEFAULT_OBJECTIVE, StrategyTuner, bind_space, space_of

__all__ = [
    "CellHyperModel", "CosineAnnealing", "EvaluateTrainer", "FitTrainer", "MorphHyperModel",
    "NasTuner", "StrategyOracle", "Trainer", "TrialContext", "TrialResult",
    "latency_timer", "measure_latency_ms", "to_keras_tuner_objective", "train_from_scratch",
    "DEFAULT_MAX_TRIALS", "DEFAULT_OBJECTIVE", "StrategyTuner", "bind_space", "space_of",
]
