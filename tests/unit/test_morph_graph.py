"""Network specs and morphisms of `autokeras_nas.spaces.morph_graph` (numpy only)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys

import numpy as np
import pytest

from autokeras_nas.spaces import morph_graph as g


def _ops(net):
    return [n["op"] for n in net["nodes"]]


def _node(net, node_id):
    return next(n for n in net["nodes"] if n["id"] == node_id)


def _random_weights(net, seed=0):
    rng = np.random.default_rng(seed)
    return {k: [rng.normal(size=s).astype("float32") for s in shapes]
            for k, shapes in g.weight_shapes(net).items()}


def _grown(seed=0, steps=8, **kwargs):
    """A start network after `steps` random morphisms."""
    rng = np.random.default_rng(seed)
    net = g.start_network((8, 8, 1), 3, filters=(4, 6, 8), dense_units=8, **kwargs)
    for _ in range(steps):
        net = g.apply(net, g.random_morphism(net, rng))
    return net


def test_module_does_not_import_tensorflow():
    code = ("import sys; import autokeras_nas.spaces.morph_graph as g; "
            "g.apply(g.start_network((8, 8, 1), 2), {'type': 'skip_add', 'a': 'n2', 'b': 'n3'}); "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------
# start networks
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("shape, expected", [
    ((28, 28, 1), [(28, 28, 1), (28, 28, 32), (14, 14, 32), (14, 14, 64), (7, 7, 64),
                   (7, 7, 128), (7 * 7 * 128,), (128,), (10,)]),
    ((8, 8, 1), [(8, 8, 1), (8, 8, 32), (4, 4, 32), (4, 4, 64), (2, 2, 64), (2, 2, 128),
                 (512,), (128,), (10,)]),
    ((64, 1), [(64, 1), (64, 32), (32, 32), (32, 64), (16, 64), (16, 128), (2048,),
               (128,), (10,)]),
    ((24, 3), [(24, 3), (24, 32), (12, 32), (12, 64), (6, 64), (6, 128), (768,), (128,), (10,)]),
])
def test_start_network_shapes(shape, expected):
    net = g.start_network(shape, 10)
    assert net["kind"] == ("2d" if len(shape) == 3 else "1d")
    assert _ops(net) == ["input", "conv", "pool", "conv", "pool", "conv", "flatten", "dense", "output"]
    assert list(g.shapes(net).values()) == expected
    assert net["next_id"] == len(net["nodes"])


def test_start_network_skips_pools_on_tiny_inputs():
    net = g.start_network((2, 2, 1), 2, batch_norm=False)
    assert _ops(net) == ["input", "conv", "pool", "conv", "conv", "flatten", "dense", "output"]
    assert not net["batch_norm"]
    assert g.shapes(net)[net["nodes"][-3]["id"]] == (128,)


@pytest.mark.parametrize("args, kwargs", [
    (((8,), 10), {}),
    (((8, 8, 1, 1), 10), {}),
    (((8, 0, 1), 10), {}),
    (((8, 8, 1), 1), {}),
    (((8, 8, 1), 10), {"filters": ()}),
    (((8, 8, 1), 10), {"filters": (4, 0)}),
    (((8, 8, 1), 10), {"kernel": 0}),
    (((8, 8, 1), 10), {"dense_units": 2.5}),
])
def test_start_network_rejects_bad_arguments(args, kwargs):
    with pytest.raises(ValueError):
        g.start_network(*args, **kwargs)


def test_nonnegative():
    net = g.apply(g.start_network((8, 8, 1), 2), {"type": "skip_add", "a": "n2", "b": "n3"})
    nonneg = g.nonnegative(net)
    assert "n0" not in nonneg
    assert {"n1", "n2", "n3", "n5", "n7"} <= nonneg
    proj, add = net["next_id"] - 2, net["next_id"] - 1
    assert f"n{proj}" not in nonneg and f"n{add}" not in nonneg
    assert "n4" not in nonneg  # pool of the add


# ---------------------------------------------------------------------------
# JSON
# ---------------------------------------------------------------------------
def test_json_round_trip():
    net = _grown(seed=3)
    text = g.to_json(net)
    assert g.from_json(text) == net
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    assert " " not in text


def _broken(mutate):
    net = g.start_network((8, 8, 1), 3)
    mutate(net)
    return json.dumps(net)


@pytest.mark.parametrize("text", [
    "{not json",
    "[]",
    _broken(lambda n: n.pop("next_id")),
    _broken(lambda n: n.update(extra=1)),
    _broken(lambda n: n.update(kind="3d")),
    _broken(lambda n: n.update(input_shape=[8, 8])),
    _broken(lambda n: n.update(num_classes=1)),
    _broken(lambda n: n.update(batch_norm="yes")),
    _broken(lambda n: n.update(next_id=3)),
    _broken(lambda n: n["nodes"][1].update(op="sigmoid")),
    _broken(lambda n: n["nodes"][1].update(filters=0)),
    _broken(lambda n: n["nodes"][1].pop("kernel")),
    _broken(lambda n: n["nodes"][1].update(colour="red")),
    _broken(lambda n: n["nodes"][3].update(inputs=["n7"])),
    _broken(lambda n: n["nodes"][3].update(inputs=["nope"])),
    _broken(lambda n: n["nodes"][2].update(id="n1")),
    _broken(lambda n: n["nodes"].pop()),
    _broken(lambda n: n["nodes"].pop(0)),
    _broken(lambda n: n["nodes"][7].update(inputs=["n5"])),   # dense on a spatial map
    _broken(lambda n: n["nodes"][6].update(op="pool")),  # dense after a pool
    _broken(lambda n: n["nodes"].insert(6, {"id": "n20", "op": "add", "inputs": ["n4", "n5"]})),
    _broken(lambda n: n["nodes"].insert(6, {"id": "n20", "op": "concat", "inputs": ["n3", "n5"]})),
])
def test_malformed_specs_raise_value_error(text):
    with pytest.raises(ValueError):
        g.from_json(text)


# ---------------------------------------------------------------------------
# morphisms
# ---------------------------------------------------------------------------
def _one(net, kind, seed=0):
    m = g.random_morphism(net, np.random.default_rng(seed), kinds=(kind,))
    assert m is not None and m["type"] == kind
    json.dumps(m)
    return m


@pytest.mark.parametrize("batch_norm", [True, False])
def test_deeper(batch_norm):
    net = g.start_network((8, 8, 1), 3, batch_norm=batch_norm)
    m = _one(net, "deeper")
    assert m["after"] in g.nonnegative(net) and m["after"] != "n0"
    child = g.apply(net, m)
    new = f"n{net['next_id']}"
    node = _node(child, new)
    assert node["op"] == "conv" and node["inputs"] == [m["after"]]
    assert node["filters"] == g.shapes(net)[m["after"]][-1]
    assert node["kernel"] % 2 == 1
    assert child["next_id"] == net["next_id"] + 1
    consumers = [n["id"] for n in child["nodes"] if m["after"] in n.get("inputs", [])]
    assert consumers == [new]
    weights = g.transfer(net, _random_weights(net), m)
    kernel = weights[new][0]
    assert kernel.sum() == pytest.approx(node["filters"])
    centre = kernel[node["kernel"] // 2, node["kernel"] // 2]
    np.testing.assert_array_equal(centre, np.eye(node["filters"]))


def test_deeper_never_after_input_or_projection():
    rng = np.random.default_rng(0)
    net = g.apply(g.start_network((8, 8, 1), 2), {"type": "skip_add", "a": "n2", "b": "n3"})
    for _ in range(50):
        m = g.random_morphism(net, rng, kinds=("deeper",))
        assert m["after"] not in ("n0", "n9", "n10", "n4")
    with pytest.raises(ValueError):
        g.apply(net, {"type": "deeper", "after": "n0", "kernel": 3})
    with pytest.raises(ValueError):
        g.apply(net, {"type": "deeper", "after": "n1", "kernel": 2})


def test_wider_conv_and_weights():
    net = g.start_network((8, 8, 1), 3, filters=(4, 6, 8), dense_units=8)
    m = {"type": "wider", "node": "n3", "old_width": 6, "width": 9, "src": [0, 1, 2, 3, 4, 5, 1, 1, 4],
         "seed": 7}
    assert g.describe(m) == "wider n3 6->9"
    child = g.apply(net, m)
    assert _node(child, "n3")["filters"] == 9 and _node(net, "n3")["filters"] == 6
    weights = _random_weights(net)
    new = g.transfer(net, weights, m)
    assert {k: [a.shape for a in v] for k, v in new.items()} == g.weight_shapes(child)
    np.testing.assert_array_equal(new["n3"][0][..., 7], weights["n3"][0][..., 1])  # replica
    np.testing.assert_array_equal(new["n3"][1][8], weights["n3"][1][4])  # BN gamma
    # the next conv's rows of old channel 1 (3 replicas) sum to the old row
    rows = new["n5"][0][:, :, [1, 6, 7], :]
    np.testing.assert_allclose(rows.sum(axis=2), weights["n5"][0][:, :, 1, :], atol=1e-6)
    assert not np.allclose(rows[:, :, 0], rows[:, :, 1])  # symmetry broken
    np.testing.assert_array_equal(new["n5"][0][:, :, 0], weights["n5"][0][:, :, 0])


def test_wider_last_conv_splits_flattened_rows_per_position():
    net = g.start_network((4, 4, 1), 3, filters=(2, 3), dense_units=5, batch_norm=False)
    # n1 conv, n2 pool, n3 conv (2x2x3), n4 flatten (12), n5 dense
    m = {"type": "wider", "node": "n3", "old_width": 3, "width": 4, "src": [0, 1, 2, 2], "seed": 0}
    weights = _random_weights(net)
    new = g.transfer(net, weights, m)
    old_rows, new_rows = weights["n5"][0], new["n5"][0]
    assert new_rows.shape == (16, 5)
    for p in range(4):
        np.testing.assert_array_equal(new_rows[p * 4 + 1], old_rows[p * 3 + 1])
        np.testing.assert_allclose(new_rows[p * 4 + 2] + new_rows[p * 4 + 3], old_rows[p * 3 + 2],
                                   atol=1e-6)
    np.testing.assert_array_equal(new["n3"][1][3], weights["n3"][1][2])  # bias copied


def test_wider_dense():
    net = g.start_network((8, 8, 1), 3, filters=(4, 6, 8), dense_units=8)
    m = {"type": "wider", "node": "n7", "old_width": 8, "width": 10, "src": list(range(8)) + [0, 0],
         "seed": 1}
    child = g.apply(net, m)
    assert _node(child, "n7")["units"] == 10
    new = g.transfer(net, _random_weights(net), m)
    assert new["n8"][0].shape == (10, 3)


def test_wider_draws_sizes_in_range():
    rng = np.random.default_rng(0)
    net = g.start_network((8, 8, 1), 3, filters=(4, 6, 8), dense_units=8)
    for _ in range(30):
        m = g.random_morphism(net, rng, kinds=("wider",))
        assert m["old_width"] < m["width"] <= 2 * m["old_width"]
        assert m["src"][:m["old_width"]] == list(range(m["old_width"]))
        node = _node(g.apply(net, m), m["node"])
        assert node.get("filters", node.get("units")) == m["width"]


def test_skip_add():
    net = g.start_network((8, 8, 1), 3, filters=(4, 6, 8))
    m = _one(net, "skip_add")
    child = g.apply(net, m)
    proj, add = f"n{net['next_id']}", f"n{net['next_id'] + 1}"
    assert _node(child, proj) == {"id": proj, "op": "proj", "inputs": [m["a"]],
                                  "filters": g.shapes(net)[m["b"]][-1]}
    assert _node(child, add)["inputs"] == [m["b"], proj]
    assert [n["id"] for n in child["nodes"] if m["b"] in n.get("inputs", [])] == [add]
    assert g.shapes(child)[add] == g.shapes(net)[m["b"]]
    weights = g.transfer(net, _random_weights(net), m)
    assert not weights[proj][0].any() and not weights[proj][1].any()
    assert weights[add] == []


def test_skip_pairs_share_spatial_shape_and_ancestry():
    rng = np.random.default_rng(0)
    net = _grown(seed=1, steps=5)
    shape = g.shapes(net)
    ids = [n["id"] for n in net["nodes"]]
    for _ in range(40):
        m = g.random_morphism(net, rng, kinds=("skip_add", "skip_concat"))
        assert shape[m["a"]][:-1] == shape[m["b"]][:-1]
        assert ids.index(m["a"]) < ids.index(m["b"])
        assert _node(net, m["b"])["op"] in ("conv", "pool")
    with pytest.raises(ValueError):
        g.apply(g.start_network((8, 8, 1), 2), {"type": "skip_add", "a": "n3", "b": "n1"})
    with pytest.raises(ValueError):
        g.apply(g.start_network((8, 8, 1), 2), {"type": "skip_add", "a": "n1", "b": "n3"})


def test_skip_concat():
    net = g.start_network((8, 8, 1), 3, filters=(4, 6, 8), dense_units=8)
    m = _one(net, "skip_concat")
    child = g.apply(net, m)
    unit, concat = f"n{net['next_id']}", f"n{net['next_id'] + 1}"
    assert _node(child, unit)["op"] == "conv" and _node(child, unit)["inputs"] == [m["a"]]
    assert _node(child, unit)["filters"] == m["filters"]
    assert _node(child, concat) == {"id": concat, "op": "concat", "inputs": [m["b"], unit]}
    c_b = g.shapes(net)[m["b"]][-1]
    assert g.shapes(child)[concat][-1] == c_b + m["filters"]
    assert [n["id"] for n in child["nodes"] if m["b"] in n.get("inputs", [])] == [concat]


def test_skip_concat_gives_new_channels_zero_weights_through_pass_through_nodes():
    net = g.start_network((8, 8, 1), 3, filters=(4, 6, 8), dense_units=8)
    m = {"type": "skip_concat", "a": "n2", "b": "n3", "filters": 5, "kernel": 1, "seed": 3}
    weights = _random_weights(net)
    new = g.transfer(net, weights, m)
    kernel = new["n5"][0]  # conv after pool(concat(n3, n9))
    assert kernel.shape == (3, 3, 11, 8)
    assert not kernel[:, :, 6:].any()
    np.testing.assert_array_equal(kernel[:, :, :6], weights["n5"][0])
    assert new["n9"][0].shape == (1, 1, 4, 5) and new["n9"][0].any()
    # ... and per position after a flatten
    m = {"type": "skip_concat", "a": "n4", "b": "n5", "filters": 2, "kernel": 3, "seed": 3}
    new = g.transfer(net, weights, m)
    rows = new["n7"][0].reshape(4, 10, 8)
    assert not rows[:, 8:].any()
    np.testing.assert_array_equal(rows[:, :8], weights["n7"][0].reshape(4, 8, 8))


def test_random_morphism_is_deterministic():
    def run(seed):
        rng = np.random.default_rng(seed)
        net, out = g.start_network((10, 10, 3), 4, filters=(4, 5, 6), dense_units=8), []
        for _ in range(6):
            m = g.random_morphism(net, rng)
            out.append(m)
            net = g.apply(net, m)
        return out, net

    assert run(5) == run(5)
    assert run(5) != run(6)
    net = _grown(seed=2)
    weights = _random_weights(net)
    m = g.random_morphism(net, np.random.default_rng(0), kinds=("wider",))
    a, b = g.transfer(net, weights, m), g.transfer(net, weights, m)
    assert all(np.array_equal(x, y) for k in a for x, y in zip(a[k], b[k]))


def test_apply_and_transfer_do_not_mutate_the_parent():
    net = _grown(seed=4)
    before = copy.deepcopy(net)
    weights = _random_weights(net)
    saved = {k: [w.copy() for w in v] for k, v in weights.items()}
    rng = np.random.default_rng(0)
    for kind in g.MORPHISM_TYPES:
        m = g.random_morphism(net, rng, kinds=(kind,))
        new = g.transfer(net, weights, m)
        g.apply(net, m)
        assert net == before
        assert all(np.array_equal(x, y) for k in saved for x, y in zip(saved[k], weights[k]))
        assert all(x is not y for k in weights for x, y in zip(new[k], weights[k]))


def test_wider_never_chosen_for_a_node_reaching_an_add():
    net = g.start_network((8, 8, 1), 3, filters=(4, 6, 8), dense_units=8)
    net = g.apply(net, {"type": "skip_add", "a": "n2", "b": "n3"})  # add(n3, proj(n2))
    net = g.apply(net, {"type": "skip_concat", "a": "n4", "b": "n5", "filters": 4, "kernel": 3,
                        "seed": 0})  # concat(n5, conv n11(n4))
    rng = np.random.default_rng(0)
    chosen = {g.random_morphism(net, rng, kinds=("wider",))["node"] for _ in range(200)}
    assert "n3" not in chosen
    assert chosen == {"n1", "n5", "n7", "n11"}  # n5, the new unit n11 feed a concat, not an add
    with pytest.raises(ValueError, match="reaches an add"):
        g.apply(net, {"type": "wider", "node": "n3", "old_width": 6, "width": 7,
                      "src": list(range(6)) + [0], "seed": 0})
    # skip_concat never widens b when b reaches an add either
    for _ in range(100):
        m = g.random_morphism(net, rng, kinds=("skip_concat",))
        assert m["b"] != "n3"


def test_wider_blocked_through_pass_through_nodes():
    conv = {"op": "conv", "inputs": ["n0"], "filters": 4, "kernel": 3}
    net = g.validate({
        "kind": "2d", "input_shape": [8, 8, 1], "num_classes": 2, "batch_norm": True,
        "nodes": [{"id": "n0", "op": "input"}, {"id": "n1", **conv}, {"id": "n2", **conv},
                  {"id": "n3", "op": "pool", "inputs": ["n1"]},
                  {"id": "n4", "op": "concat", "inputs": ["n3", "n3"]},
                  {"id": "n5", "op": "pool", "inputs": ["n2"]},
                  {"id": "n6", "op": "concat", "inputs": ["n5", "n5"]},
                  {"id": "n7", "op": "add", "inputs": ["n4", "n6"]},
                  {"id": "n8", "op": "gap", "inputs": ["n7"]},
                  {"id": "n9", "op": "output", "inputs": ["n8"]}],
        "next_id": 10,
    })
    assert g.random_morphism(net, np.random.default_rng(0), kinds=("wider",)) is None
    with pytest.raises(ValueError, match="reaches an add"):
        g.apply(net, {"type": "wider", "node": "n1", "old_width": 4, "width": 5,
                      "src": [0, 1, 2, 3, 0], "seed": 0})


def test_random_morphism_none_and_unknown_kind():
    net = g.start_network((8, 8, 1), 3)
    with pytest.raises(ValueError):
        g.random_morphism(net, np.random.default_rng(0), kinds=("shallower",))
    # a network whose only conv-free path leaves nothing to widen or deepen
    net = {"kind": "1d", "input_shape": [4, 2], "num_classes": 2, "batch_norm": False,
           "nodes": [{"id": "n0", "op": "input"}, {"id": "n1", "op": "flatten", "inputs": ["n0"]},
                     {"id": "n2", "op": "output", "inputs": ["n1"]}], "next_id": 3}
    g.validate(net)
    assert g.random_morphism(net, np.random.default_rng(0)) is None


@pytest.mark.parametrize("morphism", [
    {"type": "shrink"},
    {"type": "deeper", "after": "n99", "kernel": 3},
    {"type": "wider", "node": "n2", "old_width": 32, "width": 40, "src": list(range(40)), "seed": 0},
    {"type": "wider", "node": "n1", "old_width": 32, "width": 80, "src": list(range(80)), "seed": 0},
    {"type": "wider", "node": "n1", "old_width": 32, "width": 33, "src": list(range(32)) + [40],
     "seed": 0},
    {"type": "wider", "node": "n8", "old_width": 10, "width": 11, "src": list(range(11)), "seed": 0},
    {"type": "skip_concat", "a": "n0", "b": "n1", "filters": 0, "kernel": 3, "seed": 0},
])
def test_bad_morphisms_raise_value_error(morphism):
    with pytest.raises(ValueError):
        g.apply(g.start_network((8, 8, 1), 10), morphism)


def test_transfer_checks_weight_shapes():
    net = g.start_network((8, 8, 1), 3)
    weights = _random_weights(net)
    weights["n3"] = weights["n3"][:1]
    with pytest.raises(ValueError, match="n3"):
        g.transfer(net, weights, {"type": "skip_add", "a": "n2", "b": "n3"})


def test_describe():
    assert g.describe({"type": "deeper", "after": "n3", "kernel": 3}) == "deeper after n3 (conv 3)"
    assert g.describe({"type": "skip_add", "a": "n1", "b": "n3"}) == "skip_add n1 -> n3"
    assert "skip_concat n1 -> n3" in g.describe(
        {"type": "skip_concat", "a": "n1", "b": "n3", "filters": 4, "kernel": 3, "seed": 0})
