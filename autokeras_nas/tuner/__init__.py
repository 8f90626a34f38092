"""The oracle layer: the only package that subclasses KerasTuner.

`StrategyOracle` wraps any strategy as a `keras_tuner.Oracle`; `NasTuner`
trains, measures and reports; `MorphHyperModel` is a network grown by
function-preserving morphisms (NASH). Importing this package imports TensorFlow.
"""

from autokeras_nas.tuner.cellmodel import CellHyperModel
from autokeras_nas.tuner.morphable import CosineAnnealing, MorphHyperModel
from autokeras_nas.tuner.oracle import StrategyOracle, to_keras_tuner_objective
from autokeras_nas.tuner.tuner import NasTuner, measure_latency_ms
from autokeras_nas.tuner.convenience import DEFAULT_MAX_TRIALS, DEFAULT_OBJECTIVE, StrategyTuner, bind_space, space_of

__all__ = [
    "CellHyperModel", "CosineAnnealing", "MorphHyperModel", "NasTuner", "StrategyOracle", "measure_latency_ms",
    "to_keras_tuner_objective", "DEFAULT_MAX_TRIALS", "DEFAULT_OBJECTIVE", "StrategyTuner", "bind_space", "space_of",
]
