"""Early stopping: per-epoch stopping rules, and multi-fidelity promotion.

Two kinds of objects, both independent of strategies (any strategy combines
with any of them, `NasTuner(..., early_stopping=...)`):

* A `StoppingRule` sees, for each running trial, the objective after every
  epoch (oriented larger-is-better by the caller, see `Objective.signed`)
  and answers whether the trial should go on: `StoppingASHA` ("asha-stop")
  and `MedianStopping` ("median").
* A `PromotionScheduler` decides how far each trial trains: `ASHA`
  ("asha"), the asynchronous successive halving of Li et al. (2020), where
  every new configuration trains to the lowest rung and the best of a rung
  continue, from their saved state, to the next one; `Hyperband`
  ("hyperband"), the synchronous brackets of Li et al. (2018).
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any, Callable, Mapping, Protocol, runtime_checkable

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


def _check_max_epochs(max_epochs: Any, min_epochs: int) -> None:
    """`max_epochs`, when given, is an int >= 1 and >= `min_epochs`."""
    if max_epochs is None:
        return
    _check_int("max_epochs", max_epochs, 1)
    if max_epochs < min_epochs:
        raise ValueError(f"max_epochs ({max_epochs}) must be >= min_epochs ({min_epochs})")


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


class StoppingASHA:
    """Asynchronous successive halving as a per-epoch stopping rule ("asha-stop").

    Rungs sit at `min_epochs * eta**k` epochs (below `max_epochs`, when
    given). A trial reaching a rung continues only if its objective is in the
    top `1/eta` of all values recorded at that rung so far, itself included:
    it must reach the `1 - 1/eta` quantile of those values. The first trial at
    a rung always continues; no trial waits for others (asynchronous). Early
    trials, having few rivals, tend to run to the end: `ASHA`, which promotes
    instead of stopping, spends a budget better.

    Args:
        min_epochs: Epochs of the first rung (the minimum resource).
        max_epochs: The maximum resource; no rung at or above it. `None`:
            rungs continue until training ends (the `epochs` of `search`).
        eta: Reduction factor; 1/eta of the trials pass each rung.
    """

    def __init__(self, *, min_epochs: int = 1, max_epochs: int | None = None, eta: int = 3):
        self.min_epochs = _check_int("min_epochs", min_epochs, 1)
        self.eta = _check_int("eta", eta, 2)
        _check_max_epochs(max_epochs, min_epochs)
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
        return {"rule": "asha-stop", **self._recorder.state_dict()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self._recorder.load_state_dict(state)

    def __repr__(self) -> str:
        return (f"StoppingASHA(min_epochs={self.min_epochs}, max_epochs={self.max_epochs}, "
                f"eta={self.eta})")


@dataclasses.dataclass(frozen=True)
class Promotion:
    """A trial to run that continues a configuration to a higher rung.

    Attributes:
        source: The trial whose final state (weights, optimizer state,
            epoch counter) the new trial continues from.
        configuration: The trial the strategy asked for (the configuration's
            first trial).
        rung: The rung the new trial trains to (index into `rungs`).
        initial_epoch: Epochs already trained (the source's rung).
        epochs: The epoch the new trial trains to (its rung's epochs).
        anneal: Whether the trial is the end of a time budget spent on the
            leader (`ASHA.endgame`): it trains on past its rung, its learning
            rate annealed to zero over its epochs.
    """

    source: str
    configuration: str
    rung: int
    initial_epoch: int
    epochs: int
    anneal: bool = False


@runtime_checkable
class PromotionScheduler(Protocol):
    """Decides how far trials train, and which continue (multi-fidelity).

    The oracle asks `promotion()` before asking the strategy for a new
    configuration, which it does only when `accepts_new()` (otherwise the
    trial waits for running ones, or the search ends when none runs);
    `start_new` / `start_promotion` record the trial it creates; `finish`
    records a trial's final objective (larger is better; None for a failed
    trial or a non-finite value). A scheduler may also have `endgame(remaining,
    seconds_per_epoch, budget)` (see `ASHA.endgame`): in a search with a time
    budget the oracle asks it first, and keeps every scheduled trial's final
    state (unless the scheduler's `extend_best` is False).
    """

    def set_max_epochs(self, epochs: int) -> None: ...

    def promotion(self) -> Promotion | None: ...

    def accepts_new(self) -> bool: ...

    def start_new(self, trial_id: str) -> int: ...

    def start_promotion(self, trial_id: str, promotion: Promotion) -> None: ...

    def is_promotable(self, trial_id: str) -> bool: ...

    def finish(self, trial_id: str, value: float | None) -> None: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


#: Share of the time left that the endgame's epochs are planned to fill: an
#: epoch of a long training measured up to 10 % slower than the seconds per
#: epoch of the configuration's earlier trials, and the annealing must end
#: before the budget stops it.
ENDGAME_MARGIN = 0.9


class _Endgame:
    """The end of a time budget, shared by `ASHA` and `Hyperband`: see
    `ASHA.endgame`. A scheduler using it calls `_init_endgame`, hands an
    extension to `_start_extension` and its result to `_finish_extension`,
    and implements `_reached`, `_top_epochs` and `_next_seconds`."""

    extend_best: bool
    #: None; then the configuration the endgame continued ("" when nothing fitted).
    _extended: str | None
    #: The extension trials: trial id -> [configuration, epochs trained in all].
    _extensions: dict[str, list[Any]]
    #: Their results: configuration -> [value, trial id, epochs trained in all].
    _extended_results: dict[str, list[Any]]

    def _init_endgame(self, extend_best: bool) -> None:
        self.extend_best = bool(extend_best)
        self._extended = None
        self._extensions = {}
        self._extended_results = {}
        self._fits: Callable[[Promotion], bool] | None = None

    def reopen(self) -> None:
        """A new run of the search begins (with a budget of its own): the
        schedule goes on after an earlier run's endgame, from its results
        (an extended configuration at the epochs its extension reached)."""
        self._extended = None

    def _start_extension(self, trial_id: str, promotion: Promotion) -> None:
        self._extended = promotion.configuration
        self._extensions[trial_id] = [promotion.configuration, promotion.epochs]

    def _finish_extension(self, trial_id: str, value: float | None) -> bool:
        """Records an extension's result; False when `trial_id` is none."""
        job = self._extensions.get(trial_id)
        if job is None:
            return False
        if value is not None and math.isfinite(value):
            self._extended_results[job[0]] = [float(value), trial_id, int(job[1])]
        return True

    def _extended_reached(self, rung: int) -> list[tuple[int, float, str, str, int]]:
        return [(epochs, value, configuration, trial_id, rung)
                for configuration, (value, trial_id, epochs) in self._extended_results.items()]

    def _reached(self) -> list[tuple[int, float, str, str, int]]:
        """(epochs trained, value, configuration, trial id, rung) of every
        result."""
        raise NotImplementedError

    def _top_epochs(self) -> int:
        raise NotImplementedError

    def _next_seconds(self, seconds_per_epoch: Mapping[str, float], median: float) -> float:
        """Seconds the schedule's next trial would take (a promotion at its
        configuration's cost, a new configuration at the median); infinite
        when the schedule has nothing more to run."""
        raise NotImplementedError

    @staticmethod
    def _seconds_of(promotion: Promotion, seconds_per_epoch: Mapping[str, float],
                    median: float) -> float:
        """Seconds `promotion` would take at its configuration's measured cost
        (the median when it has none)."""
        cost = seconds_per_epoch.get(promotion.configuration, median)
        return (promotion.epochs - promotion.initial_epoch) * cost

    def _limit(self, fits: Callable[[Promotion], bool]) -> None:
        """Told, before the next trial is chosen, which promotions still end
        in time; a scheduler may pass over the others (`ASHA` does)."""
        self._fits = fits

    def endgame(self, remaining: float, seconds_per_epoch: Mapping[str, float],
                budget: float | None = None) -> Promotion | None:
        """The leader's last promotion, when the rest of a time budget is
        better spent on it than on the schedule.

        Args:
            remaining: Seconds left in the search's time budget.
            seconds_per_epoch: Measured seconds per epoch of the
                configurations that ended a trial (configuration -> seconds,
                a trial's overhead included).
            budget: The whole budget in seconds, if known.

        Returns:
            None while the schedule's next trial (a promotion at its
            configuration's cost, a new configuration at the median cost)
            and then the leader's reserve still fit in `remaining`: the top
            rung's epochs at the leader's cost, at most a third of `budget`.
            `ASHA` passes over the promotions that no longer fit so (their
            configurations stay where they are) and starts new
            configurations while those fit.
            Otherwise a `Promotion` with `anneal` set that continues the
            leader (the best result of the most-trained rung) for every
            whole epoch that fits in `ENDGAME_MARGIN` of the time left, its
            learning rate annealed to zero. After it, or when not one epoch
            fits, the scheduler promotes and accepts nothing more: the
            search ends.
        """
        if not self.extend_best or self._extended is not None or not seconds_per_epoch:
            return None
        reached = self._reached()
        if not reached:
            return None
        epochs, _, configuration, trial_id, rung = max(reached, key=lambda r: (r[0], r[1]))
        median = float(np.median(list(seconds_per_epoch.values())))
        cost = float(seconds_per_epoch.get(configuration, median))
        if not cost > 0:
            return None
        reserve = self._top_epochs() * cost
        if budget is not None:
            reserve = min(reserve, budget / 3)

        def fits(promotion: Promotion) -> bool:
            return self._seconds_of(promotion, seconds_per_epoch, median) + reserve <= remaining

        self._limit(fits)
        if self._next_seconds(seconds_per_epoch, median) + reserve <= remaining:
            return None
        extra = int(ENDGAME_MARGIN * remaining // cost)
        if extra < 1:
            self._extended = ""
            return None
        return Promotion(trial_id, configuration, rung, epochs, epochs + extra, anneal=True)

    def _endgame_state(self) -> dict[str, Any]:
        return {"extended": self._extended, "extensions": self._extensions,
                "extended_results": self._extended_results}

    def _load_endgame_state(self, state: Mapping[str, Any]) -> None:
        self._extended = state.get("extended")
        self._extensions = {k: list(v) for k, v in state.get("extensions", {}).items()}
        self._extended_results = {k: list(v)
                                  for k, v in state.get("extended_results", {}).items()}


class ASHA(_Endgame):
    """Asynchronous successive halving with promotions (Li et al. 2020), "asha".

    Rungs sit at `max_epochs / eta**k` epochs (rounded, at least
    `min_epochs`, k = 0, 1, ...): for 9 epochs and eta 3, at 1, 3 and 9.
    Every configuration the strategy proposes trains to the lowest rung
    only. Whenever a trial is to be created, the rungs are looked at from
    the top down: if a rung holds a configuration in its top `1/eta` (the
    best `floor(n / eta)` of the `n` results there) that was not promoted
    yet, the best such one is promoted: a new trial continues it from the
    state its trial ended in (weights, optimizer state, epoch counter) to
    the next rung. Otherwise the strategy proposes a new configuration. No
    trial waits for others, and a configuration promoted to the top rung
    has trained exactly the top rung's epochs in all. Failed trials and
    non-finite values take no place in a rung.

    The end of a time budget (`endgame`, asked by the oracle of a search
    with a time budget): once the next trial (a promotion, or a new
    configuration's first rung) followed by a reserve for the leader (the
    top rung's epochs at its cost, at most a third of the budget) would no
    longer fit in the time left, the rest goes to the leader, the best
    configuration of the most-trained rung: it continues from its state
    for every whole epoch that fits, its learning rate annealed to zero
    (cosine) over them, and then the search ends. Before that, a promotion
    that would not end before the reserve is passed over, and new
    configurations start instead while they fit. The annealing is what
    pays: more epochs at a constant learning rate gain little (measured in
    docs/benchmarks.md, section 3).

    Args:
        min_epochs: The fewest epochs of the lowest rung.
        max_epochs: The top rung. `None`: the search's `epochs`
            (`set_max_epochs`, called by the oracle).
        eta: Reduction factor: 1/eta of a rung's configurations go on.
        extend_best: Whether a time budget ends with the leader's annealed
            continuation (`endgame`); False: the schedule runs until the
            budget stops it.
    """

    def __init__(self, *, min_epochs: int = 1, max_epochs: int | None = None, eta: int = 3,
                 extend_best: bool = True):
        self._init_endgame(extend_best)
        self.min_epochs = _check_int("min_epochs", min_epochs, 1)
        self.eta = _check_int("eta", eta, 2)
        _check_max_epochs(max_epochs, min_epochs)
        self._fixed_max = max_epochs is not None
        self.rungs: list[int] = self._rungs(max_epochs if max_epochs is not None else min_epochs)
        #: trial id -> [configuration, rung] of every trial started.
        self._jobs: dict[str, list[Any]] = {}
        #: Per rung: configuration -> [value, trial id], in finishing order.
        self._results: list[dict[str, list[Any]]] = [{} for _ in self.rungs]
        #: Per rung: the configurations promoted from it.
        self._promoted: list[set[str]] = [set() for _ in self.rungs]

    def _rungs(self, max_epochs: int) -> list[int]:
        rungs = {max_epochs}
        k = 1
        while max_epochs / self.eta ** k >= self.min_epochs:
            rungs.add(max(self.min_epochs, round(max_epochs / self.eta ** k)))
            k += 1
        return sorted(rungs)

    def set_max_epochs(self, epochs: int) -> None:
        """Sets the top rung to the search's `epochs`, unless `max_epochs`
        was given or trials have started (rungs never change under them)."""
        _check_int("epochs", epochs, 1)
        if self._fixed_max or self._jobs:
            return
        self.rungs = self._rungs(max(epochs, self.min_epochs))
        self._results = [{} for _ in self.rungs]
        self._promoted = [set() for _ in self.rungs]

    def promotion(self) -> Promotion | None:
        """The promotion to run now, or None (a new configuration is due).
        Near the end of a time budget, promotions that would no longer end
        before the leader's reserve are passed over (`endgame`)."""
        if self._extended is not None:
            return None
        for k in range(len(self.rungs) - 2, -1, -1):
            rung = self._results[k]
            ranked = sorted(rung.items(), key=lambda item: -item[1][0])  # stable: first finished
            for configuration, (_, trial_id) in ranked[: len(rung) // self.eta]:
                if configuration not in self._promoted[k]:
                    promotion = Promotion(trial_id, configuration, k + 1, self.rungs[k],
                                          self.rungs[k + 1])
                    if self._fits is None or self._fits(promotion):
                        return promotion
        return None

    def accepts_new(self) -> bool:
        """Whether a new configuration may start (whenever none is
        promotable, until the endgame)."""
        return self._extended is None

    def start_new(self, trial_id: str) -> int:
        """Records a new configuration's first trial; returns its epochs."""
        self._jobs[trial_id] = [trial_id, 0]
        return self.rungs[0]

    def start_promotion(self, trial_id: str, promotion: Promotion) -> None:
        """Records the trial that runs `promotion`."""
        if promotion.anneal:  # the endgame: the schedule is done
            self._start_extension(trial_id, promotion)
            return
        self._jobs[trial_id] = [promotion.configuration, promotion.rung]
        self._promoted[promotion.rung - 1].add(promotion.configuration)

    def is_promotable(self, trial_id: str) -> bool:
        """Whether a trial may be continued (it trains below the top rung)."""
        job = self._jobs.get(trial_id)
        return job is not None and job[1] < len(self.rungs) - 1

    def finish(self, trial_id: str, value: float | None) -> None:
        """Records a trial's final objective (larger is better; None when it
        failed). Trials the scheduler did not start are ignored."""
        if self._finish_extension(trial_id, value):
            return
        job = self._jobs.get(trial_id)
        if job is None or value is None or not math.isfinite(value):
            return
        configuration, rung = job
        self._results[rung][configuration] = [float(value), trial_id]

    def state_dict(self) -> dict[str, Any]:
        return {"rule": "asha", "rungs": list(self.rungs), "jobs": self._jobs,
                "results": self._results,
                "promoted": [sorted(p) for p in self._promoted], **self._endgame_state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.rungs = [int(r) for r in state["rungs"]]
        self._jobs = {k: list(v) for k, v in state["jobs"].items()}
        self._results = [{c: list(v) for c, v in r.items()} for r in state["results"]]
        self._promoted = [set(p) for p in state["promoted"]]
        self._load_endgame_state(state)

    # -- the endgame (`_Endgame`) ---------------------------------------------
    def _reached(self) -> list[tuple[int, float, str, str, int]]:
        return [(self.rungs[k], value, configuration, trial_id, k)
                for k, rung in enumerate(self._results)
                for configuration, (value, trial_id) in rung.items()
                ] + self._extended_reached(len(self.rungs) - 1)

    def _top_epochs(self) -> int:
        return self.rungs[-1]

    def _next_seconds(self, seconds_per_epoch: Mapping[str, float], median: float) -> float:
        promotion = self.promotion()
        if promotion is None:
            return self.rungs[0] * median
        return self._seconds_of(promotion, seconds_per_epoch, median)

    def __repr__(self) -> str:
        return f"ASHA(rungs={self.rungs}, eta={self.eta})"


class Hyperband(_Endgame):
    """Hyperband's synchronous brackets (Li et al. 2018), "hyperband".

    With `R = max_epochs / min_epochs` and `s_max = floor(log_eta R)`, an
    iteration runs the brackets `s = s_max, ..., 0` one after another.
    Bracket `s` starts `ceil((s_max + 1) / (s + 1) * eta**s)` new
    configurations at `max_epochs / eta**s` epochs (rounded up), and each of
    its rungs, once all its trials have ended, promotes its best
    `1/eta` to the next rung (`eta` times the epochs), continuing them from
    their state, until `max_epochs`. New configurations wait while the
    current bracket still has rungs to run: this is the synchronous
    successive halving of KerasTuner's `Hyperband`, with the trials of a
    rung run in parallel on parallel workers. After `iterations`
    iterations the schedule is done and the search ends; with `iterations`
    `None` it starts over until the search's other limits (`max_trials`,
    the time budget) end it. A time budget ends as under `ASHA`
    (`endgame`): once the next trial and the leader's reserve no longer
    fit in the time left, or the schedule is done before the budget, the
    leader continues for what is left with an annealed learning rate.

    Args:
        max_epochs: The top rung. `None`: the search's `epochs`.
        eta: Reduction factor (KerasTuner's `factor`).
        min_epochs: The fewest epochs of a bracket's first rung.
        iterations: Times the brackets are run (`hyperband_iterations`);
            `None`: without end.
        extend_best: Whether a time budget ends with the leader's annealed
            continuation (`ASHA.endgame`).
    """

    def __init__(self, *, max_epochs: int | None = None, eta: int = 3, min_epochs: int = 1,
                 iterations: int | None = 1, extend_best: bool = True) -> None:
        self._init_endgame(extend_best)
        self.eta = _check_int("eta", eta, 2)
        self.min_epochs = _check_int("min_epochs", min_epochs, 1)
        self.iterations = None if iterations is None else _check_int("iterations", iterations, 1)
        _check_max_epochs(max_epochs, min_epochs)
        self._fixed_max = max_epochs is not None
        self.brackets = self._plan(max_epochs if max_epochs is not None else min_epochs)
        self._bracket = 0
        #: trial id -> [configuration, bracket, rung].
        self._jobs: dict[str, list[Any]] = {}
        #: "bracket/rung" -> {"started": n, "ended": n, "results": {config: [value, id]},
        #: "promoted": [configs]}.
        self._rungs: dict[str, dict[str, Any]] = {}

    def _plan(self, max_epochs: int) -> list[list[list[int]]]:
        """Each bracket's rungs as [configurations, epochs], all iterations."""
        ratio = max_epochs / self.min_epochs
        s_max = 0
        while self.eta ** (s_max + 1) <= ratio + 1e-9:
            s_max += 1
        brackets = []
        for s in range(s_max, -1, -1):
            n = math.ceil((s_max + 1) / (s + 1) * self.eta ** s)
            brackets.append([[max(1, n // self.eta ** i),
                              math.ceil(max_epochs / self.eta ** (s - i))] for i in range(s + 1)])
        return brackets * (self.iterations or 1)

    def set_max_epochs(self, epochs: int) -> None:
        """Sets the top rung to the search's `epochs`, unless `max_epochs`
        was given or trials have started."""
        _check_int("epochs", epochs, 1)
        if self._fixed_max or self._jobs:
            return
        self.brackets = self._plan(max(epochs, self.min_epochs))

    def _rung(self, bracket: int, rung: int) -> dict[str, Any]:
        return self._rungs.setdefault(f"{bracket}/{rung}", {
            "started": 0, "ended": 0, "results": {}, "promoted": []})

    def _complete(self, bracket: int, rung: int) -> bool:
        state = self._rung(bracket, rung)
        planned = self.brackets[bracket][0][0] if rung == 0 else len(
            self._rung(bracket, rung - 1)["promoted"])
        return state["started"] >= planned and state["ended"] == state["started"]

    def _candidates(self, bracket: int, rung: int) -> list[tuple[str, str]]:
        """(configuration, trial id) of the best of a complete rung."""
        results = self._rung(bracket, rung)["results"]
        ranked = sorted(results.items(), key=lambda item: -item[1][0])
        keep = self.brackets[bracket][rung + 1][0]
        return [(c, v[1]) for c, v in ranked[:keep]]

    def _advance(self) -> None:
        """Moves to the next bracket once the current one has nothing left
        (without end: another iteration's brackets after the last)."""
        while True:
            if self._bracket >= len(self.brackets):
                if self.iterations is not None:
                    return
                self.brackets += [[list(r) for r in b] for b in self.brackets[:len(self.brackets[0])]]
            rungs = self.brackets[self._bracket]
            for k in range(len(rungs)):
                if not self._complete(self._bracket, k):
                    return
                if k + 1 < len(rungs) and len(self._rung(self._bracket, k)["promoted"]) < len(
                        self._candidates(self._bracket, k)):
                    return
            self._bracket += 1

    def promotion(self) -> Promotion | None:
        """The next promotion of the current bracket's complete rungs."""
        if self._extended is not None:
            return None
        self._advance()
        if self._bracket >= len(self.brackets):
            return None
        rungs = self.brackets[self._bracket]
        for k in range(len(rungs) - 1):
            if not self._complete(self._bracket, k):
                return None
            promoted = self._rung(self._bracket, k)["promoted"]
            for configuration, trial_id in self._candidates(self._bracket, k):
                if configuration not in promoted:
                    return Promotion(trial_id, configuration, k + 1, rungs[k][1], rungs[k + 1][1])
        return None

    def accepts_new(self) -> bool:
        """Whether the current bracket still starts new configurations."""
        if self._extended is not None:
            return False
        self._advance()
        return (self._bracket < len(self.brackets)
                and self._rung(self._bracket, 0)["started"] < self.brackets[self._bracket][0][0])

    def start_new(self, trial_id: str) -> int:
        self._jobs[trial_id] = [trial_id, self._bracket, 0]
        self._rung(self._bracket, 0)["started"] += 1
        return self.brackets[self._bracket][0][1]

    def start_promotion(self, trial_id: str, promotion: Promotion) -> None:
        if promotion.anneal:  # the endgame: the schedule is done
            self._start_extension(trial_id, promotion)
            return
        bracket = self._jobs[promotion.source][1]
        self._jobs[trial_id] = [promotion.configuration, bracket, promotion.rung]
        self._rung(bracket, promotion.rung - 1)["promoted"].append(promotion.configuration)
        self._rung(bracket, promotion.rung)["started"] += 1

    def is_promotable(self, trial_id: str) -> bool:
        job = self._jobs.get(trial_id)
        return job is not None and job[2] < len(self.brackets[job[1]]) - 1

    def finish(self, trial_id: str, value: float | None) -> None:
        if self._finish_extension(trial_id, value):
            return
        job = self._jobs.get(trial_id)
        if job is None:
            return
        configuration, bracket, rung = job
        state = self._rung(bracket, rung)
        state["ended"] += 1
        if value is not None and math.isfinite(value):
            state["results"][configuration] = [float(value), trial_id]

    def state_dict(self) -> dict[str, Any]:
        return {"rule": "hyperband", "brackets": self.brackets, "bracket": self._bracket,
                "jobs": self._jobs, "rungs": self._rungs, **self._endgame_state()}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        self.brackets = [[list(r) for r in b] for b in state["brackets"]]
        self._bracket = int(state["bracket"])
        self._jobs = {k: list(v) for k, v in state["jobs"].items()}
        self._rungs = json.loads(json.dumps(state["rungs"]))
        self._load_endgame_state(state)

    # -- the endgame (`_Endgame`) ---------------------------------------------
    def _reached(self) -> list[tuple[int, float, str, str, int]]:
        reached = []
        for key, state in self._rungs.items():
            bracket, rung = (int(part) for part in key.split("/"))
            epochs = self.brackets[bracket][rung][1]
            reached += [(epochs, value, configuration, trial_id, rung)
                        for configuration, (value, trial_id) in state["results"].items()]
        return reached + self._extended_reached(len(self.brackets[0]) - 1)

    def _top_epochs(self) -> int:
        return self.brackets[0][-1][1]

    def _next_seconds(self, seconds_per_epoch: Mapping[str, float], median: float) -> float:
        promotion = self.promotion()
        if promotion is not None:
            return self._seconds_of(promotion, seconds_per_epoch, median)
        if self.accepts_new():
            return self.brackets[self._bracket][0][1] * median
        # Done: nothing more to run; else a rung still runs (on another worker).
        return math.inf if self._bracket >= len(self.brackets) else 0.0

    def __repr__(self) -> str:
        return f"Hyperband(brackets={self.brackets}, eta={self.eta})"


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


_RULES = {"asha": ASHA, "asha-stop": StoppingASHA, "hyperband": Hyperband,
          "median": MedianStopping}
#: The names `make_stopping_rule` accepts.
EARLY_STOPPING_NAMES = ("none", *_RULES)


def make_stopping_rule(spec: Any, *, extend_best: bool = True
                       ) -> StoppingRule | PromotionScheduler | None:
    """Turns `None`, "none", "asha", "asha-stop", "hyperband", "median", a `StoppingRule`
    or a `PromotionScheduler` into the object. `extend_best` is passed to
    the named schedulers with an endgame (`ASHA`, `Hyperband`); the others
    have none."""
    if spec is None or (isinstance(spec, str) and spec.lower() == "none"):
        return None
    if isinstance(spec, str):
        try:
            rule = _RULES[spec.lower()]
        except KeyError:
            raise ValueError(
                f"unknown early_stopping {spec!r}; use one of: none, {', '.join(_RULES)}, "
                "a StoppingRule or a PromotionScheduler"
            ) from None
        return rule(extend_best=extend_best) if issubclass(rule, _Endgame) else rule()
    if isinstance(spec, (StoppingRule, PromotionScheduler)):
        return spec
    raise ValueError(
        f"early_stopping must be a name, a StoppingRule or a PromotionScheduler, got {spec!r}")
