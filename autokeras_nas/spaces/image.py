"""The default image-classification space: a small CNN, as a KerasTuner hypermodel.

```python
build_model = image_classifier((8, 8, 1), 10)
tuner = autokeras_nas.tuner.NasTuner(build_model, strategy=..., objective="val_accuracy")
```

Hyperparameters (all registered on every build, so a strategy sees the whole
space after the first one; the per-block filters are conditional on
`conv_blocks`):

| name | kind | values |
|---|---|---|
| `conv_blocks` | Int | 1 .. `max_conv_blocks(input_shape)` (at most 3) |
| `filters_{i}` | Choice | 16, 32, 64 (active when `conv_blocks > i`) |
| `kernel_size` | Choice | 3, 5 |
| `batch_norm` | Boolean | |
| `head` | Choice | `flatten`, `global_avg` |
| `dense_units` | Choice | 32, 64, 128 |
| `dropout` | Float | 0.0 .. 0.5, step 0.1 |
| `learning_rate` | Float | 3e-4 .. 3e-2, log (default 1e-3) |

A conv block is Conv2D (same padding) -> [BatchNorm] -> ReLU -> 2x2 max
pooling; pooling is skipped once the feature map is 1 pixel wide, and the
number of blocks is capped so that pooling never needs to go below 1 pixel
(an 8x8 input allows 3 blocks: 8 -> 4 -> 2 -> 1). The model is compiled with
Adam, sparse categorical cross-entropy and the metric `"accuracy"`.

Layers have stable names (`block{i}_conv`, `block{i}_bn`, `head_dense`,
`classifier`), so a child built with one more block or another head inherits
its parent's weights layer by layer wherever the shapes still match.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import keras

#: Upper bound of `conv_blocks` whatever the input size.
MAX_BLOCKS = 3
FILTERS = (16, 32, 64)
#: Batch-norm momentum: lower than Keras' 0.99 so that the moving statistics
#: settle within the few hundred steps of a short trial.
BN_MOMENTUM = 0.9


def max_conv_blocks(input_shape: Sequence[int]) -> int:
    """Most conv blocks (each halving the feature map) an input allows, >= 1."""
    side = min(int(input_shape[0]), int(input_shape[1]))
    halvings = int(math.floor(math.log2(side))) if side >= 1 else 0
    return max(1, min(MAX_BLOCKS, halvings))


def _validate(input_shape: Sequence[int], num_classes: int) -> tuple[int, int, int]:
    shape = tuple(int(d) for d in input_shape)
    if len(shape) != 3 or min(shape) < 1:
        raise ValueError(
            f"input_shape must be (height, width, channels), got {tuple(input_shape)!r}"
        )
    if num_classes < 2:
        raise ValueError(f"num_classes must be at least 2, got {num_classes!r}")
    return shape  # type: ignore[return-value]


def _conv_block(x: Any, hp: Any, index: int, blocks: int) -> Any:
    """Adds block `index` when it is active; registers its hyperparameters always."""
    with hp.conditional_scope("conv_blocks", list(range(index + 1, blocks + 1))):
        filters = hp.Choice(f"filters_{index}", list(FILTERS))
    if filters is None:
        return x
    batch_norm = hp.get("batch_norm")
    name = f"block{index}"
    x = keras.layers.Conv2D(
        filters, hp.get("kernel_size"), padding="same", use_bias=not batch_norm,
        name=f"{name}_conv",
    )(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    x = keras.layers.Activation("relu", name=f"{name}_relu")(x)
    if min(x.shape[1], x.shape[2]) >= 2:
        x = keras.layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    return x


def _head(x: Any, hp: Any, num_classes: int) -> Any:
    if hp.Choice("head", ["flatten", "global_avg"]) == "flatten":
        x = keras.layers.Flatten()(x)
    else:
        x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(hp.Choice("dense_units", [32, 64, 128]), activation="relu",
                           name="head_dense")(x)
    x = keras.layers.Dropout(hp.Float("dropout", 0.0, 0.5, step=0.1), name="head_dropout")(x)
    return keras.layers.Dense(num_classes, activation="softmax", name="classifier")(x)


def image_classifier(input_shape: Sequence[int], num_classes: int) -> Callable[[Any], keras.Model]:
    """The default CNN search space for images of `input_shape`.

    Args:
        input_shape: `(height, width, channels)` of one image.
        num_classes: Number of classes (integer labels `0 .. num_classes-1`).

    Returns:
        `build_model(hp)`, a KerasTuner hypermodel function returning a
        compiled functional model.

    Raises:
        ValueError: `input_shape` is not 3-D or `num_classes < 2`.
    """
    shape = _validate(input_shape, num_classes)
    blocks = max_conv_blocks(shape)

    def build_model(hp: Any) -> keras.Model:
        n_blocks = hp.Int("conv_blocks", 1, blocks) if blocks > 1 else hp.Fixed("conv_blocks", 1)
        hp.Choice("kernel_size", [3, 5])
        hp.Boolean("batch_norm")
        inputs = keras.Input(shape=shape)
        x = inputs
        for index in range(blocks):
            x = _conv_block(x, hp, index, blocks)
        outputs = _head(x, hp, num_classes)
        model = keras.Model(inputs, outputs, name=f"cnn_{n_blocks}_blocks")
        return compile_classifier(model, hp)

    return build_model


def compile_classifier(model: keras.Model, hp: Any) -> keras.Model:
    """Compiles a classifier of the default spaces: Adam with a searched,
    log-uniform `learning_rate`, sparse cross-entropy, accuracy."""
    model.compile(
        optimizer=_adam(hp),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def compile_regressor(model: keras.Model, hp: Any) -> keras.Model:
    """Compiles a regressor of the default spaces: Adam with the same
    searched `learning_rate`, mean squared error, and the metric
    `mean_absolute_error` (logged as `val_mean_absolute_error`)."""
    model.compile(
        optimizer=_adam(hp),
        loss="mean_squared_error",
        metrics=["mean_absolute_error"],
    )
    return model


def _adam(hp: Any) -> keras.optimizers.Optimizer:
    lr = hp.Float("learning_rate", 3e-4, 3e-2, sampling="log", default=1e-3)
    return keras.optimizers.Adam(learning_rate=lr)
