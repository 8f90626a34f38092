"""The default tabular space: a multilayer perceptron, as a KerasTuner hypermodel.

```python
build_model = tabular_classifier((12,), 3, mean=x_train.mean(0), variance=x_train.var(0))
tuner = autokeras_nas.tuner.NasTuner(build_model, strategy=..., objective="val_accuracy")
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
raw features). The model is compiled with Adam, sparse categorical
cross-entropy and the metric `"accuracy"`.

Layers have stable names (`standardize`, `dense{i}`, `dense{i}_bn`,
`dense{i}_relu`, `dense{i}_dropout`, `classifier`), so a child with one more
layer or another width inherits its parent's weights layer by layer wherever
the shapes still match (the tuner's generic inheritance).
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import keras
import numpy as np

from autokeras_nas.spaces.image import compile_classifier

MAX_LAYERS = 3
UNITS = (32, 64, 128, 256)
#: Batch-norm momentum: settles within the few hundred steps of a short trial.
BN_MOMENTUM = 0.9


def _validate(
    input_shape: Sequence[int], num_classes: int, mean: Any, variance: Any
) -> tuple[tuple[int], np.ndarray | None, np.ndarray | None]:
    shape = tuple(int(d) for d in input_shape)
    if len(shape) != 1 or shape[0] < 1:
        raise ValueError(f"input_shape must be (features,), got {tuple(input_shape)!r}")
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes!r}")
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
    shape, mean, variance = _validate(input_shape, num_classes, mean, variance)

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
        outputs = keras.layers.Dense(num_classes, activation="softmax", name="classifier")(x)
        model = keras.Model(inputs, outputs, name=f"mlp_{n_layers}_layers")
        return compile_classifier(model, hp)

    return build_model
