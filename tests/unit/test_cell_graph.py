"""The PNAS / POPNASv3 cell space of `autokeras_nas.spaces.cell_graph` (numpy only)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import numpy as np
import pytest

from autokeras_nas.spaces import cell_graph as g
from autokeras_nas.spaces.cell_graph import OP_COST, OPS_1D, OPS_2D, CellSpace, MacroConfig

SPACE = CellSpace(ops=OPS_2D, max_blocks=3)
SPACE_1D = CellSpace(ops=OPS_1D, max_blocks=3)


def _expressions(space, cell):
    """The set of block expressions: equal iff the cells are equivalent."""
    return set(space.expressions(cell))


def test_module_does_not_import_tensorflow():
    code = ("import sys; import numpy as np; import autokeras_nas.spaces.cell_graph as g; "
            "s = g.CellSpace(ops=g.OPS_2D); c = s.random_cell(np.random.default_rng(0), 3); "
            "s.expand(c[:1]); s.encode(c); g.cost_features(c, g.MacroConfig()); "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False)
    assert result.returncode == 0, result.stderr


def test_package_exports():
    import autokeras_nas.spaces as spaces

    assert spaces.CellSpace is CellSpace and spaces.MacroConfig is MacroConfig
    assert spaces.OPS_2D == OPS_2D and spaces.OPS_1D == OPS_1D and spaces.OP_COST is OP_COST
    assert "build_cell_model" in spaces.__all__


# ---------------------------------------------------------------------------
# spaces and operators
# ---------------------------------------------------------------------------
def test_op_cost_covers_every_op():
    assert set(OP_COST) == set(OPS_2D) | set(OPS_1D)
    assert OP_COST["identity"] == 0
    assert OP_COST["maxpool3x3"] < OP_COST["sep3x3"] < OP_COST["conv3x3"] < OP_COST["conv5x5"]
    assert OP_COST["lstm"] > OP_COST["gru"] > OP_COST["sep21"]


@pytest.mark.parametrize("kwargs", [
    {"ops": ()}, {"ops": "conv3x3"}, {"ops": ("conv3x3", "conv3x3")}, {"ops": ("conv9x9",)},
    {"ops": ("conv3x3", "lstm")}, {"ops": OPS_2D, "max_blocks": 0},
    {"ops": OPS_2D, "lookback": 0}, {"ops": OPS_2D, "max_blocks": 2.0},
])
def test_invalid_spaces(kwargs):
    with pytest.raises(ValueError):
        CellSpace(**kwargs)


def test_space_dims():
    assert SPACE.dims == 2 and SPACE_1D.dims == 1
    assert CellSpace(ops=("identity", "lstm")).dims == 1


# ---------------------------------------------------------------------------
# canonical form
# ---------------------------------------------------------------------------
def test_swap_within_block():
    a = ((-1, "conv3x3", -2, "sep5x5"),)
    b = ((-2, "sep5x5", -1, "conv3x3"),)
    assert SPACE.key(a) == SPACE.key(b)
    assert SPACE.canonical(a) == SPACE.canonical(b) == ((-2, "sep5x5", -1, "conv3x3"),)


def test_swap_same_input_sorted_by_op_order():
    cell = ((-1, "maxpool3x3", -1, "identity"),)
    assert SPACE.canonical(cell) == ((-1, "identity", -1, "maxpool3x3"),)


def test_permutation_of_independent_blocks():
    a = ((-1, "conv3x3", -2, "identity"), (-2, "sep3x3", -2, "maxpool3x3"))
    b = ((-2, "sep3x3", -2, "maxpool3x3"), (-1, "conv3x3", -2, "identity"))
    assert SPACE.key(a) == SPACE.key(b)


def test_same_dag_written_two_ways():
    # x = conv3x3(-1) + id(-2); y = sep3x3(-2) + pool(-1); z = x + conv1x1(y)
    a = ((-1, "conv3x3", -2, "identity"), (-2, "sep3x3", -1, "maxpool3x3"),
         (0, "identity", 1, "conv1x1"))
    b = ((-1, "maxpool3x3", -2, "sep3x3"), (-2, "identity", -1, "conv3x3"),
         (0, "conv1x1", 1, "identity"))
    assert SPACE.key(a) == SPACE.key(b)
    assert SPACE.canonical(a) == SPACE.canonical(b)
    # a canonical cell is its own canonical form
    assert SPACE.canonical(SPACE.canonical(a)) == SPACE.canonical(a)


def test_different_dags_differ():
    base = ((-1, "conv3x3", -2, "identity"), (-2, "sep3x3", -1, "maxpool3x3"),
            (0, "identity", 1, "conv1x1"))
    variants = [
        # the ops of block 2 on the other blocks
        ((-1, "conv3x3", -2, "identity"), (-2, "sep3x3", -1, "maxpool3x3"),
         (0, "conv1x1", 1, "identity")),
        # block 2 reads block 0 twice
        ((-1, "conv3x3", -2, "identity"), (-2, "sep3x3", -1, "maxpool3x3"),
         (0, "identity", 0, "conv1x1")),
        # inputs swapped in block 0
        ((-2, "conv3x3", -1, "identity"), (-2, "sep3x3", -1, "maxpool3x3"),
         (0, "identity", 1, "conv1x1")),
        # a chain instead
        ((-1, "conv3x3", -2, "identity"), (0, "sep3x3", -1, "maxpool3x3"),
         (1, "identity", 0, "conv1x1")),
    ]
    keys = {SPACE.key(c) for c in [base] + variants}
    assert len(keys) == len(variants) + 1


@pytest.mark.parametrize("cell", [
    (),
    "(-1, 'conv3x3', -1, 'identity')",
    ((-1, "conv3x3", -1),),
    ((-3, "conv3x3", -1, "identity"),),
    ((0, "conv3x3", -1, "identity"),),
    ((-1, "conv3x3", -1, "identity"), (2, "conv3x3", -1, "identity")),
    ((-1, "conv3x3", -1, "identity"), (1, "conv3x3", -1, "identity")),
    ((-1, "conv9x9", -1, "identity"),),
    ((-1, "lstm", -1, "identity"),),
    ((-1.0, "conv3x3", -1, "identity"),),
    ((True, "conv3x3", -1, "identity"),),
    ((-1, "conv3x3", -2, "identity"), (-2, "identity", -1, "conv3x3")),
    ((-1, "conv3x3", -2, "identity"), (0, "sep3x3", -1, "identity"),
     (0, "sep3x3", -1, "identity")),
    tuple([(-1, "conv3x3", -2, "identity")] + [(b, "conv1x1", -1, "identity") for b in range(3)]),
])
def test_invalid_cells(cell):
    with pytest.raises(ValueError):
        SPACE.canonical(cell)


def test_duplicate_blocks_through_different_parents_are_not_identical():
    # blocks 1 and 2 have the same ops but read different blocks: distinct
    cell = ((-1, "conv3x3", -2, "identity"), (-1, "sep3x3", -2, "identity"),
            (0, "conv1x1", -1, "identity"), (1, "conv1x1", -1, "identity"))
    assert len(CellSpace(ops=OPS_2D, max_blocks=4).canonical(cell)) == 4


def test_json_round_trip():
    rng = np.random.default_rng(0)
    for blocks in (1, 2, 3):
        cell = SPACE.random_cell(rng, blocks)
        text = SPACE.to_json(cell)
        assert json.loads(text) == [list(b) for b in SPACE.canonical(cell)]
        assert SPACE.from_json(text) == SPACE.canonical(cell)
        assert SPACE.key(cell) == text


@pytest.mark.parametrize("text", ["not json", "{}", "[[-1, \"conv3x3\", -1]]",
                                  "[[-1, \"lstm\", -1, \"identity\"]]", "[]"])
def test_from_json_rejects(text):
    with pytest.raises(ValueError):
        SPACE.from_json(text)


# ---------------------------------------------------------------------------
# enumeration
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("space, expected", [(SPACE, 300), (SPACE_1D, 351)])
def test_one_block_cells(space, expected):
    # unordered pairs (with repetition) of n = 2 * len(ops) (input, op) pairs
    n = 2 * len(space.ops)
    assert expected == n * (n + 1) // 2
    cells = space.one_block_cells()
    assert len(cells) == expected
    assert len({space.key(c) for c in cells}) == expected
    for cell in cells:
        assert len(cell) == 1 and cell == space.canonical(cell)
        assert cell[0][0] < 0 and cell[0][2] < 0


def test_expand_one_block_cell():
    parent = ((-2, "sep3x3", -1, "conv3x3"),)
    children = SPACE.expand(parent)
    n = 3 * len(OPS_2D)
    assert len(children) == n * (n + 1) // 2 - 1 == 665
    assert len({SPACE.key(c) for c in children}) == len(children)
    parent_expr = _expressions(SPACE, parent)
    for child in children:
        assert len(child) == 2 and child == SPACE.canonical(child)
        expr = _expressions(SPACE, child)
        assert len(expr) == 2 and parent_expr < expr


def test_expand_two_block_cell_and_max_blocks():
    rng = np.random.default_rng(1)
    parent = SPACE.random_cell(rng, 2)
    children = SPACE.expand(parent)
    n = 4 * len(OPS_2D)
    assert len(children) == n * (n + 1) // 2 - 2
    assert len(set(children)) == len(children)
    parent_expr = _expressions(SPACE, parent)
    for child in children[::37]:
        assert len(child) == 3 and parent_expr < _expressions(SPACE, child)
    assert SPACE.expand(children[0]) == []


def test_expand_of_equivalent_parents_is_equal():
    a = ((-1, "conv3x3", -2, "identity"), (-2, "sep3x3", -2, "maxpool3x3"))
    b = ((-2, "maxpool3x3", -2, "sep3x3"), (-2, "identity", -1, "conv3x3"))
    ea, eb = SPACE.expand(a), SPACE.expand(b)
    assert ea == eb
    assert {SPACE.key(c) for c in ea} == {SPACE.key(c) for c in eb}


def test_expand_small_space_by_brute_force():
    """Children = canonical forms of every valid cell with the new block appended."""
    space = CellSpace(ops=("identity", "conv3x3"), max_blocks=3)
    parent = ((-1, "identity", -2, "conv3x3"), (0, "conv3x3", -1, "conv3x3"))
    brute = set()
    pairs = [(i, op) for i in (-2, -1, 0, 1) for op in space.ops]
    for p, q in itertools.product(pairs, repeat=2):
        try:
            brute.add(space.canonical(parent + ((p[0], p[1], q[0], q[1]),)))
        except ValueError:
            pass
    assert set(space.expand(parent)) == brute
    assert len(brute) == 8 * 9 // 2 - 2


def test_random_cell():
    rng = np.random.default_rng(0)
    for space in (SPACE, SPACE_1D, CellSpace(ops=("identity",), max_blocks=2)):
        for blocks in range(1, space.max_blocks + 1):
            for _ in range(20):
                cell = space.random_cell(rng, blocks)
                assert len(cell) == blocks and space.canonical(cell) == cell
    with pytest.raises(ValueError):
        SPACE.random_cell(rng, 4)
    with pytest.raises(ValueError):
        SPACE.random_cell(rng, 0)


def test_random_cell_is_reproducible():
    a = SPACE.random_cell(np.random.default_rng(5), 3)
    b = SPACE.random_cell(np.random.default_rng(5), 3)
    assert a == b


# ---------------------------------------------------------------------------
# encodings and features
# ---------------------------------------------------------------------------
def test_tokens():
    rng = np.random.default_rng(0)
    lengths = set()
    for blocks in (1, 2, 3):
        cell = SPACE.random_cell(rng, blocks)
        tokens = SPACE.tokens(cell)
        lengths.add(len(tokens))
        assert all(0 <= t < SPACE.vocab_size for t in tokens)
        assert tokens[4 * blocks:] == [0] * (4 * (3 - blocks))
        assert all(t > 0 for t in tokens[:4 * blocks])
        # inputs and ops use disjoint ranges
        ins = tokens[0:4 * blocks:2]
        ops = tokens[1:4 * blocks:2]
        assert max(ins) < SPACE.lookback + SPACE.max_blocks <= min(ops)
    assert lengths == {12}
    assert SPACE.tokens(((-2, "identity", -1, "conv3x3"),))[:4] == [1, 5, 2, 5 + 8]
    assert SPACE.tokens(((-1, "identity", -2, "conv3x3"),)) == \
        SPACE.tokens(((-2, "conv3x3", -1, "identity"),))


def test_encode():
    rng = np.random.default_rng(0)
    names = SPACE.encoding_names()
    assert len(set(names)) == len(names)
    for blocks in (1, 2, 3):
        cell = SPACE.random_cell(rng, blocks)
        vec = SPACE.encode(cell)
        assert vec.shape == (len(names),) and vec.dtype == np.float64
        feats = SPACE.structural_features(cell)
        assert list(vec[-len(feats):]) == list(feats.values())
        # 4 one-hot entries per block
        assert vec[:-len(feats)].sum() == 4 * blocks
    a = ((-1, "conv3x3", -2, "identity"), (-2, "sep3x3", -2, "maxpool3x3"))
    b = ((-2, "maxpool3x3", -2, "sep3x3"), (-2, "identity", -1, "conv3x3"))
    assert np.array_equal(SPACE.encode(a), SPACE.encode(b))


def test_structural_features():
    chain = ((-1, "conv3x3", -2, "identity"), (0, "sep3x3", -1, "conv3x3"),
             (1, "maxpool3x3", 1, "identity"))
    f = SPACE.structural_features(chain)
    assert f["blocks"] == 3 and f["depth"] == 3 and f["outputs"] == 1
    assert f["op_conv3x3"] == 2 and f["op_identity"] == 2 and f["op_sep3x3"] == 1
    assert f["op_maxpool3x3"] == 1 and f["op_conv5x5"] == 0
    assert sum(f[f"op_{op}"] for op in OPS_2D) == 6
    assert f["op_cost"] == pytest.approx(2 * OP_COST["conv3x3"] + OP_COST["sep3x3"]
                                         + OP_COST["maxpool3x3"])
    assert f["input_-1"] == 2 and f["input_-2"] == 1 and f["lookback_used"] == 2

    flat = ((-1, "conv3x3", -1, "identity"), (-1, "sep3x3", -1, "conv3x3"))
    f = SPACE.structural_features(flat)
    assert f["depth"] == 1 and f["outputs"] == 2 and f["lookback_used"] == 1
    assert f["input_-2"] == 0 and f["input_-1"] == 4


def test_unused_blocks():
    assert g.unused_blocks(((-1, "a", -2, "b"), (0, "a", -1, "b"), (-1, "c", -1, "d"))) == [1, 2]


# ---------------------------------------------------------------------------
# macro
# ---------------------------------------------------------------------------
def test_macro_config():
    macro = MacroConfig()
    assert (macro.motifs, macro.normal_cells, macro.filters, macro.residual) == (3, 2, 24, False)
    assert g.num_cells(macro) == 3 * 2 + 2
    assert MacroConfig.from_json(macro.to_json()) == macro
    other = MacroConfig(motifs=2, normal_cells=1, filters=8, residual=True, dropout=0.25)
    assert MacroConfig.from_json(other.to_json()) == other
    assert g.cell_plan(other) == [(False, 8, 0), (True, 16, 0), (False, 16, 1)]
    assert g.num_cells(MacroConfig(motifs=2, normal_cells=0)) == 1


def test_drop_path_fields_are_written_only_when_drop_path_is_on():
    plain = MacroConfig(motifs=2, normal_cells=1, filters=8)
    # An architecture written before drop path existed keeps its text.
    assert plain.to_json() == ('{"dropout":0.0,"filters":8,"motifs":2,"normal_cells":1,'
                               '"residual":false}')
    dropping = MacroConfig(motifs=2, normal_cells=1, filters=8, drop_path=0.2,
                           drop_path_steps=500)
    assert dropping.to_dict()["drop_path"] == 0.2
    assert MacroConfig.from_json(dropping.to_json()) == dropping
    assert MacroConfig.from_json(plain.to_json()) == plain


def test_stem_stride_is_written_only_when_2_and_quarters_the_flops_proxy():
    plain = MacroConfig(motifs=2, normal_cells=1, filters=8)
    strided = MacroConfig(motifs=2, normal_cells=1, filters=8, stem_stride=2)
    assert "stem_stride" not in plain.to_dict() and strided.to_dict()["stem_stride"] == 2
    assert MacroConfig.from_json(strided.to_json()) == strided
    cell = [[-1, "conv3x3", -2, "conv3x3"]]
    space = g.default_space(cell)
    flops = [g.cost_features(cell, m, space=space)["flops_proxy"] for m in (plain, strided)]
    assert flops[1] == pytest.approx(flops[0] / 4)


@pytest.mark.parametrize("kwargs", [
    {"motifs": 0}, {"normal_cells": -1}, {"filters": 0}, {"residual": 1}, {"dropout": 1.0},
    {"dropout": -0.1}, {"motifs": 1, "normal_cells": 0}, {"filters": 8.0},
    {"drop_path": 1.0}, {"drop_path": -0.1}, {"drop_path": True}, {"drop_path_steps": 0},
    {"stem_stride": 3}, {"stem_stride": True}, {"stem_stride": 0},
])
def test_invalid_macro(kwargs):
    with pytest.raises(ValueError):
        MacroConfig(**kwargs)


def test_macro_from_json_rejects():
    with pytest.raises(ValueError):
        MacroConfig.from_json("{\"motifs\": 2, \"width\": 3}")
    with pytest.raises(ValueError):
        MacroConfig.from_json("[]")
    with pytest.raises(ValueError):
        MacroConfig.from_json("nope")


def test_cost_features():
    cell = ((-1, "conv3x3", -2, "identity"), (0, "sep3x3", -1, "conv3x3"))
    small = g.cost_features(cell, MacroConfig(motifs=2, normal_cells=1, filters=8))
    big = g.cost_features(cell, MacroConfig(motifs=3, normal_cells=2, filters=16))
    for key, value in SPACE.structural_features(cell).items():
        assert small[key] == value
    assert small["cells"] == 3 and big["cells"] == 8
    assert small["reduction_cells"] == 1 and big["normal_cells"] == 6
    assert big["filters_last"] == 64
    assert 0 < small["params_proxy"] < big["params_proxy"]
    assert 0 < small["flops_proxy"] < big["flops_proxy"]
    assert SPACE.cost_features(cell, MacroConfig()) == g.cost_features(cell, MacroConfig())
    cheap = ((-1, "identity", -2, "maxpool3x3"),)
    assert g.cost_features(cheap, MacroConfig())["flops_proxy"] < \
        g.cost_features(cell, MacroConfig())["flops_proxy"]
    rnn = ((-1, "lstm", -2, "identity"),)
    f = g.cost_features(rnn, MacroConfig())
    assert f["op_lstm"] == 1 and "op_sep3x3" not in f


def test_default_space():
    assert g.default_space(((-1, "identity", -1, "identity"),)).dims == 2
    assert g.default_space(((-1, "gru", -1, "identity"),)).dims == 1
    assert g.default_space(dims=1, max_blocks=5).max_blocks == 5
    with pytest.raises(ValueError):
        g.default_space(((-1, "gru", -1, "conv3x3"),))
    with pytest.raises(ValueError):
        g.default_space(dims=3)
