"""The NAS-Bench-201 cell space as a KerasTuner hypermodel written with `choose`.

```python
space = Nb201Space(input_shape=(28, 28, 1), num_classes=10)
tuner = autokeras_nas.RandomSearch(space, objective="val_accuracy", max_trials=10)
```

A cell is a graph of 4 nodes: node 0 is the cell's input, node `j` the sum
of one operation applied to each earlier node `i < j`, and node 3 the cell's
output. Each of the 6 edges is a `choose` of 5 operations, named as in
NAS-Bench-201 and in `autokeras_nas.testing.spaces` (`NB201_EDGES`,
`NB201_OPS`), so a cell's values index the NAS-Bench-201 tables directly
(`autokeras_nas.bench.nb201.cell_index`): the hyperparameter `edge_{i}_{j}`
(node j reads node i; `edge_0_1`, `edge_0_2`, `edge_1_2`, `edge_0_3`,
`edge_1_3`, `edge_2_3`) is one of `none`, `skip_connect`, `nor_conv_1x1`,
`nor_conv_3x3` (the default) and `avg_pool_3x3`.

`none` is no operation (in a normal build the edge has no layer at all, and a
node without incoming edges is zeros), `skip_connect` the identity,
`nor_conv_KxK` ReLU -> conv KxK -> batch norm, `avg_pool_3x3` a 3x3 average
pooling (stride 1, same padding). The choices are shared by every cell (one
cell type, as in NAS-Bench-201); these six are the only hyperparameters.

Network, as in NAS-Bench-201 at a CPU size: a stem (3x3 conv -> batch norm)
to `channels` C, of stride 2 on inputs of 28 or more per spatial dimension
(`stem_strides`); three stages of `cells_per_stage` cells with C, 2C and 4C
channels, each stage after the first entered through a residual reduction
block (ReLU -> 3x3 conv stride 2 -> BN, ReLU -> 3x3 conv -> BN, plus a
shortcut of 2x2 average pooling stride 2 -> 1x1 conv); then batch norm ->
ReLU -> global average pooling -> a softmax classifier. With `dims=1` every
conv and pooling is 1-D (time series). Compiled like the package's other
default spaces: Adam, sparse categorical cross-entropy, `"accuracy"`.

Layer names: `stem_conv`, `stem_bn`, `reduce{s}_...`, `head_...`,
`classifier`, and in cell `k` (counted over the network) the edges' layers
`cell{k}_{edge}__{operation}` (then `__{operation of edge_0_1}` for the
edges of `CONDITIONS`), the sums `cell{k}_node{j}` and the zeros of a node
without incoming edges `cell{k}_node{j}`, so a normally built network
inherits the weights of the same operations of a supernet by name.
"""

from __future__ import annotations

from typing import Any, Callable, Sequence

import keras
import keras_tuner

from autokeras_nas.oneshot import choose, in_supernet_scope, zero

__all__ = ["CONDITIONS", "EDGES", "OPS", "Nb201Space", "stem_strides_for"]

#: The 6 edges `edge_{i}_{j}` (node j reads node i), in build order; the
#: names and order of `autokeras_nas.testing.spaces.NB201_EDGES`.
EDGES: tuple[str, ...] = tuple(f"edge_{i}_{j}" for j in range(1, 4) for i in range(j))
#: The 5 operations of an edge, in NAS-Bench-201's order (that of its tables
#: and of `autokeras_nas.testing.spaces.NB201_OPS`).
OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
#: The default operation of every edge: a working network (an all-`none`
#: default would output zeros) and the strongest operation of the tables.
DEFAULT_OP = "nor_conv_3x3"
#: With `conditional=True`: edge -> the edge its weights are kept per choice
#: of. Node 1 is fed by `edge_0_1` alone, so the input of an edge reading it
#: is fully determined by that edge's operation; the other nodes are sums of
#: several edges, of which no single one determines the input.
CONDITIONS: dict[str, str] = {"edge_1_2": "edge_0_1", "edge_1_3": "edge_0_1"}
#: Batch-norm momentum, as in `autokeras_nas.spaces.image`: the moving
#: statistics settle within the few hundred steps of a short trial.
BN_MOMENTUM = 0.9
STAGES = 3
#: With `stem_strides=None`: inputs whose every spatial dimension is at least
#: this get a stem of stride 2 (see `stem_strides_for`).
STRIDED_STEM_MIN_SIZE = 28


def _edge(name: str) -> tuple[int, int]:
    _, i, j = name.split("_")
    return int(i), int(j)


class _Layers:
    """Keras layer constructors of one dimensionality (1-D or 2-D)."""

    def __init__(self, dims: int) -> None:
        self.dims = dims
        self.conv = keras.layers.Conv2D if dims == 2 else keras.layers.Conv1D
        self.avg_pool = (keras.layers.AveragePooling2D if dims == 2
                         else keras.layers.AveragePooling1D)
        self.global_pool = (keras.layers.GlobalAveragePooling2D if dims == 2
                            else keras.layers.GlobalAveragePooling1D)

    def relu_conv_bn(self, channels: int, kernel: int, *, strides: int = 1,
                     name: str | None = None) -> keras.Sequential:
        return keras.Sequential([
            keras.layers.Activation("relu"),
            self.conv(channels, kernel, strides=strides, padding="same", use_bias=False),
            keras.layers.BatchNormalization(momentum=BN_MOMENTUM),
        ], name=name)

    def candidates(self, channels: int) -> dict[str, Callable[[], keras.layers.Layer]]:
        """The 5 operations of an edge, as fresh-layer factories."""
        return {
            "none": zero,
            "skip_connect": keras.layers.Identity,
            "nor_conv_1x1": lambda: self.relu_conv_bn(channels, 1),
            "nor_conv_3x3": lambda: self.relu_conv_bn(channels, 3),
            "avg_pool_3x3": lambda: self.avg_pool(3, strides=1, padding="same"),
        }


class Nb201Space(keras_tuner.HyperModel):
    """NAS-Bench-201 networks for images (`dims=2`) or time series (`dims=1`).

    Args:
        input_shape: `(height, width, channels)` or `(steps, channels)`.
        num_classes: Number of classes (integer labels), at least 2.
        cells_per_stage: Cells in each of the 3 stages; default 1 (NAS-Bench-201
            has 5), so that a 2-core CPU trains a 28x28 network on 20,000
            images in a minute or two per epoch.
        channels: Channels of the first stage (the others have 2x and 4x);
            default 16, as in NAS-Bench-201.
        dims: 2 (Conv2D) or 1 (Conv1D); default: from the rank of
            `input_shape`.
        conditional: Whether the edges of `CONDITIONS` pass `condition_on` to
            `choose`. Default True: it takes effect only in a supernet built
            with conditional weights (`supernet_scope(conditional=True)`, the
            supernet task's `conditional` option), which then alone decides;
            elsewhere it only suffixes those edges' layer names with the
            operation of `edge_0_1` (weights are still inherited by name).
        learning_rate: Adam's learning rate; default 1e-3, Adam's own default
            and that of the package's other spaces, so that the six edges
            stay the only hyperparameters.
        stem_strides: Strides of the stem's convolution, 1 or 2. Default
            None: 2 when every spatial dimension of `input_shape` is at least
            28 (`STRIDED_STEM_MIN_SIZE`; Fashion-MNIST's 28x28 images enter
            the first stage at 14x14, a quarter of the work of every layer
            after the stem), else 1 (digits' 8x8 images). NAS-Bench-201
            itself has 1, on 32x32 images and a GPU.

    Raises:
        ValueError: a bad shape, class count, size or `dims`.
    """

    def __init__(
        self,
        *,
        input_shape: Sequence[int],
        num_classes: int,
        cells_per_stage: int = 1,
        channels: int = 16,
        dims: int | None = None,
        conditional: bool = True,
        learning_rate: float = 1e-3,
        stem_strides: int | None = None,
    ) -> None:
        super().__init__(name="nb201")
        shape, dims, learning_rate, stem_strides = network_arguments(
            input_shape, dims=dims, learning_rate=learning_rate, stem_strides=stem_strides,
            num_classes=num_classes, cells_per_stage=cells_per_stage, channels=channels)
        if not isinstance(conditional, bool):
            raise ValueError(f"conditional must be True or False, got {conditional!r}")
        self.input_shape = shape
        self.stem_strides = int(stem_strides)
        self.num_classes = num_classes
        self.cells_per_stage = cells_per_stage
        self.channels = channels
        self.dims = dims
        self.conditional = conditional
        self.learning_rate = float(learning_rate)

    @property
    def choices(self) -> dict[str, list[str]]:
        """Choice name -> its operations (the structure of a supernet space)."""
        return {edge: list(OPS) for edge in EDGES}

    def build(self, hp: Any) -> keras.Model:
        layers = _Layers(self.dims)
        inputs = keras.Input(shape=self.input_shape)
        x = layers.conv(self.channels, 3, strides=self.stem_strides, padding="same",
                        use_bias=False, name="stem_conv")(inputs)
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name="stem_bn")(x)
        cell = 0
        for stage in range(STAGES):
            channels = self.channels * 2 ** stage
            if stage:
                x = _reduction(layers, x, channels, f"reduce{stage}")
            for _ in range(self.cells_per_stage):
                x = self._cell(hp, layers, x, channels, f"cell{cell}")
                cell += 1
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name="head_bn")(x)
        x = keras.layers.Activation("relu", name="head_relu")(x)
        return compiled_classifier(inputs, layers.global_pool(name="head_pool")(x),
                                   self.num_classes, self.learning_rate, f"nb201_{self.dims}d")

    def _cell(self, hp: Any, layers: _Layers, x: Any, channels: int, prefix: str) -> Any:
        """One cell: node j sums the edges `edge_{i}_{j}` from the nodes i < j."""
        nodes = [x]
        for j in range(1, 4):
            terms = [self._edge(hp, layers, f"edge_{i}_{j}", nodes[i], channels, prefix)
                     for i in range(j)]
            nodes.append(_node([t for t in terms if t is not None], x, f"{prefix}_node{j}"))
        return nodes[3]

    def _edge(self, hp: Any, layers: _Layers, edge: str, x: Any, channels: int,
              prefix: str) -> Any:
        """The edge's output, or None for `none` in a normal build."""
        condition = CONDITIONS.get(edge) if self.conditional else None
        layer = choose(hp, edge, layers.candidates(channels), default=DEFAULT_OP,
                       condition_on=condition)
        if hp.get(edge) == "none" and not in_supernet_scope():
            return None
        layer.name = f"{prefix}_{layer.name}"
        return layer(x)


def network_arguments(input_shape: Sequence[int], *, dims: int | None, learning_rate: Any,
                      stem_strides: int | None, num_classes: Any,
                      **sizes: Any) -> tuple[tuple[int, ...], int, float, int]:
    """Checks the arguments every network space of the cell's shape takes
    (this one's and `autokeras_nas.spaces.mbconv`'s): `num_classes` at least
    2, each of `sizes` an integer at least 1.

    Returns:
        `(input_shape, dims, learning_rate, stem_strides)` with the defaults
        of `dims` and `stem_strides` filled in.

    Raises:
        ValueError: a bad shape, class count, size, `dims`, learning rate or
            stem strides (one line).
    """
    shape = tuple(int(d) for d in input_shape)
    if len(shape) not in (2, 3) or min(shape) < 1:
        raise ValueError("input_shape must be (height, width, channels) or "
                         f"(steps, channels), got {tuple(input_shape)!r}")
    if dims is None:
        dims = len(shape) - 1
    if dims not in (1, 2) or dims != len(shape) - 1:
        raise ValueError(f"dims must be {len(shape) - 1} for input_shape {shape}, got {dims!r}")
    for label, value, low in (("num_classes", num_classes, 2),
                              *((name, value, 1) for name, value in sizes.items())):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{label} must be an integer >= {low}, got {value!r}")
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float)) \
            or not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
    if stem_strides is None:
        stem_strides = stem_strides_for(shape)
    if isinstance(stem_strides, bool) or stem_strides not in (1, 2):
        raise ValueError(f"stem_strides must be 1 or 2, got {stem_strides!r}")
    return shape, dims, float(learning_rate), int(stem_strides)


def compiled_classifier(inputs: Any, features: Any, num_classes: int, learning_rate: float,
                        name: str) -> keras.Model:
    """The model from `inputs` to a softmax classifier (`classifier`) of the
    pooled `features`, compiled as the package's default spaces are: Adam,
    sparse categorical cross-entropy, `"accuracy"`."""
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="classifier")(features)
    model = keras.Model(inputs, outputs, name=name)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def stem_strides_for(input_shape: Sequence[int]) -> int:
    """The default stem strides of `input_shape` (`Nb201Space`'s
    `stem_strides=None`): 2 when every spatial dimension is at least
    `STRIDED_STEM_MIN_SIZE`, else 1."""
    spatial = tuple(input_shape)[:-1]
    return 2 if spatial and min(spatial) >= STRIDED_STEM_MIN_SIZE else 1


def _node(terms: list[Any], cell_input: Any, name: str) -> Any:
    """The sum of a node's incoming edges; zeros when every edge is `none`."""
    if not terms:
        layer = zero()
        layer.name = name
        return layer(cell_input)
    if len(terms) == 1:
        return terms[0]
    return keras.layers.Add(name=name)(terms)


def _reduction(layers: _Layers, x: Any, channels: int, name: str) -> Any:
    """NAS-Bench-201's residual reduction block: half the size, `channels` out."""
    y = layers.relu_conv_bn(channels, 3, strides=2, name=f"{name}_a")(x)
    y = layers.relu_conv_bn(channels, 3, name=f"{name}_b")(y)
    shortcut = layers.avg_pool(2, strides=2, padding="same", name=f"{name}_pool")(x)
    shortcut = layers.conv(channels, 1, use_bias=False, name=f"{name}_proj")(shortcut)
    return keras.layers.Add(name=f"{name}_add")([shortcut, y])
