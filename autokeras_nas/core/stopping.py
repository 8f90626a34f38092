"""Early-stopping rules, fed once per epoch.

A rule sees, for each running trial, the objective after every epoch (oriented
larger-is-better by the caller, see `Objective.signed`) and answers whether
the trial should go on. Rules are independent of strategies: any strategy can
be combined with any rule (`NasTuner(..., early_stopping=...)`).
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class StoppingRule(Protocol):
    """Decides after each epoch whether a trial continues."""

    def report(self, trial_id: str, epoch: int, value: float) -> bool:
        """Records `value` (larger is better) after `epoch` completed epochs
        (1-based) of `trial_id`; returns True to continue, False to stop."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


def _check_int(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return value


class _RungRecorder:
    """Values recorded per epoch ("rung") and trial; a retried trial overwrites."""

    def __init__(self) -> None:
        self.rungs: dict[int, dict[str, float]] = {}

    def record(self, epoch: int, trial_id: str, value: float) -> np.ndarray:
        rung = self.rungs.setdefault(epoch, {})
        rung[trial_id] = value
        return np.array(list(rung.values()), dtype=float)

    def state_dict(self) -> dict[str, Any]:
        return {"rungs": {str(e): dict(r) for e, r in self.rungs.items()}}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.rungs = {int(e): dict(r) for e, r in state.get("rungs", {}).items()}


class ASHA:
    """Asynchronous successive halving (Li et al. 2018/2020) as a stopping rule.

    Rungs sit at `min_epochs * eta**k` epochs (below `max_epochs`, when
    given). A trial reaching a rung continues only if its objective is in the
    top `1/eta` of all values recorded at that rung so far, itself included:
    it must reach the `1 - 1/eta` quantile of those values. The first trial at
    a rung always continues; no trial waits for others (asynchronous).

    Args:
        min_epochs: Epochs of the first rung (the minimum resource).
        max_epochs: The maximum resource; no rung at or above it. `None`:
            rungs continue until training ends (the `epochs` of `search`).
        eta: Reduction factor; 1/eta of the trials pass each rung.
    """

    def __init__(self, *, min_epochs: int = 1, max_epochs: int | None = None, eta: int = 3):
        self.min_epochs = _check_int("min_epochs", min_epochs, 1)
        self.eta = _check_int("eta", eta, 2)
        if max_epochs is not None:
            _check_int("max_epochs", max_epochs, 1)
            if max_epochs < min_epochs:
                raise ValueError(
                    f"max_epochs ({max_epochs}) must be >= min_epochs ({min_epochs})"
                )
        self.max_epochs = max_epochs
        self._recorder = _RungRecorder()

    def is_rung(self, epoch: int) -> bool:
        """Whether a decision is taken after `epoch` completed epochs."""
        if epoch < self.min_epochs:
            return False
        if self.max_epochs is not None and epoch >= self.max_epochs:
            return False
        k = math.log(epoch / self.min_epochs, self.eta)
        return abs(k - round(k)) < 1e-9

    def report(self, trial_id: str, epoch: int, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if not self.is_rung(epoch):
            return True
        values = self._recorder.record(epoch, trial_id, float(value))
        cutoff = float(np.quantile(values, 1.0 - 1.0 / self.eta))
        return value >= cutoff

    def state_dict(self) -> dict[str, Any]:
        return {"rule": "asha", **self._recorder.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._recorder.load_state_dict(state)

    def __repr__(self) -> str:
        return f"ASHA(min_epochs={self.min_epochs}, max_epochs={self.max_epochs}, eta={self.eta})"


class MedianStopping:
    """Median stopping rule (Golovin et al. 2017, "Google Vizier").

    After `min_epochs`, a trial stops when its objective at an epoch is worse
    than the median of the other trials' values at the same epoch, once at
    least `min_trials` other trials reached that epoch.

    Args:
        min_epochs: Epochs every trial runs before it can be stopped.
        min_trials: Other trials needed at an epoch before comparing.
    """

    def __init__(self, *, min_epochs: int = 1, min_trials: int = 3):
        self.min_epochs = _check_int("min_epochs", min_epochs, 1)
        self.min_trials = _check_int("min_trials", min_trials, 1)
        self._recorder = _RungRecorder()

    def report(self, trial_id: str, epoch: int, value: float) -> bool:
        if not math.isfinite(value):
            return False
        rung = self._recorder.rungs.get(epoch, {})
        others = [v for t, v in rung.items() if t != trial_id]
        self._recorder.record(epoch, trial_id, float(value))
        if epoch < self.min_epochs or len(others) < self.min_trials:
            return True
        return value >= float(np.median(others))

    def state_dict(self) -> dict[str, Any]:
        return {"rule": "median", **self._recorder.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._recorder.load_state_dict(state)


_RULES = {"asha": ASHA, "median": MedianStopping}


def make_stopping_rule(spec: Any) -> StoppingRule | None:
    """Turns `None`, "none", "asha", "median" or a rule instance into a rule."""
    if spec is None or (isinstance(spec, str) and spec.lower() == "none"):
        return None
    if isinstance(spec, str):
        try:
            return _RULES[spec.lower()]()
        except KeyError:
            raise ValueError(
                f"unknown early_stopping {spec!r}; use one of: none, {', '.join(_RULES)}, "
                "or a StoppingRule instance"
            ) from None
    if isinstance(spec, StoppingRule):
        return spec
    raise ValueError(f"early_stopping must be a name or a StoppingRule, got {spec!r}")
