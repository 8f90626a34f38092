"""Grid search over a hyperparameter space."""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Sequence

from autokeras_nas.core import BaseStrategy, Objective, Suggestion

#: Values of a continuous `Float` (no `step`) on the grid, as in KerasTuner.
FLOAT_POINTS = 10


class GridStrategy(BaseStrategy):
    """Tries every combination of the space's values, in order.

    The order is KerasTuner's `GridSearch`'s in spirit: the parameters in
    the order the model defined them, the last one changing fastest, each
    over its values in order (a `Choice`'s as listed, an `Int`'s or a
    stepped `Float`'s from the smallest); a `Float` without a step takes
    the 10 values at the middles of ten equal slices of its range (on a log
    scale when its sampling is "log"), as KerasTuner does. A parameter
    inactive under its parents' values (a conditional scope) is left out,
    so every combination is tried once. When the model defines new
    hyperparameters during the search, the grid grows and the combinations
    not tried yet follow. Once all are tried the strategy says "done".

    Args:
        seed: Seed of the strategy's generator (the grid uses none).
    """

    name = "grid"
    seeded = False

    def __init__(self, *, seed: int | None = None) -> None:
        super().__init__(seed=seed)
        #: The combinations in order; made anew when the space changes.
        self._order: Iterator[dict[str, Any]] | None = None

    def setup(self, space: Any, objectives: Sequence[Objective], max_trials: int | None = None) -> None:
        super().setup(space, objectives, max_trials)
        self._order = None

    def propose(self, trial_id: str) -> Suggestion:
        if self._order is None:
            self._order = self._combinations(0, {})
        for values in self._order:
            if self.is_new(values):
                return Suggestion.run(values)
        return Suggestion.done("grid exhausted")

    def _combinations(self, start: int, assigned: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        """The active combinations of the parameters from `start` on, given
        the values `assigned` before them, in grid order."""
        params = self.space.params
        i = start
        while i < len(params) and (params[i].name in assigned
                                   or not all(c.holds(assigned) for c in params[i].conditions)):
            i += 1
        if i == len(params):
            yield dict(assigned)
            return
        for value in grid_values(params[i]):
            yield from self._combinations(i + 1, {**assigned, params[i].name: value})


def grid_values(param: Any) -> tuple[Any, ...]:
    """A parameter's values on the grid: all of them when finite, else
    `FLOAT_POINTS` values spread over its range."""
    domain = param.domain()
    if domain is not None:
        return tuple(domain)
    points = (param.from_unit((i + 0.5) / FLOAT_POINTS) for i in range(FLOAT_POINTS))
    return tuple(dict.fromkeys(points))
