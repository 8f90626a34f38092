"""The conformance suite: every installed strategy passes it, broken ones fail it."""

from __future__ import annotations

import json
from typing import Any, Mapping

import numpy as np
import pytest

from autokeras_nas import plugins
from autokeras_nas.core import (
    ARCH,
    BaseStrategy,
    Observation,
    SpaceKind,
    Suggestion,
    TrialStatus,
    fresh_seed,
    make_rng,
    rng_state,
    set_rng_state,
)
from autokeras_nas.testing import (
    CHECKS,
    DRIVEN_KINDS,
    SCORE,
    Driver,
    check_failed_observations,
    check_max_trials,
    check_no_duplicates_until_exhausted,
    check_python_scalars,
    check_resume_equivalence,
    check_same_seed_same_proposals,
    check_strategy,
    failure_pattern,
    objective_for,
    run_async,
    run_sequential,
    standard_spaces,
)
from autokeras_nas_plugins.nash import Nash
from autokeras_nas_plugins.popnas import Pnas, Popnas

INSTALLED = sorted(plugins.available())


# ---------------------------------------------------------------------------
# every installed strategy x every check
# ---------------------------------------------------------------------------
def test_some_strategy_is_installed() -> None:
    assert "random" in INSTALLED, f"'random' missing from {INSTALLED}: pip install -e ."


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
@pytest.mark.parametrize("name", INSTALLED)
def test_installed_strategy_conforms(name: str, check: Any) -> None:
    cls = plugins.load(name)
    ran = check(cls)
    assert {kind for kind, _ in ran} == set(cls.space_kinds) & set(DRIVEN_KINDS)


#: The kinds of space the first-party strategies are driven on.
FIRST_PARTY_KINDS = {
    "random": {SpaceKind.HYPERPARAMETERS},
    "aging-evolution": {SpaceKind.HYPERPARAMETERS},
    "nash": {SpaceKind.HYPERPARAMETERS, SpaceKind.NETWORK},
    "popnas": {SpaceKind.HYPERPARAMETERS, SpaceKind.CELLS},
    "pnas": {SpaceKind.HYPERPARAMETERS, SpaceKind.CELLS},
}


@pytest.mark.parametrize("name", sorted(FIRST_PARTY_KINDS))
def test_structured_modes_of_first_party_strategies_are_driven(name: str) -> None:
    """Every check runs nash on the toy network and popnas/pnas on the toy
    cells, sequentially and with pending trials (max_trials: from 1 up)."""
    ran = check_max_trials(plugins.load(name))
    assert {kind for kind, _ in ran} == FIRST_PARTY_KINDS[name]
    structured = [text for kind, text in ran if kind is not SpaceKind.HYPERPARAMETERS]
    assert bool(structured) == (name in ("nash", "popnas", "pnas"))
    for text in structured:
        assert ("space 'network' (network)" in text) == (name == "nash")
        assert ("space 'cells' (cells)" in text) == (name != "nash")
    assert any("async" in text for text in structured) or not structured


# ---------------------------------------------------------------------------
# a correct reference strategy and deliberately broken ones
# ---------------------------------------------------------------------------
class Good(BaseStrategy):
    """Random sampling without repeats, like the `random` plugin."""

    name = "test-good"

    def propose(self, trial_id: str) -> Suggestion:
        values = self.sample_new()
        return Suggestion.done("exhausted") if values is None else Suggestion.run(values)


class NumpyValues(Good):
    """Returns numpy scalars, smuggled past Suggestion's own validation."""

    name = "test-numpy-values"

    def propose(self, trial_id: str) -> Suggestion:
        s = super().propose(trial_id)
        if s.kind != "run":
            return s
        values = {
            k: (np.int64(v) if type(v) is int else np.float64(v) if type(v) is float else v)
            for k, v in s.values.items()
        }
        smuggled = Suggestion.run({})
        object.__setattr__(smuggled, "values", values)
        return smuggled


class Unseeded(Good):
    """Draws from a generator seeded from the OS, ignoring its seed."""

    name = "test-unseeded"

    def __init__(self, *, seed: int | None = None) -> None:
        super().__init__(seed=seed)
        self.rng = make_rng(fresh_seed())


class LosesStateOnResume(Good):
    """Samples from a second generator it does not save in its state."""

    name = "test-loses-state"

    def __init__(self, *, seed: int | None = None) -> None:
        super().__init__(seed=seed)
        self.other = make_rng(self.seed + 1)

    def propose(self, trial_id: str) -> Suggestion:
        for _ in range(100):
            values = self.space.sample(self.other)
            if self.is_new(values):
                return Suggestion.run(values)
        return Suggestion.done("exhausted")


class SavesStateCorrectly(LosesStateOnResume):
    """The fix of LosesStateOnResume: the second generator is in the state."""

    name = "test-saves-state"

    def extra_state(self) -> dict[str, Any]:
        return {"other": rng_state(self.other)}

    def load_extra_state(self, state: Mapping[str, Any]) -> None:
        set_rng_state(self.other, state["other"])


class Repeats(BaseStrategy):
    """Samples with replacement."""

    name = "test-repeats"
    allow_repeats = True

    def propose(self, trial_id: str) -> Suggestion:
        return Suggestion.run(self.space.sample(self.rng))


class ExceedsMaxTrials(Repeats):
    """Ignores max_trials (and, being Repeats, never says done)."""

    name = "test-exceeds-max-trials"

    def ask(self, trial_id: str) -> Suggestion:
        saved, self.max_trials = self.max_trials, None
        try:
            return super().ask(trial_id)
        finally:
            self.max_trials = saved


class CrashesOnFailure(Good):
    """Assumes every observation has the score."""

    name = "test-crashes-on-failure"

    def observe(self, observation: Observation) -> None:
        self.best = max(getattr(self, "best", -1e9), float(observation.metrics["score"]))


class InactiveValues(Good):
    """Proposes every parameter, also those whose condition does not hold."""

    name = "test-inactive-values"

    def propose(self, trial_id: str) -> Suggestion:
        s = super().propose(trial_id)
        if s.kind != "run":
            return s
        values = dict(s.values)
        for p in self.space.params:
            values.setdefault(p.name, p.default)
        return Suggestion.run(values)


class IntForFloat(Good):
    """Sends the int 0 where a Float hyperparameter is expected (legal 0.0)."""

    name = "test-int-for-float"

    def propose(self, trial_id: str) -> Suggestion:
        s = super().propose(trial_id)
        if s.kind == "run" and "dropout_rate" in s.values:
            return Suggestion.run({**s.values, "dropout_rate": 0})
        return s


class NonJsonState(Good):
    """Keeps a numpy array in its state."""

    name = "test-non-json-state"

    def extra_state(self) -> dict[str, Any]:
        return {"scores": np.zeros(2)}


class PendingParent(Good):
    """Names the most recently asked trial as parent, even while it runs."""

    name = "test-pending-parent"

    def propose(self, trial_id: str) -> Suggestion:
        s = super().propose(trial_id)
        if s.kind == "run" and self.asked:
            return Suggestion.run(s.values, parent_id=list(self.asked)[-1])
        return s


class WaitsForever(Good):
    """Says "wait" although nothing runs."""

    name = "test-waits"

    def propose(self, trial_id: str) -> Suggestion:
        return Suggestion.wait()


class NumpyNotes(Good):
    """Puts a numpy float in its notes."""

    name = "test-numpy-notes"

    def propose(self, trial_id: str) -> Suggestion:
        s = super().propose(trial_id)
        if s.kind != "run":
            return s
        return Suggestion.run(s.values, notes={"predicted": np.float32(0.5)})


class IgnoresSeed(Good):
    """Draws from a generator with a fixed seed, whatever seed it is given."""

    name = "test-ignores-seed"

    def __init__(self, *, seed: int | None = None) -> None:
        super().__init__(seed=seed)
        self.rng = make_rng(0)


class UnknownParent(Good):
    """Names as parent a trial it never asked for."""

    name = "test-unknown-parent"

    def propose(self, trial_id: str) -> Suggestion:
        s = super().propose(trial_id)
        if s.kind == "run" and self.history:
            return Suggestion.run(s.values, parent_id=f"never-asked-{trial_id}")
        return s


class FailedParent(Good):
    """Names as parent the last trial that failed (it has no weights)."""

    name = "test-failed-parent"

    def propose(self, trial_id: str) -> Suggestion:
        s = super().propose(trial_id)
        failed = [o.trial_id for o in self.history if o.status is TrialStatus.FAILED]
        if s.kind == "run" and failed:
            return Suggestion.run(s.values, parent_id=failed[-1])
        return s


def _smuggled(suggestion: Suggestion, **fields: Any) -> Suggestion:
    """`suggestion` with `fields` set past Suggestion's own validation."""
    for name, value in fields.items():
        object.__setattr__(suggestion, name, value)
    return suggestion


class BadBudget(Good):
    """Sets `budget` (epochs, initial_epoch) on every trial, smuggled."""

    name = "test-bad-budget"
    budget: dict[str, Any] = {}

    def propose(self, trial_id: str) -> Suggestion:
        s = super().propose(trial_id)
        return _smuggled(s, **self.budget) if s.kind == "run" else s


class ZeroEpochs(BadBudget):
    name = "test-zero-epochs"
    budget = {"epochs": 0}


class FloatEpochs(BadBudget):
    name = "test-float-epochs"
    budget = {"epochs": 2.0}


class InitialEpochNotBelowEpochs(BadBudget):
    name = "test-initial-epoch-not-below-epochs"
    budget = {"epochs": 2, "initial_epoch": 2}


class NegativeInitialEpoch(BadBudget):
    name = "test-negative-initial-epoch"
    budget = {"epochs": 3, "initial_epoch": -1}


class IntParent(Good):
    """Names its parent by an int, smuggled."""

    name = "test-int-parent"

    def propose(self, trial_id: str) -> Suggestion:
        s = super().propose(trial_id)
        return _smuggled(s, parent_id=0) if s.kind == "run" and self.history else s


BROKEN = [
    (NumpyValues, check_python_scalars, "plain Python scalars"),
    (Unseeded, check_same_seed_same_proposals, "same seed, different suggestions"),
    (LosesStateOnResume, check_resume_equivalence, "resumed run differs"),
    (Repeats, check_no_duplicates_until_exhausted, "repeats trial"),
    (ExceedsMaxTrials, check_max_trials, "max_trials="),
    (CrashesOnFailure, check_failed_observations, "KeyError"),
    (InactiveValues, check_python_scalars, "inactive/unknown"),
    (IntForFloat, check_python_scalars, "'dropout_rate': (0, 0.0)"),
    (NonJsonState, check_resume_equivalence, "not strict JSON"),
    (PendingParent, check_python_scalars, "still running"),
    (NumpyNotes, check_python_scalars, "notes are not JSON"),
    (WaitsForever, check_python_scalars, "'wait' while no trial was running"),
    (IgnoresSeed, check_same_seed_same_proposals, "seeds 1 and 2 gave the same"),
    (UnknownParent, check_python_scalars, "is not a previously asked trial id"),
    (FailedParent, check_failed_observations, "failed (it has no weights)"),
    (IntParent, check_python_scalars, "parent_id 0 is not a str"),
    (ZeroEpochs, check_python_scalars, "epochs must be a positive int, got 0"),
    (FloatEpochs, check_python_scalars, "epochs must be a positive int, got 2.0"),
    (InitialEpochNotBelowEpochs, check_python_scalars,
     "initial_epoch (2) must be below epochs (2)"),
    (NegativeInitialEpoch, check_python_scalars,
     "initial_epoch must be a non-negative int, got -1"),
]


@pytest.mark.parametrize(
    "strategy_cls, check, fragment", BROKEN, ids=[b[0].__name__ for b in BROKEN]
)
def test_check_catches_broken_strategy(strategy_cls: Any, check: Any, fragment: str) -> None:
    with pytest.raises(AssertionError) as info:
        check(strategy_cls)
    message = str(info.value)
    assert check.__name__ in message
    assert strategy_cls.name in message and strategy_cls.__qualname__ in message
    assert fragment in message


@pytest.mark.parametrize("strategy_cls", [Good, SavesStateCorrectly])
@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_correct_strategies_pass(strategy_cls: Any, check: Any) -> None:
    check(strategy_cls)


@pytest.mark.parametrize(
    "strategy_cls, passing",
    [
        (Repeats, [check_same_seed_same_proposals, check_resume_equivalence,
                   check_python_scalars, check_failed_observations]),
        (LosesStateOnResume, [check_same_seed_same_proposals, check_python_scalars]),
        (CrashesOnFailure, [check_same_seed_same_proposals, check_python_scalars,
                             check_no_duplicates_until_exhausted]),
    ],
    ids=["Repeats", "LosesStateOnResume", "CrashesOnFailure"],
)
def test_checks_are_specific(strategy_cls: Any, passing: list[Any]) -> None:
    """A broken strategy fails its check, not unrelated ones."""
    for check in passing:
        check(strategy_cls)


def test_check_strategy_names_every_failed_check() -> None:
    with pytest.raises(AssertionError) as info:
        check_strategy(ExceedsMaxTrials)
    message = str(info.value)
    assert "test-exceeds-max-trials" in message
    assert "check_max_trials failed" in message
    assert "check_no_duplicates_until_exhausted failed" in message
    assert "check_python_scalars" not in message


def test_check_strategy_passes_make_kwargs() -> None:
    seen: list[int] = []

    class NeedsSize(Good):
        name = "test-needs-size"

        def __init__(self, *, seed: int | None = None, size: int) -> None:
            super().__init__(seed=seed)
            self.size = size

    def make_kwargs(seed: int) -> dict[str, Any]:
        seen.append(seed)
        return {"seed": seed, "size": 3}

    check_strategy(NeedsSize, make_kwargs=make_kwargs, n_trials=12)
    assert len(set(seen)) >= 3  # same seeds, different seeds, resume seeds
    with pytest.raises(AssertionError, match="TypeError"):
        check_same_seed_same_proposals(NeedsSize)


def test_unseeded_strategy_also_fails_resume() -> None:
    with pytest.raises(AssertionError, match="check_resume_equivalence"):
        check_resume_equivalence(Unseeded)


# ---------------------------------------------------------------------------
# structured strategies broken only in their structured mode
# ---------------------------------------------------------------------------
class NashUnseededMorphisms(Nash):
    """Draws its morphisms from a generator seeded by the OS."""

    name = "test-nash-unseeded-morphisms"

    def _morph_child(self, net: Any) -> Any:
        saved, self.rng = self.rng, make_rng(fresh_seed())
        try:
            return super()._morph_child(net)
        finally:
            self.rng = saved


class NashLosesMorphismRng(Nash):
    """Draws its morphisms from a second generator it does not save."""

    name = "test-nash-loses-morphism-rng"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.morph_rng = make_rng(self.seed + 1)

    def _morph_child(self, net: Any) -> Any:
        saved, self.rng = self.rng, self.morph_rng
        try:
            return super()._morph_child(net)
        finally:
            self.rng = saved


class NashOrphanChildren(Nash):
    """Proposes morphed children without their parent (nothing to morph)."""

    name = "test-nash-orphan-children"

    def propose(self, trial_id: str) -> Suggestion:
        s = super().propose(trial_id)
        if s.kind == "run" and s.arch is not None and json.loads(s.arch)["morphisms"]:
            return Suggestion.run(s.values, epochs=s.epochs, notes=s.notes, arch=s.arch)
        return s


class PnasRepeatsCells(Pnas):
    """Trains the previous cell again on every 4th trial."""

    name = "test-pnas-repeats-cells"

    def propose(self, trial_id: str) -> Suggestion:
        if self.cells is not None and len(self.asked) % 4 == 3:
            previous = list(self.asked.values())[-1]
            return Suggestion.run({}, arch=previous[ARCH])
        return super().propose(trial_id)


class PopnasForgetsCellsOnResume(Popnas):
    """Saves its progressive state without the trained cells, which it
    keeps for the next step's expansion."""

    name = "test-popnas-forgets-cells"

    def extra_state(self) -> dict[str, Any]:
        state = super().extra_state()
        if "progressive" in state:
            trained = {o.trial_id for o in self.history}
            cells = state["progressive"]["cells"]
            state["progressive"] = {**state["progressive"],
                                    "cells": {t: c for t, c in cells.items() if t not in trained}}
        return state


class PopnasDropsArch(Popnas):
    """Proposes its cells without the architecture."""

    name = "test-popnas-drops-arch"

    def propose(self, trial_id: str) -> Suggestion:
        s = super().propose(trial_id)
        if s.kind == "run" and s.arch is not None:
            return Suggestion.run(s.values, notes=s.notes)
        return s


#: Trials per run for the broken structured strategies: two NASH steps, the
#: first progressive step of POPNAS and its expansion (keeps the runs short).
STRUCTURED_TRIALS = 12
BROKEN_STRUCTURED = [
    (NashUnseededMorphisms, check_same_seed_same_proposals, "network",
     "same seed, different suggestions"),
    (NashLosesMorphismRng, check_resume_equivalence, "network", "resumed run differs"),
    (NashOrphanChildren, check_python_scalars, "network", "morphisms without a parent"),
    (PnasRepeatsCells, check_no_duplicates_until_exhausted, "cells", "repeats trial"),
    (PopnasForgetsCellsOnResume, check_resume_equivalence, "cells", "resumed run differs"),
    (PopnasDropsArch, check_python_scalars, "cells", "no arch on a cells space"),
]


@pytest.mark.parametrize("strategy_cls, check, space, fragment", BROKEN_STRUCTURED,
                         ids=[b[0].__name__ for b in BROKEN_STRUCTURED])
def test_check_catches_broken_structured_strategy(
    strategy_cls: Any, check: Any, space: str, fragment: str
) -> None:
    with pytest.raises(AssertionError) as info:
        check(strategy_cls, n_trials=STRUCTURED_TRIALS)
    message = str(info.value)
    assert message.startswith(f"{check.__name__} failed for strategy {strategy_cls.name!r}")
    assert f"[space {space!r} ({space})" in message
    assert fragment in message


@pytest.mark.parametrize("strategy_cls, check", [b[:2] for b in BROKEN_STRUCTURED],
                         ids=[b[0].__name__ for b in BROKEN_STRUCTURED])
def test_structured_breakage_is_invisible_on_hyperparameter_spaces(
    strategy_cls: Any, check: Any
) -> None:
    """What the checks caught above needs the structured mode: driven on
    hyperparameter spaces only, the same strategy passes."""
    ran = check(strategy_cls, n_trials=STRUCTURED_TRIALS, kinds=["hyperparameters"])
    assert {kind for kind, _ in ran} == {SpaceKind.HYPERPARAMETERS}


def test_kinds_must_be_declared() -> None:
    with pytest.raises(ValueError, match=r"kinds \['network'\] are not among the strategy's "
                       r"space_kinds \['hyperparameters'\]"):
        check_max_trials(Good, kinds=[SpaceKind.NETWORK])


def test_nash_siblings_are_distinct_architectures() -> None:
    """With one morphism per child, siblings drawn alike are drawn again
    (two trained the same network from the same weights before)."""
    check_no_duplicates_until_exhausted(Nash, make_kwargs=lambda seed: {"seed": seed, "n_nm": 1})


def test_a_strategy_without_a_driven_kind_of_space_is_refused() -> None:
    class SupernetOnly(Good):
        name = "test-supernet-only"
        space_kinds = (SpaceKind.SUPERNET,)

    with pytest.raises(AssertionError, match="check_max_trials failed for strategy "
                       "'test-supernet-only'.*declares no kind of space the conformance suite "
                       "can drive"):
        check_max_trials(SupernetOnly)


# ---------------------------------------------------------------------------
# the drivers
# ---------------------------------------------------------------------------
def _good(seed: int = 0) -> Good:
    return Good(seed=seed)


def test_run_sequential_ids_and_observations() -> None:
    space = standard_spaces()["mixed"]
    strategy = _good()
    calls: list[str] = []
    steps = run_sequential(
        strategy, objective_for("mixed"), 8, space=space, on_step=lambda s: calls.append(s.trial_id)
    )
    assert [s.trial_id for s in steps] == [str(i) for i in range(8)] == calls
    assert all(s.kind == "run" for s in steps)
    assert [o.trial_id for o in strategy.history] == calls  # told in order
    for step in steps:
        obs = step.observation
        assert obs is not None and obs.status is TrialStatus.COMPLETED
        assert obs.metrics["score"] == objective_for("mixed")(dict(step.suggestion.values))
        assert {"train_time_s", "params", "latency_ms"} <= set(obs.metrics)
        assert obs.epochs == 1


def test_run_sequential_stops_at_done() -> None:
    steps = run_sequential(_good(), objective_for("finite"), 20, space=standard_spaces()["finite"])
    assert [s.kind for s in steps] == ["run"] * 12 + ["done"]
    assert steps[-1].trial_id == "12"


def test_run_async_keeps_trials_pending_and_shuffles_tells() -> None:
    strategy = _good()
    pending_at_ask: list[int] = []

    def on_step(step: Any) -> None:
        pending_at_ask.append(len(strategy.asked) - len(strategy.history))

    run_async(
        strategy, objective_for("nb201"), 20, parallel=3, seed=4, space=standard_spaces()["nb201"],
        on_step=on_step,
    )
    told = [o.trial_id for o in strategy.history]
    assert sorted(told, key=int) == [str(i) for i in range(20)]
    assert told != sorted(told, key=int)
    assert pending_at_ask[:3] == [1, 2, 3] and max(pending_at_ask) == 3


def test_driver_rejects_wait_with_nothing_pending() -> None:
    with pytest.raises(AssertionError, match="no trial was running"):
        run_sequential(WaitsForever(seed=0), objective_for("finite"), 5,
                       space=standard_spaces()["finite"])


def test_driver_tells_a_pending_trial_on_wait() -> None:
    class WaitsEveryOther(Good):
        name = "test-waits-every-other"

        def propose(self, trial_id: str) -> Suggestion:
            if len(self.asked) > len(self.history):
                return Suggestion.wait()
            return super().propose(trial_id)

    strategy = WaitsEveryOther(seed=0)
    steps = run_async(strategy, objective_for("mixed"), 6, parallel=3,
                      space=standard_spaces()["mixed"])
    kinds = [s.kind for s in steps]
    assert kinds.count("run") == 6 and "wait" in kinds
    # the id is not used up by a "wait"
    assert [s.trial_id for s in steps if s.kind == "run"] == [str(i) for i in range(6)]


def test_failure_pattern_observations() -> None:
    strategy = _good()
    run_sequential(strategy, objective_for("mixed"), 12, space=standard_spaces()["mixed"],
                   outcome=failure_pattern)
    statuses = [o.status for o in strategy.history]
    assert statuses[:4] == [TrialStatus.FAILED] * 4
    assert TrialStatus.STOPPED in statuses and TrialStatus.COMPLETED in statuses
    for o in strategy.history:
        if o.status is TrialStatus.FAILED:
            assert o.metrics == {} and o.message
        else:
            assert "score" in o.metrics
    json.dumps([o.to_dict() for o in strategy.history], allow_nan=False)


def test_driver_survives_strategy_swap() -> None:
    """What check_resume_equivalence relies on: the driver's own state carries on."""
    space = standard_spaces()["nb201"]
    fn = objective_for("nb201")
    reference = Driver(_good(3), fn, 15, space=space, parallel=3, seed=1).run()
    driver = Driver(_good(3), fn, 15, space=space, parallel=3, seed=1)
    driver.run(until_event=7)
    assert driver.pending
    fresh = Good(seed=99)
    fresh.setup(standard_spaces()["nb201"], [SCORE], None)
    fresh.load_state_dict(json.loads(json.dumps(driver.strategy.state_dict())))
    driver.strategy = fresh
    resumed = driver.run()
    assert [s.suggestion for s in resumed] == [s.suggestion for s in reference]
    assert [s.observation for s in resumed] == [s.observation for s in reference]


def test_standard_spaces() -> None:
    spaces = standard_spaces()
    assert spaces["finite"].size() == 12
    assert spaces["nb201"].size() == 5**6
    assert spaces["mixed"].size() == float("inf")
    mixed = spaces["mixed"]
    rng = make_rng(0)
    samples = [mixed.sample(rng) for _ in range(50)]
    assert {("units" in v) for v in samples} == {True, False}  # conditional scope
    assert {("dropout_rate" in v) for v in samples} == {True, False}
    for name, space in spaces.items():
        fn = objective_for(name)
        for v in samples if name == "mixed" else [space.sample(rng) for _ in range(20)]:
            assert fn(v) == fn(dict(v)) and isinstance(fn(v), float)
