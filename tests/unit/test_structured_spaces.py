"""The toy structured spaces of `autokeras_nas.testing` and how the drivers
handle architectures."""

from __future__ import annotations

import json

import pytest

from autokeras_nas.core import ARCH, Suggestion, TrialStatus, make_rng
from autokeras_nas.spaces import CellSpace, MacroConfig, apply_morphism, random_morphism
from autokeras_nas.spaces import morph_graph
from autokeras_nas.testing import (
    Step,
    cells_objective,
    describe,
    make_observation,
    network_objective,
    structured_spaces,
    toy_cells,
    toy_network,
)


def _network_arch(net, morphisms=()):
    return json.dumps({"net": net, "morphisms": list(morphisms)})


def _cells_arch(cell, macro=None):
    return json.dumps({"cell": [list(b) for b in cell], "macro": macro or toy_cells()["macro"]})


def _child(net, kind, seed=0):
    morphism = random_morphism(net, make_rng(seed), kinds=[kind])
    assert morphism is not None, f"no {kind} morphism applies to the toy network"
    return apply_morphism(net, morphism), morphism


# ---------------------------------------------------------------------------
# the structures are what the package's spaces make and accept
# ---------------------------------------------------------------------------
def test_toy_network_is_nashs_start_network_and_every_morphism_applies():
    net = toy_network()
    assert net == morph_graph.start_network((8, 8, 1), 3, filters=(4, 8, 8), dense_units=16)
    assert morph_graph.validate(net) == net
    for kind in morph_graph.MORPHISM_TYPES:
        _child(net, kind)
    toy_network()["nodes"].clear()
    assert toy_network() == net  # a copy each time


def test_toy_cells_are_a_cell_space_configuration():
    config = toy_cells()
    assert set(config) == {"ops", "max_blocks", "lookback", "macro"}
    space = CellSpace(ops=config["ops"], max_blocks=config["max_blocks"],
                      lookback=config["lookback"])
    assert len(space.one_block_cells()) == 10
    assert MacroConfig.from_dict(config["macro"]).to_dict() == config["macro"]


# ---------------------------------------------------------------------------
# objectives
# ---------------------------------------------------------------------------
def test_network_objective_is_a_deterministic_function_of_the_network():
    net = toy_network()
    start = network_objective({ARCH: _network_arch(net)})
    assert start == network_objective({ARCH: _network_arch(toy_network())})
    assert set(start) == {"score", "params"} and start["params"] > 0
    deeper, m = _child(net, "deeper")
    # the score depends on the network, not on the morphisms that made it
    assert network_objective({ARCH: _network_arch(deeper, [m])}) == \
        network_objective({ARCH: _network_arch(deeper)})
    assert network_objective({ARCH: _network_arch(deeper)})["score"] != start["score"]
    with pytest.raises(ValueError, match="needs the architecture"):
        network_objective({})


def test_cells_objective_ignores_how_a_cell_is_written():
    space = CellSpace(ops=toy_cells()["ops"])
    cell = ((-2, "identity", -1, "conv3x3"), (0, "conv3x3", -1, "identity"))
    swapped = ((-1, "conv3x3", -2, "identity"), (-1, "identity", 0, "conv3x3"))
    assert space.key(cell) == space.key(swapped)
    score = cells_objective({ARCH: _cells_arch(cell)})
    assert score == cells_objective({ARCH: _cells_arch(swapped)})
    worse = ((-2, "identity", -1, "identity"),)
    assert cells_objective({ARCH: _cells_arch(worse)})["score"] < score["score"]


# ---------------------------------------------------------------------------
# validity of architectures
# ---------------------------------------------------------------------------
def test_network_arch_problems():
    space = structured_spaces()["network"]
    net = toy_network()
    child, m = _child(net, "skip_concat")
    assert space.arch_problems(_network_arch(net)) == []
    assert space.arch_problems(_network_arch(child, [m]), _network_arch(net)) == []
    assert space.arch_problems(_network_arch(child)) == []  # a network built from scratch
    assert "morphisms without a parent" in space.arch_problems(_network_arch(child, [m]))[0]
    shrunk = {**net, "nodes": [n for n in net["nodes"] if n["id"] != "n2"]}
    problems = space.arch_problems(_network_arch(shrunk), _network_arch(net))
    assert any("reads a node not defined before it" in p for p in problems)
    assert any("nodes ['n2'] of the parent's network are gone" in p for p in problems)
    assert "num_classes 10 is not the space's 3" in \
        space.arch_problems(_network_arch({**net, "num_classes": 10}))[0]
    assert "got keys ['net']" in space.arch_problems(json.dumps({"net": net}))[0]
    assert "not JSON" in space.arch_problems("{net")[0]


def test_cells_arch_problems():
    space = structured_spaces()["cells"]
    assert space.arch_problems(_cells_arch([(-2, "identity", -1, "conv3x3")])) == []
    problems = space.arch_problems(_cells_arch([(-3, "sep3x3", 1, "conv3x3")]))
    assert "block 0: input -3 out of range" in problems
    assert "block 0: input 1 out of range" in problems
    assert any("operator 'sep3x3' not in the space's" in p for p in problems)
    too_long = [(-1, "identity", -1, "conv3x3")] * 4
    assert "1 to 3 blocks" in space.arch_problems(_cells_arch(too_long))[0]
    other = {**toy_cells()["macro"], "filters": 32}
    assert "macro" in space.arch_problems(_cells_arch([(-1, "identity", -1, "conv3x3")], other))[0]


# ---------------------------------------------------------------------------
# the drivers see and compare architectures
# ---------------------------------------------------------------------------
def test_make_observation_hands_the_architecture_to_the_objective():
    seen = []

    def objective(values):
        seen.append(dict(values))
        return 1.0

    arch = _network_arch(toy_network())
    obs = make_observation("0", Suggestion.run({"lr": 0.1}, arch=arch), objective)
    assert seen == [{"lr": 0.1, ARCH: arch}]
    assert obs.values == {"lr": 0.1} and obs.arch == arch
    plain = make_observation("1", Suggestion.run({"lr": 0.1}), objective)
    assert seen[-1] == {"lr": 0.1} and plain.arch is None
    assert plain.metrics["params"] != obs.metrics["params"]  # cost metrics see the arch
    failed = make_observation("2", Suggestion.run({}, arch=arch), objective, TrialStatus.FAILED)
    assert failed.arch == arch and failed.metrics == {}


def test_describe_compares_architectures_by_content_and_the_task():
    def step(**kwargs):
        return Step("3", Suggestion.run({"a": 1}, **kwargs))

    a = '{"net": {"x": 1, "y": [1, 2]}, "morphisms": []}'
    same_content = '{"morphisms":[],"net":{"y":[1,2],"x":1}}'
    other = '{"net": {"x": 2, "y": [1, 2]}, "morphisms": []}'
    assert describe(step(arch=a)) == describe(step(arch=same_content))
    assert describe(step(arch=a)) != describe(step(arch=other))
    assert describe(step(arch=a)) != describe(step())
    assert describe(step(task="evaluate")) != describe(step())
    assert describe(step(task="evaluate", task_config={"recalibrate": True})) != \
        describe(step(task="evaluate", task_config={"recalibrate": False}))
