"""Keras side of the PNAS / POPNASv3 cell space (`cell_graph`).

```python
space = CellSpace(ops=OPS_2D, max_blocks=3)
cell = space.random_cell(np.random.default_rng(0), 2)
model = build_model(cell, MacroConfig(motifs=2, normal_cells=1, filters=16),
                    (28, 28, 1), 10)          # functional, not compiled
```

The model of a cell is the model of its canonical form, so equivalent cells
give identical models (same layers, same names).

Network: `stem_conv` -> `stem_bn` -> `stem_relu`, then the cells `c0, c1, ...`
of `cell_plan(macro)`, then `head_gap`, `head_dropout` (when the rate is
positive) and `output` (dense softmax). The first cell reads the stem output as
both its `-1` and `-2` inputs.

Inside cell `c{i}`:

* `c{i}_in{k}_...`: lookback input `-k` is first brought to the resolution of
  input `-1` when a reduction lies between them (ReLU -> strided 1x1 conv ->
  BN; the conv's stride is the product of the strides in between);
* `c{i}_b{j}_{s}_...`: operator `s` (1 or 2) of block `j`, with the cell's
  filters; in a reduction cell the operators applied to lookback inputs have
  stride 2;
  - conv ops (`convKxK`, `sepKxK`, `spatial1xK-Kx1`, `convK`, `sepK`,
    `dconvK-D`): conv(s) -> BN -> ReLU (a dilated conv with stride 2 is
    followed by a stride-2 subsampling `_sub`, as Keras has no strided
    dilated conv);
  - `identity`: the input itself, or a linear 1x1 conv `_proj` -> BN when
    channels or stride must change;
  - pools (3x3 / 3, same padding, stride 1 or 2), then `_proj` -> BN when the
    channels differ from the cell's filters;
  - `lstm` / `gru`: `LSTM` / `GRU(filters, return_sequences=True)`, followed by
    `MaxPooling1D(2)` (`_pool`) for stride 2;
* `c{i}_b{j}_{s}_droppath` with `macro.drop_path > 0`: NASNet's
  ScheduledDropPath on each operator's output that is not the input itself
  (`ScheduledDropPath`, rate `drop_path * (i + 1) / cells`);
* `c{i}_b{j}_add`: the block output, the sum of its two operators;
* `c{i}_concat` -> `c{i}_out_conv` (1x1) -> `c{i}_out_bn` when several blocks
  are unused (a single unused block already has the cell's filters and is the
  cell output);
* `c{i}_res_...` / `c{i}_res_add` with `residual=True`: the cell output plus
  input `-1` (through a strided / channel-changing linear 1x1 conv -> BN when
  needed).

A reduction cell whose `-1` input has a spatial side (or length) below 2 keeps
stride 1 (it still doubles the filters), so any input of at least 1x1 builds;
a side of 1 stays 1.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

import keras

from autokeras_nas.spaces.cell_graph import (
    OPS_1D, OPS_2D, CellSpace, MacroConfig, cell_plan, default_space, unused_blocks,
)

#: Batch-norm momentum, as in `autokeras_nas.spaces.image`: the moving
#: statistics settle within the few hundred steps of a short trial.
BN_MOMENTUM = 0.9


@keras.saving.register_keras_serializable(package="autokeras_nas")
class ScheduledDropPath(keras.layers.Layer):
    """NASNet's ScheduledDropPath: in training, drops its whole input per
    sample with a probability that grows linearly from 0 to `rate` over the
    layer's first `steps` training calls, and rescales the kept samples by
    1 / (1 - probability); the identity at inference.

    Args:
        rate: The largest drop probability, in [0, 1).
        steps: Training steps to reach it (counted by the layer, saved
            with the model).
        seed: Seed of the layer's sampling.
    """

    def __init__(self, rate: float, steps: int, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= float(rate) < 1.0:
            raise ValueError(f"rate must be in [0, 1), got {rate!r}")
        if int(steps) < 1:
            raise ValueError(f"steps must be >= 1, got {steps!r}")
        self.rate, self.steps, self.seed = float(rate), int(steps), seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.step = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                    dtype="float32", name="step")

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        if not training or self.rate == 0.0:
            return inputs
        self.step.assign_add(1.0)
        rate = self.rate * keras.ops.minimum(1.0, self.step / float(self.steps))
        shape = (keras.ops.shape(inputs)[0],) + (1,) * (len(inputs.shape) - 1)
        keep = keras.random.uniform(shape, seed=self.seed_generator) >= rate
        return inputs * keras.ops.cast(keep, inputs.dtype) / (1.0 - rate)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "rate": self.rate, "steps": self.steps, "seed": self.seed}


class _Builder:
    """Layer factory of one model (2-D or 1-D)."""

    def __init__(self, dims: int) -> None:
        self.dims = dims
        if dims == 2:
            self.conv, self.sep = keras.layers.Conv2D, keras.layers.SeparableConv2D
            self.max_pool, self.avg_pool = keras.layers.MaxPooling2D, keras.layers.AveragePooling2D
            self.gap = keras.layers.GlobalAveragePooling2D
        else:
            self.conv, self.sep = keras.layers.Conv1D, keras.layers.SeparableConv1D
            self.max_pool, self.avg_pool = keras.layers.MaxPooling1D, keras.layers.AveragePooling1D
            self.gap = keras.layers.GlobalAveragePooling1D

    def bn(self, x: Any, name: str) -> Any:
        return keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)

    def relu(self, x: Any, name: str) -> Any:
        return keras.layers.Activation("relu", name=f"{name}_relu")(x)

    def proj(self, x: Any, filters: int, stride: int, name: str) -> Any:
        """Linear 1x1 conv (stride `stride`) -> BN."""
        x = self.conv(filters, 1, strides=stride, padding="same", use_bias=False,
                      name=f"{name}_proj")(x)
        return self.bn(x, name)

    def conv_unit(self, x: Any, filters: int, kernel: int, stride: int, name: str,
                  *, separable: bool = False, dilation: int = 1) -> Any:
        """Conv -> BN -> ReLU."""
        layer = self.sep if separable else self.conv
        x = layer(filters, kernel, strides=stride if dilation == 1 else 1, padding="same",
                  dilation_rate=dilation, use_bias=False, name=f"{name}_conv")(x)
        if dilation != 1 and stride != 1:
            x = self.max_pool(pool_size=1, strides=stride, padding="same", name=f"{name}_sub")(x)
        return self.relu(self.bn(x, name), name)

    def op(self, op: str, x: Any, filters: int, stride: int, name: str) -> Any:
        """The output of operator `op` on `x`, with `filters` channels."""
        channels = x.shape[-1]
        if op == "identity":
            if stride == 1 and channels == filters:
                return x
            return self.proj(x, filters, stride, name)
        pool = re.fullmatch(r"(max|avg)pool(3x3|3)", op)
        if pool:
            layer = self.max_pool if pool.group(1) == "max" else self.avg_pool
            x = layer(pool_size=3, strides=stride, padding="same", name=f"{name}_pool")(x)
            return x if channels == filters else self.proj(x, filters, 1, name)
        if op in ("lstm", "gru"):
            rnn = keras.layers.LSTM if op == "lstm" else keras.layers.GRU
            x = rnn(filters, return_sequences=True, name=f"{name}_{op}")(x)
            if stride != 1:
                x = self.max_pool(pool_size=2, strides=stride, padding="same",
                                  name=f"{name}_pool")(x)
            return x
        spatial = re.fullmatch(r"spatial1x(\d+)-\d+x1", op)
        if spatial:
            k = int(spatial.group(1))
            x = self.conv(filters, (1, k), strides=(1, stride), padding="same", use_bias=False,
                          name=f"{name}_conv1xk")(x)
            x = self.conv(filters, (k, 1), strides=(stride, 1), padding="same", use_bias=False,
                          name=f"{name}_convkx1")(x)
            return self.relu(self.bn(x, name), name)
        conv = re.fullmatch(r"(sep|conv|dconv)(\d+)(?:x\d+)?(?:-(\d+))?", op)
        if conv:
            return self.conv_unit(x, filters, int(conv.group(2)), stride, name,
                                  separable=conv.group(1) == "sep",
                                  dilation=int(conv.group(3) or 1))
        raise ValueError(f"operator {op!r} has no Keras implementation")  # pragma: no cover


def _validate_shape(input_shape: Sequence[int], num_classes: int) -> tuple[int, ...]:
    try:
        shape = tuple(int(d) for d in input_shape)
    except TypeError as err:
        raise ValueError(f"input_shape must be a sequence of integers, got {input_shape!r}") \
            from err
    if len(shape) not in (2, 3) or min(shape) < 1 or list(shape) != list(input_shape):
        raise ValueError(f"input_shape must be (height, width, channels) or (steps, channels) "
                         f"of positive integers, got {tuple(input_shape)!r}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    return shape


def build_model(cell: Any, macro: MacroConfig, input_shape: Sequence[int], num_classes: int,
                *, space: CellSpace | None = None) -> keras.Model:
    """The functional (uncompiled) Keras model of a cell stacked by `macro`.

    Args:
        cell: The cell (any equivalent writing; the canonical form is built).
        macro: The macro architecture.
        input_shape: `(height, width, channels)` for a 2-D model (images) or
            `(steps, channels)` for a 1-D model (time series).
        num_classes: Number of classes (>= 2) of the softmax output.
        space: The cell space validating the cell; by default the full
            `OPS_2D` / `OPS_1D` space of the input's rank (with
            `max_blocks` at least the cell's length).

    Returns:
        A `keras.Model` named `cells_{num_cells}x{blocks}b`.

    Raises:
        ValueError: an invalid input shape, number of classes, macro or cell, or
            a space whose operators do not match the input's rank.
    """
    shape = _validate_shape(input_shape, num_classes)
    if not isinstance(macro, MacroConfig):
        raise ValueError(f"macro must be a MacroConfig, got {type(macro).__name__}")
    dims = len(shape) - 1
    if space is None:
        blocks = len(cell) if isinstance(cell, Sequence) else 0
        space = default_space(dims=dims, max_blocks=max(3, blocks))
    allowed = OPS_2D if dims == 2 else OPS_1D
    if not set(space.ops) <= set(allowed):
        raise ValueError(f"a {dims}-D model needs operators from "
                         f"{'OPS_2D' if dims == 2 else 'OPS_1D'}; the space has {space.ops}")
    cell = space.canonical(cell)
    outputs = unused_blocks(cell)
    b = _Builder(dims)

    inputs = keras.Input(shape=shape, name="input")
    x = b.conv(macro.filters, 3, strides=macro.stem_stride, padding="same", use_bias=False,
               name="stem_conv")(inputs)
    x = b.relu(b.bn(x, "stem"), "stem")
    # previous cell outputs, oldest first, with their cumulative strides
    prev: list[tuple[Any, int]] = [(x, 1)] * space.lookback

    for c, (reduction, filters, _) in enumerate(cell_plan(macro)):
        name = f"c{c}"
        last, last_scale = prev[-1]
        stride = 2 if reduction and min(last.shape[1:-1]) >= 2 else 1
        # lookback inputs at the resolution of input -1
        ins: dict[int, Any] = {}
        for k in range(1, space.lookback + 1):
            t, scale = prev[-k]
            if scale != last_scale:
                t = b.relu(t, f"{name}_in{k}")
                t = b.proj(t, filters, last_scale // scale, f"{name}_in{k}")
            ins[-k] = t
        blocks: list[Any] = []
        for j, (in1, op1, in2, op2) in enumerate(cell):
            outs = []
            for s, (i, op) in enumerate(((in1, op1), (in2, op2)), start=1):
                src = ins[i] if i < 0 else blocks[i]
                out = b.op(op, src, filters, stride if i < 0 else 1, f"{name}_b{j}_{s}")
                if macro.drop_path > 0 and out is not src:
                    rate = macro.drop_path * (c + 1) / len(cell_plan(macro))
                    out = ScheduledDropPath(rate, macro.drop_path_steps,
                                            name=f"{name}_b{j}_{s}_droppath")(out)
                outs.append(out)
            blocks.append(keras.layers.Add(name=f"{name}_b{j}_add")(outs))
        if len(outputs) == 1:
            y = blocks[outputs[0]]
        else:
            y = keras.layers.Concatenate(axis=-1, name=f"{name}_concat")(
                [blocks[j] for j in outputs])
            y = b.conv(filters, 1, padding="same", use_bias=False, name=f"{name}_out_conv")(y)
            y = b.bn(y, f"{name}_out")
        if macro.residual:
            res = ins[-1]
            if stride != 1 or res.shape[-1] != filters:
                res = b.proj(res, filters, stride, f"{name}_res")
            y = keras.layers.Add(name=f"{name}_res_add")([y, res])
        prev = prev[1:] + [(y, last_scale * stride)]

    x = b.gap(name="head_gap")(prev[-1][0])
    if macro.dropout > 0:
        x = keras.layers.Dropout(macro.dropout, name="head_dropout")(x)
    out = keras.layers.Dense(num_classes, activation="softmax", name="output")(x)
    return keras.Model(inputs, out, name=f"cells_{len(cell_plan(macro))}x{len(cell)}b")

