"""The default tabular space: a multilayer perceptron, as a KerasTuner hypermodel.

```python
build_model = tabular_classifier((12,), 3, mean=x_train.mean(0), variance=x_train.var(0))
tuner = autokeras_nas.tuner.NasTuner(build_model, strategy=..., objective="val_accuracy")
build_model = tabular_regressor((10,), mean=x_train.mean(0), variance=x_train.var(0),
                                target_mean=y_train.mean(), target_std=y_train.std())
tuner = autokeras_nas.tuner.NasTuner(build_model, strategy=...,
                                     objective="val_mean_absolute_error:min")
```

Hyperparameters (all registered on every build, so a strategy sees the whole
space after the first one; the per-layer units are conditional on `layers`):

| name | kind | values |
|---|---|---|
| `layers` | Int | 1 .. 3 hidden layers |
| `units_{i}` | Choice | 32, 64, 128, 256 (active when `layers > i`) |
| `batch_norm` | Boolean | |
| `dropout` | Float | 0.0 .. 0.5, step 0.1 (after every hidden layer) |
| `learning_rate` | Float | 3e-4 .. 3e-2, log (default 1e-3) |

A hidden layer is Dense -> [BatchNorm] -> ReLU -> Dropout. With `mean` and
`variance` the inputs are first standardised by a `Normalization` layer
holding those statistics (saved with the model, so `best_model.keras` takes
raw features). The classifier ends in a softmax `Dense` and is compiled
with Adam, sparse categorical cross-entropy and the metric `"accuracy"`.

The regressor has the same hidden layers and hyperparameters and ends in a
1-unit linear `Dense` (`regressor`) followed by a fixed `Rescaling`
(`target_scale`: times the training target's standard deviation, plus its
mean): the network learns the standardised target, which a short trial
reaches from its initial weights, while the model's outputs, its loss and
its metrics stay in the target's own units. Measured on scikit-learn's
diabetes as a CSV (a target of mean 152; default hyperparameters, seeds
0-2): validation MAE 150-151 after 9 epochs and 143-145 after 30 without
the rescaling (the outputs barely leave 0), 51-54 and 45-47 with it; the
training mean as the prediction scores 68. It is compiled
with Adam, mean squared error and the metric `"mean_absolute_error"`.

Layers have stable names (`standardize`, `dense{i}`, `dense{i}_bn`,
`dense{i}_relu`, `dense{i}_dropout`, `classifier` or `regressor` and
`target_scale`), so a child with one more layer or another width inherits
its parent's weights layer by layer wherever the shapes still match (the
tuner's generic inheritance).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import keras
import numpy as np

from autokeras_nas.spaces.image import compile_classifier, compile_regressor

MAX_LAYERS = 3
UNITS = (32, 64, 128, 256)
#: Batch-norm momentum: settles within the few hundred steps of a short trial.
BN_MOMENTUM = 0.9


def _validate(
    input_shape: Sequence[int], mean: Any, variance: Any
) -> tuple[tuple[int], np.ndarray | None, np.ndarray | None]:
    shape = tuple(int(d) for d in input_shape)
    if len(shape) != 1 or shape[0] < 1:
        raise ValueError(f"input_shape must be (features,), got {tuple(input_shape)!r}")
    if (mean is None) != (variance is None):
        raise ValueError("pass both mean and variance, or neither")
    if mean is None:
        return shape, None, None  # type: ignore[return-value]
    mean = np.asarray(mean, dtype="float32").reshape(-1)
    variance = np.asarray(variance, dtype="float32").reshape(-1)
    if mean.shape != shape or variance.shape != shape:
        raise ValueError(f"mean and variance must have shape {shape}, "
                         f"got {mean.shape} and {variance.shape}")
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(variance)) and np.all(variance >= 0)):
        raise ValueError("mean and variance must be finite, variance >= 0")
    return shape, mean, variance  # type: ignore[return-value]


def _hidden_layer(x: Any, hp: Any, index: int) -> Any:
    """Adds hidden layer `index` when it is active; registers its units always."""
    with hp.conditional_scope("layers", list(range(index + 1, MAX_LAYERS + 1))):
        units = hp.Choice(f"units_{index}", list(UNITS))
    if units is None:
        return x
    batch_norm = hp.get("batch_norm")
    name = f"dense{index}"
    x = keras.layers.Dense(units, use_bias=not batch_norm, name=name)(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    x = keras.layers.Activation("relu", name=f"{name}_relu")(x)
    return keras.layers.Dropout(hp.get("dropout"), name=f"{name}_dropout")(x)


def tabular_classifier(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    mean: Any = None,
    variance: Any = None,
) -> Callable[[Any], keras.Model]:
    """The default MLP search space for rows of `input_shape[0]` features.

    Args:
        input_shape: `(features,)`.
        num_classes: Number of classes (integer labels `0 .. num_classes-1`).
        mean, variance: Per-feature statistics of the training inputs; when
            given, the model standardises its inputs with them.

    Returns:
        `build_model(hp)`, a KerasTuner hypermodel function returning a
        compiled functional model.

    Raises:
        ValueError: `input_shape` is not 1-D, `num_classes < 2`, or the
            statistics do not match the features.
    """
    shape, mean, variance = _validate(input_shape, mean, variance)
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes!r}")

    def head(x: Any) -> Any:
        return keras.layers.Dense(num_classes, activation="softmax", name="classifier")(x)

    return _mlp(shape, mean, variance, head, compile_classifier)


def tabular_regressor(
    input_shape: Sequence[int],
    *,
    mean: Any = None,
    variance: Any = None,
    target_mean: float = 0.0,
    target_std: float = 1.0,
) -> Callable[[Any], keras.Model]:
    """The default MLP search space for regression on rows of
    `input_shape[0]` features: `tabular_classifier`'s hidden layers and
    hyperparameters with a linear head predicting one number.

    Args:
        input_shape: `(features,)`.
        mean, variance: Per-feature statistics of the training inputs; when
            given, the model standardises its inputs with them.
        target_mean, target_std: The training target's mean and standard
            deviation: the linear head's output is scaled by `target_std`
            and shifted by `target_mean` (a `std` of 0 counts as 1), so the
            model predicts in the target's units.

    Returns:
        `build_model(hp)`, returning a functional model compiled with mean
        squared error and the metric `mean_absolute_error`.

    Raises:
        ValueError: `input_shape` is not 1-D, the statistics do not match
            the features, or the target's are not finite.
    """
    shape, mean, variance = _validate(input_shape, mean, variance)
    if not (np.isfinite(target_mean) and np.isfinite(target_std) and target_std >= 0):
        raise ValueError(f"target_mean and target_std must be finite, target_std >= 0, got "
                         f"{target_mean!r} and {target_std!r}")
    scale, offset = float(target_std) or 1.0, float(target_mean)

    def head(x: Any) -> Any:
        x = keras.layers.Dense(1, name="regressor")(x)
        return keras.layers.Rescaling(scale, offset=offset, name="target_scale")(x)

    return _mlp(shape, mean, variance, head, compile_regressor)


def _mlp(shape: tuple[int], mean: np.ndarray | None, variance: np.ndarray | None,
         head: Callable[[Any], Any], compile_model: Callable[[keras.Model, Any], keras.Model]
         ) -> Callable[[Any], keras.Model]:
    """`build_model(hp)`: [standardize] -> hidden layers -> `head`, compiled."""

    def build_model(hp: Any) -> keras.Model:
        n_layers = hp.Int("layers", 1, MAX_LAYERS)
        hp.Boolean("batch_norm")
        hp.Float("dropout", 0.0, 0.5, step=0.1)
        inputs = keras.Input(shape=shape)
        x = inputs
        if mean is not None:
            x = keras.layers.Normalization(mean=mean, variance=variance, name="standardize")(x)
        for index in range(MAX_LAYERS):
            x = _hidden_layer(x, hp, index)
        model = keras.Model(inputs, head(x), name=f"mlp_{n_layers}_layers")
        return compile_model(model, hp)

    return build_model
