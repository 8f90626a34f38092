"""`MorphHyperModel`: a morphable network as a KerasTuner hypermodel.

A trial's architecture travels under `nas/arch` as JSON
`{"net": <network spec>, "morphisms": [<morphism>, ...]}` (see
`autokeras_nas.spaces.morph_graph`): the network to build, and the
morphisms that turn the parent trial's network into it. The tuner loads the
parent's saved model from the search directory and calls `inherit`, which
transfers the weights through the morphisms and measures that the child
computes the parent's function: `preservation_error` is an output of the
trial (results.json's `"outputs"`, `Observation.outputs`).
"""

from __future__ import annotations

import json
import math
from typing import Any, Sequence

import keras
import keras_tuner
import numpy as np

from autokeras_nas.core import ARCH
from autokeras_nas.spaces import morph, morph_graph


class CosineAnnealing(keras.callbacks.Callback):
    """SGDR's schedule within one training: the learning rate falls from
    `max_lr` to `min_lr` along half a cosine, batch by batch, over the
    epochs of this `fit` call. Every trial restarts it (the warm restart)."""

    def __init__(self, max_lr: float, min_lr: float = 0.0) -> None:
        super().__init__()
        self.max_lr, self.min_lr = float(max_lr), float(min_lr)
        self._step, self._total, self._initial_epoch = 0, 1, 0

    def on_train_begin(self, logs: Any = None) -> None:
        epochs = int(self.params.get("epochs") or 1)
        steps = int(self.params.get("steps") or 1)
        self._total = max(1, (epochs - self._initial_epoch) * steps)
        self._step = 0

    def set_initial_epoch(self, initial_epoch: int) -> None:
        """The `initial_epoch` of the `fit` call (its epochs are fewer)."""
        self._initial_epoch = int(initial_epoch)

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        fraction = min(1.0, self._step / self._total)
        lr = self.min_lr + 0.5 * (self.max_lr - self.min_lr) * (1.0 + math.cos(math.pi * fraction))
        self.model.optimizer.learning_rate.assign(lr)
        self._step += 1


class MorphHyperModel(keras_tuner.HyperModel):
    """A classifier grown by network morphisms from NASH's start network.

    The start network is conv-pool-conv-pool-conv-dense (Elsken et al.
    2017), here with `filters` (paper: larger, on a GPU) and `dense_units`.
    Models are trained with SGD (momentum 0.9, Nesterov, gradients clipped)
    under SGDR: cosine annealing from `max_lr` to 0 within every trial, as
    the paper's neighbours are trained.

    Args:
        input_shape: `(height, width, channels)` images or `(steps, channels)`
            time series.
        num_classes: Number of classes (integer labels).
        batch_norm: Conv units with batch normalization.
        filters: Filters of the three conv units of the start network.
        dense_units: Units of its hidden dense layer.
        max_lr: Learning rate at the start of every trial's schedule. The
            paper's 0.05 restarts 17-epoch trainings; for the CPU default of 2
            epochs per neighbour it undoes too much of the parent's training
            (Fashion-MNIST, one epoch after a morphism: validation 0.891 ->
            0.860 at 0.05, 0.885 at 0.02).
        weight_decay: SGD's decoupled weight decay.
        clipnorm: Global gradient-norm clipping: a new skip connection's
            projection has no batch norm, and without clipping one child's
            loss exploded (1e32) in its first epoch.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        num_classes: int,
        *,
        batch_norm: bool = True,
        filters: Sequence[int] = (16, 32, 64),
        dense_units: int = 64,
        max_lr: float = 0.02,
        weight_decay: float = 5e-4,
        clipnorm: float | None = 5.0,
    ) -> None:
        super().__init__(name="morph")
        self.start = morph_graph.start_network(
            tuple(input_shape), int(num_classes), batch_norm=batch_norm,
            filters=tuple(filters), dense_units=int(dense_units),
        )
        self.max_lr = float(max_lr)
        self.weight_decay = float(weight_decay)
        self.clipnorm = clipnorm

    def network(self, hp: Any) -> dict[str, Any]:
        """The trial's network (the start network when none is given)."""
        text = hp.values.get(ARCH)
        return self.start if text is None else json.loads(text)["net"]

    def build(self, hp: Any) -> keras.Model:
        model = morph.build_model(self.network(hp))
        model.compile(
            optimizer=keras.optimizers.SGD(learning_rate=self.max_lr, momentum=0.9, nesterov=True,
                                           weight_decay=self.weight_decay or None,
                                           global_clipnorm=self.clipnorm),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
        return model

    def fit(self, hp: Any, model: keras.Model, *args: Any, **kwargs: Any) -> Any:
        schedule = CosineAnnealing(self.max_lr)
        schedule.set_initial_epoch(int(kwargs.get("initial_epoch", 0)))
        kwargs["callbacks"] = list(kwargs.get("callbacks") or []) + [schedule]
        return model.fit(*args, **kwargs)

    def inherit(self, hp: Any, model: keras.Model, parent_model: keras.Model, parent_hp: Any,
                x: Any) -> dict[str, float]:
        """Transfers the parent's weights through the trial's morphisms and
        returns the trial's outputs: `preservation_error`, the largest
        absolute difference of the two models' outputs on `x` (inference
        mode; NaN without `x`)."""
        parent_net = self.network(parent_hp)
        morphisms = json.loads(hp.values[ARCH])["morphisms"] if ARCH in hp.values else []
        net, weights = parent_net, morph.get_weights(parent_model, parent_net)
        for m in morphisms:
            weights = morph_graph.transfer(net, weights, m)
            net = morph_graph.apply(net, m)
        morph.set_weights(model, net, weights)
        if x is None:
            return {"preservation_error": math.nan}
        x = np.asarray(x, dtype="float32")
        return {"preservation_error": morph.preservation_error(parent_model, model, x)}
