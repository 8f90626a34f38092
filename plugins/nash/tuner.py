"""`autokeras_nas.Nash`: NASH as a KerasTuner tuner."""

from __future__ import annotations

from typing import Any, Sequence

import keras

from autokeras_nas.tuner import MorphHyperModel, NasTuner
from autokeras_nas_plugins.nash import strategy as strategy_module


class Nash(NasTuner):
    """NASH (hill climbing with network morphisms) as a KerasTuner tuner.

    On a morphable network it is the paper's method: pass
    `hypermodel=autokeras_nas.tuner.MorphHyperModel(input_shape, num_classes)`
    (or only `input_shape=` and `num_classes=`). On your own
    `build_model(hp)` it hill-climbs over the hyperparameters, each neighbour
    warm-started from its parent's layers whose names and shapes match; that
    is not function-preserving (see `autokeras_nas_plugins.nash.Nash`).

        tuner = autokeras_nas.Nash(input_shape=(28, 28, 1), num_classes=10,
                                   objective="val_accuracy", max_trials=30)
        tuner.search(x, y, validation_data=(x_val, y_val))
        model = tuner.get_best_models(1)[0]

    Args:
        hypermodel: A `MorphHyperModel`, a `build_model(hp)` or a
            `keras_tuner.HyperModel`; `None` with `input_shape` and
            `num_classes` builds a `MorphHyperModel`.
        objective, max_trials, seed, hyperparameters, tune_new_entries,
        allow_new_entries, max_retries_per_trial,
        max_consecutive_failed_trials: As for `keras_tuner.RandomSearch`.
        n_steps, n_neigh, n_nm, epochs_start, epochs_neigh, epochs_final,
        morphisms, time_budget_s: See the strategy. Each trial trains for
            the epochs the strategy gives it; `search(epochs=...)` is ignored.
        input_shape, num_classes: For the default `MorphHyperModel`.
        early_stopping: `None`, "asha", "median" or a stopping rule.
        **kwargs: `directory`, `project_name`, `overwrite`,
            `distribution_strategy`, ... as for `keras_tuner.Tuner`, and
            `progress` as for `autokeras_nas.NasTuner`.
    """

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = "val_accuracy",
        max_trials: int = 30,
        seed: int | None = None,
        hyperparameters: Any = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        n_steps: int | None = None,
        n_neigh: int = 4,
        n_nm: int = 3,
        epochs_start: int = 4,
        epochs_neigh: int = 2,
        epochs_final: int = 6,
        morphisms: Sequence[str] = strategy_module.MORPHISM_KINDS,
        time_budget_s: float | None = None,
        input_shape: Sequence[int] | None = None,
        num_classes: int | None = None,
        early_stopping: Any = None,
        **kwargs: Any,
    ) -> None:
        if hypermodel is None:
            if input_shape is None or num_classes is None:
                raise ValueError("Nash needs a hypermodel, or input_shape and num_classes")
            hypermodel = MorphHyperModel(input_shape, num_classes)
        network = hypermodel.start if isinstance(hypermodel, MorphHyperModel) else None
        strategy = strategy_module.Nash(
            n_steps=n_steps, n_neigh=n_neigh, n_nm=n_nm, epochs_start=epochs_start,
            epochs_neigh=epochs_neigh, epochs_final=epochs_final, network=network,
            morphisms=morphisms, time_budget_s=time_budget_s, seed=seed,
        )
        super().__init__(
            hypermodel,
            strategy=strategy,
            objective=objective,
            max_trials=max_trials,
            early_stopping=early_stopping,
            hyperparameters=hyperparameters,
            tune_new_entries=tune_new_entries,
            allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            **kwargs,
        )

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
