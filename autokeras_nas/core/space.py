"""Search spaces: the `SearchSpace` protocol and `HyperSpace`.

`HyperSpace` is a list of KerasTuner-style hyperparameters (`Choice`, `Int`,
`Float`, `Boolean`, `Fixed`, defined in `autokeras_nas.core.hyperparameters`)
with conditional scopes, built from (and serialised to) the dict of
KerasTuner's `HyperParameters.get_config()`. A parameter is identified by
(name, conditions): one name may appear several times under different
conditions, as KerasTuner's conditional scopes allow; the first active one
governs.

The parameter classes, `Condition`, `param_from_config` and `to_python` are
re-exported here, so `from autokeras_nas.core.space import Choice` works.
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable, Iterable, Mapping, Protocol, runtime_checkable

import numpy as np

from autokeras_nas.core.hyperparameters import (
    Boolean,
    Choice,
    Condition,
    Fixed,
    Float,
    Int,
    Parameter,
    param_from_config,
    to_python,
)
from autokeras_nas.core.strategy import RESERVED_PREFIX, Scalar, is_reserved

__all__ = [
    "Boolean", "Choice", "Condition", "Fixed", "Float", "HyperSpace", "Int",
    "Parameter", "SearchSpace", "param_from_config", "to_python",
]


class _Other:
    """Stands for "any value listed in no condition" while counting."""

    def __repr__(self) -> str:
        return "<other>"


_OTHER = _Other()


@runtime_checkable
class SearchSpace(Protocol):
    """What strategies need from a search space."""

    def sample(self, rng: np.random.Generator) -> dict[str, Scalar]: ...

    def mutate(self, values: Mapping[str, Scalar], rng: np.random.Generator) -> dict[str, Scalar]: ...

    def neighbours(self, values: Mapping[str, Scalar]) -> list[dict[str, Scalar]]: ...

    def key(self, values: Mapping[str, Scalar]) -> str: ...

    def encode(self, values: Mapping[str, Scalar]) -> np.ndarray: ...

    def size(self) -> float: ...

    def complete(self, values: Mapping[str, Scalar]) -> dict[str, Scalar]: ...

    def to_config(self) -> dict[str, Any]: ...


Fill = Callable[[Parameter], Scalar]


#: How many values' keys a space remembers (`HyperSpace.key`).
_KEY_MEMO = 50_000


def _default(param: Parameter) -> Scalar:
    return param.default


def _lenient(param: Parameter, value: Any) -> Any:
    """The canonical value if legal, else the raw value (for keys only)."""
    try:
        return param.check(value)
    except ValueError:
        try:
            return to_python(value)
        except TypeError:
            return repr(value)


def _tag(value: Any) -> list[Any]:
    if type(value) is float:
        return ["f", f"{value + 0.0:.10g}"]  # + 0.0 turns -0.0 into 0.0
    kind = {bool: "b", int: "i", str: "s"}.get(type(value))
    return [kind, value] if kind else ["r", repr(value)]


def _reserved(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if isinstance(k, str) and is_reserved(k)}


def _check_rng(rng: Any) -> None:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")


class HyperSpace:
    """A search space of KerasTuner-style hyperparameters with conditions.

    Values are dicts `{name: value}` holding exactly the active parameters
    (plain Python scalars). Names starting with "nas/" are reserved for the
    package: `complete`, `mutate` and `neighbours` pass them through untouched,
    `key` and `encode` ignore them.

    Args:
        params: `Choice`, `Int`, `Float`, `Boolean` and `Fixed` objects; a
            parameter's conditions may only name parameters defined before it.

    Raises:
        ValueError: On a reserved name, a condition on an undefined (or later)
            parameter, or the same name with the same conditions twice.
    """

    def __init__(self, params: Iterable[Parameter] = ()) -> None:
        self._params = tuple(params)
        defined: set[str] = set()
        identities: set[tuple[str, tuple[Condition, ...]]] = set()
        for p in self._params:
            self._validate_param(p, defined, identities)
            defined.add(p.name)
            identities.add((p.name, p.conditions))
        self._names = tuple(dict.fromkeys(p.name for p in self._params))
        self._keys: dict[tuple, str] = {}  # `key`'s memo
        self._listed: dict[str, list[Scalar]] = {}
        for p in self._params:
            for c in p.conditions:
                self._listed.setdefault(c.name, []).extend(c.values)
        dims = [p.encoded_dim for p in self._params]
        self._offsets = tuple(int(x) for x in np.cumsum([0] + dims[:-1])) if dims else ()
        self._dim = sum(dims)
        n = len(self._params)
        self._suffix_parents = [frozenset(c.name for p in self._params[i:] for c in p.conditions)
                                for i in range(n + 1)]
        self._suffix_names = [frozenset(p.name for p in self._params[i:]) for i in range(n + 1)]

    @staticmethod
    def _validate_param(p: Any, defined: set[str], identities: set[Any]) -> None:
        if not isinstance(p, Parameter):
            raise ValueError(f"expected Choice, Int, Float, Boolean or Fixed, got {p!r}")
        if is_reserved(p.name):
            raise ValueError(f"{p.name!r}: names starting with {RESERVED_PREFIX!r} are reserved")
        for c in p.conditions:
            if c.name not in defined:
                raise ValueError(f"{p.name!r} is conditioned on {c.name!r}, not defined before it")
        if (p.name, p.conditions) in identities:
            raise ValueError(f"{p.name!r} is defined twice with the same conditions")

    @classmethod
    def from_keras_tuner_config(cls, config: Mapping[str, Any]) -> "HyperSpace":
        """Builds the space from KerasTuner's `HyperParameters.get_config()`.

        Reserved ("nas/...") parameters, and parameters conditioned on them,
        are skipped; repeated (name, conditions) entries are kept once.
        """
        params: list[Parameter] = []
        identities: set[tuple[str, tuple[Condition, ...]]] = set()
        for entry in config.get("space", ()):
            cfg = entry.get("config", {})
            names = [cfg.get("name")] + [c.get("config", {}).get("name") for c in cfg.get("conditions") or ()]
            if any(isinstance(n, str) and is_reserved(n) for n in names):
                continue
            p = param_from_config(entry)
            if (p.name, p.conditions) not in identities:
                identities.add((p.name, p.conditions))
                params.append(p)
        return cls(params)

    def to_config(self) -> dict[str, Any]:
        """KerasTuner's `HyperParameters.get_config()` format (values = defaults)."""
        space = [{"class_name": type(p).__name__, "config": p.to_config()} for p in self._params]
        return {"space": space, "values": self.complete({})}

    # -- container -----------------------------------------------------------
    @property
    def params(self) -> tuple[Parameter, ...]:
        """The parameters in order (parents before children)."""
        return self._params

    @property
    def names(self) -> tuple[str, ...]:
        """Distinct parameter names in order of first definition."""
        return self._names

    @property
    def encoded_dim(self) -> int:
        """Length of the vectors `encode` returns."""
        return self._dim

    def __len__(self) -> int:
        return len(self._params)

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def get(self, name: str) -> Parameter:
        """The first parameter called `name` (KeyError if none)."""
        for p in self._params:
            if p.name == name:
                return p
        raise KeyError(f"no hyperparameter named {name!r}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HyperSpace) and self._params == other._params

    def __repr__(self) -> str:
        return f"HyperSpace({list(self._params)!r})"

    # -- values --------------------------------------------------------------
    def _walk(
        self, values: Mapping[str, Any], fill: Fill | None, strict: bool
    ) -> tuple[dict[str, Scalar], list[int]]:
        """Resolves activity in parameter order.

        Returns the active values (given ones, checked if `strict`, else the
        `fill` of missing ones) and the indices of the governing parameters.
        """
        out: dict[str, Any] = {}
        active: list[int] = []
        taken: set[str] = set()
        for i, p in enumerate(self._params):
            if p.name in taken or not all(c.holds(out) for c in p.conditions):
                continue
            taken.add(p.name)
            active.append(i)
            if p.name in values:
                out[p.name] = p.check(values[p.name]) if strict else _lenient(p, values[p.name])
            elif fill is not None:
                out[p.name] = fill(p)
        return out, active

    def is_active(self, name: str, values: Mapping[str, Any]) -> bool:
        """Whether `name` is active given `values` (a missing parent is inactive)."""
        if name not in self:
            raise KeyError(f"no hyperparameter named {name!r}")
        _, active = self._walk(values, None, strict=False)
        return any(self._params[i].name == name for i in active)

    def complete(self, values: Mapping[str, Any]) -> dict[str, Scalar]:
        """Exactly the active values: given legal ones kept, missing ones set to
        their defaults, inactive and unknown ones dropped ("nas/" keys kept).

        Raises:
            ValueError: If an active parameter has an illegal value.
        """
        out, _ = self._walk(values, _default, strict=True)
        out.update(_reserved(values))
        return out

    def sample(self, rng: np.random.Generator) -> dict[str, Scalar]:
        """Random values of the active parameters, drawn in parameter order."""
        _check_rng(rng)
        out, _ = self._walk({}, lambda p: p.sample(rng), strict=True)
        return out

    def mutate(self, values: Mapping[str, Any], rng: np.random.Generator) -> dict[str, Scalar]:
        """Changes one active, non-constant parameter to another legal value.

        Parameters that become active are sampled; those that become inactive
        are dropped. Returns a copy when nothing can change. A value the space
        no longer holds (it was narrowed, `project`) is first resampled.
        """
        _check_rng(rng)
        current, active = self._walk(self.project(values, rng), _default, strict=True)
        movable = [self._params[i] for i in active if self._params[i].cardinality() > 1]
        if not movable:
            return {**current, **_reserved(values)}
        p = movable[int(rng.integers(len(movable)))]
        changed = {**current, p.name: p.mutate_value(current[p.name], rng)}
        out, _ = self._walk(changed, lambda q: q.sample(rng), strict=True)
        return {**out, **_reserved(values)}

    def neighbours(self, values: Mapping[str, Any]) -> list[dict[str, Scalar]]:
        """All one-change neighbours (newly active parameters at their defaults),
        in parameter order, without duplicates and without `values` itself.
        A value the space no longer holds is first set to its default
        (`project`)."""
        current, active = self._walk(self.project(values), _default, strict=True)
        seen, result = {self._key_of(current)}, []
        for i in active:
            p = self._params[i]
            for v in p.neighbours(current[p.name]):
                out, _ = self._walk({**current, p.name: v}, _default, strict=True)
                k = self._key_of(out)
                if k not in seen:
                    seen.add(k)
                    result.append({**out, **_reserved(values)})
        return result

    def project(self, values: Mapping[str, Any],
                rng: np.random.Generator | None = None) -> dict[str, Any]:
        """`values` with every active value the space does not hold replaced:
        drawn with `rng`, else the parameter's default. Values of a space
        that was narrowed since they were proposed (an analyst's edit
        excluded or pinned a value) are moved back into it; legal values,
        inactive and reserved ("nas/") keys are kept as they are."""
        out = dict(values)
        for p in self._params:
            if p.name not in out or not all(c.holds(out) for c in p.conditions):
                continue
            try:
                p.check(out[p.name])
            except ValueError:
                out[p.name] = p.sample(rng) if rng is not None else p.default
        return out

    def key(self, values: Mapping[str, Any]) -> str:
        """Canonical string of the active values (missing ones at defaults).

        Never raises: an illegal value is kept as given, so old trials still
        get a key after the space changed. Remembered (by each value and its
        type) for the last `_KEY_MEMO` values asked: strategies ask again and
        again for the keys of the same candidates to de-duplicate them.
        """
        try:
            memo: tuple | None = tuple((k, type(v), v) for k, v in values.items())
            found = self._keys.get(memo)
        except TypeError:  # an unhashable value: not remembered
            memo = found = None
        if found is None:
            out, _ = self._walk(values, _default, strict=False)
            found = self._key_of(out)
            if memo is not None:
                if len(self._keys) >= _KEY_MEMO:
                    self._keys.clear()
                self._keys[memo] = found
        return found

    @staticmethod
    def _key_of(values: Mapping[str, Any]) -> str:
        return json.dumps([[n, *_tag(values[n])] for n in sorted(values)], separators=(",", ":"))

    def encode(self, values: Mapping[str, Any]) -> np.ndarray:
        """A vector of length `encoded_dim` in [0, 1]; inactive parameters are 0,
        and so is a value the space no longer holds (it was narrowed), so
        that results from before the narrowing still encode."""
        out, active = self._walk(values, _default, strict=False)
        vec = np.zeros(self._dim)
        for i in active:
            p = self._params[i]
            try:
                code = p.encode(p.check(out[p.name]))
            except ValueError:
                continue
            vec[self._offsets[i]:self._offsets[i] + p.encoded_dim] = code
        return vec

    # -- size ----------------------------------------------------------------
    def size(self) -> float:
        """Number of distinct active-value configurations (`math.inf` if infinite).

        Finite sizes are returned as exact Python ints.
        """
        return self._count(0, {}, frozenset(), {})

    def _count(self, start: int, assigned: dict[str, Any], taken: frozenset[str],
               memo: dict[Any, float]) -> float:
        """Configurations of `params[start:]` given the parents assigned so far."""
        memo_key = (start, frozenset((n, v) for n, v in assigned.items()
                                     if n in self._suffix_parents[start]),
                    taken & self._suffix_names[start])
        if memo_key in memo:
            return memo[memo_key]
        total: float = 1
        for i in range(start, len(self._params)):
            p = self._params[i]
            if p.name in taken or not all(c.holds(assigned) for c in p.conditions):
                continue
            taken = taken | {p.name}
            if p.name in self._listed:
                total *= sum(n * self._count(i + 1, {**assigned, p.name: v}, taken, memo)
                             for v, n in self._branches(p))
                break
            total *= p.cardinality()
            if total == math.inf:
                break
        memo[memo_key] = total
        return total

    def _branches(self, p: Parameter) -> list[tuple[Any, float]]:
        """(value, multiplicity) classes of a parent: each legal value listed in
        a condition, plus all other values together."""
        listed: list[Scalar] = []
        for v in self._listed[p.name]:
            try:
                cv = p.check(v)
            except ValueError:
                continue
            if cv not in listed:
                listed.append(cv)
        rest = p.cardinality() - len(listed)
        return [(v, 1) for v in listed] + ([(_OTHER, rest)] if rest > 0 else [])
