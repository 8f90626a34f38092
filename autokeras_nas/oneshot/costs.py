"""Cost tables of a supernet's candidates: parameters, multiply-accumulates
and measured latency, per choice and candidate.

Each table is `{choice: {candidate: cost}}`, the candidates in path order
(that of `MixedOp.candidates`), and each entry sums the costs of every use
of the choice (a choice used by k cells costs the sum of its k uses, each at
the input shape that use was built for, `MixedOp.built_input_shape`). In a
conditional supernet a use holds one copy of each candidate per path of the
choice it is conditioned on; one copy is counted (an architecture runs one).
So an architecture's cost is `architecture_cost(table, {choice: candidate})`
and a distribution's `expected_cost(table, probabilities)`
(`autokeras_nas.core.costs`, numpy only). The tables cover the choices only:
the layers outside `choose` (stem, reductions, head, the sums of a cell's
nodes) are a fixed part to add (see `latency_table`).

* `candidate_params(model)`: weights of each candidate (SNAS's parameter
  cost).
* `candidate_flops(model)`: multiply-accumulates of each candidate for one
  sample (batch 1), by the rules of `candidate_flops`.
* `latency_table(model, timer)`: each candidate's inference latency
  measured on this machine by `timer`, in Keras or in the TFLite
  interpreter with the package's own latency functions
  (`autokeras_nas.tuner.trainers.measure.latency_timer`).

Reading a table never changes the supernet: candidates are called on new
inputs of small new models (weights shared, nothing rebuilt or re-initialised,
batch norm in inference mode), and the graph nodes those calls add to the
candidate layers are removed afterwards.
"""

from __future__ import annotations

import contextlib
import json
import math
import warnings
from typing import Any, Callable, Iterator

import keras
import numpy as np

from autokeras_nas.oneshot.mixed import MixedOp
from autokeras_nas.oneshot.paths import all_mixed_ops, is_none_candidate, walk_layers

__all__ = ["DEFAULT_CHAIN", "candidate_flops", "candidate_params", "latency_table"]

#: `latency_table`'s default `chain`: a candidate's latency is the growth of
#: a model of `1 + chain` copies over a model of one copy, divided by `chain`.
DEFAULT_CHAIN = 4

_CONVS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
_DEPTHWISE = (keras.layers.DepthwiseConv1D, keras.layers.DepthwiseConv2D)
_SEPARABLE = (keras.layers.SeparableConv1D, keras.layers.SeparableConv2D)
_POOLS = (keras.layers.AveragePooling1D, keras.layers.AveragePooling2D,
          keras.layers.AveragePooling3D, keras.layers.MaxPooling1D, keras.layers.MaxPooling2D,
          keras.layers.MaxPooling3D)
_GLOBAL_POOLS = (keras.layers.GlobalAveragePooling1D, keras.layers.GlobalAveragePooling2D,
                 keras.layers.GlobalAveragePooling3D, keras.layers.GlobalMaxPooling1D,
                 keras.layers.GlobalMaxPooling2D, keras.layers.GlobalMaxPooling3D)


def _uses(model: Any) -> dict[str, list[MixedOp]]:
    """Choice -> its MixedOps (one per use), in model order."""
    found: dict[str, list[MixedOp]] = {}
    for op in all_mixed_ops(model):
        found.setdefault(op.choice, []).append(op)
    if not found:
        raise ValueError("the model holds no MixedOp: build it with build_supernet (or inside "
                         "supernet_scope) to read its candidates' costs")
    return found


def _candidate_layers(op: MixedOp) -> dict[str, keras.layers.Layer]:
    """Candidate name -> the layer of one use (the first conditional copy)."""
    copies = len(op.condition_candidates) or 1
    return {name: op.branches[i * copies] for i, name in enumerate(op.candidates)}


def _built_shape(op: MixedOp) -> tuple:
    shape = getattr(op, "built_input_shape", None)
    if shape is None:
        raise ValueError(f"MixedOp {op.name!r} is not built: call the supernet (or build it "
                         "on an input) before reading its candidates' costs")
    return tuple(shape)


def _table(model: Any, cost: Callable[..., float]) -> dict[str, dict[str, float]]:
    """choice -> candidate -> the sum over the choice's uses of
    `cost(layer, input_shape, candidate_name)`."""
    table: dict[str, dict[str, float]] = {}
    for choice, ops in _uses(model).items():
        row = dict.fromkeys(ops[0].candidates, 0.0)
        for op in ops:
            shape = _built_shape(op)
            for name, layer in _candidate_layers(op).items():
                row[name] += float(cost(layer, shape, name))
        table[choice] = row
    return table


def candidate_params(model: Any) -> dict[str, dict[str, float]]:
    """Each candidate's parameter count, per choice of a supernet.

    Rules: a candidate's count is the number of scalars in all its weights,
    trainable or not (Keras' `count_params()`: a batch norm's moving mean and
    variance count, as they ship with the model), summed over every use of
    the choice; in a conditional supernet one copy per use (not the copy per
    path of the earlier choice). Weightless candidates (`zero()`'s "none",
    identity, pooling) count 0.

    Args:
        model: a supernet (built with `build_supernet` or inside
            `supernet_scope`), built.

    Returns:
        choice -> {candidate: parameters}, candidates in path order.

    Raises:
        ValueError: the model holds no MixedOp, or one is not built.
    """
    return _table(model, lambda layer, shape, name: sum(math.prod(w.shape)
                                                        for w in layer.weights))


def candidate_flops(model: Any) -> dict[str, dict[str, float]]:
    """Each candidate's multiply-accumulates (MACs) for one sample, per
    choice of a supernet, at the input shape each use was built for.

    Rules, per layer (`o`: the layer's output elements for one sample, `i`
    its input elements):

    - Conv1D/2D/3D: `o * kernel size * input channels / groups` (the bias's
      additions are not counted, nor are they in any rule below);
    - DepthwiseConv1D/2D: `o * kernel size`;
    - SeparableConv1D/2D: its depthwise part (`input channels * depth
      multiplier * kernel size` per output position) plus its pointwise part
      (`input channels * depth multiplier * filters` per output position);
    - Dense: `input rows * input units * units` (rows: the elements of every
      axis but the last);
    - Average/MaxPooling1D/2D/3D: `o * pool size` (one operation per element
      of a window, counted as one MAC);
    - GlobalAverage/MaxPooling: `i`;
    - BatchNormalization: `o` (at inference a per-channel multiply-add);
    - `keras.Sequential` and functional models: the sum of their layers,
      shapes followed through the chain (a functional model's layers at the
      shapes of its own graph, batch 1);
    - every other layer 0: activations, identity, `zero()`'s "none", sums,
      reshapes, dropout, and layers this function does not know. A candidate
      holding weights in a layer of unknown type (a custom layer) is counted
      0 for that layer, with a warning naming its type.

    Args:
        model: a supernet, built.

    Returns:
        choice -> {candidate: MACs}, candidates in path order, summed over
        every use of the choice (one copy per use in a conditional supernet).

    Raises:
        ValueError: the model holds no MixedOp, or one is not built.
    """
    unknown: set[str] = set()
    table = _table(model, lambda layer, shape, name: _macs(layer, (1,) + shape[1:], unknown))
    if unknown:
        warnings.warn(f"candidate_flops: counted 0 for layers of unknown type holding weights: "
                      f"{', '.join(sorted(unknown))}", stacklevel=2)
    return table


def _output_shape(layer: Any, shape: tuple) -> tuple:
    try:
        return tuple(layer.compute_output_shape(shape))
    except Exception:  # noqa: BLE001 - layers without a shape rule: trace it symbolically
        spec = layer.compute_output_spec(keras.KerasTensor(shape))
        return tuple(spec.shape)


def _macs(layer: Any, shape: tuple, unknown: set[str]) -> float:
    """MACs of `layer` on an input of `shape` (batch 1), by
    `candidate_flops`'s rules."""
    if isinstance(layer, keras.Sequential):
        total = 0.0
        for inner in layer.layers:
            total += _macs(inner, shape, unknown)
            shape = _output_shape(inner, shape)
        return total
    if isinstance(layer, keras.Model) and hasattr(layer, "_nodes_by_depth"):
        return _functional_macs(layer, unknown)
    if isinstance(layer, keras.layers.InputLayer):
        return 0.0
    out = _output_shape(layer, shape)
    o = math.prod(d for d in out[1:])
    if isinstance(layer, _CONVS):
        return float(o * math.prod(layer.kernel.shape[:-1]))
    if isinstance(layer, _DEPTHWISE):
        return float(o * math.prod(layer.kernel_size))
    if isinstance(layer, _SEPARABLE):
        depthwise = layer.depthwise_kernel.shape  # kernel size + (in, multiplier)
        positions = o // layer.filters
        inner = depthwise[-2] * depthwise[-1]
        return float(positions * inner * (math.prod(depthwise[:-2]) + layer.filters))
    if isinstance(layer, keras.layers.Dense):
        rows = math.prod(shape[1:-1])
        return float(rows * math.prod(layer.kernel.shape))
    if isinstance(layer, _POOLS):
        return float(o * math.prod(layer.pool_size))
    if isinstance(layer, _GLOBAL_POOLS):
        return float(math.prod(shape[1:]))
    if isinstance(layer, keras.layers.BatchNormalization):
        return float(o)
    if layer.weights:
        unknown.add(type(layer).__name__)
    return 0.0


def _functional_macs(model: Any, unknown: set[str]) -> float:
    total = 0.0
    for nodes in model._nodes_by_depth.values():  # noqa: SLF001 - Keras' graph of a functional model
        for node in nodes:
            layer = node.operation
            if not isinstance(layer, keras.layers.Layer) or not node.input_tensors:
                continue
            shape = tuple(node.input_tensors[0].shape)
            total += _macs(layer, (1,) + shape[1:], unknown)
    return total


# Latency.


def _structure_key(layer: Any, shape: tuple) -> Any:
    """What a candidate's latency depends on: its type and configuration
    (its layers' names aside) and weight shapes, and the input shape. Two
    candidates with the same key are measured once (weight values do not
    change a float model's latency); a layer without a config is its own
    key."""
    names = {layer.name} | {inner.name for inner in walk_layers(layer)}
    try:
        config = _without_names(layer.get_config(), names)
        text = json.dumps(config, sort_keys=True, default=repr)
    except Exception:  # noqa: BLE001 - no serializable config: measure this layer on its own
        return (id(layer), shape)
    weights = tuple(tuple(w.shape) for w in layer.weights)
    return (type(layer).__module__, type(layer).__qualname__, text, weights, shape)


def _without_names(config: Any, names: set[str]) -> Any:
    if isinstance(config, dict):
        return {k: _without_names(v, names) for k, v in config.items()
                if not (k == "name" and v in names)}
    if isinstance(config, (list, tuple)):
        return [_without_names(v, names) for v in config]
    return config


@contextlib.contextmanager
def _nodes_kept(layer: Any) -> Iterator[None]:
    """Removes, on exit, the graph nodes that calling `layer` (and the layers
    nested in it) on new inputs added, so the supernet's layers are left
    exactly as they were."""
    layers = [layer, *walk_layers(layer)]
    saved = [(x, list(getattr(x, "_inbound_nodes", [])), list(getattr(x, "_outbound_nodes", [])))
             for x in layers]
    try:
        yield
    finally:
        for x, inbound, outbound in saved:
            if hasattr(x, "_inbound_nodes"):
                x._inbound_nodes[:] = inbound  # noqa: SLF001
            if hasattr(x, "_outbound_nodes"):
                x._outbound_nodes[:] = outbound  # noqa: SLF001


def _chain_model(layer: Any, shape: tuple, copies: int, batch_size: int) -> keras.Model:
    """`copies` calls of `layer` in a row on a new input of `shape`."""
    inputs = keras.Input(shape=shape[1:], batch_size=None if batch_size == 1 else batch_size,
                         dtype=layer.compute_dtype)
    x = inputs
    for _ in range(copies):
        x = layer(x)
    return keras.Model(inputs, x)


def latency_table(model: Any, timer: Callable[[Any], float], *, batch_size: int = 1,
                  chain: int = DEFAULT_CHAIN) -> dict[str, dict[str, float]]:
    """Each candidate's inference latency on this machine, in ms, per choice
    of a supernet, summed over the choice's uses.

    A candidate is timed alone, at the input shape a use was built for (batch
    `batch_size`), in a small model calling it on a new input, by `timer`
    (a small Keras model -> ms; the package's are
    `autokeras_nas.tuner.trainers.measure.latency_timer("keras" | "tflite")`:
    `predict_on_batch` timed by `measure_latency_ms`, or the model converted
    to float32 TFLite and timed in the interpreter, 1 thread).

    Rules:

    - A use's latency is the candidate's marginal cost: `(t(1 + chain) -
      t(1)) / chain`, where `t(n)` is the latency of a model calling the
      candidate n times in a row. The per-call overhead of a model (in Keras
      about 0.25 ms at batch 1, several times a small convolution) and the
      first operation's extra cost cancel, so the table adds up to what the
      candidates add to a whole network. A negative difference (noise, an
      identity the runtime elides) counts 0. `chain=0`, or a candidate whose
      output shape differs from its input's (it cannot be chained), takes
      `t(1)` itself, overhead included.
    - "none" (a candidate named "none", or `zero()`'s layer) costs 0 and is
      not timed.
    - A choice used in several places costs the sum of its uses. Each
      distinct candidate structure (type, configuration without layer names,
      weight shapes) is measured once per input shape, whichever choice it
      belongs to: weight values do not change a float model's latency.
    - The table does not hold the layers outside `choose`; the latency of a
      whole network is about that of a reference architecture's network
      (all "skip", say) plus the table's difference between the two
      architectures, `latency(ref) + architecture_cost(table, arch) -
      architecture_cost(table, ref)`.

    Measuring never changes the supernet: no weight or state changes (batch
    norm runs in inference mode), no layer is rebuilt, and the graph nodes
    the new calls add to the candidate layers are removed afterwards.

    Args:
        model: a supernet, built.
        timer: a small Keras model -> its latency in ms, at `batch_size`.
        batch_size: samples per timed inference (the models' input batch).
        chain: copies added to the one-copy model to measure the marginal
            cost; 0 times one copy alone.

    Returns:
        choice -> {candidate: ms}, candidates in path order.

    Raises:
        ValueError: a bad `batch_size` or `chain`, a model without MixedOps,
            or an input shape not fully known.
    """
    if not callable(timer):
        raise ValueError(f"timer must be a function of a model, got {timer!r}")
    for label, value, low in (("batch_size", batch_size, 1), ("chain", chain, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError(f"{label} must be an int >= {low}, got {value!r}")
    measured: dict[Any, float] = {}

    def per_use(layer: Any, shape: tuple, name: str) -> float:
        if is_none_candidate(name, layer):
            return 0.0
        if any(d is None for d in shape[1:]):
            raise ValueError(f"latency_table: candidate {layer.name!r} was built for "
                             f"{shape}, whose sizes are not all known")
        key = _structure_key(layer, shape)
        if key not in measured:
            measured[key] = _measure(layer, shape, timer, chain, batch_size)
        return measured[key]

    return _table(model, per_use)


def _measure(layer: Any, shape: tuple, timer: Callable[[Any], float], chain: int,
             batch_size: int) -> float:
    """One use's latency by `latency_table`'s rules."""
    with _nodes_kept(layer):
        single = _chain_model(layer, shape, 1, batch_size)
        chainable = tuple(single.outputs[0].shape[1:]) == tuple(shape[1:])
        t1 = timer(single)
        if chain == 0 or not chainable:
            return float(t1)
        tn = timer(_chain_model(layer, shape, 1 + chain, batch_size))
    return max(0.0, float(tn - t1) / chain)
