"""Morphable networks and function-preserving network morphisms (numpy only).

A network is a JSON-serialisable dict, a *spec*, that `autokeras_nas.spaces.morph`
turns into a Keras model. A *morphism* changes a spec so that the child network
computes exactly the same function as its parent once `transfer` has mapped the
parent's weights onto it; this is the network-morphism search of Elsken, Metzen
& Hutter (2017, "Simple and efficient architecture search for CNNs", NASH),
with Net2Net-style widening (Chen, Goodfellow & Shlens, 2016).

This module imports neither Keras nor TensorFlow, so specs can be created,
mutated, stored and compared in a process that never builds a model.

Spec
----
```
{"kind": "2d" | "1d", "input_shape": [H, W, C] or [T, C], "num_classes": int,
 "batch_norm": bool, "nodes": [{"id": "n0", "op": "input"}, ...], "next_id": int}
```
Nodes are in topological order; every node but the first has `"inputs"`, a list
of ids of earlier nodes. Ops:

| op | layers | fields |
|---|---|---|
| `input` | the model input (first node only) | |
| `conv` | Conv (same padding, stride 1) -> [BatchNorm] -> ReLU: a *conv unit* | `filters`, `kernel` |
| `pool` | max pooling, size 2, stride 2 | |
| `proj` | linear 1x1 Conv with bias (the projection of an additive skip) | `filters` |
| `add` | sum of exactly 2 inputs of equal shape | |
| `concat` | channel concatenation (2 or more inputs) | |
| `flatten` | channels-last flattening | |
| `gap` | global average pooling | |
| `dense` | Dense -> ReLU | `units` |
| `output` | Dense(num_classes, softmax) (last node only) | |

The conv of a conv unit has a bias only without batch normalization.

Weights
-------
`transfer` works on `dict[node_id, list[np.ndarray]]`, the arrays of each node in
Keras `get_weights()` order, concatenated over the node's layers:

* conv unit: `[kernel, bias]` without batch norm,
  `[kernel, gamma, beta, moving_mean, moving_variance]` with it;
* `proj`, `dense`, `output`: `[kernel, bias]`;
* every other op: `[]`.

Kernels have the input channels on axis -2 and the output channels on axis -1
(Keras layout: `(k, k, in, out)`, `(k, in, out)`, `(in, out)`).

Morphisms
---------
JSON dicts, created by `random_morphism` with all their randomness drawn then
(so `apply` and `transfer` are deterministic):

* `{"type": "deeper", "after": id, "kernel": k}`: a conv unit, initialised as
  the identity, after a node with a non-negative spatial output.
* `{"type": "wider", "node": id, "old_width": c, "width": c2, "src": [...],
  "seed": s}`: Net2Net widening of a conv unit or dense layer; new unit `k`
  copies old unit `src[k]`, and every consumer splits the input weights of an
  old unit among its replicas (with zero-sum noise drawn from `seed`).
* `{"type": "skip_add", "a": id, "b": id}`: `add(b, proj(a))` with a zero
  projection.
* `{"type": "skip_concat", "a": id, "b": id, "filters": f, "kernel": k,
  "seed": s}`: `concat(b, conv(a))` whose new channels get zero weights in
  every consumer.

New nodes take the ids `f"n{next_id}"`, `f"n{next_id + 1}"`, ... in the order
listed in `apply`.

Restrictions: no morphism removes anything; `wider` and `skip_concat` do not
change a node whose output reaches an `add` through pass-through nodes (pool,
gap, flatten, concat), since the add would need both inputs widened alike;
`deeper` only inserts conv units on spatial feature maps (never after the input,
which may be negative, nor after an `add` of a projection); the output layer is
never widened.
"""

from __future__ import annotations

import copy
import json
import math
from typing import Any, Iterable, Sequence

import numpy as np

#: Keras' BatchNormalization default epsilon; `deeper` relies on it.
BN_EPSILON = 1e-3
#: Morphism types, in the default order of `random_morphism(kinds=...)`.
MORPHISM_TYPES = ("deeper", "wider", "skip_add", "skip_concat")
#: Kernel sizes `deeper` and `skip_concat` draw from.
KERNELS = (1, 3, 5)
#: Standard deviation of the zero-sum symmetry-breaking noise of `wider`,
#: relative to the standard deviation of the consumer's kernel.
WIDER_NOISE = 0.01

OPS = ("input", "conv", "pool", "proj", "add", "concat", "flatten", "gap", "dense", "output")
#: Integer fields each op requires (and the only fields besides id/op/inputs).
_FIELDS = {"conv": ("filters", "kernel"), "proj": ("filters",), "dense": ("units",)}
#: Ops whose output channels map one-to-one (or by offset / position) onto
#: their inputs' channels: widening passes through them.
_PASS_THROUGH = ("pool", "gap", "flatten", "concat")
#: Ops with an input kernel (input channels on axis -2).
_WEIGHTED = ("conv", "proj", "dense", "output")
_SPEC_KEYS = {"kind", "input_shape", "num_classes", "batch_norm", "nodes", "next_id"}


# ---------------------------------------------------------------------------
# construction and (de)serialisation
# ---------------------------------------------------------------------------
def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _positive_int(value: Any, what: str) -> int:
    if not _is_int(value) or int(value) < 1:
        raise ValueError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def start_network(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    batch_norm: bool = True,
    filters: Sequence[int] = (32, 64, 128),
    kernel: int = 3,
    dense_units: int = 128,
) -> dict:
    """NASH's start network: conv-pool-conv-pool-conv-flatten-dense-output.

    One conv unit per entry of `filters`, a pool between consecutive ones
    (skipped once a spatial side is below 2).

    Args:
        input_shape: `(height, width, channels)` for images ("2d") or
            `(steps, channels)` for time series ("1d").
        num_classes: Number of classes, at least 2.
        batch_norm: Whether conv units have batch normalization.
        filters: Filters of the conv units (at least one).
        kernel: Kernel size of the conv units.
        dense_units: Units of the hidden dense layer.

    Returns:
        The spec (see the module docstring).

    Raises:
        ValueError: on an input shape of another rank, non-positive sizes or
            fewer than 2 classes.
    """
    shape = [_positive_int(d, "every input dimension") for d in input_shape]
    if len(shape) not in (2, 3):
        raise ValueError(
            f"input_shape must be (height, width, channels) or (steps, channels), "
            f"got {tuple(input_shape)!r}"
        )
    if not _is_int(num_classes) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")
    filters = [_positive_int(f, "every filters entry") for f in filters]
    if not filters:
        raise ValueError("filters must have at least one entry")
    kernel = _positive_int(kernel, "kernel")
    dense_units = _positive_int(dense_units, "dense_units")

    nodes: list[dict] = [{"id": "n0", "op": "input"}]
    spatial = shape[:-1]

    def add(op: str, **fields: Any) -> None:
        nodes.append({"id": f"n{len(nodes)}", "op": op, "inputs": [nodes[-1]["id"]], **fields})

    for i, f in enumerate(filters):
        add("conv", filters=f, kernel=kernel)
        if i < len(filters) - 1 and min(spatial) >= 2:
            add("pool")
            spatial = [s // 2 for s in spatial]
    add("flatten")
    add("dense", units=dense_units)
    add("output")
    return {
        "kind": "2d" if len(shape) == 3 else "1d",
        "input_shape": shape,
        "num_classes": int(num_classes),
        "batch_norm": bool(batch_norm),
        "nodes": nodes,
        "next_id": len(nodes),
    }


def to_json(net: dict) -> str:
    """Canonical JSON text of a spec (sorted keys, compact separators)."""
    return json.dumps(net, sort_keys=True, separators=(",", ":"))


def from_json(text: str) -> dict:
    """Parses and validates a spec written by `to_json`.

    Raises:
        ValueError: the text is not JSON or not a valid spec.
    """
    try:
        net = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"network spec is not valid JSON: {err}") from None
    return validate(net)


def validate(net: Any) -> dict:
    """Checks a spec and returns it.

    Raises:
        ValueError: naming the first problem found (missing or unknown keys,
            bad op or field, unknown or later input, wrong arity, incompatible
            shapes, unused node, misplaced input/output node, stale next_id).
    """
    if not isinstance(net, dict):
        raise ValueError(f"network spec must be a dict, got {type(net).__name__}")
    missing, unknown = _SPEC_KEYS - set(net), set(net) - _SPEC_KEYS
    if missing or unknown:
        raise ValueError(f"network spec: missing keys {sorted(missing)}, unknown keys {sorted(unknown)}")
    if net["kind"] not in ("2d", "1d"):
        raise ValueError(f"network kind must be '2d' or '1d', got {net['kind']!r}")
    rank = 3 if net["kind"] == "2d" else 2
    shape = net["input_shape"]
    if not isinstance(shape, list) or len(shape) != rank or not all(
        _is_int(d) and d >= 1 for d in shape
    ):
        raise ValueError(f"input_shape of a {net['kind']} network must be {rank} positive ints, got {shape!r}")
    if not _is_int(net["num_classes"]) or net["num_classes"] < 2:
        raise ValueError(f"num_classes must be an integer >= 2, got {net['num_classes']!r}")
    if not isinstance(net["batch_norm"], bool):
        raise ValueError(f"batch_norm must be a bool, got {net['batch_norm']!r}")
    nodes = net["nodes"]
    if not isinstance(nodes, list) or len(nodes) < 2:
        raise ValueError("nodes must be a list with at least an input and an output node")
    seen: set[str] = set()
    for index, node in enumerate(nodes):
        _validate_node(node, index, len(nodes), seen)
        seen.add(node["id"])
    _check_all_used(nodes)
    numbers = [int(n["id"][1:]) for n in nodes if n["id"][:1] == "n" and n["id"][1:].isdigit()]
    if not _is_int(net["next_id"]) or (numbers and net["next_id"] <= max(numbers)):
        raise ValueError(f"next_id must be an integer above every node number, got {net['next_id']!r}")
    shapes(net)  # raises on incompatible shapes
    return net


def _validate_node(node: Any, index: int, count: int, seen: set[str]) -> None:
    if not isinstance(node, dict):
        raise ValueError(f"node {index} must be a dict, got {type(node).__name__}")
    node_id, op = node.get("id"), node.get("op")
    if not isinstance(node_id, str) or not node_id:
        raise ValueError(f"node {index} needs a non-empty string id, got {node_id!r}")
    if node_id in seen:
        raise ValueError(f"node id {node_id!r} appears twice")
    if op not in OPS:
        raise ValueError(f"node {node_id}: unknown op {op!r} (expected one of {OPS})")
    if (op == "input") != (index == 0):
        raise ValueError(f"node {node_id}: the first node, and only it, must be the input")
    if (op == "output") != (index == count - 1):
        raise ValueError(f"node {node_id}: the last node, and only it, must be the output")
    fields = _FIELDS.get(op, ())
    allowed = {"id", "op", *fields} | ({"inputs"} if op != "input" else set())
    extra = set(node) - allowed
    if extra:
        raise ValueError(f"node {node_id} ({op}): unknown fields {sorted(extra)}")
    for field in fields:
        if field not in node or not _is_int(node[field]) or node[field] < 1:
            raise ValueError(f"node {node_id} ({op}): {field} must be a positive integer, "
                             f"got {node.get(field)!r}")
    if op == "input":
        return
    inputs = node.get("inputs")
    if not isinstance(inputs, list) or not all(isinstance(i, str) for i in inputs):
        raise ValueError(f"node {node_id}: inputs must be a list of node ids, got {inputs!r}")
    for source in inputs:
        if source not in seen:
            raise ValueError(f"node {node_id}: input {source!r} is not an earlier node")
    arity = {"add": (2, 2), "concat": (2, None)}.get(op, (1, 1))
    if len(inputs) < arity[0] or (arity[1] is not None and len(inputs) > arity[1]):
        raise ValueError(f"node {node_id} ({op}): wrong number of inputs ({len(inputs)})")


def _check_all_used(nodes: list[dict]) -> None:
    used = {source for node in nodes for source in node.get("inputs", [])}
    for node in nodes[:-1]:
        if node["id"] not in used:
            raise ValueError(f"node {node['id']} ({node['op']}) is not used by any other node")


# ---------------------------------------------------------------------------
# analysis
# ---------------------------------------------------------------------------
def _by_id(net: dict) -> dict[str, dict]:
    return {node["id"]: node for node in net["nodes"]}


def _consumers(net: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {node["id"]: [] for node in net["nodes"]}
    for node in net["nodes"]:
        for source in dict.fromkeys(node.get("inputs", [])):
            out[source].append(node["id"])
    return out


def _spatial_rank(net: dict) -> int:
    return 2 if net["kind"] == "2d" else 1


def shapes(net: dict) -> dict[str, tuple[int, ...]]:
    """Output shape (without the batch dimension) of every node.

    Raises:
        ValueError: an op gets an input of a shape it cannot take.
    """
    rank = _spatial_rank(net) + 1
    out: dict[str, tuple[int, ...]] = {}
    for node in net["nodes"]:
        op, node_id = node["op"], node["id"]
        if op == "input":
            out[node_id] = tuple(int(d) for d in net["input_shape"])
            continue
        ins = [out[i] for i in node["inputs"]]
        first = ins[0]
        spatial_ops = ("conv", "pool", "proj", "flatten", "gap")
        if op in spatial_ops and len(first) != rank:
            raise ValueError(f"node {node_id} ({op}) needs a spatial input, got shape {first}")
        if op in ("dense", "output") and len(first) != 1:
            raise ValueError(f"node {node_id} ({op}) needs a flat input, got shape {first}")
        if op in ("conv", "proj"):
            out[node_id] = first[:-1] + (int(node["filters"]),)
        elif op == "pool":
            if min(first[:-1]) < 2:
                raise ValueError(f"node {node_id} (pool) needs spatial sides >= 2, got {first}")
            out[node_id] = tuple(s // 2 for s in first[:-1]) + first[-1:]
        elif op == "add":
            if ins[0] != ins[1]:
                raise ValueError(f"node {node_id} (add) needs equal input shapes, got {ins}")
            out[node_id] = first
        elif op == "concat":
            if len({s[:-1] for s in ins}) != 1 or any(len(s) != len(first) for s in ins):
                raise ValueError(f"node {node_id} (concat) needs equal non-channel sides, got {ins}")
            out[node_id] = first[:-1] + (sum(s[-1] for s in ins),)
        elif op == "flatten":
            out[node_id] = (math.prod(first),)
        elif op == "gap":
            out[node_id] = first[-1:]
        elif op == "dense":
            out[node_id] = (int(node["units"]),)
        else:  # output
            out[node_id] = (int(net["num_classes"]),)
    return out


def nonnegative(net: dict) -> set[str]:
    """Ids of the nodes whose output is provably >= 0 for every input.

    Conv units and dense layers end in a ReLU; pool, gap, flatten, concat and
    add keep non-negativity when all their inputs have it; the input and
    projections may be negative.
    """
    out: set[str] = set()
    for node in net["nodes"]:
        op = node["op"]
        passes = op in ("pool", "gap", "flatten", "concat", "add")
        if op in ("conv", "dense") or (passes and all(i in out for i in node["inputs"])):
            out.add(node["id"])
    return out


def _ancestors(net: dict) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for node in net["nodes"]:
        acc: set[str] = set()
        for source in node.get("inputs", []):
            acc |= {source} | out[source]
        out[node["id"]] = acc
    return out


def _propagate(
    net: dict, start: str, src: np.ndarray, n_old: int
) -> tuple[dict[str, tuple[np.ndarray, int]], bool]:
    """Follows a change of `start`'s output channels downstream.

    `src[k]` is the old channel that new channel `k` of `start` copies, or -1
    for a new channel that must get zero weights; `n_old` is the old number of
    channels. The change passes through pool/gap (unchanged), flatten
    (per position) and concat (with channel offsets) to the weighted nodes.

    Returns:
        `{consumer_id: (src, n_old)}` for the input rows of every weighted node
        reached, and whether an `add` is reached (then the change is invalid).
    """
    by_id, shape = _by_id(net), shapes(net)
    maps: dict[str, tuple[np.ndarray, int]] = {start: (np.asarray(src, dtype=np.int64), int(n_old))}
    consumers: dict[str, tuple[np.ndarray, int]] = {}
    reaches_add = False
    order = [n["id"] for n in net["nodes"]]
    for node_id in order[order.index(start) + 1:]:
        node = by_id[node_id]
        touched = [i for i in node["inputs"] if i in maps]
        if not touched:
            continue
        op = node["op"]
        if op in _WEIGHTED:
            consumers[node_id] = maps[node["inputs"][0]]
        elif op == "add":
            reaches_add = True
        elif op in ("pool", "gap"):
            maps[node_id] = maps[node["inputs"][0]]
        elif op == "flatten":
            m, c_old = maps[node["inputs"][0]]
            positions = math.prod(shape[node["inputs"][0]][:-1])
            flat = np.concatenate([np.where(m >= 0, p * c_old + m, -1) for p in range(positions)])
            maps[node_id] = (flat, positions * c_old)
        elif op == "concat":
            parts, offset = [], 0
            for source in node["inputs"]:
                if source in maps:
                    m, c_old = maps[source]
                else:
                    c_old = shape[source][-1]
                    m = np.arange(c_old)
                parts.append(np.where(m >= 0, m + offset, -1))
                offset += c_old
            maps[node_id] = (np.concatenate(parts), offset)
    return consumers, reaches_add


def _reaches_add(net: dict, node_id: str) -> bool:
    channels = shapes(net)[node_id][-1]
    return _propagate(net, node_id, np.arange(channels), channels)[1]


def weight_shapes(net: dict) -> dict[str, list[tuple[int, ...]]]:
    """Shapes of the arrays of every node, in the order `transfer` uses."""
    shape = shapes(net)
    k_prefix = _spatial_rank(net)
    out: dict[str, list[tuple[int, ...]]] = {}
    for node in net["nodes"]:
        op, node_id = node["op"], node["id"]
        c_in = shape[node["inputs"][0]][-1] if op != "input" else 0
        c_out = shape[node_id][-1]
        if op == "conv":
            kernel = (node["kernel"],) * k_prefix + (c_in, c_out)
            extra = [(c_out,)] * 4 if net["batch_norm"] else [(c_out,)]
            out[node_id] = [kernel] + extra
        elif op == "proj":
            out[node_id] = [(1,) * k_prefix + (c_in, c_out), (c_out,)]
        elif op in ("dense", "output"):
            out[node_id] = [(c_in, c_out), (c_out,)]
        else:
            out[node_id] = []
    return out


# ---------------------------------------------------------------------------
# creating morphisms
# ---------------------------------------------------------------------------
def _has_spatial(net: dict, shape: tuple[int, ...]) -> bool:
    return len(shape) == _spatial_rank(net) + 1


def _deeper_candidates(net: dict) -> list[str]:
    shape, nonneg = shapes(net), nonnegative(net)
    return [n["id"] for n in net["nodes"]
            if n["id"] in nonneg and _has_spatial(net, shape[n["id"]])]


def _wider_candidates(net: dict) -> list[str]:
    return [n["id"] for n in net["nodes"]
            if n["op"] in ("conv", "dense") and not _reaches_add(net, n["id"])]


def _skip_candidates(net: dict, *, concat: bool) -> list[tuple[str, str]]:
    shape, ancestors = shapes(net), _ancestors(net)
    pairs = []
    for node in net["nodes"]:
        b = node["id"]
        if node["op"] not in ("conv", "pool"):
            continue
        if concat and _reaches_add(net, b):
            continue
        for other in net["nodes"]:
            a = other["id"]
            if a in ancestors[b] and _has_spatial(net, shape[a]) and shape[a][:-1] == shape[b][:-1]:
                pairs.append((a, b))
    return pairs


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(0, 2**31 - 1))


def random_morphism(
    net: dict, rng: np.random.Generator, *, kinds: Iterable[str] = MORPHISM_TYPES
) -> dict | None:
    """Draws a morphism applicable to `net`.

    The kind is drawn uniformly among the `kinds` that apply somewhere, then
    the position (and sizes, kernel and seeds) uniformly.

    Args:
        net: The parent spec.
        rng: Source of all randomness.
        kinds: Allowed morphism types (a subset of `MORPHISM_TYPES`).

    Returns:
        A morphism dict, or None if no morphism of those kinds applies.

    Raises:
        ValueError: an unknown kind.
    """
    kinds = list(dict.fromkeys(kinds))
    unknown = [k for k in kinds if k not in MORPHISM_TYPES]
    if unknown:
        raise ValueError(f"unknown morphism kinds {unknown}; expected some of {MORPHISM_TYPES}")
    candidates = {
        "deeper": _deeper_candidates,
        "wider": _wider_candidates,
        "skip_add": lambda n: _skip_candidates(n, concat=False),
        "skip_concat": lambda n: _skip_candidates(n, concat=True),
    }
    options = {kind: candidates[kind](net) for kind in kinds}
    options = {kind: found for kind, found in options.items() if found}
    if not options:
        return None
    kind = list(options)[int(rng.integers(len(options)))]
    choice = options[kind][int(rng.integers(len(options[kind])))]
    shape = shapes(net)
    if kind == "deeper":
        return {"type": "deeper", "after": choice, "kernel": int(rng.choice(KERNELS))}
    if kind == "wider":
        old = shape[choice][-1]
        width = int(rng.integers(old + 1, 2 * old + 1))
        src = list(range(old)) + [int(s) for s in rng.integers(0, old, width - old)]
        return {"type": "wider", "node": choice, "old_width": old, "width": width,
                "src": src, "seed": _seed(rng)}
    a, b = choice
    if kind == "skip_add":
        return {"type": "skip_add", "a": a, "b": b}
    return {"type": "skip_concat", "a": a, "b": b, "filters": max(4, shape[b][-1] // 2),
            "kernel": int(rng.choice(KERNELS)), "seed": _seed(rng)}


def describe(morphism: dict) -> str:
    """Short human-readable text, e.g. `"wider n3 32->48"`."""
    kind = morphism.get("type")
    if kind == "deeper":
        return f"deeper after {morphism['after']} (conv {morphism['kernel']})"
    if kind == "wider":
        return f"wider {morphism['node']} {morphism['old_width']}->{morphism['width']}"
    if kind == "skip_add":
        return f"skip_add {morphism['a']} -> {morphism['b']}"
    if kind == "skip_concat":
        return (f"skip_concat {morphism['a']} -> {morphism['b']} "
                f"(+{morphism['filters']} conv {morphism['kernel']})")
    return f"unknown morphism {kind!r}"


# ---------------------------------------------------------------------------
# applying morphisms
# ---------------------------------------------------------------------------
def _new_ids(net: dict, count: int) -> list[str]:
    return [f"n{net['next_id'] + i}" for i in range(count)]


def _rewire(nodes: list[dict], old: str, new: str, skip: set[str]) -> None:
    for node in nodes:
        if node["id"] in skip or "inputs" not in node:
            continue
        node["inputs"] = [new if i == old else i for i in node["inputs"]]


def _insert_after(nodes: list[dict], anchor: str, new_nodes: list[dict]) -> None:
    index = next(i for i, n in enumerate(nodes) if n["id"] == anchor)
    nodes[index + 1:index + 1] = new_nodes


def _check_morphism(net: dict, m: Any) -> None:
    """Raises ValueError unless `m` is a well-formed morphism applicable to `net`."""
    if not isinstance(m, dict) or m.get("type") not in MORPHISM_TYPES:
        raise ValueError(f"not a morphism (type must be one of {MORPHISM_TYPES}): {m!r}")
    by_id, shape = _by_id(net), shapes(net)

    def node(field: str) -> dict:
        if m.get(field) not in by_id:
            raise ValueError(f"{m['type']} morphism: {field}={m.get(field)!r} is not a node of the network")
        return by_id[m[field]]

    kind = m["type"]
    if kind in ("deeper", "skip_concat"):
        k = m.get("kernel")
        if not _is_int(k) or k < 1 or k % 2 == 0:
            raise ValueError(f"{kind} morphism: kernel must be a positive odd integer, got {k!r}")
    if kind == "deeper":
        if node("after")["id"] not in _deeper_candidates(net):
            raise ValueError(f"deeper morphism: {m['after']} has no non-negative spatial output")
    elif kind == "wider":
        target = node("node")
        if target["op"] not in ("conv", "dense"):
            raise ValueError(f"wider morphism: {target['id']} is a {target['op']}, not conv or dense")
        old, width, src = m.get("old_width"), m.get("width"), m.get("src")
        if old != shape[target["id"]][-1]:
            raise ValueError(f"wider morphism: old_width {old!r} != width of {target['id']} "
                             f"({shape[target['id']][-1]})")
        if not _is_int(width) or not old < width <= 2 * old:
            raise ValueError(f"wider morphism: width must be in ({old}, {2 * old}], got {width!r}")
        if (not isinstance(src, list) or len(src) != width or src[:old] != list(range(old))
                or not all(_is_int(s) and 0 <= s < old for s in src)):
            raise ValueError("wider morphism: src must list `width` old unit indices, "
                             "starting with 0 .. old_width-1")
        if _reaches_add(net, target["id"]):
            raise ValueError(f"wider morphism: the output of {target['id']} reaches an add")
        if not _is_int(m.get("seed")):
            raise ValueError("wider morphism needs an integer seed")
    else:
        a, b = node("a"), node("b")
        if b["op"] not in ("conv", "pool"):
            raise ValueError(f"{kind} morphism: b={b['id']} must be a conv unit or a pool")
        if a["id"] not in _ancestors(net)[b["id"]]:
            raise ValueError(f"{kind} morphism: a={a['id']} is not an ancestor of b={b['id']}")
        if shape[a["id"]][:-1] != shape[b["id"]][:-1]:
            raise ValueError(f"{kind} morphism: a and b have different spatial shapes "
                             f"({shape[a['id']]} vs {shape[b['id']]})")
        if kind == "skip_concat":
            if _reaches_add(net, b["id"]):
                raise ValueError(f"skip_concat morphism: the output of {b['id']} reaches an add")
            _positive_int(m.get("filters"), "skip_concat filters")
            if not _is_int(m.get("seed")):
                raise ValueError("skip_concat morphism needs an integer seed")


def apply(net: dict, morphism: dict) -> dict:
    """The child spec of `net` under `morphism` (`net` is not modified).

    New node ids, in order: deeper -> the conv unit; skip_add -> the proj, then
    the add; skip_concat -> the conv unit, then the concat.

    Raises:
        ValueError: the morphism is malformed or does not apply to `net`.
    """
    _check_morphism(net, morphism)
    child = copy.deepcopy(net)
    nodes, kind, shape = child["nodes"], morphism["type"], shapes(net)
    if kind == "wider":
        target = _by_id(child)[morphism["node"]]
        target["units" if target["op"] == "dense" else "filters"] = int(morphism["width"])
        return child
    if kind == "deeper":
        (new,) = _new_ids(child, 1)
        after = morphism["after"]
        _rewire(nodes, after, new, set())
        _insert_after(nodes, after, [{"id": new, "op": "conv", "inputs": [after],
                                      "filters": shape[after][-1],
                                      "kernel": int(morphism["kernel"])}])
        child["next_id"] += 1
        return child
    a, b = morphism["a"], morphism["b"]
    first, joint = _new_ids(child, 2)
    if kind == "skip_add":
        branch = {"id": first, "op": "proj", "inputs": [a], "filters": shape[b][-1]}
        merge = {"id": joint, "op": "add", "inputs": [b, first]}
    else:
        branch = {"id": first, "op": "conv", "inputs": [a], "filters": int(morphism["filters"]),
                  "kernel": int(morphism["kernel"])}
        merge = {"id": joint, "op": "concat", "inputs": [b, first]}
    _rewire(nodes, b, joint, set())
    _insert_after(nodes, b, [branch, merge])
    child["next_id"] += 2
    return child


# ---------------------------------------------------------------------------
# transferring weights
# ---------------------------------------------------------------------------
def _check_weights(net: dict, weights: dict) -> None:
    expected = weight_shapes(net)
    for node_id, want in expected.items():
        got = weights.get(node_id)
        if got is None:
            raise ValueError(f"weights lack node {node_id}")
        got_shapes = [tuple(np.shape(w)) for w in got]
        if got_shapes != want:
            raise ValueError(f"weights of node {node_id}: shapes {got_shapes}, expected {want}")


def _expand_rows(kernel: np.ndarray, src: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Input rows (axis -2) of a consumer's kernel for remapped input channels.

    Row `k` of the result carries old row `src[k]` divided among all `k` with
    the same `src`, plus zero-sum noise within each group; rows with
    `src[k] == -1` are zero. The consumer's output is unchanged as long as
    replicated inputs are equal and new (-1) inputs are anything.
    """
    old = np.asarray(kernel, dtype=np.float64)
    out = np.zeros(old.shape[:-2] + (len(src), old.shape[-1]))
    scale = WIDER_NOISE * float(old.std())
    for j in np.unique(src[src >= 0]):
        group = np.flatnonzero(src == j)
        base = old[..., j, :] / len(group)
        if len(group) > 1 and scale > 0:
            noise = rng.normal(0.0, scale, (len(group),) + base.shape)
            noise -= noise.mean(axis=0)
        else:
            noise = np.zeros((len(group),) + base.shape)
        for r, k in enumerate(group):
            out[..., k, :] = base + noise[r]
    return out.astype(np.asarray(kernel).dtype)


def _identity_unit(net: dict, channels: int, kernel: int) -> list[np.ndarray]:
    k = np.zeros((kernel,) * _spatial_rank(net) + (channels, channels), dtype=np.float32)
    centre = (kernel // 2,) * _spatial_rank(net)
    k[centre] = np.eye(channels, dtype=np.float32)
    return [k] + _unit_tail(net, channels, gamma=math.sqrt(1.0 + BN_EPSILON))


def _unit_tail(net: dict, channels: int, *, gamma: float = 1.0) -> list[np.ndarray]:
    """Bias (without BN) or [gamma, beta, moving_mean, moving_var] of a fresh unit."""
    zeros = np.zeros(channels, dtype=np.float32)
    if not net["batch_norm"]:
        return [zeros]
    return [np.full(channels, gamma, dtype=np.float32), zeros.copy(), zeros.copy(),
            np.ones(channels, dtype=np.float32)]


def _random_unit(net: dict, c_in: int, filters: int, kernel: int,
                 rng: np.random.Generator) -> list[np.ndarray]:
    fan_in = c_in * kernel ** _spatial_rank(net)
    shape = (kernel,) * _spatial_rank(net) + (c_in, filters)
    k = rng.normal(0.0, math.sqrt(2.0 / fan_in), shape).astype(np.float32)
    return [k] + _unit_tail(net, filters)


def _remap_consumers(
    child: dict, out: dict, start: str, src: np.ndarray, n_old: int, rng: np.random.Generator
) -> None:
    consumers, _ = _propagate(child, start, src, n_old)
    for node_id in (n["id"] for n in child["nodes"]):
        if node_id in consumers:
            rows, _ = consumers[node_id]
            arrays = out[node_id]
            arrays[0] = _expand_rows(arrays[0], rows, rng)


def transfer(net: dict, weights: dict[str, list[np.ndarray]],
             morphism: dict) -> dict[str, list[np.ndarray]]:
    """Weights of the child `apply(net, morphism)` from the parent's `weights`.

    The child computes the same function as the parent (up to float rounding;
    batch norm in inference mode).

    Args:
        net: The parent spec.
        weights: `{node_id: arrays}` of the parent (layout in the module docstring).
        morphism: A morphism of `net`.

    Returns:
        `{node_id: arrays}` of every node of the child; arrays of unchanged
        nodes are copies.

    Raises:
        ValueError: a malformed morphism, or weights not matching `net`.
    """
    child = apply(net, morphism)
    _check_weights(net, weights)
    out = {node_id: [np.array(w, copy=True) for w in arrays] for node_id, arrays in weights.items()
           if node_id in _by_id(net)}
    kind, shape = morphism["type"], shapes(net)
    if kind == "deeper":
        (new,) = _new_ids(net, 1)
        out[new] = _identity_unit(net, shape[morphism["after"]][-1], morphism["kernel"])
    elif kind == "skip_add":
        proj_id, add_id = _new_ids(net, 2)
        c_in, c_out = shape[morphism["a"]][-1], shape[morphism["b"]][-1]
        kernel = np.zeros((1,) * _spatial_rank(net) + (c_in, c_out), dtype=np.float32)
        out[proj_id] = [kernel, np.zeros(c_out, dtype=np.float32)]
        out[add_id] = []
    elif kind == "skip_concat":
        unit_id, concat_id = _new_ids(net, 2)
        rng = np.random.default_rng(morphism["seed"])
        out[unit_id] = _random_unit(net, shape[morphism["a"]][-1], morphism["filters"],
                                    morphism["kernel"], rng)
        out[concat_id] = []
        c_b = shape[morphism["b"]][-1]
        src = np.concatenate([np.arange(c_b), np.full(morphism["filters"], -1)])
        _remap_consumers(child, out, concat_id, src, c_b, rng)
    else:
        node_id = morphism["node"]
        src = np.asarray(morphism["src"], dtype=np.int64)
        arrays = out[node_id]
        arrays[0] = arrays[0][..., src]
        for i in range(1, len(arrays)):
            arrays[i] = arrays[i][src]
        rng = np.random.default_rng(morphism["seed"])
        _remap_consumers(child, out, node_id, src, int(morphism["old_width"]), rng)
    return out
