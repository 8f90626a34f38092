"""`autokeras_nas.Nash`: NASH as a KerasTuner tuner."""

from __future__ import annotations

from typing import Sequence

import keras

from autokeras_nas.tuner import MorphHyperModel, StrategyTuner
from autokeras_nas_plugins.nash import strategy as strategy_module


class Nash(StrategyTuner):
    """NASH (hill climbing with network morphisms) as a KerasTuner tuner.

    On a morphable network it is the paper's method: pass
    `hypermodel=autokeras_nas.tuner.MorphHyperModel(input_shape, num_classes)`
    (or only `input_shape=` and `num_classes=`). On your own
    `build_model(hp)` it hill-climbs over the hyperparameters, each neighbour
    warm-started from its parent's layers whose names and shapes match; that
    is not function-preserving (see `autokeras_nas_plugins.nash.Nash`).
    Each trial trains for the epochs the strategy gives it;
    `search(epochs=...)` is ignored.

        tuner = autokeras_nas.Nash(input_shape=(28, 28, 1), num_classes=10,
                                   objective="val_accuracy", max_trials=30)
        tuner.search(x, y, validation_data=(x_val, y_val))
        model = tuner.get_best_models(1)[0]
    """

    strategy_class = strategy_module.Nash
    #: The start network comes from the `MorphHyperModel` (`use_space`).
    hidden_arguments = ("network",)

    @classmethod
    def default_hypermodel(cls, *, input_shape: Sequence[int] | None = None,
                           num_classes: int | None = None) -> MorphHyperModel | None:
        """A `MorphHyperModel` (NASH's start network) for `input_shape` and
        `num_classes`.

        Args:
            input_shape: `(height, width, channels)` images or `(steps,
                channels)` series, for the default `MorphHyperModel`.
            num_classes: Number of classes, for the default `MorphHyperModel`.
        """
        if input_shape is None or num_classes is None:
            return None
        return MorphHyperModel(input_shape, num_classes)

    def snapshot_ensemble(self) -> keras.Model:
        """A model averaging the outputs of each step's best model (the
        paper's snapshot ensemble), with their best weights.

        Raises:
            RuntimeError: No step has finished yet.
        """
        ids = self.oracle.strategy.state_dict()["extra"]["nash"]["step_bests"]
        if not ids:
            raise RuntimeError("no hill-climbing step has finished yet")
        members = []
        for tid in dict.fromkeys(ids):
            model = self.load_model(self.oracle.get_trial(tid))
            # Unique names: two steps' networks may have been built alike.
            members.append(keras.Model(model.inputs[0], model.outputs[0], name=f"trial_{tid}"))
        inputs = keras.Input(members[0].input_shape[1:])
        outputs = [member(inputs) for member in members]
        average = outputs[0] if len(outputs) == 1 else keras.layers.Average()(outputs)
        ensemble = keras.Model(inputs, average, name="snapshot_ensemble")
        ensemble.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return ensemble
