"""A wall-clock budget for a whole search: `NasTuner(time_budget=seconds)`.

The clock starts when `search()` is called. A resumed search gets the
whole budget again (it counts from this run's start), unless the tuner's
`time_budget_scope` is "search": then the seconds earlier runs of the
search spent (the oracle keeps them, and results.json shows them as
`search_seconds`) count too. Once the budget has passed

* no new trial starts: the oracle (`StrategyOracle.budget`, which `NasTuner`
  sets) answers STOPPED, as when it reaches `max_trials`, and `search()`
  returns normally;
* the running trial stops at its next epoch end. It is final with the
  metrics of its best epoch so far, like a trial stopped by an
  early-stopping rule: status `stopped` in results.json, metrics
  `stopped_early = 1` and `stopped_by_budget = 1`, ranked with the others.

A trial always runs at least one epoch, so every run that starts a trial
completes one. `max_trials` stays an upper bound. On a distributed search
the chief's oracle stops handing out trials by the chief's clock, and every
worker stops its running trial by its own clock from its own `search()` call.
"""

from __future__ import annotations

import math
import time
from typing import Any, Mapping

import keras
import keras_tuner

#: What a time budget covers: one `search()` call, or the search with its resumed runs.
BUDGET_SCOPES = ("run", "search")
#: Final metric set to 1.0 on a trial the budget stopped before its last epoch.
STOPPED_BY_BUDGET = "stopped_by_budget"


def check_budget(value: Any) -> float | None:
    """`time_budget` validated: None or a positive, finite number of seconds."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) \
            or not math.isfinite(value) or not value > 0:
        raise ValueError(f"time_budget must be None or positive seconds, got {value!r}")
    return float(value)


class SearchBudget:
    """The clock of one `search()` call.

    Args:
        seconds: The budget; `None` for none (never exhausted).
        spent: Seconds already spent (by earlier runs), counted against it.
    """

    def __init__(self, seconds: float | None, spent: float = 0.0) -> None:
        self.seconds = check_budget(seconds)
        self.spent = float(spent)
        self._started: float | None = None

    def start(self) -> None:
        """Starts (or restarts) the clock."""
        self._started = time.monotonic()

    @property
    def elapsed(self) -> float:
        """Seconds since `start()` (0 before)."""
        return 0.0 if self._started is None else time.monotonic() - self._started

    @property
    def exhausted(self) -> bool:
        """Whether the clock runs and the budget has passed."""
        return self.seconds is not None and self._started is not None \
            and self.spent + self.elapsed >= self.seconds


class BudgetStop(keras.callbacks.Callback):
    """Stops training at the end of the epoch during which the budget passed."""

    def __init__(self, budget: SearchBudget) -> None:
        super().__init__()
        self.budget = budget
        self.stopped = False

    def on_epoch_end(self, epoch: int, logs: Mapping | None = None) -> None:
        if self.budget.exhausted:
            self.stopped = True
            self.model.stop_training = True


class TrainingTimeStop(keras.callbacks.Callback):
    """Stops training once its fit time, this execution's plus `prior` (a
    resumed trial's before the crash), reaches `seconds`.

    By default at the end of the epoch during which it passed; with `ahead`,
    at the end of the last epoch after which one more, as long as the one
    just ended, would pass it (a share of a budget that others still need).
    At least one epoch always runs.
    """

    def __init__(self, seconds: float, prior: float = 0.0, *, ahead: bool = False) -> None:
        super().__init__()
        self.seconds = float(seconds)
        self.prior = float(prior)
        self.ahead = ahead
        self._t0 = 0.0
        self._epoch_start = 0.0

    def spent(self) -> float:
        """Fit seconds so far, the prior ones included."""
        return self.prior + time.perf_counter() - self._t0

    def on_train_begin(self, logs: Mapping | None = None) -> None:
        self._t0 = time.perf_counter()

    def on_epoch_begin(self, epoch: int, logs: Mapping | None = None) -> None:
        self._epoch_start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: Mapping | None = None) -> None:
        last = time.perf_counter() - self._epoch_start if self.ahead else 0.0
        if self.spent() + last >= self.seconds:
            self.model.stop_training = True


def stopped_trial() -> Any:
    """A trial with status STOPPED: ends KerasTuner's search loop."""
    return keras_tuner.engine.trial.Trial(keras_tuner.HyperParameters(), status="STOPPED")
