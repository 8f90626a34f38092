"""The conformance suite every strategy plugin must pass.

Usage, in a plugin's own tests::

    from autokeras_nas.testing import check_strategy
    check_strategy(MyStrategy, make_kwargs=lambda seed: {"seed": seed, "population_size": 8})

`check_strategy` runs every check; each check is also a function of its own
(`CHECKS`) so a test can parametrize over them. A failing check raises
`AssertionError` whose message names the check, the strategy and the
scenario (space, driver, seed) it failed in. An exception raised by the
strategy itself inside a check is reported the same way.

Every check builds its strategies with `strategy_cls(**make_kwargs(seed))`
and drives them with `autokeras_nas.testing.driver.Driver` on the spaces of
`standard_spaces()` with their analytic objectives; no Keras is involved.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any, Callable, Mapping

from autokeras_nas.core import Strategy, TrialStatus, is_python_scalar, is_reserved
from autokeras_nas.testing.driver import SCORE, Driver, Step, describe, failure_pattern
from autokeras_nas.testing.spaces import objective_for, standard_spaces

MakeKwargs = Callable[[int], Mapping[str, Any]]

#: Number of trials the checks run by default.
DEFAULT_TRIALS = 30
#: Seed offset of the fresh instance a state is loaded into.
RESUME_SEED_OFFSET = 1000


def default_make_kwargs(seed: int) -> dict[str, Any]:
    return {"seed": seed}


def strategy_label(strategy_cls: Any) -> str:
    name = getattr(strategy_cls, "name", "") or ""
    qual = f"{getattr(strategy_cls, '__module__', '?')}.{getattr(strategy_cls, '__qualname__', strategy_cls)}"
    return f"{name!r} ({qual})" if name else qual


class _Context:
    """What a check is doing, for its failure message."""

    def __init__(self, strategy_cls: Any, make_kwargs: MakeKwargs) -> None:
        self.strategy_cls = strategy_cls
        self.make_kwargs = make_kwargs
        self.scenario = ""

    def new(self, seed: int) -> Any:
        strategy = self.strategy_cls(**dict(self.make_kwargs(seed)))
        if not isinstance(strategy, Strategy):
            missing = [m for m in ("name", "setup", "ask", "tell", "state_dict", "load_state_dict")
                       if not hasattr(strategy, m)]
            raise AssertionError(f"does not implement the Strategy protocol (missing {missing})")
        return strategy

    def driver(
        self,
        space_name: str,
        seed: int,
        n_trials: int,
        *,
        parallel: int = 1,
        max_trials: int | None = None,
        **kwargs: Any,
    ) -> Driver:
        mode = "sequential" if parallel == 1 else f"async, {parallel} pending"
        self.scenario = (
            f"space {space_name!r}, {mode}, seed {seed}, n_trials {n_trials}, "
            f"max_trials {max_trials}"
        )
        space = standard_spaces()[space_name]
        return Driver(
            self.new(seed), objective_for(space_name), n_trials, space=space,
            objectives=[SCORE], max_trials=max_trials, parallel=parallel,
            seed=seed, **kwargs,
        )


def _conformance_check(fn: Callable[[_Context, int], None]) -> Callable[..., None]:
    @functools.wraps(fn)
    def check(
        strategy_cls: Any, *, make_kwargs: MakeKwargs | None = None, n_trials: int = DEFAULT_TRIALS
    ) -> None:
        if n_trials < 10:
            raise ValueError(f"the conformance checks need n_trials >= 10, got {n_trials}")
        ctx = _Context(strategy_cls, make_kwargs or default_make_kwargs)
        head = f"{fn.__name__} failed for strategy {strategy_label(strategy_cls)}"
        try:
            fn(ctx, n_trials)
        except AssertionError as exc:
            where = f" [{ctx.scenario}]" if ctx.scenario else ""
            raise AssertionError(f"{head}{where}: {exc}") from exc
        except Exception as exc:  # the strategy crashed
            where = f" [{ctx.scenario}]" if ctx.scenario else ""
            raise AssertionError(
                f"{head}{where}: the strategy raised {type(exc).__name__}: {exc}"
            ) from exc

    check.__doc__ = fn.__doc__
    return check


def _first_difference(a: list[Step], b: list[Step]) -> str | None:
    da, db = [describe(s) for s in a], [describe(s) for s in b]
    for i, (x, y) in enumerate(zip(da, db)):
        if x != y:
            return f"ask #{i} differs:\n  expected {_fmt(x)}\n  got      {_fmt(y)}"
    if len(da) != len(db):
        return f"{len(da)} asks expected, got {len(db)} (the shorter one is a prefix of the other)"
    return None


def _fmt(desc: tuple[Any, ...]) -> str:
    trial_id, kind, values, parent, epochs, initial = desc
    vals = {k: v for k, _, v in values}
    return (
        f"trial {trial_id} {kind} values={vals} parent_id={parent} epochs={epochs}"
        f" initial_epoch={initial}"
    )


# ---------------------------------------------------------------------------
# validity of one suggestion
# ---------------------------------------------------------------------------
def _json_ok(obj: Any) -> str | None:
    try:
        json.dumps(obj, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def suggestion_problems(space: Any, step: Step, driver: Driver) -> list[str]:
    """Why a suggestion breaks the contract (empty when it is valid).

    Checked: the kind; values are a dict of plain Python scalars under
    non-reserved string keys; `space.complete(values) == values` with equal
    types (exactly the active hyperparameters, legal values); values and
    notes are strict JSON; the parent, if any, is a trial asked and reported
    (completed or stopped, not failed) before; epochs is a positive int and
    initial_epoch a non-negative int.
    """
    s = step.suggestion
    where = f"ask({step.trial_id!r}) -> {s.kind}"
    out: list[str] = []
    if s.kind not in ("run", "wait", "done"):
        return [f"{where}: unknown kind {s.kind!r}"]
    if not isinstance(s.notes, Mapping):
        out.append(f"{where}: notes is a {type(s.notes).__name__}, not a mapping")
    elif (err := _json_ok(dict(s.notes))) is not None:
        out.append(f"{where}: notes are not JSON ({err}): {dict(s.notes)!r}")
    if s.kind != "run":
        return out
    if not isinstance(s.values, Mapping):
        return out + [f"{where}: values is a {type(s.values).__name__}, not a mapping"]
    values = dict(s.values)
    bad = {
        k: f"{type(v).__module__}.{type(v).__name__}"
        for k, v in values.items()
        if not is_python_scalar(v)
    }
    if bad:
        out.append(f"{where}: values are not plain Python scalars: {bad}")
    keys = [k for k in values if not isinstance(k, str) or is_reserved(k)]
    if keys:
        out.append(f"{where}: non-string or reserved keys in values: {keys}")
    if (err := _json_ok(values)) is not None:
        out.append(f"{where}: values are not JSON ({err}): {values!r}")
    try:
        completed = dict(space.complete(values))
    except Exception as exc:  # illegal values
        out.append(f"{where}: space.complete(values) rejected {values!r}: {type(exc).__name__}: {exc}")
    else:
        if set(completed) != set(values) or not all(_same(completed[k], values[k]) for k in values):
            missing = sorted(set(completed) - set(values))
            extra = sorted(set(values) - set(completed))
            changed = {
                k: (values[k], completed[k])
                for k in set(values) & set(completed)
                if not _same(values[k], completed[k])
            }
            out.append(
                f"{where}: values are not exactly the active, legal hyperparameters "
                f"(space.complete(values) != values): missing {missing}, inactive/unknown "
                f"{extra}, changed (proposed, legal) {changed}"
            )
    if s.parent_id is not None:
        asked_before = {x.trial_id for x in driver.steps[:-1] if x.kind == "run"}
        if not isinstance(s.parent_id, str):
            out.append(f"{where}: parent_id {s.parent_id!r} is not a str")
        elif s.parent_id not in asked_before:
            out.append(f"{where}: parent_id {s.parent_id!r} is not a previously asked trial id")
        elif s.parent_id not in driver.told:
            out.append(f"{where}: parent {s.parent_id!r} is still running (no weights yet)")
        elif driver.told[s.parent_id] is TrialStatus.FAILED:
            out.append(f"{where}: parent {s.parent_id!r} failed (it has no weights)")
    if s.epochs is not None and (type(s.epochs) is not int or s.epochs < 1):
        out.append(f"{where}: epochs must be a positive int, got {s.epochs!r}")
    if s.initial_epoch is not None and (type(s.initial_epoch) is not int or s.initial_epoch < 0):
        out.append(f"{where}: initial_epoch must be a non-negative int, got {s.initial_epoch!r}")
    return out


def _run_validated(ctx: _Context, space_name: str, seed: int, n: int, **kwargs: Any) -> Driver:
    """Runs a driver whose every suggestion must pass `suggestion_problems`."""
    driver = ctx.driver(space_name, seed, n, **kwargs)
    space = standard_spaces()[space_name]

    def on_step(step: Step) -> None:
        problems = suggestion_problems(space, step, driver)
        if problems:
            raise AssertionError("; ".join(problems))

    driver.on_step = on_step
    driver.run()
    return driver


# ---------------------------------------------------------------------------
# the checks
# ---------------------------------------------------------------------------
@_conformance_check
def check_same_seed_same_proposals(ctx: _Context, n_trials: int) -> None:
    """Two instances built with the same seed and driven identically make
    identical suggestions (ids, kinds, values with their types, parent ids,
    epochs, initial epochs): on the mixed space sequentially, on the
    NAS-Bench-201-like space with 3 pending trials, and on the
    finite space past exhaustion. Instances built with different seeds
    (1 and 2) propose different values on the mixed space."""
    finite = standard_spaces()["finite"].size()
    scenarios = [
        ("mixed", 0, n_trials, {}),
        ("nb201", 7, n_trials, {"parallel": 3}),
        ("finite", 3, finite + 3, {}),
    ]
    for space_name, seed, n, kwargs in scenarios:
        first = ctx.driver(space_name, seed, n, **kwargs).run()
        second = ctx.driver(space_name, seed, n, **kwargs).run()
        diff = _first_difference(first, second)
        if diff is not None:
            raise AssertionError(f"same seed, different suggestions: {diff}")
    runs = []
    for seed in (1, 2):
        steps = ctx.driver("mixed", seed, n_trials).run()
        runs.append([describe(s)[2] for s in steps if s.kind == "run"])
    ctx.scenario = f"space 'mixed', sequential, seeds 1 and 2, n_trials {n_trials}"
    if runs[0] == runs[1]:
        raise AssertionError(
            f"seeds 1 and 2 gave the same {len(runs[0])} proposals: the seed is ignored"
        )


def _resume_at(ctx: _Context, space_name: str, seed: int, n: int, event: int, kwargs: dict) -> list[Step]:
    driver = ctx.driver(space_name, seed, n, **kwargs)
    driver.run(until_event=event)
    pending = len(driver.pending)
    ctx.scenario += f", saved after event {event} with {pending} trial(s) pending"
    state = driver.strategy.state_dict()
    try:
        text = json.dumps(state, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"state_dict() is not strict JSON: {type(exc).__name__}: {exc}") from exc
    fresh = ctx.new(seed + RESUME_SEED_OFFSET)
    fresh.setup(standard_spaces()[space_name], [SCORE], kwargs.get("max_trials"))
    fresh.load_state_dict(json.loads(text))
    driver.strategy = fresh
    return driver.run()


@_conformance_check
def check_resume_equivalence(ctx: _Context, n_trials: int) -> None:
    """A strategy saved with `state_dict()` at any point, passed through
    `json.dumps`/`json.loads` (strict JSON, no NaN/Infinity) and loaded into
    a fresh instance (built with a different seed, then `setup` with an
    equal space, then `load_state_dict`) makes exactly the later suggestions
    of an uninterrupted run. Saved before the first ask, with asked-but-not-
    told trials pending, between trials, and at the exhaustion of the finite
    space; sequentially and with 3 pending trials, failures and max_trials."""
    finite = standard_spaces()["finite"].size()
    half = n_trials // 2
    scenarios = [
        # (space, seed, n, driver kwargs, save points as event counts)
        ("mixed", 0, n_trials, {}, [0, 1, 2, 9, 2 * half + 1]),
        (
            "nb201", 5, n_trials,
            {"parallel": 3, "outcome": failure_pattern, "max_trials": n_trials - 2},
            [0, 2, 7, n_trials + 1, 2 * n_trials - 6],
        ),
        ("finite", 2, finite + 3, {}, [2 * finite - 1, 2 * finite]),
    ]
    for space_name, seed, n, kwargs, events in scenarios:
        reference = ctx.driver(space_name, seed, n, **kwargs).run()
        for event in events:
            resumed = _resume_at(ctx, space_name, seed, n, event, kwargs)
            diff = _first_difference(reference, resumed)
            if diff is not None:
                raise AssertionError(f"the resumed run differs from the uninterrupted one: {diff}")


@_conformance_check
def check_no_duplicates_until_exhausted(ctx: _Context, n_trials: int) -> None:
    """On the finite space (12 configurations) no configuration
    (`space.key(values)`) is proposed twice before every configuration was
    proposed, sequentially and with 3 pending trials, for two seeds. After
    exhaustion the strategy may say "done" or go on proposing."""
    space = standard_spaces()["finite"]
    size = space.size()
    for parallel in (1, 3):
        for seed in (0, 1):
            steps = ctx.driver("finite", seed, size + 4, parallel=parallel).run()
            seen: dict[Any, str] = {}
            for step in steps:
                if step.kind != "run":
                    continue
                if len(seen) >= size:
                    break
                key = space.key(dict(step.suggestion.values))
                if key in seen:
                    raise AssertionError(
                        f"trial {step.trial_id} repeats trial {seen[key]} "
                        f"({dict(step.suggestion.values)}) when only {len(seen)} of the "
                        f"{size} configurations had been proposed"
                    )
                seen[key] = step.trial_id


@_conformance_check
def check_failed_observations(ctx: _Context, n_trials: int) -> None:
    """FAILED observations (no metrics, a message) and STOPPED ones (valid
    metrics, fewer epochs) mixed in (`failure_pattern`: the first 4 trials
    fail) do not crash the strategy, and it keeps proposing valid
    suggestions (as in `check_python_scalars`) up to `n_trials` on the large
    spaces; also when every trial fails."""

    def always_fail(index: int, trial_id: str, values: Any) -> TrialStatus:
        return TrialStatus.FAILED

    scenarios = [
        ("mixed", 0, n_trials, {"outcome": failure_pattern}),
        ("nb201", 1, n_trials, {"outcome": failure_pattern, "parallel": 3}),
        ("mixed", 2, min(n_trials, 12), {"outcome": always_fail}),
    ]
    for space_name, seed, n, kwargs in scenarios:
        driver = _run_validated(ctx, space_name, seed, n, **kwargs)
        if driver.n_run < n:
            last = driver.steps[-1].suggestion if driver.steps else None
            raise AssertionError(
                f"stopped proposing after {driver.n_run} of {n} trials on a large space "
                f"(last answer: {last.kind if last else None} {dict(last.notes) if last else ''})"
            )


@_conformance_check
def check_max_trials(ctx: _Context, n_trials: int) -> None:
    """With `setup(..., max_trials=m)` the strategy never returns more than
    m "run" suggestions, even when asked again after saying "done":
    m = 1 and 5 on the mixed/NAS-Bench-201-like spaces (sequential and with
    3-4 pending trials, also m smaller than the number of workers), and
    m = 15 on the 12-configuration space."""
    scenarios = [
        ("mixed", 0, 1, {}),
        ("nb201", 1, 5, {"parallel": 3}),
        ("mixed", 2, 3, {"parallel": 4}),
        ("finite", 3, 15, {}),
    ]
    for space_name, seed, m, kwargs in scenarios:
        driver = ctx.driver(space_name, seed, m + 10, max_trials=m, asks_after_done=3, **kwargs)
        driver.run()
        if driver.n_run > m:
            raise AssertionError(f"returned {driver.n_run} 'run' suggestions with max_trials={m}")


@_conformance_check
def check_python_scalars(ctx: _Context, n_trials: int) -> None:
    """Every suggestion on every standard space (sequential and with 3
    pending trials) is valid: values are plain Python scalars
    (`is_python_scalar`, not numpy types) under non-reserved keys and are
    exactly the active, legal hyperparameters (`space.complete(values) ==
    values`, types included); values and notes pass strict `json.dumps`; a
    parent id names a trial asked and reported (not failed) before; epochs
    is a positive int, initial_epoch a non-negative int."""
    finite = standard_spaces()["finite"].size()
    for space_name in ("finite", "mixed", "nb201"):
        n = finite + 3 if space_name == "finite" else n_trials
        for parallel in (1, 3):
            _run_validated(ctx, space_name, 11, n, parallel=parallel)


#: Every check, in the order `check_strategy` runs them.
CHECKS: tuple[Callable[..., None], ...] = (
    check_same_seed_same_proposals,
    check_resume_equivalence,
    check_no_duplicates_until_exhausted,
    check_failed_observations,
    check_max_trials,
    check_python_scalars,
)


def check_strategy(
    strategy_cls: Any, *, make_kwargs: MakeKwargs | None = None, n_trials: int = DEFAULT_TRIALS
) -> None:
    """Runs every conformance check on a strategy class.

    Args:
        strategy_cls: A class implementing the Strategy protocol.
        make_kwargs: `make_kwargs(seed)` -> constructor keyword arguments
            (default `{"seed": seed}`).
        n_trials: Trials per run on the large spaces (at least 10).

    Raises:
        AssertionError: naming every failed check, the strategy and the
            scenario each failed in.
    """
    failures = []
    for check in CHECKS:
        try:
            check(strategy_cls, make_kwargs=make_kwargs, n_trials=n_trials)
        except AssertionError as exc:
            failures.append(str(exc))
    if failures:
        raise AssertionError(
            f"{len(failures)} of {len(CHECKS)} conformance checks failed for strategy "
            f"{strategy_label(strategy_cls)}:\n- " + "\n- ".join(failures)
        )
