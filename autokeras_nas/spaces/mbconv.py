"""A mobile inverted-bottleneck space (ProxylessNAS / MnasNet style) written with `choose`.

```python
space = MBConvSpace(input_shape=(28, 28, 1), num_classes=10)
tuner = autokeras_nas.SPOS(space, objective="val_accuracy", max_trials=10)
```

A network is a stem, three stages of `blocks_per_stage` blocks, and a
classifier. Every block is its own choice `block{b}` (counted over the
network) among the MBConv operations of ProxylessNAS: `mb{e}_k{k}`, an
inverted bottleneck of expansion e in {3, 6} and depthwise kernel k in
{3, 5, 7}:

    1x1 conv to e*C_in -> BN -> ReLU6 -> depthwise kxk -> BN -> ReLU6
    -> 1x1 conv to C_out -> BN

The first block of a stage changes the width (C, 2C, 4C) and, after the
first stage, halves the size with a depthwise stride of 2. Every other block
adds its input back (a residual) and may also be `zero`, which skips the
block (its output is its input), as ProxylessNAS' zero operation does. The
default is `mb3_k3` everywhere.

Unlike the NAS-Bench-201 cell (`autokeras_nas.spaces.nb201`), where only
two of the five operations (the convolutions) hold activations, every
MBConv candidate holds an expanded tensor, so a supernet of every path needs several times the memory
of one path: the space on which the memory of single-path and one-path
modes shows (`python -m autokeras_nas.oneshot.memory --space mbconv`).

Network, at a CPU size: a stem (3x3 conv -> BN -> ReLU6) to `channels` C, of
stride 2 on inputs of 28 or more per spatial dimension (as `Nb201Space`);
the blocks; global average pooling and a softmax classifier. With `dims=1`
every conv is 1-D (time series). Compiled like the package's other default
spaces: Adam, sparse categorical cross-entropy, `"accuracy"`.

Layer names: `stem_conv`, `stem_bn`, `stem_relu`, the chosen candidate
`block{b}__{operation}`, the residual sum `block{b}_add`, `head_pool` and
`classifier`, so a normally built network inherits the weights of the same
operations of a supernet by name.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import keras
import keras_tuner

from autokeras_nas.oneshot import choose, in_supernet_scope, zero
from autokeras_nas.spaces.nb201 import compiled_classifier, network_arguments

__all__ = ["EXPANSIONS", "KERNELS", "MBConvSpace", "ops_of_block"]

EXPANSIONS: tuple[int, ...] = (3, 6)
KERNELS: tuple[int, ...] = (3, 5, 7)
#: The MBConv operations, `mb{expansion}_k{kernel}`, in candidate order.
MBCONV_OPS: tuple[str, ...] = tuple(f"mb{e}_k{k}" for e in EXPANSIONS for k in KERNELS)
DEFAULT_OP = "mb3_k3"
STAGES = 3
BN_MOMENTUM = 0.9


def ops_of_block(block_in_stage: int) -> tuple[str, ...]:
    """The operations of a stage's block: the MBConvs, and `zero` for every
    block but the stage's first (which changes the width)."""
    return MBCONV_OPS if block_in_stage == 0 else MBCONV_OPS + ("zero",)


class _Layers:
    """Keras layer constructors of one dimensionality (1-D or 2-D)."""

    def __init__(self, dims: int) -> None:
        self.conv = keras.layers.Conv2D if dims == 2 else keras.layers.Conv1D
        self.depthwise = (keras.layers.DepthwiseConv2D if dims == 2
                          else keras.layers.DepthwiseConv1D)
        self.global_pool = (keras.layers.GlobalAveragePooling2D if dims == 2
                            else keras.layers.GlobalAveragePooling1D)

    def mbconv(self, channels_in: int, channels: int, expansion: int, kernel: int,
               strides: int) -> keras.Sequential:
        bn = lambda: keras.layers.BatchNormalization(momentum=BN_MOMENTUM)  # noqa: E731
        return keras.Sequential([
            self.conv(channels_in * expansion, 1, use_bias=False), bn(),
            keras.layers.ReLU(max_value=6.0),
            self.depthwise(kernel, strides=strides, padding="same", use_bias=False), bn(),
            keras.layers.ReLU(max_value=6.0),
            self.conv(channels, 1, use_bias=False), bn(),
        ])

    def candidates(self, channels_in: int, channels: int, strides: int,
                   with_zero: bool) -> dict[str, Callable[[], keras.layers.Layer]]:
        found: dict[str, Callable[[], keras.layers.Layer]] = {
            f"mb{e}_k{k}": (lambda e=e, k=k: self.mbconv(channels_in, channels, e, k, strides))
            for e in EXPANSIONS for k in KERNELS}
        if with_zero:
            found["zero"] = zero
        return found


class MBConvSpace(keras_tuner.HyperModel):
    """Networks of MBConv blocks, one `choose` per block, for images
    (`dims=2`) or time series (`dims=1`).

    Args:
        input_shape: `(height, width, channels)` or `(steps, channels)`.
        num_classes: Number of classes (integer labels), at least 2.
        blocks_per_stage: Blocks in each of the 3 stages; default 2 (9 to 6
            choices of 7 and 6 operations: 7^3 * 6^3 networks).
        channels: Width of the first stage (the others have 2x and 4x);
            default 16.
        dims: 2 (Conv2D) or 1 (Conv1D); default: from the rank of
            `input_shape`.
        learning_rate: Adam's learning rate; default 1e-3.
        stem_strides: Strides of the stem, 1 or 2; default None: 2 when every
            spatial dimension is at least 28, else 1.

    Raises:
        ValueError: a bad shape, class count, size or `dims`.
    """

    def __init__(self, *, input_shape: Sequence[int], num_classes: int,
                 blocks_per_stage: int = 2, channels: int = 16, dims: int | None = None,
                 learning_rate: float = 1e-3, stem_strides: int | None = None) -> None:
        super().__init__(name="mbconv")
        shape, dims, learning_rate, stem_strides = network_arguments(
            input_shape, dims=dims, learning_rate=learning_rate, stem_strides=stem_strides,
            num_classes=num_classes, blocks_per_stage=blocks_per_stage, channels=channels)
        self.input_shape = shape
        self.num_classes = num_classes
        self.blocks_per_stage = blocks_per_stage
        self.channels = channels
        self.dims = dims
        self.learning_rate = float(learning_rate)
        self.stem_strides = int(stem_strides)

    @property
    def choices(self) -> dict[str, list[str]]:
        """Choice name -> its operations (the structure of a supernet space)."""
        return {f"block{s * self.blocks_per_stage + i}": list(ops_of_block(i))
                for s in range(STAGES) for i in range(self.blocks_per_stage)}

    def build(self, hp: Any) -> keras.Model:
        layers = _Layers(self.dims)
        inputs = keras.Input(shape=self.input_shape)
        x = layers.conv(self.channels, 3, strides=self.stem_strides, padding="same",
                        use_bias=False, name="stem_conv")(inputs)
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name="stem_bn")(x)
        x = keras.layers.ReLU(max_value=6.0, name="stem_relu")(x)
        width, block = self.channels, 0
        for stage in range(STAGES):
            channels = self.channels * 2 ** stage
            for i in range(self.blocks_per_stage):
                name, block = f"block{block}", block + 1
                layer = choose(hp, name, layers.candidates(
                    width, channels, 2 if stage and not i else 1, with_zero=i > 0),
                    default=DEFAULT_OP)
                if hp.get(name) == "zero" and not in_supernet_scope():
                    continue  # a skipped block has no layer in a normal build
                y = layer(x)
                x = keras.layers.Add(name=f"{name}_add")([x, y]) if i else y
                width = channels
        return compiled_classifier(inputs, layers.global_pool(name="head_pool")(x),
                                   self.num_classes, self.learning_rate, f"mbconv_{self.dims}d")
