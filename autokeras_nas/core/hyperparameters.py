"""KerasTuner-style hyperparameters: `Choice`, `Int`, `Float`, `Boolean`,
`Fixed`, and the `Condition`s that scope them.

Each parameter is a frozen dataclass that round-trips through the entries of
KerasTuner's `HyperParameters.get_config()` (`param_from_config` /
`to_config`). They follow KerasTuner 1.4.8:

* `Choice`: values of one type (int, float, str or bool); default = first
  value; `ordered` defaults to True for numeric values and must be False for
  strings.
* `Int`: default `min_value`; `step` defaults to 1 with linear sampling and to
  None (every integer) with log sampling, sampled log-uniformly on
  `[min, max + 1)` and truncated as KerasTuner does. With "log" or
  "reverse_log" sampling `step` is a multiplier > 1: values `min * step**i`
  (reverse_log: `max + min - min * step**i`).
* `Float`: continuous unless `step` is given; default `min_value`.
* A value is legal when it lies on the parameter's grid, or is its default
  (KerasTuner lets a default sit off the step grid).
* `Condition(name, values)` holds when the parent `name` is active and its
  value is `in values` (Python equality, as KerasTuner's `Parent`); several
  conditions must all hold. A parameter is identified by (name, conditions):
  one name may appear several times under different conditions, as
  KerasTuner's conditional scopes allow; the first active one governs.

Deviations, on purpose: a bool `Choice` keeps its bool values (KerasTuner
turns them into 1/0); duplicate `Choice` values are rejected; a linear `Float`
grid includes `max_value` when `(max - min) / step` is an integer up to
rounding (KerasTuner's float `//` drops it, e.g. for step 0.1) and its values
are rounded to 12 significant digits (0.3, not 0.30000000000000004).
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass
from typing import Any, Iterable, Mapping

import numpy as np

from autokeras_nas.core.strategy import Scalar

_SAMPLINGS = ("linear", "log", "reverse_log")
_MUTATE_TRIES = 100
#: Neighbour distance of a continuous Float, as a fraction of its (log-)range.
_FLOAT_MOVE = 0.1


def to_python(value: Any) -> Scalar:
    """Converts a numpy scalar to the matching Python scalar.

    Python `bool`, `int`, `float` and `str` are returned unchanged.

    Raises:
        TypeError: For anything that is not a scalar of those kinds.
    """
    if type(value) in (bool, int, float, str):
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    for kinds, cast in (((bool, np.bool_), bool), ((int, np.integer), int),
                        ((float, np.floating), float), ((str,), str)):
        if isinstance(value, kinds):
            return cast(value)
    raise TypeError(f"expected a bool, int, float or str scalar, got {type(value).__name__}")


def _same(choice: Scalar, value: Scalar) -> bool:
    """Equal and of a compatible type (an int stands for a float, no bools)."""
    if type(choice) is float and type(value) is int:
        return choice == value
    return type(choice) is type(value) and choice == value


def _round12(x: float) -> float:
    return float(f"{x:.12g}")


@dataclass(frozen=True)
class Condition:
    """Parent `name` has one of `values` (KerasTuner's `conditions.Parent`)."""

    name: str
    values: tuple[Scalar, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"condition name must be a non-empty str, got {self.name!r}")
        raw = self.values if isinstance(self.values, (list, tuple)) else [self.values]
        if not raw:
            raise ValueError(f"condition on {self.name!r} needs at least one value")
        try:
            values = tuple(to_python(v) for v in raw)
        except TypeError as err:
            raise ValueError(f"condition on {self.name!r}: {err}") from None
        object.__setattr__(self, "values", values)

    def holds(self, values: Mapping[str, Any]) -> bool:
        """Whether the parent is present in `values` with one of the values."""
        return self.name in values and values[self.name] in self.values

    def to_config(self) -> dict[str, Any]:
        """KerasTuner's serialised form of the condition."""
        return {"class_name": "Parent", "config": {"name": self.name, "values": list(self.values)}}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "Condition":
        """Parses `{"class_name": "Parent", "config": {"name", "values"}}`."""
        if config.get("class_name") != "Parent":
            raise ValueError(f"unsupported condition {config.get('class_name')!r}")
        return cls(config["config"]["name"], config["config"]["values"])


class Parameter:
    """Behaviour shared by the parameter types (each a frozen dataclass)."""

    name: str
    default: Any
    conditions: tuple[Condition, ...]
    _CONFIG_KEYS: tuple[str, ...] = ()

    def _init_common(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"parameter name must be a non-empty str, got {self.name!r}")
        conditions = tuple(self.conditions)
        if not all(isinstance(c, Condition) for c in conditions):
            raise ValueError(f"conditions of {self.name!r} must be Condition objects")
        if any(c.name == self.name for c in conditions):
            raise ValueError(f"parameter {self.name!r} cannot be conditioned on itself")
        object.__setattr__(self, "conditions", conditions)

    def _set(self, **attrs: Any) -> None:
        for key, value in attrs.items():
            object.__setattr__(self, key, value)

    def _bad(self, value: Any, why: str) -> ValueError:
        return ValueError(f"hyperparameter {self.name!r}: {value!r} {why}")

    def _scalar(self, value: Any) -> Scalar:
        try:
            return to_python(value)
        except TypeError as err:
            raise self._bad(value, f"is not a scalar ({err})") from None

    def check(self, value: Any) -> Scalar:
        """Returns the canonical legal value; raises ValueError if illegal."""
        raise NotImplementedError

    def cardinality(self) -> float:
        """Number of legal values (`math.inf` for a continuous range)."""
        raise NotImplementedError

    def domain(self) -> tuple[Scalar, ...] | None:
        """All legal values when finite (may be long), else None."""
        raise NotImplementedError

    def from_unit(self, u: float) -> Scalar:
        """Maps `u` in [0, 1) to a value as KerasTuner's `prob_to_value`."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator) -> Scalar:
        """Draws a value with KerasTuner's `random_sample` distribution."""
        return self.from_unit(float(rng.random()))

    def neighbours(self, value: Scalar) -> list[Scalar]:
        """Deterministic one-move neighbours of a legal `value`."""
        raise NotImplementedError

    def mutate_value(self, value: Scalar, rng: np.random.Generator) -> Scalar:
        """A different legal value (resampled; a neighbour if that fails)."""
        for _ in range(_MUTATE_TRIES):
            new = self.sample(rng)
            if new != value:
                return new
        options = self.neighbours(value) or ([self.default] if self.default != value else [])
        return options[int(rng.integers(len(options)))] if options else value

    @property
    def encoded_dim(self) -> int:
        return 1

    def encode(self, value: Scalar) -> list[float]:
        """Features in [0, 1] of a legal `value`."""
        raise NotImplementedError

    def to_config(self) -> dict[str, Any]:
        """The `config` part of KerasTuner's serialised form."""
        config: dict[str, Any] = {"name": self.name}
        for key in self._CONFIG_KEYS:
            value = getattr(self, key)
            config[key] = list(value) if isinstance(value, tuple) else value
        config["conditions"] = [c.to_config() for c in self.conditions]
        return config


@dataclass(frozen=True)
class Choice(Parameter):
    """One of a list of values of a single type."""

    name: str
    values: tuple[Scalar, ...]
    _: KW_ONLY
    default: Scalar | None = None
    ordered: bool | None = None
    conditions: tuple[Condition, ...] = ()
    _CONFIG_KEYS = ("default", "values", "ordered")

    def __post_init__(self) -> None:
        self._init_common()
        if isinstance(self.values, (str, bytes)) or not isinstance(self.values, Iterable):
            raise ValueError(f"values of Choice {self.name!r} must be a list")
        values = tuple(self._scalar(v) for v in self.values)
        if not values:
            raise ValueError(f"Choice {self.name!r} needs at least one value")
        if len({type(v) for v in values}) > 1:
            raise ValueError(f"values of Choice {self.name!r} must share one type: {values}")
        if len(set(values)) != len(values):
            raise ValueError(f"values of Choice {self.name!r} must be distinct: {values}")
        self._set(values=values)
        # check() is on every strategy's hot path: look exact matches up first.
        self._set(_canonical={(type(v), v): v for v in values})
        self._set(default=values[0] if self.default is None else self.check(self.default))
        numeric = not isinstance(values[0], str)
        if self.ordered and not numeric:
            raise ValueError(f"Choice {self.name!r}: `ordered` must be False for strings")
        self._set(ordered=numeric if self.ordered is None else bool(self.ordered))

    def check(self, value: Any) -> Scalar:
        v = self._scalar(value)
        hit = self._canonical.get((type(v), v))
        if hit is not None:
            return hit
        for choice in self.values:
            if _same(choice, v):
                return choice
        raise self._bad(value, f"is not one of {list(self.values)}")

    def cardinality(self) -> float:
        return len(self.values)

    def domain(self) -> tuple[Scalar, ...]:
        return self.values

    def from_unit(self, u: float) -> Scalar:
        return self.values[_unit_index(u, len(self.values))]

    def sample(self, rng: np.random.Generator) -> Scalar:
        return self.values[int(rng.integers(len(self.values)))]

    def neighbours(self, value: Scalar) -> list[Scalar]:
        return [c for c in self.values if not _same(c, value)]

    def mutate_value(self, value: Scalar, rng: np.random.Generator) -> Scalar:
        others = self.neighbours(value)
        return others[int(rng.integers(len(others)))] if others else value

    @property
    def encoded_dim(self) -> int:
        return 1 if self.ordered else len(self.values)

    def encode(self, value: Scalar) -> list[float]:
        index, n = self.values.index(self.check(value)), len(self.values)
        if self.ordered:
            return [index / (n - 1) if n > 1 else 0.5]
        return [1.0 if i == index else 0.0 for i in range(n)]


@dataclass(frozen=True)
class Boolean(Parameter):
    """True or False."""

    name: str
    _: KW_ONLY
    default: bool = False
    conditions: tuple[Condition, ...] = ()
    _CONFIG_KEYS = ("default",)

    def __post_init__(self) -> None:
        self._init_common()
        self._set(default=self.check(self.default))

    def check(self, value: Any) -> Scalar:
        v = self._scalar(value)
        if type(v) is not bool:
            raise self._bad(value, "is not a bool")
        return v

    def cardinality(self) -> float:
        return 2

    def domain(self) -> tuple[Scalar, ...]:
        return (True, False)

    def from_unit(self, u: float) -> Scalar:
        return bool(u >= 0.5)

    def neighbours(self, value: Scalar) -> list[Scalar]:
        return [not value]

    def mutate_value(self, value: Scalar, rng: np.random.Generator) -> Scalar:
        return not value

    def encode(self, value: Scalar) -> list[float]:
        return [1.0 if self.check(value) else 0.0]


@dataclass(frozen=True)
class Fixed(Parameter):
    """A constant (never mutated, not encoded)."""

    name: str
    value: Scalar
    _: KW_ONLY
    conditions: tuple[Condition, ...] = ()
    _CONFIG_KEYS = ("value",)

    def __post_init__(self) -> None:
        self._init_common()
        self._set(value=self._scalar(self.value))

    @property
    def default(self) -> Scalar:
        return self.value

    def check(self, value: Any) -> Scalar:
        if not _same(self.value, self._scalar(value)):
            raise self._bad(value, f"differs from the fixed value {self.value!r}")
        return self.value

    def cardinality(self) -> float:
        return 1

    def domain(self) -> tuple[Scalar, ...]:
        return (self.value,)

    def from_unit(self, u: float) -> Scalar:
        return self.value

    def neighbours(self, value: Scalar) -> list[Scalar]:
        return []

    @property
    def encoded_dim(self) -> int:
        return 0

    def encode(self, value: Scalar) -> list[float]:
        return []


def _unit_index(u: float, n: int) -> int:
    """KerasTuner's `prob_to_index`."""
    return min(int(math.floor(u / (1 / n))), n - 1)


class _Numeric(Parameter):
    """Shared logic of `Int` and `Float`: ranges, sampling, step grids."""

    min_value: Any
    max_value: Any
    step: Any
    sampling: str
    _CONFIG_KEYS = ("default", "min_value", "max_value", "step", "sampling")

    def _cast(self, value: Any, what: str) -> Any:
        raise NotImplementedError

    def _init_numeric(self) -> None:
        self._init_common()
        sampling = "linear" if self.sampling is None else str(self.sampling).lower()
        if sampling not in _SAMPLINGS:
            raise ValueError(f"{self.name!r}: sampling must be one of {_SAMPLINGS}, got {sampling!r}")
        lo, hi = self._cast(self.min_value, "min_value"), self._cast(self.max_value, "max_value")
        if lo > hi:
            raise ValueError(f"{self.name!r}: min_value {lo} is greater than max_value {hi}")
        if sampling != "linear" and lo <= 0:
            raise ValueError(f"{self.name!r}: sampling={sampling!r} needs min_value > 0, got {lo}")
        step = None if self.step is None else self._cast(self.step, "step")
        if step is not None and step <= (0 if sampling == "linear" else 1):
            bound = "> 0" if sampling == "linear" else "> 1 with sampling=" + repr(sampling)
            raise ValueError(f"{self.name!r}: step must be {bound}, got {step}")
        self._set(min_value=lo, max_value=hi, step=step, sampling=sampling)
        default = lo if self.default is None else self._check_range(self.default)
        self._set(default=default)

    def _check_range(self, value: Any) -> Any:
        v = self._scalar(value)
        if type(v) is bool or type(v) not in self._TYPES:
            raise self._bad(value, f"is not of type {self._TYPES[0].__name__}")
        v = self._TYPES[0](v)
        if not self.min_value <= v <= self.max_value:
            raise self._bad(value, f"is outside [{self.min_value}, {self.max_value}]")
        return v

    def check(self, value: Any) -> Scalar:
        v = self._check_range(value)
        if self.step is not None and v != self.default and self._grid_index(v) is None:
            raise self._bad(value, f"is not on the grid of step {self.step} ({self.sampling})")
        return v

    # -- step grid ---------------------------------------------------------
    def _n_grid(self) -> int:
        lo, hi, step = self.min_value, self.max_value, self.step
        if self.sampling != "linear":
            return int(math.log(hi / lo, step) + 1e-8) + 1
        if isinstance(step, int):
            return (hi - lo) // step + 1
        return int(math.floor((hi - lo) / step + 1e-9)) + 1

    def _grid(self, i: int) -> Any:
        lo, hi, step = self.min_value, self.max_value, self.step
        if self.sampling == "linear":
            x = lo + i * step
        elif self.sampling == "log":
            x = lo * step**i
        else:
            x = hi + lo - lo * step**i
        return self._tidy(x)

    def _tidy(self, x: Any) -> Any:
        return x

    def _real_index(self, v: Any) -> float:
        lo, hi, step = self.min_value, self.max_value, self.step
        if self.sampling == "linear":
            return (v - lo) / step
        if self.sampling == "log":
            return math.log(v / lo) / math.log(step)
        return math.log((hi + lo - v) / lo) / math.log(step)

    def _close(self, a: Any, b: Any) -> bool:
        return a == b

    def _grid_index(self, v: Any) -> int | None:
        r, n = self._real_index(v), self._n_grid()
        for i in (math.floor(r), math.ceil(r)):
            if 0 <= i < n and self._close(self._grid(i), v):
                return i
        return None

    def _grid_values(self) -> tuple[Scalar, ...]:
        grid = tuple(self._grid(i) for i in range(self._n_grid()))
        return grid if self._grid_index(self.default) is not None else grid + (self.default,)

    def _step_neighbours(self, v: Any) -> list[Scalar]:
        i, n = self._grid_index(v), self._n_grid()
        r = self._real_index(v)
        indices = (i - 1, i + 1) if i is not None else (math.floor(r), math.ceil(r))
        out: list[Scalar] = []
        for j in indices:
            if 0 <= j < n and self._grid(j) != v and self._grid(j) not in out:
                out.append(self._grid(j))
        return out

    # -- continuous mapping --------------------------------------------------
    def _to_unit(self, v: float) -> float:
        lo, hi = self.min_value, self.max_value
        if hi == lo:
            return 0.5
        if self.sampling == "linear":
            u = (v - lo) / (hi - lo)
        elif self.sampling == "log":
            u = math.log(v / lo) / math.log(hi / lo)
        else:
            u = 1.0 - math.log((hi + lo - v) / lo) / math.log(hi / lo)
        return min(max(u, 0.0), 1.0)

    def _from_unit_cont(self, u: float, top: float) -> float:
        lo = self.min_value
        if self.sampling == "linear":
            return u * (top - lo) + lo
        if self.sampling == "log":
            return lo * math.pow(top / lo, u)
        return top + lo - lo * math.pow(top / lo, 1 - u)

    def _clip(self, x: Any) -> Any:
        return min(max(x, self.min_value), self.max_value)

    def encode(self, value: Scalar) -> list[float]:
        return [self._to_unit(self.check(value))]


@dataclass(frozen=True)
class Int(_Numeric):
    """An integer in `[min_value, max_value]` (KerasTuner's `Int`)."""

    name: str
    min_value: int
    max_value: int
    _: KW_ONLY
    step: int | None = None
    sampling: str = "linear"
    default: int | None = None
    conditions: tuple[Condition, ...] = ()
    _TYPES = (int,)

    def __post_init__(self) -> None:
        if self.step is None and (self.sampling or "linear").lower() == "linear":
            self._set(step=1)
        self._init_numeric()

    def _cast(self, value: Any, what: str) -> int:
        v = self._scalar(value)
        if type(v) not in (int, float) or not math.isfinite(v) or int(v) != v:
            raise ValueError(f"{self.name!r}: {what} must be an int, got {value!r}")
        return int(v)

    def cardinality(self) -> float:
        if self.step is None:
            return self.max_value - self.min_value + 1
        return len(self._grid_values())

    def domain(self) -> tuple[Scalar, ...]:
        if self.step is None:
            return tuple(range(self.min_value, self.max_value + 1))
        return self._grid_values()

    def from_unit(self, u: float) -> Scalar:
        if self.step is not None:
            return self._grid(_unit_index(u, self._n_grid()))
        return self._clip(int(self._from_unit_cont(u, self.max_value + 1)))

    def neighbours(self, value: Scalar) -> list[Scalar]:
        if self.step is not None:
            return self._step_neighbours(value)
        return [v for v in (value - 1, value + 1) if self.min_value <= v <= self.max_value]


@dataclass(frozen=True)
class Float(_Numeric):
    """A float in `[min_value, max_value]`, continuous unless `step` is set."""

    name: str
    min_value: float
    max_value: float
    _: KW_ONLY
    step: float | None = None
    sampling: str = "linear"
    default: float | None = None
    conditions: tuple[Condition, ...] = ()
    _TYPES = (float, int)

    def __post_init__(self) -> None:
        self._init_numeric()

    def _cast(self, value: Any, what: str) -> float:
        v = self._scalar(value)
        if type(v) not in (int, float) or not math.isfinite(v):
            raise ValueError(f"{self.name!r}: {what} must be a finite number, got {value!r}")
        return float(v)

    def _tidy(self, x: Any) -> float:
        return self._clip(_round12(x))

    def _close(self, a: Any, b: Any) -> bool:
        scale = max(abs(self.min_value), abs(self.max_value))
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12 * scale)

    def cardinality(self) -> float:
        if self.step is not None:
            return len(self._grid_values())
        return 1 if self.min_value == self.max_value else math.inf

    def domain(self) -> tuple[Scalar, ...] | None:
        if self.step is not None:
            return self._grid_values()
        return (self.min_value,) if self.min_value == self.max_value else None

    def from_unit(self, u: float) -> Scalar:
        if self.step is not None:
            return self._grid(_unit_index(u, self._n_grid()))
        return float(self._clip(self._from_unit_cont(u, self.max_value)))

    def neighbours(self, value: Scalar) -> list[Scalar]:
        if self.step is not None:
            return self._step_neighbours(value)
        u, out = self._to_unit(value), []
        for delta in (-_FLOAT_MOVE, _FLOAT_MOVE):
            w = float(self._clip(self._from_unit_cont(min(max(u + delta, 0.0), 1.0), self.max_value)))
            if w != value and w not in out:
                out.append(w)
        return out


_PARAM_CLASSES: dict[str, type[Parameter]] = {
    cls.__name__: cls for cls in (Choice, Int, Float, Boolean, Fixed)
}


def param_from_config(entry: Mapping[str, Any]) -> Parameter:
    """Builds a parameter from `{"class_name": ..., "config": {...}}`."""
    cls = _PARAM_CLASSES.get(entry.get("class_name"))  # type: ignore[arg-type]
    if cls is None:
        raise ValueError(f"unsupported hyperparameter class {entry.get('class_name')!r}")
    config = entry["config"]
    kwargs = {k: config[k] for k in cls._CONFIG_KEYS if k in config}
    conditions = tuple(Condition.from_config(c) for c in config.get("conditions") or ())
    return cls(name=config["name"], conditions=conditions, **kwargs)  # type: ignore[call-arg]
