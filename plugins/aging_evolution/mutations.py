"""Mutation rules of aging evolution, replaceable by the user.

A rule is a callable `rule(values, space, rng)` returning the mutated values
(a new dict), or `None` when it does not apply to these values. Its name in
the trial notes is its `name` attribute, else its `__name__`.

Two sets come with the plugin:

* `change_one` alone (the default, Real et al. 2019): one active
  hyperparameter takes another legal value; conditional scopes are respected
  (parameters that become active are sampled, inactive ones dropped). This is
  `space.mutate`, so a structured space brings its own mutation.
* `large_scale_mutations()` (Real et al. 2017, "Large-Scale Evolution of
  Image Classifiers"), on spaces that name their structural hyperparameters:
  insert or remove a convolution (depth + 1 / - 1), alter the number of
  channels of one layer, alter the filter size, alter a stride, alter the
  learning rate, add or remove a skip connection. Which hyperparameters play
  which part is given by `roles`; the defaults match the package's image
  space (`conv_blocks`, `filters_<i>`, `kernel_size`, `learning_rate`) and the
  usual names in a `build_model(hp)`. The paper's identity and reset-weights
  mutations re-train an unchanged architecture; this package evaluates each
  architecture once, so they are left out.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Mapping, Protocol, Sequence

import numpy as np

from autokeras_nas.core import Choice, Float, Int, Scalar


class MutationRule(Protocol):
    def __call__(
        self, values: Mapping[str, Scalar], space: Any, rng: np.random.Generator
    ) -> dict[str, Scalar] | None: ...


def rule_name(rule: Callable[..., Any]) -> str:
    """The name a rule goes by in the trial notes."""
    return str(getattr(rule, "name", None) or getattr(rule, "__name__", type(rule).__name__))


def change_one(
    values: Mapping[str, Scalar], space: Any, rng: np.random.Generator
) -> dict[str, Scalar] | None:
    """Changes one active hyperparameter (the space's own `mutate`)."""
    return space.mutate(values, rng)


#: Name patterns (regular expressions, full match) of the hyperparameters
#: each large-scale mutation acts on.
DEFAULT_ROLES: dict[str, str] = {
    "depth": r"(num_)?(conv_)?(blocks|layers|cells)|depth",
    "channels": r"(filters|channels|units|width)(_\d+)?",
    "filter_size": r"kernel(_size)?(_\d+)?|filter_size(_\d+)?",
    "stride": r"strides?(_\d+)?",
    "learning_rate": r"(learning_rate|lr)",
    "skip": r"(skip|residual)(_\d+)?",
}


def _active_params(values: Mapping[str, Scalar], space: Any, pattern: str) -> list[Any]:
    """Parameters of `space` active in `values` whose name matches `pattern`."""
    regex = re.compile(pattern)
    found = []
    for name in space.names:
        if name in values and regex.fullmatch(name):
            param = _governing(space, name, values)
            if param is not None and param.cardinality() > 1:
                found.append(param)
    return found


def _governing(space: Any, name: str, values: Mapping[str, Scalar]) -> Any:
    for param in space.params:
        if param.name == name and all(c.holds(values) for c in param.conditions):
            return param
    return None


def _step(param: Any, value: Scalar, direction: int) -> Scalar | None:
    """The nearest larger (`direction` 1) or smaller (-1) legal value of an
    integer or ordered choice, or None at the end of its range."""
    if isinstance(param, Choice) and param.ordered:
        i = param.values.index(value) + direction
        return param.values[i] if 0 <= i < len(param.values) else None
    if isinstance(param, Int):
        side = [v for v in param.neighbours(value) if (v - value) * direction > 0]
        return min(side, key=lambda v: abs(v - value)) if side else None
    return None


def _with(space: Any, values: Mapping[str, Scalar], name: str, new: Scalar,
          rng: np.random.Generator) -> dict[str, Scalar]:
    """`values` with `name` set to `new`; newly active parameters are sampled."""
    changed = {**values, name: new}
    sampled = space.sample(rng)
    return space.complete({**sampled, **changed})


def _one_of(params: Sequence[Any], rng: np.random.Generator) -> Any:
    return params[int(rng.integers(len(params)))]


class _RoleRule:
    """Base of the large-scale rules: finds its parameters by role."""

    name = ""
    role = ""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def __call__(self, values: Mapping[str, Scalar], space: Any,
                 rng: np.random.Generator) -> dict[str, Scalar] | None:
        params = _active_params(values, space, self.pattern)
        if not params:
            return None
        param = _one_of(params, rng)
        new = self.new_value(param, values[param.name], rng)
        if new is None or new == values[param.name]:
            return None
        return _with(space, values, param.name, new, rng)

    def new_value(self, param: Any, value: Scalar, rng: np.random.Generator) -> Scalar | None:
        return param.mutate_value(value, rng)


class _Depth(_RoleRule):
    direction = 1

    def new_value(self, param: Any, value: Scalar, rng: np.random.Generator) -> Scalar | None:
        return _step(param, value, self.direction)


class InsertConvolution(_Depth):
    """INSERT-CONVOLUTION: one more layer (depth + 1)."""

    name = "insert-convolution"
    role = "depth"


class RemoveConvolution(_Depth):
    """REMOVE-CONVOLUTION: one layer fewer (depth - 1)."""

    name = "remove-convolution"
    role = "depth"
    direction = -1


class AlterChannels(_RoleRule):
    """ALTER-NUMBER-OF-CHANNELS of one layer: the next smaller or larger
    setting for an ordered choice or integer, another value otherwise."""

    name = "alter-number-of-channels"
    role = "channels"

    def new_value(self, param: Any, value: Scalar, rng: np.random.Generator) -> Scalar | None:
        stepped = _step(param, value, 1 if rng.random() < 0.5 else -1)
        return stepped if stepped is not None else param.mutate_value(value, rng)


class AlterFilterSize(_RoleRule):
    """FILTER-SIZE: another kernel size."""

    name = "filter-size"
    role = "filter_size"


class AlterStride(_RoleRule):
    """ALTER-STRIDE: another stride."""

    name = "alter-stride"
    role = "stride"


class ToggleSkip(_RoleRule):
    """ADD-SKIP / REMOVE-SKIP: toggles or changes a skip connection."""

    name = "add-or-remove-skip"
    role = "skip"


class AlterLearningRate(_RoleRule):
    """ALTER-LEARNING-RATE: multiplies the rate by 2**u, u ~ U(-1, 1), or
    divides it when that leaves the range (another value for a non-float
    parameter)."""

    name = "alter-learning-rate"
    role = "learning_rate"

    def new_value(self, param: Any, value: Scalar, rng: np.random.Generator) -> Scalar | None:
        if not isinstance(param, Float):
            return param.mutate_value(value, rng)
        factor = 2.0 ** rng.uniform(-1.0, 1.0)
        new = float(value) * factor
        if not param.min_value <= new <= param.max_value:
            new = float(value) / factor  # reflect at the end of the range
        new = min(max(new, param.min_value), param.max_value)
        try:
            return param.check(new)
        except ValueError:  # a stepped Float: let the parameter pick
            return param.mutate_value(value, rng)


_LARGE_SCALE = (InsertConvolution, RemoveConvolution, AlterChannels, AlterFilterSize,
                AlterStride, AlterLearningRate, ToggleSkip)


def large_scale_mutations(roles: Mapping[str, str] | None = None) -> list[MutationRule]:
    """The mutation set of Real et al. 2017 for a space with named roles.

    Args:
        roles: Regular expressions (full match) of the hyperparameter names of
            each role: "depth", "channels", "filter_size", "stride",
            "learning_rate", "skip". Missing roles take `DEFAULT_ROLES`.
    """
    patterns = {**DEFAULT_ROLES, **(roles or {})}
    unknown = set(patterns) - set(DEFAULT_ROLES)
    if unknown:
        raise ValueError(f"unknown mutation roles {sorted(unknown)}; known: {sorted(DEFAULT_ROLES)}")
    return [cls(patterns[cls.role]) for cls in _LARGE_SCALE]


def applicable(rules: Sequence[MutationRule], space: Any) -> list[str]:
    """Names of the rules that find a parameter to act on in `space`."""
    names = []
    for rule in rules:
        pattern = getattr(rule, "pattern", None)
        if pattern is None or any(re.fullmatch(pattern, n) for n in space.names):
            names.append(rule_name(rule))
    return names


def normalise(rules: Any) -> tuple[list[MutationRule], np.ndarray]:
    """Rules and their selection probabilities from what the user passed:
    `None` (change_one), "large-scale", a rule, a list of rules (equal
    weights) or a dict {rule: weight}."""
    if rules is None:
        rules = [change_one]
    elif isinstance(rules, str):
        if rules != "large-scale":
            raise ValueError(f"mutations must be 'large-scale', rules or {{rule: weight}}, got {rules!r}")
        rules = large_scale_mutations()
    elif callable(rules):
        rules = [rules]
    if isinstance(rules, Mapping):
        items, weights = list(rules), [float(w) for w in rules.values()]
    else:
        items = list(rules)
        weights = [1.0] * len(items)
    if not items:
        raise ValueError("mutations must hold at least one rule")
    bad = [r for r in items if not callable(r)]
    if bad:
        raise ValueError(f"mutation rules must be callables (values, space, rng), got {bad!r}")
    if any(not math.isfinite(w) or w < 0 for w in weights) or sum(weights) <= 0:
        raise ValueError(f"mutation weights must be non-negative with a positive sum, got {weights}")
    p = np.asarray(weights) / sum(weights)
    return items, p
