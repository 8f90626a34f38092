"""The default time-series space: a small 1-D CNN, as a KerasTuner hypermodel.

The space of `random` and `aging-evolution` searches on time series
(`nash` grows a morphable network and `popnas`/`pnas` search 1-D cells
instead):

```python
build_model = timeseries_classifier((150, 1), 2)
```

Hyperparameters (all registered on every build; the per-block filters are
conditional on `conv_blocks`):

| name | kind | values |
|---|---|---|
| `conv_blocks` | Int | 1 .. `max_conv_blocks(input_shape)` (at most 3) |
| `filters_{i}` | Choice | 16, 32, 64 (active when `conv_blocks > i`) |
| `kernel_size` | Choice | 3, 5, 7 |
| `batch_norm` | Boolean | |
| `head` | Choice | `global_avg`, `global_max` |
| `dense_units` | Choice | 32, 64, 128 |
| `dropout` | Float | 0.0 .. 0.5, step 0.1 |
| `learning_rate` | Float | 3e-4 .. 3e-2, log (default 1e-3) |

A conv block is Conv1D (same padding) -> [BatchNorm] -> ReLU -> max pooling
by 2 (skipped once the series is 1 step long). Layers have stable names
(`block{i}_conv`, `block{i}_bn`, `head_dense`, `classifier`), as in
`autokeras_nas.spaces.image`, so children inherit matching layers' weights.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import keras

from autokeras_nas.spaces.image import compile_classifier

MAX_BLOCKS = 3
FILTERS = (16, 32, 64)
BN_MOMENTUM = 0.9


def max_conv_blocks(input_shape: Sequence[int]) -> int:
    """Most conv blocks (each halving the series) a length allows, >= 1."""
    steps = int(input_shape[0])
    halvings = int(math.floor(math.log2(steps))) if steps >= 1 else 0
    return max(1, min(MAX_BLOCKS, halvings))


def _validate(input_shape: Sequence[int], num_classes: int) -> tuple[int, int]:
    shape = tuple(int(d) for d in input_shape)
    if len(shape) != 2 or min(shape) < 1:
        raise ValueError(f"input_shape must be (steps, channels), got {tuple(input_shape)!r}")
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
    x = keras.layers.Conv1D(filters, hp.get("kernel_size"), padding="same",
                            use_bias=not batch_norm, name=f"{name}_conv")(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    x = keras.layers.Activation("relu", name=f"{name}_relu")(x)
    if x.shape[1] >= 2:
        x = keras.layers.MaxPooling1D(2, name=f"{name}_pool")(x)
    return x


def _head(x: Any, hp: Any, num_classes: int) -> Any:
    if hp.Choice("head", ["global_avg", "global_max"]) == "global_avg":
        x = keras.layers.GlobalAveragePooling1D(name="head_pool")(x)
    else:
        x = keras.layers.GlobalMaxPooling1D(name="head_pool")(x)
    x = keras.layers.Dense(hp.Choice("dense_units", [32, 64, 128]), activation="relu",
                           name="head_dense")(x)
    x = keras.layers.Dropout(hp.Float("dropout", 0.0, 0.5, step=0.1), name="head_dropout")(x)
    return keras.layers.Dense(num_classes, activation="softmax", name="classifier")(x)


def timeseries_classifier(
    input_shape: Sequence[int], num_classes: int
) -> Callable[[Any], keras.Model]:
    """The default 1-D CNN search space for series of `input_shape`.

    Args:
        input_shape: `(steps, channels)` of one series.
        num_classes: Number of classes (integer labels `0 .. num_classes-1`).

    Returns:
        `build_model(hp)`, a KerasTuner hypermodel function returning a
        compiled functional model.

    Raises:
        ValueError: `input_shape` is not 2-D or `num_classes < 2`.
    """
    shape = _validate(input_shape, num_classes)
    blocks = max_conv_blocks(shape)

    def build_model(hp: Any) -> keras.Model:
        n_blocks = hp.Int("conv_blocks", 1, blocks) if blocks > 1 else hp.Fixed("conv_blocks", 1)
        hp.Choice("kernel_size", [3, 5, 7])
        hp.Boolean("batch_norm")
        inputs = keras.Input(shape=shape)
        x = inputs
        for index in range(blocks):
            x = _conv_block(x, hp, index, blocks)
        outputs = _head(x, hp, num_classes)
        model = keras.Model(inputs, outputs, name=f"cnn1d_{n_blocks}_blocks")
        return compile_classifier(model, hp)

    return build_model
