"""Hard constraints on the models a search trains: `params<=200000`.

A constraint bounds a quantity measured on a freshly built model before it
trains (`autokeras_nas.tuner.constraints` measures them): its parameter
count (`params`), its single-sample inference latency in Keras
(`latency_ms`), the size of the model saved as `.keras` (`model_kb`), or
its latency in the TFLite interpreter (`tflite_latency_ms`, float model;
a conversion of about a second).
A candidate that violates one is not trained: its trial ends as
"infeasible" with the reason (`infeasible: params 812,345 > 200,000`),
recorded in results.json and told to the strategy as a failed trial.

    parse_constraint("params<=200000")   # Constraint("params", 200000.0)
    parse_constraint("latency_ms<2.5")   # upper bounds only: <= and < mean the same
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

#: What a constraint may bound, measured before training, cheapest first.
CONSTRAINT_METRICS = ("params", "model_kb", "latency_ms", "tflite_latency_ms")
#: The start of the reason of a trial rejected by a constraint.
INFEASIBLE = "infeasible"

_FORM = re.compile(r"^\s*([a-z_]+)\s*(<=|<)\s*([0-9.eE+_-]+)\s*$")


@dataclass(frozen=True)
class Constraint:
    """An upper bound on a measured quantity.

    Args:
        metric: One of `CONSTRAINT_METRICS`.
        bound: The largest value allowed.
    """

    metric: str
    bound: float

    def __post_init__(self) -> None:
        if self.metric not in CONSTRAINT_METRICS:
            raise ValueError(f"cannot constrain {self.metric!r}; constraints bound "
                             f"{', '.join(CONSTRAINT_METRICS)}")
        if isinstance(self.bound, bool) or not isinstance(self.bound, (int, float)) \
                or not math.isfinite(self.bound) or self.bound <= 0:
            raise ValueError(f"the bound of {self.metric} must be a positive number, "
                             f"got {self.bound!r}")
        object.__setattr__(self, "bound", float(self.bound))

    def violation(self, value: float) -> str | None:
        """The reason `value` violates this constraint, or None."""
        if value <= self.bound:
            return None
        return f"{INFEASIBLE}: {self.metric} {_number(value)} > {_number(self.bound)}"

    def __str__(self) -> str:
        return f"{self.metric}<={_number(self.bound).replace(',', '')}"


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.3g}"


def parse_constraint(spec: Any) -> Constraint:
    """`"params<=200000"`, a `(metric, bound)` pair or a `Constraint`.

    Raises:
        ValueError: an unknown quantity, a bound that is not a positive
            number, or text of another form.
    """
    if isinstance(spec, Constraint):
        return spec
    if isinstance(spec, (tuple, list)) and len(spec) == 2:
        return Constraint(str(spec[0]), spec[1])
    match = _FORM.match(str(spec))
    if match is None:
        raise ValueError(f"constraint {spec!r} is not METRIC<=NUMBER (METRIC one of "
                         f"{', '.join(CONSTRAINT_METRICS)}), e.g. params<=200000")
    try:
        bound = float(match.group(3).replace("_", ""))
    except ValueError:
        raise ValueError(f"constraint {spec!r}: {match.group(3)!r} is not a number") from None
    return Constraint(match.group(1), bound)


def make_constraints(constraints: Iterable[Any] | None = None, *,
                     max_params: float | None = None, max_latency_ms: float | None = None,
                     max_model_kb: float | None = None) -> tuple[Constraint, ...]:
    """The constraints of `constraints` and the `max_*` shortcuts, one per
    metric (the tightest bound when a metric is given twice), cheapest first."""
    found = [parse_constraint(c) for c in constraints or ()]
    for metric, bound in (("params", max_params), ("latency_ms", max_latency_ms),
                          ("model_kb", max_model_kb)):  # tflite_latency_ms: by name only
        if bound is not None:
            found.append(Constraint(metric, bound))
    tightest: dict[str, Constraint] = {}
    for c in found:
        if c.metric not in tightest or c.bound < tightest[c.metric].bound:
            tightest[c.metric] = c
    return tuple(tightest[m] for m in CONSTRAINT_METRICS if m in tightest)


def is_infeasible(message: Any) -> bool:
    """Whether a trial's failure reason says a constraint rejected it."""
    return isinstance(message, str) and message.startswith(f"{INFEASIBLE}:")


def first_violation(constraints: Iterable[Constraint], values: Mapping[str, float]) -> str | None:
    """The reason of the first constraint `values` violate, or None."""
    for c in constraints:
        if c.metric in values:
            reason = c.violation(float(values[c.metric]))
            if reason is not None:
                return reason
    return None
