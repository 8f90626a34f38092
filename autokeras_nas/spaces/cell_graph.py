"""Cell search space of PNAS / POPNASv3 (numpy only).

The space of progressive neural architecture search (Liu et al., 2018, "PNAS")
as used by POPNASv3 (Falanti et al., "Pareto-Optimal Progressive Neural
Architecture Search"), for images ("2-D") and time series ("1-D").
`autokeras_nas.spaces.cells.build_model` turns a cell and a `MacroConfig` into
a Keras model; this module imports neither Keras nor TensorFlow, so cells can
be enumerated, canonicalised, encoded and stored in a process that never
builds a model.

Cells
-----
A *block* is a 4-tuple `(in1, op1, in2, op2)`: its output is
`op1(in1) + op2(in2)`. An input is `-1` or `-2` (the outputs of the previous
cell and of the one before it, the *lookback*; `-lookback..-1` in general) or
`j` in `0..b-1`, the output of an earlier block `j` of the same cell (`b` is
the block's own index). A *cell* is a tuple of 1 to `max_blocks` blocks; its
output concatenates the blocks that no other block uses as input (then a 1x1
conv brings it back to the cell's filters).

Equivalent writings of a cell compute the same function: the two
`(input, op)` pairs of a block are unordered, and the blocks of a cell form a
DAG, so any renumbering consistent with the dependencies is the same cell.
`CellSpace.canonical` picks one representative: every block gets an
*expression*, a string in which block inputs are replaced by the expressions of
the blocks they refer to and the two pairs are sorted; the blocks are then
ordered topologically, taking the smallest expression first among the ready
ones, renumbered, and the two pairs of each block are sorted by
`(input, op index)`. Two blocks with the same expression are a duplicated
computation and make a cell invalid. No other (algebraic) equivalence is
recognised, e.g. `identity(x) + identity(x)` and `conv1x1(x)` stay different.

Operators
---------
`OPS_2D` (images, channels-last `(height, width, channels)` inputs) and
`OPS_1D` (time series, `(steps, channels)` inputs); `sep` is a depthwise
separable conv, `spatial1xk-kx1` a 1xk conv followed by a kx1 conv, `dconvk-d`
a conv of kernel k and dilation d. `OP_COST` gives rough relative costs for
time predictors (see its comment).

Macro architecture
------------------
`MacroConfig`: a stem conv, then `motifs` motifs of `normal_cells` normal cells
(stride 1), with a reduction cell (stride 2, filters doubled) between two
motifs, then global average pooling, dropout and a dense softmax.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from typing import Any, Sequence

import numpy as np

#: Operators of the 2-D (image) space.
OPS_2D = (
    "identity", "sep3x3", "sep5x5", "sep7x7", "spatial1x3-3x1", "spatial1x5-5x1",
    "spatial1x7-7x1", "conv1x1", "conv3x3", "conv5x5", "maxpool3x3", "avgpool3x3",
)
#: Operators of the 1-D (time series) space.
OPS_1D = (
    "identity", "sep7", "sep13", "sep21", "conv7", "conv13", "conv21", "dconv7-2",
    "dconv7-4", "maxpool3", "avgpool3", "lstm", "gru",
)

#: Reference number of filters of the separable-conv costs below.
_COST_FILTERS = 32
#: Sequential penalty of the recurrent ops: their steps cannot be parallelised,
#: so their training time exceeds what their multiply-adds suggest.
_RNN_PENALTY = 4.0


def _sep_cost(kernel_area: int) -> float:
    # depthwise k*F + pointwise F*F multiply-adds per position, over F*F
    return round(1.0 + kernel_area / _COST_FILTERS, 4)


#: Rough relative cost of each operator: multiply-adds per output position
#: divided by `F**2` for `F` input and output filters (so a 1x1 conv costs 1,
#: a kxk conv k*k, a separable kxk conv `1 + k*k / F` at F = 32, a 1xk-kx1 pair
#: 2k), which is also roughly its parameter count over `F**2`. Identity costs
#: 0, pools a small constant (no weights, a few additions per position), and
#: LSTM/GRU `4 * gates * 2` (`gates` (Cin + F) x F matrices, times a sequential
#: penalty of 4). Extra 1x1 convs that adapt channels or strides are not
#: counted.
OP_COST: dict[str, float] = {
    "identity": 0.0,
    "sep3x3": _sep_cost(9), "sep5x5": _sep_cost(25), "sep7x7": _sep_cost(49),
    "spatial1x3-3x1": 6.0, "spatial1x5-5x1": 10.0, "spatial1x7-7x1": 14.0,
    "conv1x1": 1.0, "conv3x3": 9.0, "conv5x5": 25.0,
    "maxpool3x3": 0.1, "avgpool3x3": 0.1,
    "sep7": _sep_cost(7), "sep13": _sep_cost(13), "sep21": _sep_cost(21),
    "conv7": 7.0, "conv13": 13.0, "conv21": 21.0,
    "dconv7-2": 7.0, "dconv7-4": 7.0,
    "maxpool3": 0.1, "avgpool3": 0.1,
    "lstm": _RNN_PENALTY * 4 * 2, "gru": _RNN_PENALTY * 3 * 2,
}

Block = tuple  # (in1: int, op1: str, in2: int, op2: str)
Cell = tuple  # tuple[Block, ...]


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _positive_int(value: Any, what: str, minimum: int = 1) -> int:
    if not _is_int(value) or int(value) < minimum:
        raise ValueError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return int(value)


# ---------------------------------------------------------------------------
# the cell space
# ---------------------------------------------------------------------------
class CellSpace:
    """Cells of at most `max_blocks` blocks over an operator set.

    Args:
        ops: Operator names, distinct, all from `OPS_2D` or all from `OPS_1D`.
        max_blocks: Maximum number of blocks of a cell (PNAS' B).
        lookback: Number of previous cells a block can read (inputs
            `-lookback..-1`); 2 in PNAS and POPNASv3.

    Raises:
        ValueError: an empty, duplicated, unknown or mixed 2-D/1-D operator
            set, or a non-positive `max_blocks` / `lookback`.
    """

    def __init__(self, *, ops: Sequence[str], max_blocks: int = 3, lookback: int = 2) -> None:
        if isinstance(ops, str):
            raise ValueError("ops must be a sequence of operator names, not a string")
        ops = tuple(ops)
        if not ops:
            raise ValueError("ops must not be empty")
        unknown = [op for op in ops if not isinstance(op, str) or op not in OP_COST]
        if unknown:
            raise ValueError(f"unknown operators {unknown!r}; known: {sorted(OP_COST)}")
        if len(set(ops)) != len(ops):
            raise ValueError(f"duplicated operators in {ops!r}")
        if all(op in OPS_2D for op in ops):
            self.dims = 2
        elif all(op in OPS_1D for op in ops):
            self.dims = 1
        else:
            raise ValueError(f"ops {ops!r} mix 2-D-only and 1-D-only operators")
        self.ops: tuple[str, ...] = ops
        self.max_blocks = _positive_int(max_blocks, "max_blocks")
        self.lookback = _positive_int(lookback, "lookback")
        self._op_index = {op: i for i, op in enumerate(ops)}

    def __repr__(self) -> str:
        return (f"CellSpace(ops={self.ops!r}, max_blocks={self.max_blocks}, "
                f"lookback={self.lookback})")

    # -- validation and canonical form --------------------------------------
    def _check(self, cell: Any) -> list[tuple[int, str, int, str]]:
        """Structurally validated blocks (not yet checked for duplicates)."""
        if isinstance(cell, (str, bytes)) or not isinstance(cell, Sequence):
            raise ValueError(f"a cell must be a sequence of blocks, got {cell!r}")
        if not 1 <= len(cell) <= self.max_blocks:
            raise ValueError(f"a cell has 1 to {self.max_blocks} blocks, got {len(cell)}")
        blocks = []
        for b, block in enumerate(cell):
            if isinstance(block, (str, bytes)) or not isinstance(block, Sequence) \
                    or len(block) != 4:
                raise ValueError(f"block {b} must be (in1, op1, in2, op2), got {block!r}")
            in1, op1, in2, op2 = block
            for inp in (in1, in2):
                if not _is_int(inp):
                    raise ValueError(f"block {b}: input {inp!r} is not an integer")
                if int(inp) == b:
                    raise ValueError(f"block {b} refers to itself")
                if int(inp) > b:
                    raise ValueError(f"block {b} refers to a later block {int(inp)}")
                if int(inp) < -self.lookback:
                    raise ValueError(f"block {b}: input {int(inp)} out of range "
                                     f"(lookback {self.lookback})")
            for op in (op1, op2):
                if not isinstance(op, str) or op not in self._op_index:
                    raise ValueError(f"block {b}: unknown operator {op!r} (space ops {self.ops})")
            blocks.append((int(in1), op1, int(in2), op2))
        return blocks

    def _expressions(self, blocks: list[tuple[int, str, int, str]]) -> list[str]:
        """The canonical expression of each block (see the module docstring)."""
        exprs: list[str] = []
        for in1, op1, in2, op2 in blocks:
            pairs = sorted(f"{exprs[i] if i >= 0 else i}:{op}"
                           for i, op in ((in1, op1), (in2, op2)))
            exprs.append(f"({pairs[0]}+{pairs[1]})")
        return exprs

    def expressions(self, cell: Any) -> list[str]:
        """The expression of each block, in the cell's own order.

        Two cells are equivalent iff they have the same set of expressions.

        Raises:
            ValueError: a structurally invalid cell (duplicates are allowed).
        """
        return self._expressions(self._check(cell))

    def canonical(self, cell: Any) -> Cell:
        """The canonical form of a cell: equivalent cells get the same one.

        Returns:
            A tuple of `(in1, op1, in2, op2)` tuples.

        Raises:
            ValueError: an invalid cell: not 1 to `max_blocks` blocks, an input
                out of range or referring to the block itself or a later block,
                an unknown operator, or two identical blocks.
        """
        blocks = self._check(cell)
        exprs = self._expressions(blocks)
        if len(set(exprs)) != len(exprs):
            first = next(e for e in exprs if exprs.count(e) > 1)
            dup = [b for b, e in enumerate(exprs) if e == first]
            raise ValueError(f"blocks {dup} are identical (a duplicated computation)")
        # Kahn's algorithm, smallest expression first among the ready blocks
        deps = [{i for i in (blk[0], blk[2]) if i >= 0} for blk in blocks]
        order: list[int] = []
        placed: set[int] = set()
        while len(order) < len(blocks):
            ready = [b for b in range(len(blocks)) if b not in placed and deps[b] <= placed]
            nxt = min(ready, key=lambda b: exprs[b])
            order.append(nxt)
            placed.add(nxt)
        new_index = {old: new for new, old in enumerate(order)}
        out = []
        for old in order:
            in1, op1, in2, op2 = blocks[old]
            pairs = sorted(((new_index.get(i, i), op) for i, op in ((in1, op1), (in2, op2))),
                           key=lambda p: (p[0], self._op_index[p[1]]))
            out.append((pairs[0][0], pairs[0][1], pairs[1][0], pairs[1][1]))
        return tuple(out)

    def validate(self, cell: Any) -> Cell:
        """Alias of `canonical`: raises `ValueError` on an invalid cell."""
        return self.canonical(cell)

    def key(self, cell: Any) -> str:
        """Canonical JSON text of a cell: equal for equivalent cells."""
        return self.to_json(cell)

    def to_json(self, cell: Any) -> str:
        """JSON text of the canonical form (a list of `[in1, op1, in2, op2]`)."""
        return json.dumps([list(b) for b in self.canonical(cell)], separators=(",", ":"))

    def from_json(self, text: str) -> Cell:
        """Parses a cell written by `to_json` (or any equivalent list of blocks).

        Returns:
            The canonical form.

        Raises:
            ValueError: the text is not JSON or not a valid cell of this space.
        """
        try:
            data = json.loads(text)
        except (TypeError, json.JSONDecodeError) as err:
            raise ValueError(f"not a JSON cell: {err}") from err
        if not isinstance(data, list):
            raise ValueError(f"a JSON cell is a list of blocks, got {type(data).__name__}")
        return self.canonical([tuple(b) if isinstance(b, list) else b for b in data])

    # -- enumeration ----------------------------------------------------------
    def _pairs(self, num_blocks: int) -> list[tuple[int, str]]:
        """Every `(input, op)` a block with index `num_blocks` can use."""
        inputs = list(range(-self.lookback, 0)) + list(range(num_blocks))
        return [(i, op) for i in inputs for op in self.ops]

    def one_block_cells(self) -> list[Cell]:
        """Every distinct one-block cell, canonical, in a deterministic order.

        A one-block cell is an unordered pair (with repetition) of the
        `n = lookback * len(ops)` `(input, op)` pairs: `n * (n + 1) / 2` cells
        (300 for `OPS_2D`, 351 for `OPS_1D`, with lookback 2).
        """
        pairs = self._pairs(0)
        return [self.canonical([(a[0], a[1], b[0], b[1])])
                for a, b in itertools.combinations_with_replacement(pairs, 2)]

    def expand(self, cell: Any) -> list[Cell]:
        """Every distinct cell with one more block than `cell`, canonical.

        The new block reads any lookback input or existing block; cells whose
        new block duplicates an existing one are left out. With `b` blocks and
        `n = (lookback + b) * len(ops)` pairs there are `n * (n + 1) / 2 - b`
        children (665 for a one-block `OPS_2D` cell, 1174 for a two-block one).

        Returns:
            The children, in a deterministic order; empty if `cell` already
            has `max_blocks` blocks.

        Raises:
            ValueError: an invalid cell.
        """
        parent = self.canonical(cell)
        if len(parent) >= self.max_blocks:
            return []
        seen: set[Cell] = set()
        out: list[Cell] = []
        for a, b in itertools.combinations_with_replacement(self._pairs(len(parent)), 2):
            try:
                child = self.canonical(parent + ((a[0], a[1], b[0], b[1]),))
            except ValueError:
                continue  # duplicates a block of the parent
            if child not in seen:
                seen.add(child)
                out.append(child)
        return out

    def random_cell(self, rng: np.random.Generator, blocks: int) -> Cell:
        """A uniformly drawn block sequence of `blocks` blocks, canonical.

        Each block draws its two `(input, op)` pairs uniformly (a block
        duplicating an earlier one is drawn again).

        Raises:
            ValueError: `blocks` not in `1..max_blocks`.
        """
        blocks = _positive_int(blocks, "blocks")
        if blocks > self.max_blocks:
            raise ValueError(f"blocks must be at most max_blocks={self.max_blocks}, got {blocks}")
        cell: list[tuple] = []
        for b in range(blocks):
            pairs = self._pairs(b)
            for _ in range(1000):
                p, q = (pairs[int(i)] for i in rng.integers(0, len(pairs), 2))
                candidate = cell + [(p[0], p[1], q[0], q[1])]
                try:
                    self.canonical(candidate)
                except ValueError:
                    continue
                cell = candidate
                break
            else:  # pragma: no cover - needs a one-op, tiny space
                raise ValueError(f"could not draw a non-duplicated block {b}")
        return self.canonical(cell)

    # -- encodings --------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        """Size of the `tokens` vocabulary (token 0 is the padding)."""
        return self.lookback + self.max_blocks + len(self.ops)

    def tokens(self, cell: Any) -> list[int]:
        """The canonical cell as `max_blocks * 4` integers, for sequence models.

        Blocks are written `in1, op1, in2, op2` in canonical order and padded
        with 0. Input `i` is token `i + lookback + 1` (so `-2 -> 1`,
        `-1 -> 2`, block `j -> j + 3` with lookback 2), in
        `1..lookback + max_blocks - 1`; operator `k` (its index in `ops`) is
        token `lookback + max_blocks + k`. All tokens are below `vocab_size`.
        """
        out: list[int] = []
        op0 = self.lookback + self.max_blocks
        for in1, op1, in2, op2 in self.canonical(cell):
            out += [in1 + self.lookback + 1, op0 + self._op_index[op1],
                    in2 + self.lookback + 1, op0 + self._op_index[op2]]
        return out + [0] * (self.max_blocks * 4 - len(out))

    def structural_features(self, cell: Any) -> dict[str, float]:
        """Named structural features of a cell.

        Keys (in this order): `blocks`; `op_<name>` the number of uses of each
        operator of the space; `op_cost` the sum of `OP_COST` over the 2 *
        blocks operators; `depth` the longest chain of blocks (1 for blocks
        reading only the lookback); `input_<i>` the number of references to
        each lookback input `i` (`input_-2`, `input_-1`); `lookback_used` the
        number of distinct lookback inputs read; `outputs` the number of blocks
        no other block reads (concatenated into the cell output).
        """
        cell = self.canonical(cell)
        feats: dict[str, float] = {"blocks": float(len(cell))}
        for op in self.ops:
            feats[f"op_{op}"] = float(sum((blk[1] == op) + (blk[3] == op) for blk in cell))
        feats["op_cost"] = float(sum(OP_COST[blk[1]] + OP_COST[blk[3]] for blk in cell))
        depth: list[int] = []
        for in1, _, in2, _ in cell:
            depth.append(1 + max(depth[i] if i >= 0 else 0 for i in (in1, in2)))
        feats["depth"] = float(max(depth))
        inputs = [i for blk in cell for i in (blk[0], blk[2])]
        for i in range(-self.lookback, 0):
            feats[f"input_{i}"] = float(inputs.count(i))
        feats["lookback_used"] = float(len({i for i in inputs if i < 0}))
        feats["outputs"] = float(len(unused_blocks(cell)))
        return feats

    def encoding_names(self) -> list[str]:
        """Names of the entries of `encode`, in order."""
        names = []
        inputs = list(range(-self.lookback, 0)) + list(range(self.max_blocks - 1))
        for b in range(self.max_blocks):
            for slot in (1, 2):
                names += [f"b{b}_in{slot}_{i}" for i in inputs]
                names += [f"b{b}_op{slot}_{op}" for op in self.ops]
        dummy = ((-1, self.ops[0], -1, self.ops[0]),)
        return names + list(self.structural_features(dummy))

    def encode(self, cell: Any) -> np.ndarray:
        """A fixed-length float vector for tree / linear predictors.

        For each of the `max_blocks` block slots and each of its two pairs, a
        one-hot of the input (`lookback + max_blocks - 1` values) and of the
        operator (zeros for absent blocks), then the `structural_features`
        values; `encoding_names()` names the entries.
        """
        cell = self.canonical(cell)
        n_in = self.lookback + self.max_blocks - 1
        slot = n_in + len(self.ops)
        vec = np.zeros(self.max_blocks * 2 * slot, dtype=np.float64)
        for b, (in1, op1, in2, op2) in enumerate(cell):
            for s, (i, op) in enumerate(((in1, op1), (in2, op2))):
                base = (2 * b + s) * slot
                vec[base + i + self.lookback] = 1.0
                vec[base + n_in + self._op_index[op]] = 1.0
        feats = np.array(list(self.structural_features(cell).values()), dtype=np.float64)
        return np.concatenate([vec, feats])

    def cost_features(self, cell: Any, macro: "MacroConfig") -> dict[str, float]:
        """`cost_features(cell, macro, space=self)`."""
        return cost_features(cell, macro, space=self)


def unused_blocks(cell: Sequence[Sequence[Any]]) -> list[int]:
    """Indices of the blocks no other block reads: the cell's outputs."""
    used = {i for blk in cell for i in (blk[0], blk[2]) if i >= 0}
    return [b for b in range(len(cell)) if b not in used]


def default_space(cell: Any = None, *, dims: int | None = None, max_blocks: int = 3) -> CellSpace:
    """The full `OPS_2D` or `OPS_1D` space for a cell.

    Args:
        cell: A cell whose operators pick the space (2-D when they all are
            2-D operators) and whose length raises `max_blocks` if needed.
        dims: 2 or 1 to pick the space explicitly.
        max_blocks: Minimum `max_blocks`.

    Raises:
        ValueError: `dims` not 1 or 2, or a cell with unknown / mixed ops.
    """
    if cell is not None and isinstance(cell, Sequence) and not isinstance(cell, (str, bytes)):
        max_blocks = max(max_blocks, len(cell))
        if dims is None:
            ops = {blk[k] for blk in cell if isinstance(blk, Sequence) and len(blk) == 4
                   for k in (1, 3)}
            dims = 2 if ops <= set(OPS_2D) else 1 if ops <= set(OPS_1D) else None
            if dims is None:
                raise ValueError(f"the cell's operators {sorted(map(str, ops))} are not all "
                                 f"2-D (OPS_2D) or all 1-D (OPS_1D)")
    if dims not in (1, 2):
        raise ValueError(f"dims must be 1 or 2, got {dims!r}")
    return CellSpace(ops=OPS_2D if dims == 2 else OPS_1D, max_blocks=max_blocks)


# ---------------------------------------------------------------------------
# macro architecture
# ---------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class MacroConfig:
    """How cells are stacked into a network.

    Stem conv (`filters` filters, stride `stem_stride`), then `motifs` motifs: motif `m` has
    `normal_cells` normal cells of `filters * 2**m` filters (stride 1), and a
    reduction cell (stride 2, `filters * 2**(m+1)` filters) follows every
    motif but the last. Then global average pooling, dropout (`dropout` rate;
    no layer when 0) and a dense softmax.

    Attributes:
        motifs: Number of motifs M (>= 1).
        normal_cells: Normal cells per motif N (>= 0; the network needs at
            least one cell).
        filters: Filters F of the stem and first motif.
        residual: Whether every cell adds its (adapted) previous-cell input
            to its output.
        dropout: Dropout rate before the classifier, in [0, 1).
        drop_path: NASNet's ScheduledDropPath, in [0, 1): the largest
            probability of dropping an operator's output in a block (per
            sample, survivors rescaled), reached by the last cell and
            after `drop_path_steps` training steps, both linearly; 0 (the
            default) builds no drop-path layer.
        drop_path_steps: Training steps over which the drop probability
            grows from 0 to its largest value (>= 1); 2,000 is about 3
            epochs of 20,000 images in batches of 32, the short trainings
            of a search.
        stem_stride: Stride of the stem conv (1 or 2): 2 halves the
            resolution every cell works at (a quarter of the multiply-adds
            of a 2-D network).
    """

    motifs: int = 3
    normal_cells: int = 2
    filters: int = 24
    residual: bool = False
    dropout: float = 0.0
    drop_path: float = 0.0
    drop_path_steps: int = 2000
    stem_stride: int = 1

    def __post_init__(self) -> None:
        _positive_int(self.motifs, "motifs")
        _positive_int(self.normal_cells, "normal_cells", minimum=0)
        _positive_int(self.filters, "filters")
        if not isinstance(self.residual, (bool, np.bool_)):
            raise ValueError(f"residual must be a bool, got {self.residual!r}")
        if isinstance(self.dropout, bool) or not isinstance(self.dropout, (int, float)) \
                or not 0.0 <= float(self.dropout) < 1.0:
            raise ValueError(f"dropout must be a number in [0, 1), got {self.dropout!r}")
        if isinstance(self.drop_path, bool) or not isinstance(self.drop_path, (int, float)) \
                or not 0.0 <= float(self.drop_path) < 1.0:
            raise ValueError(f"drop_path must be a number in [0, 1), got {self.drop_path!r}")
        _positive_int(self.drop_path_steps, "drop_path_steps")
        if isinstance(self.stem_stride, bool) or self.stem_stride not in (1, 2):
            raise ValueError(f"stem_stride must be 1 or 2, got {self.stem_stride!r}")
        if num_cells(self) < 1:
            raise ValueError("the network needs at least one cell (normal_cells=0 and motifs=1)")

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-able dict; without the drop-path fields when
        `drop_path` is 0 and without `stem_stride` when 1, so architectures
        written before those existed keep their text (and their
        de-duplication and resume)."""
        out = dataclasses.asdict(self)
        if not self.drop_path:
            del out["drop_path"], out["drop_path_steps"]
        if self.stem_stride == 1:
            del out["stem_stride"]
        return out

    def to_json(self) -> str:
        """JSON text of the fields (sorted keys)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "MacroConfig":
        """Inverse of `to_dict` (missing fields take their defaults).

        Raises:
            ValueError: unknown fields or invalid values.
        """
        if not isinstance(data, dict):
            raise ValueError(f"a macro config is a dict, got {type(data).__name__}")
        unknown = set(data) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise ValueError(f"unknown macro config fields {sorted(unknown)}")
        return cls(**data)

    @classmethod
    def from_json(cls, text: str) -> "MacroConfig":
        """Inverse of `to_json`.

        Raises:
            ValueError: not JSON, unknown fields or invalid values.
        """
        try:
            data = json.loads(text)
        except (TypeError, json.JSONDecodeError) as err:
            raise ValueError(f"not a JSON macro config: {err}") from err
        return cls.from_dict(data)


def cell_plan(macro: MacroConfig) -> list[tuple[bool, int, int]]:
    """`(reduction, filters, motif)` of every cell, in network order."""
    plan = []
    for m in range(macro.motifs):
        plan += [(False, macro.filters * 2 ** m, m)] * macro.normal_cells
        if m < macro.motifs - 1:
            plan.append((True, macro.filters * 2 ** (m + 1), m))
    return plan


def num_cells(macro: MacroConfig) -> int:
    """Total number of cells: `motifs * normal_cells + motifs - 1`."""
    return macro.motifs * macro.normal_cells + macro.motifs - 1


def cost_features(cell: Any, macro: MacroConfig, *,
                  space: CellSpace | None = None) -> dict[str, float]:
    """Structural features of a cell combined with the macro architecture.

    The `structural_features` of the cell, then: `cells`, `normal_cells`,
    `reduction_cells`, `filters` (first motif), `filters_last`, `residual`
    (0/1); `params_proxy`, the sum over cells of `op_cost * filters_c**2`
    (about the cells' operator weights), and `flops_proxy`, the sum over
    cells of `op_cost * filters_c**2 / 4**r_c` (`r_c` reductions before the
    cell, applied to it if a reduction cell, plus one for a stem of
    stride 2): multiply-adds per input pixel
    (or per step, with `2**r_c` for 1-D) of the cells' operators. Both ignore
    the adapting 1x1 convs and the stem.

    Args:
        cell: The cell.
        macro: The macro architecture.
        space: The cell space; `default_space(cell)` when None (which fixes
            the `op_<name>` keys by the cell's operators).

    Raises:
        ValueError: an invalid cell.
    """
    space = space or default_space(cell)
    feats = space.structural_features(cell)
    plan = cell_plan(macro)
    op_cost = feats["op_cost"]
    area = 4 if space.dims == 2 else 2
    params = flops = 0.0
    for reduction, filters, motif in plan:
        r = motif + 1 if reduction else motif
        params += op_cost * filters ** 2
        flops += op_cost * filters ** 2 / area ** (r + macro.stem_stride - 1)
    feats.update({
        "cells": float(len(plan)),
        "normal_cells": float(sum(not r for r, _, _ in plan)),
        "reduction_cells": float(sum(r for r, _, _ in plan)),
        "filters": float(macro.filters),
        "filters_last": float(plan[-1][1]),
        "residual": float(bool(macro.residual)),
        "params_proxy": params,
        "flops_proxy": flops,
    })
    return feats
