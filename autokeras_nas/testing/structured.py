"""Toy structured spaces for strategy tests: a morphable network and a cell space.

A strategy that declares `SpaceKind.NETWORK` or `SpaceKind.CELLS` in its
`space_kinds` is bound to one of these with `use_space(kind, structure)` and
driven like on a hyperparameter space. Its trials carry their architecture
(`Suggestion.arch`) in the formats the package's hypermodels read:

* network: `{"net": <spec>, "morphisms": [<morphism>, ...]}`, the spec of
  `autokeras_nas.spaces.morph_graph` (`MorphHyperModel`);
* cells: `{"cell": [[in1, op1, in2, op2], ...], "macro": {...}}`, the cells
  of `autokeras_nas.spaces.cell_graph` (`CellHyperModel`).

The objectives are analytic functions of the architecture (no Keras, no
randomness), and `arch_problems` checks an architecture against its space
without building it. The structures are written out here (they equal
`morph_graph.start_network((8, 8, 1), 3, filters=(4, 8, 8), dense_units=16)`
and a `CellHyperModel`'s `cells` with two operators; the tests check that)
so that this package imports nothing but `autokeras_nas.core`.
"""

from __future__ import annotations

import copy
import json
import math
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from autokeras_nas.core import ARCH, HyperSpace, SpaceKind

#: The kinds of space the conformance suite has a toy space for.
DRIVEN_KINDS = (SpaceKind.HYPERPARAMETERS, SpaceKind.NETWORK, SpaceKind.CELLS)

_TOY_NETWORK: dict[str, Any] = {
    "kind": "2d", "input_shape": [8, 8, 1], "num_classes": 3, "batch_norm": True,
    "nodes": [
        {"id": "n0", "op": "input"},
        {"id": "n1", "op": "conv", "inputs": ["n0"], "filters": 4, "kernel": 3},
        {"id": "n2", "op": "pool", "inputs": ["n1"]},
        {"id": "n3", "op": "conv", "inputs": ["n2"], "filters": 8, "kernel": 3},
        {"id": "n4", "op": "pool", "inputs": ["n3"]},
        {"id": "n5", "op": "conv", "inputs": ["n4"], "filters": 8, "kernel": 3},
        {"id": "n6", "op": "flatten", "inputs": ["n5"]},
        {"id": "n7", "op": "dense", "inputs": ["n6"], "units": 16},
        {"id": "n8", "op": "output", "inputs": ["n7"]},
    ],
    "next_id": 9,
}

_TOY_CELLS: dict[str, Any] = {
    "ops": ["identity", "conv3x3"], "max_blocks": 3, "lookback": 2,
    "macro": {"motifs": 2, "normal_cells": 1, "filters": 8, "residual": False, "dropout": 0.0},
}


def toy_network() -> dict[str, Any]:
    """A new copy of the toy start network: NASH's conv-pool-conv-pool-conv-
    dense on 8x8x1 inputs, 3 classes, 4/8/8 filters (small so that every
    morphism kind applies and specs stay short)."""
    return copy.deepcopy(_TOY_NETWORK)


def toy_cells() -> dict[str, Any]:
    """A new copy of the toy cell-space configuration: two operators,
    lookback 2 and up to 3 blocks, so 10 one-block cells and two
    progressive expansions."""
    return copy.deepcopy(_TOY_CELLS)


def _unit_hash(text: str) -> float:
    return (zlib.crc32(text.encode()) % 10_007) / 10_007.0


def _arch(values: Mapping[str, Any]) -> dict[str, Any]:
    text = values.get(ARCH)
    if not isinstance(text, str):
        raise ValueError(f"a structured objective needs the architecture under {ARCH!r}")
    return json.loads(text)


def network_objective(values: Mapping[str, Any]) -> dict[str, float]:
    """Score and parameter count of a network trial (`values[ARCH]`).

    Best near 6 conv units and 64 conv filters in all; skip connections help
    a little; a stable hash of the network adds at most 0.01, so that two
    different networks rarely tie.
    """
    net = _arch(values)["net"]
    nodes = net["nodes"]
    convs = [n for n in nodes if n["op"] == "conv"]
    width = max(1, sum(int(n["filters"]) for n in convs))
    skips = sum(n["op"] in ("add", "concat") for n in nodes)
    score = 1.0 / (1.0 + (len(convs) - 6) ** 2 / 8.0)
    score += 1.0 / (1.0 + (math.log2(width) - 6.0) ** 2 / 2.0)
    score += 0.1 * min(skips, 3)
    score += 0.01 * _unit_hash(json.dumps(net, sort_keys=True))
    params = sum(int(n["filters"]) * int(n["kernel"]) ** 2 for n in convs)
    params += sum(10 * int(n.get("units", 0)) + int(n.get("filters", 0)) for n in nodes
                  if n["op"] in ("dense", "proj"))
    return {"score": score, "params": float(params)}


_OP_SCORE = {"conv3x3": 1.0, "identity": 0.3}


def cells_objective(values: Mapping[str, Any]) -> dict[str, float]:
    """Score and parameter count of a cell trial (`values[ARCH]`).

    Convolutions score best, blocks that read other blocks or the older
    input (-2) a little; the score does not depend on how the cell is
    written (block order, pair order).
    """
    cell = _arch(values)["cell"]
    score = 0.0
    for in1, op1, in2, op2 in cell:
        score += _OP_SCORE.get(op1, 0.5) + _OP_SCORE.get(op2, 0.5)
        score += 0.15 * ((in1 >= 0) + (in2 >= 0)) + 0.05 * ((in1 == -2) + (in2 == -2))
    convs = sum((b[1] == "conv3x3") + (b[3] == "conv3x3") for b in cell)
    return {"score": score / 3.0, "params": float(1000 + 576 * convs)}


# ---------------------------------------------------------------------------
# validity of an architecture
# ---------------------------------------------------------------------------
def _network_problems(arch: Any, parent: Any, start: Mapping[str, Any]) -> list[str]:
    if not isinstance(arch, dict) or set(arch) != {"net", "morphisms"}:
        return [f"a network arch is {{'net': ..., 'morphisms': [...]}}, got keys "
                f"{sorted(arch) if isinstance(arch, dict) else type(arch).__name__}"]
    net, morphisms = arch["net"], arch["morphisms"]
    out: list[str] = []
    if not isinstance(morphisms, list) or not all(
            isinstance(m, dict) and isinstance(m.get("type"), str) for m in morphisms):
        out.append("'morphisms' is not a list of morphisms (dicts with a 'type')")
    nodes = net.get("nodes") if isinstance(net, dict) else None
    if not isinstance(nodes, list) or len(nodes) < 2 or not all(isinstance(n, dict) for n in nodes):
        return out + ["'net' has no list of nodes"]
    for field in ("kind", "input_shape", "num_classes"):
        if net.get(field) != start[field]:
            out.append(f"the network's {field} {net.get(field)!r} is not the space's "
                       f"{start[field]!r}")
    if nodes[0].get("op") != "input" or nodes[-1].get("op") != "output":
        out.append("the network does not run from an input node to an output node")
    ids: set[Any] = set()
    for node in nodes:
        if not set(node.get("inputs", [])) <= ids:
            out.append(f"node {node.get('id')!r} reads a node not defined before it")
        ids.add(node.get("id"))
    if morphisms and parent is None:
        out.append("morphisms without a parent to apply them to")
    if isinstance(parent, dict) and isinstance(parent.get("net"), dict):
        lost = {n.get("id") for n in parent["net"].get("nodes", [])} - ids
        if lost:
            out.append(f"nodes {sorted(lost)} of the parent's network are gone "
                       "(morphisms only add)")
    return out


def _cells_problems(arch: Any, config: Mapping[str, Any]) -> list[str]:
    if not isinstance(arch, dict) or set(arch) != {"cell", "macro"}:
        return [f"a cell arch is {{'cell': [...], 'macro': {{...}}}}, got keys "
                f"{sorted(arch) if isinstance(arch, dict) else type(arch).__name__}"]
    out = []
    if arch["macro"] != config["macro"]:
        out.append(f"macro {arch['macro']!r} is not the space's {config['macro']!r}")
    cell = arch["cell"]
    if not isinstance(cell, list) or not 1 <= len(cell) <= config["max_blocks"]:
        return out + [f"a cell is a list of 1 to {config['max_blocks']} blocks, got {cell!r}"]
    for b, block in enumerate(cell):
        if not isinstance(block, list) or len(block) != 4:
            out.append(f"block {b} is not [in1, op1, in2, op2]: {block!r}")
            continue
        for inp in block[0::2]:
            if type(inp) is not int or not -config["lookback"] <= inp < b:
                out.append(f"block {b}: input {inp!r} out of range")
        for op in block[1::2]:
            if op not in config["ops"]:
                out.append(f"block {b}: operator {op!r} not in the space's {config['ops']}")
    return out


@dataclass(frozen=True)
class StructuredSpace:
    """A toy structured space: what a strategy is bound to, and how its
    trials are scored and checked.

    Attributes:
        name: Scenario name ("network", "cells").
        kind: The `SpaceKind` a strategy must declare to be driven on it.
        structure: What `use_space(kind, structure)` receives (a copy of it).
        objective: `objective(values)` with the architecture under `ARCH`.
    """

    name: str
    kind: SpaceKind
    structure: Mapping[str, Any]
    objective: Callable[[Mapping[str, Any]], Mapping[str, float]]

    def hyperspace(self) -> HyperSpace:
        """The hyperparameter part, as `setup` receives it: empty, as for
        the package's structured hypermodels, which register none."""
        return HyperSpace([])

    def bind(self, strategy: Any) -> None:
        """`strategy.use_space(kind, structure)` with a fresh copy."""
        strategy.use_space(self.kind, copy.deepcopy(dict(self.structure)))

    def arch_problems(self, arch: str, parent_arch: str | None = None) -> list[str]:
        """Why `arch` (JSON text) is not an architecture of this space, given
        the architecture of the trial it names as parent (empty when valid)."""
        try:
            data = json.loads(arch)
            parent = None if parent_arch is None else json.loads(parent_arch)
        except (TypeError, ValueError) as exc:
            return [f"arch is not JSON: {exc}"]
        if self.kind is SpaceKind.NETWORK:
            return _network_problems(data, parent, self.structure)
        return _cells_problems(data, self.structure)


def structured_spaces() -> dict[str, StructuredSpace]:
    """New instances of the toy structured spaces: "network" (a morphable
    network, `SpaceKind.NETWORK`) and "cells" (`SpaceKind.CELLS`)."""
    return {
        "network": StructuredSpace("network", SpaceKind.NETWORK, toy_network(), network_objective),
        "cells": StructuredSpace("cells", SpaceKind.CELLS, toy_cells(), cells_objective),
    }


def structured_space_for(kind: SpaceKind) -> StructuredSpace | None:
    """The toy space of a structured kind; None for hyperparameters and for
    kinds without one (`SUPERNET`)."""
    for space in structured_spaces().values():
        if space.kind is SpaceKind(kind):
            return space
    return None
