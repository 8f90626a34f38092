"""Acting on a supernet's MixedOps: find them, fix their paths, set the
path-dropout rate (and raise it over training) or the relaxed modes'
temperature, read the architecture parameters and derive an architecture
from them, and copy a supernet's weights into a normally built
sub-architecture by layer name."""

from __future__ import annotations

import heapq
import math
from typing import Any, Iterator, Mapping

import keras
import numpy as np

from autokeras_nas.oneshot.modes import RELAXED_MODES
from autokeras_nas.oneshot.mixed import MixedOp


def _children(layer: Any) -> list[Any]:
    if isinstance(layer, MixedOp):
        return list(layer.branches)
    found = getattr(layer, "_layers", None)  # every tracked sublayer, nested ones too
    if found is None:
        found = getattr(layer, "layers", None) or []
    return list(found)


def walk_layers(model: Any) -> Iterator[Any]:
    """Every layer nested in `model` (not `model` itself), depth first, once."""
    seen: set[int] = {id(model)}
    stack = list(reversed(_children(model)))
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        yield layer
        stack.extend(reversed(_children(layer)))


def all_mixed_ops(model: Any) -> list[MixedOp]:
    """Every MixedOp nested in `model`, in model order (a choice used in
    several places has several)."""
    return [layer for layer in walk_layers(model) if isinstance(layer, MixedOp)]


def mixed_ops(model: Any) -> dict[str, MixedOp]:
    """The MixedOps nested in `model` by choice name, in model order: the
    first one of each choice (the one that samples its path)."""
    found: dict[str, MixedOp] = {}
    for op in all_mixed_ops(model):
        if op.choice not in found or (found[op.choice].follows and not op.follows):
            found[op.choice] = op
    return found


def choice_names(model: Any) -> dict[str, list[str]]:
    """Each choice of a supernet -> its candidate names (in path order)."""
    return {name: op.candidates for name, op in mixed_ops(model).items()}


def set_paths(model: Any, paths: Mapping[str, str] | None) -> None:
    """Fixes the path of the named choices (training and inference alike).

    Args:
        model: a supernet (a model holding MixedOps).
        paths: choice name -> candidate name; every MixedOp not named goes
            back to sampling ("single" mode) or summing ("all" mode). None
            puts every MixedOp back.

    Raises:
        ValueError: a name that is not a choice of `model`, or a candidate
            that is not one of its choice's.
    """
    ops = mixed_ops(model)
    paths = dict(paths or {})
    unknown = sorted(set(paths) - set(ops))
    if unknown:
        raise ValueError(f"set_paths: {unknown} are not choices of this model "
                         f"(its choices: {sorted(ops)})")
    for name, op in ops.items():
        choice = paths.get(name)
        if choice is not None and choice not in op.candidates:
            raise ValueError(f"set_paths: {choice!r} is not a candidate of {name!r} "
                             f"({op.candidates})")
    for op in all_mixed_ops(model):
        choice = paths.get(op.choice)
        op.fixed_path.assign(-1 if choice is None else op.candidates.index(choice))


def set_drop_rate(model: Any, rate: float) -> int:
    """Sets the path-dropout rate of every "all"-mode MixedOp of `model`;
    returns how many there are.

    Raises:
        ValueError: `rate` outside [0, 1).
    """
    if not isinstance(rate, (int, float)) or not 0.0 <= rate < 1.0:
        raise ValueError(f"drop rate must be in [0, 1), got {rate!r}")
    ops = [op for op in all_mixed_ops(model) if op.mode == "all"]
    for op in ops:
        op.drop_rate.assign(float(rate))
    return len(ops)


def set_temperature(model: Any, temperature: float) -> int:
    """Sets the Gumbel-softmax temperature of every relaxed MixedOp of
    `model` (a variable: the training step is not traced again); returns
    how many there are.

    Raises:
        ValueError: `temperature` not a positive number.
    """
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
            or not temperature > 0:
        raise ValueError(f"temperature must be a positive number, got {temperature!r}")
    ops = architecture_ops(model)
    for op in ops.values():
        op.temperature.assign(float(temperature))
    return len(ops)


def architecture_ops(model: Any) -> dict[str, MixedOp]:
    """The MixedOps holding the architecture parameters of a relaxed
    supernet, by choice name (empty for "single" and "all" supernets)."""
    return {name: op for name, op in mixed_ops(model).items() if op.mode in RELAXED_MODES}


def architecture_variables(model: Any) -> list[Any]:
    """The architecture parameters of a relaxed supernet: one logits
    variable per choice, in model order."""
    return [op.arch_logits for op in architecture_ops(model).values()]


def probabilities(model: Any) -> dict[str, dict[str, float]]:
    """Each choice's softmax of its architecture logits: choice ->
    candidate -> probability."""
    found = {}
    for name, op in architecture_ops(model).items():
        logits = np.asarray(keras.ops.convert_to_numpy(op.arch_logits), dtype="float64")
        p = np.exp(logits - logits.max())
        p /= p.sum()
        found[name] = {c: float(v) for c, v in zip(op.candidates, p)}
    return found


def parameter_free(model: Any) -> dict[str, list[str]]:
    """Each choice's candidates without weights (skip, pooling, `zero`),
    in path order."""
    return {name: [c for c, branch in zip(op.candidates, op.branches) if not branch.weights]
            for name, op in mixed_ops(model).items()}


def is_none_candidate(name: str, layer: Any) -> bool:
    """Whether a candidate is the "none" operation: named "none", or
    `zero()`'s layer (a `Rescaling` by 0 without offset). The one rule of the
    derivation (never "none") and of the cost tables ("none" costs 0)."""
    if name == "none":
        return True
    return (isinstance(layer, keras.layers.Rescaling)
            and float(np.max(np.abs(layer.scale))) == 0.0
            and float(np.max(np.abs(layer.offset))) == 0.0)


def zero_candidates(model: Any) -> dict[str, list[str]]:
    """Each choice's "none" candidates (`is_none_candidate`)."""
    return {name: [c for c, branch in zip(op.candidates, op.branches)
                   if is_none_candidate(c, branch)]
            for name, op in mixed_ops(model).items()}


def derive(probs: Mapping[str, Mapping[str, float]], *,
           excluded: Mapping[str, Any] | None = None, top: int = 1) -> list[dict[str, str]]:
    """The `top` most probable architectures under independent choices
    (the product of each choice's probability), the most probable first,
    never taking a candidate listed for its choice in `excluded` (DARTS
    never derives "none"). Numpy only.

    Raises:
        ValueError: a choice with every candidate excluded, or `top` < 1.
    """
    if not isinstance(top, int) or isinstance(top, bool) or top < 1:
        raise ValueError(f"top must be an int >= 1, got {top!r}")
    excluded = excluded or {}
    ranked: list[list[tuple[float, str]]] = []
    for name, dist in probs.items():
        options = sorted(((float(p), c) for c, p in dist.items()
                          if c not in set(excluded.get(name, ()))), reverse=True)
        if not options:
            raise ValueError(f"derive: every candidate of {name!r} is excluded")
        ranked.append([(float(np.log(max(p, 1e-300))), c) for p, c in options])
    names = list(probs)
    # best-first expansion over index vectors (k-best of a product)
    start = (0,) * len(names)
    score = lambda idx: sum(ranked[i][j][0] for i, j in enumerate(idx))  # noqa: E731
    frontier, seen, found = [(-score(start), start)], {start}, []
    while frontier and len(found) < top:
        _, idx = heapq.heappop(frontier)
        found.append({n: ranked[i][j][1] for i, (n, j) in enumerate(zip(names, idx))})
        for i in range(len(idx)):
            if idx[i] + 1 < len(ranked[i]):
                nxt = idx[:i] + (idx[i] + 1,) + idx[i + 1:]
                if nxt not in seen:
                    seen.add(nxt)
                    heapq.heappush(frontier, (-score(nxt), nxt))
    return found


def cap_parameter_free(arch: Mapping[str, str], probs: Mapping[str, Mapping[str, float]],
                       free: Mapping[str, Any], share: float, *,
                       excluded: Mapping[str, Any] | None = None) -> dict[str, str]:
    """`arch` with at most `share` of its contested choices (those offering
    a candidate with weights) taking a weightless candidate: P-DARTS' limit
    on skip connections in the derived cell (Chen et al. 2019), for every
    weightless candidate. The weightless choices over the limit that lose
    the least probability by it take their most probable candidate with
    weights (not one of `excluded`), which makes the result the most
    probable architecture within the limit when `arch` is the most probable
    one. Numpy only.

    Args:
        arch: choice -> candidate.
        probs: choice -> candidate -> probability.
        free: choice -> its weightless candidates (`parameter_free`).
        share: the largest share of weightless contested choices, in [0, 1].
        excluded: choice -> candidates never taken ("none").
    """
    excluded = excluded or {}

    def weighted(name: str) -> list[tuple[float, str]]:
        return sorted(((float(p), c) for c, p in probs[name].items()
                       if c not in set(free.get(name, ())) and c not in set(excluded.get(name, ()))),
                      reverse=True)

    contested = [name for name in arch if weighted(name)]
    limit = int(math.floor(float(share) * len(contested) + 1e-9))
    weightless = [name for name in contested if arch[name] in set(free.get(name, ()))]
    excess = len(weightless) - limit
    out = dict(arch)
    if excess <= 0:
        return out
    losses = []
    for name in weightless:
        p, candidate = weighted(name)[0]
        loss = math.log(max(float(probs[name][arch[name]]), 1e-300)) - math.log(max(p, 1e-300))
        losses.append((loss, name, candidate))
    for _, name, candidate in sorted(losses)[:excess]:
        out[name] = candidate
    return out


class PathDropoutSchedule(keras.callbacks.Callback):
    """Raises the path-dropout rate linearly over training (Bender et al.
    2018): 0 in the first epoch, `max_rate` from epoch `epochs - 1` on.

    Args:
        max_rate: the final rate, in [0, 1).
        epochs: the epochs over which the rate rises (the training's length);
            1 means `max_rate` from the start.
    """

    def __init__(self, max_rate: float, epochs: int) -> None:
        super().__init__()
        if not isinstance(max_rate, (int, float)) or not 0.0 <= max_rate < 1.0:
            raise ValueError(f"max_rate must be in [0, 1), got {max_rate!r}")
        if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
            raise ValueError(f"epochs must be an int >= 1, got {epochs!r}")
        self.max_rate = float(max_rate)
        self.epochs = epochs

    def rate(self, epoch: int) -> float:
        """The rate of epoch `epoch` (counted from 0)."""
        if self.epochs == 1:
            return self.max_rate
        return self.max_rate * min(1.0, epoch / (self.epochs - 1))

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        set_drop_rate(self.model, self.rate(epoch))


def _shapes(layer: Any) -> list[tuple]:
    return [tuple(w.shape) for w in layer.weights]


def inherit_supernet_weights(model: Any, supernet: Any) -> int:
    """Copies the supernet's weights into `model` (a normal build of the same
    space) layer by layer, matched by name: a chosen candidate
    `{choice}__{candidate}` takes the weights of the supernet's candidate of
    that name, and the layers outside `choose` those of their namesakes. A
    conditional candidate `{choice}__{candidate}__{earlier}` falls back to
    `{choice}__{candidate}` when the supernet is not conditional. Layers
    whose name or weight shapes match nothing keep their weights.

    Returns:
        How many layers (with their nested layers) were copied.
    """
    return _copy_into(model, supernet)


def _copy_into(target: Any, source: Any) -> int:
    """Copies the layers below `target` that match a layer below `source`;
    a match by name whose shapes differ is searched one level deeper."""
    names = _layers_by_name(source)
    copied = 0
    for layer in _children(target):
        if not layer.weights:
            continue
        found = names.get(layer.name)
        if found is None and layer.name.count("__") >= 2:
            found = names.get(layer.name.rsplit("__", 1)[0])
        if found is None:
            continue
        if _shapes(found) == _shapes(layer):
            layer.set_weights(found.get_weights())
            copied += 1
        else:
            copied += _copy_into(layer, found)
    return copied


def _layers_by_name(model: Any) -> dict[str, Any]:
    """Name -> layer with weights (not a MixedOp), the least nested first:
    a layer inside a candidate may share the name of a top-level layer."""
    found: dict[str, Any] = {}
    level, seen = _children(model), {id(model)}
    while level:
        below = []
        for layer in level:
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            if not isinstance(layer, MixedOp) and layer.weights:
                found.setdefault(layer.name, layer)
            below.extend(_children(layer))
        level = below
    return found
