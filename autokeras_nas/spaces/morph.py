"""Keras side of the morphable network space (`morph_graph`).

```python
net = start_network((28, 28, 1), 10)
model = build_model(net)            # functional, not compiled
... train model ...
m = random_morphism(net, np.random.default_rng(0))
child, child_net = morph(model, net, [m])
assert preservation_error(model, child, x) < 1e-4
```

Layer names follow the node ids: `{id}_conv`, `{id}_bn`, `{id}_relu`,
`{id}_pool`, `{id}_proj`, `{id}_add`, `{id}_concat`, `{id}_flatten`, `{id}_gap`,
`{id}_dense`, `{id}_input` and `output`.
"""

from __future__ import annotations

from typing import Any, Sequence

import keras
import numpy as np

from autokeras_nas.spaces.morph_graph import BN_EPSILON, apply, transfer, validate, weight_shapes

#: Batch-norm momentum, as in `autokeras_nas.spaces.image`: the moving
#: statistics settle within the few hundred steps of a short trial.
BN_MOMENTUM = 0.9


def _layers_2d_or_1d(kind: str) -> tuple[Any, Any, Any]:
    if kind == "2d":
        return keras.layers.Conv2D, keras.layers.MaxPooling2D, keras.layers.GlobalAveragePooling2D
    return keras.layers.Conv1D, keras.layers.MaxPooling1D, keras.layers.GlobalAveragePooling1D


def _node_output(net: dict, node: dict, ins: list[Any]) -> Any:
    """Applies the layers of one non-input node to its input tensors."""
    conv, pool, gap = _layers_2d_or_1d(net["kind"])
    op, name, bn = node["op"], node["id"], net["batch_norm"]
    if op == "conv":
        x = conv(node["filters"], node["kernel"], padding="same", use_bias=not bn,
                 name=f"{name}_conv")(ins[0])
        if bn:
            x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, epsilon=BN_EPSILON,
                                                name=f"{name}_bn")(x)
        return keras.layers.Activation("relu", name=f"{name}_relu")(x)
    if op == "pool":
        return pool(2, name=f"{name}_pool")(ins[0])
    if op == "proj":
        return conv(node["filters"], 1, name=f"{name}_proj")(ins[0])
    if op == "add":
        return keras.layers.Add(name=f"{name}_add")(ins)
    if op == "concat":
        return keras.layers.Concatenate(axis=-1, name=f"{name}_concat")(ins)
    if op == "flatten":
        return keras.layers.Flatten(name=f"{name}_flatten")(ins[0])
    if op == "gap":
        return gap(name=f"{name}_gap")(ins[0])
    if op == "dense":
        return keras.layers.Dense(node["units"], activation="relu", name=f"{name}_dense")(ins[0])
    if op == "output":
        return keras.layers.Dense(net["num_classes"], activation="softmax", name="output")(ins[0])
    raise ValueError(f"node {name}: unknown op {op!r}")


def build_model(net: dict) -> keras.Model:
    """The functional (uncompiled) Keras model of a spec.

    Raises:
        ValueError: an invalid spec.
    """
    validate(net)
    tensors: dict[str, Any] = {}
    first = net["nodes"][0]
    tensors[first["id"]] = keras.Input(shape=tuple(net["input_shape"]), name=f"{first['id']}_input")
    for node in net["nodes"][1:]:
        tensors[node["id"]] = _node_output(net, node, [tensors[i] for i in node["inputs"]])
    last = net["nodes"][-1]["id"]
    return keras.Model(tensors[first["id"]], tensors[last], name=f"morph_{len(net['nodes'])}_nodes")


def _node_layers(model: keras.Model, net: dict, node: dict) -> list[Any]:
    """The layers holding a node's weights, in the documented order."""
    op, name = node["op"], node["id"]
    if op == "conv":
        names = [f"{name}_conv"] + ([f"{name}_bn"] if net["batch_norm"] else [])
    elif op == "proj":
        names = [f"{name}_proj"]
    elif op == "dense":
        names = [f"{name}_dense"]
    elif op == "output":
        names = ["output"]
    else:
        names = []
    return [model.get_layer(n) for n in names]


def get_weights(model: keras.Model, net: dict) -> dict[str, list[np.ndarray]]:
    """`{node_id: arrays}` of a model built from `net` (order in `morph_graph`)."""
    return {
        node["id"]: [w for layer in _node_layers(model, net, node) for w in layer.get_weights()]
        for node in net["nodes"]
    }


def set_weights(model: keras.Model, net: dict, weights: dict[str, Sequence[np.ndarray]]) -> None:
    """Sets the weights of a model built from `net` from `{node_id: arrays}`.

    Raises:
        ValueError: a node is missing or its arrays have the wrong shapes.
    """
    expected = weight_shapes(net)
    for node in net["nodes"]:
        arrays = list(weights.get(node["id"], ()))
        got = [tuple(np.shape(a)) for a in arrays]
        if got != expected[node["id"]]:
            raise ValueError(f"weights of node {node['id']}: shapes {got}, "
                             f"expected {expected[node['id']]}")
        for layer in _node_layers(model, net, node):
            count = len(layer.get_weights())
            layer.set_weights(arrays[:count])
            arrays = arrays[count:]


def morph(parent_model: keras.Model, parent_net: dict,
          morphisms: Sequence[dict]) -> tuple[keras.Model, dict]:
    """Applies `morphisms` in order to a parent model and its spec.

    Args:
        parent_model: A model built from `parent_net` (with trained weights).
        parent_net: Its spec.
        morphisms: Morphisms, each applicable to the spec the previous ones
            produced.

    Returns:
        `(child_model, child_net)`: the child is a new, uncompiled model that
        computes the parent's function (in inference mode).

    Raises:
        ValueError: a morphism does not apply.
    """
    net, weights = parent_net, get_weights(parent_model, parent_net)
    for morphism in morphisms:
        weights = transfer(net, weights, morphism)
        net = apply(net, morphism)
    child = build_model(net)
    set_weights(child, net, weights)
    return child, net


def preservation_error(parent_model: keras.Model, child_model: keras.Model, x: Any) -> float:
    """Largest absolute difference of the two models' (softmax) outputs on `x`.

    Both run in inference mode (`model(x, training=False)`).
    """
    x = np.asarray(x, dtype=np.float32)
    parent = keras.ops.convert_to_numpy(parent_model(x, training=False))
    child = keras.ops.convert_to_numpy(child_model(x, training=False))
    return float(np.max(np.abs(parent.astype(np.float64) - child.astype(np.float64))))
