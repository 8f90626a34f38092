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
and drives them with `autokeras_nas.testing.driver.Driver`, on every kind of
space the strategy declares in `space_kinds`: hyperparameters on the spaces
of `standard_spaces()`, a morphable network (`SpaceKind.NETWORK`) and a cell
space (`SpaceKind.CELLS`) on the toy spaces of `structured_spaces()`, to
which the strategy is bound with `use_space(kind, structure)` before
`setup`. Every space has an analytic objective; no Keras is involved. A
trial of task "supernet" (a one-shot search) is told with the outputs a
supernet trainer reports (`supernet_outputs`). Runs are compared by
`describe`: values, architecture, parent, budget and task.
Each check takes the same arguments as `check_strategy` (`kinds=` limits it
to some of the declared kinds) and returns the scenarios it ran, as
`(SpaceKind, description)`.
"""

from __future__ import annotations

import functools
import json
from typing import Any, Callable, Iterable, Mapping

from autokeras_nas.core import ARCH, TASK_SUPERNET, SpaceKind, Strategy, TrialStatus
from autokeras_nas.testing.driver import (
    SCORE,
    Driver,
    Step,
    canonical_arch,
    describe,
    failure_pattern,
    late_failure_pattern,
    supernet_outputs,
)
from autokeras_nas.testing.spaces import objective_for, standard_spaces
from autokeras_nas.testing.structured import (
    DRIVEN_KINDS,
    StructuredSpace,
    structured_space_for,
    structured_spaces,
)
from autokeras_nas.testing.validity import suggestion_problems

MakeKwargs = Callable[[int], Mapping[str, Any]]
#: What a check returns: the kind of space and the description of every
#: scenario it ran, in order.
Scenarios = list[tuple[SpaceKind, str]]

#: Number of trials the checks run by default.
DEFAULT_TRIALS = 30
#: Seed offset of the fresh instance a state is loaded into.
RESUME_SEED_OFFSET = 1000
#: Driver settings of the scenarios with a time budget and promotions: every
#: second completed trial is continued to a higher rung (`Observation.
#: continues`), 3 trials pending, and a budget of about 20 trials' cost.
PROMOTIONS = {"parallel": 3, "continue_every": 2, "time_budget": 40.0}
#: Tasks whose trial the rest of a search is built on (a one-shot search's
#: supernet): when one fails, the strategy may end the search at once.
FOUNDATION_TASKS = (TASK_SUPERNET,)


def default_make_kwargs(seed: int) -> dict[str, Any]:
    return {"seed": seed}


def strategy_label(strategy_cls: Any) -> str:
    name = getattr(strategy_cls, "name", "") or ""
    qual = f"{getattr(strategy_cls, '__module__', '?')}.{getattr(strategy_cls, '__qualname__', strategy_cls)}"
    return f"{name!r} ({qual})" if name else qual


def declared_kinds(strategy_cls: Any) -> tuple[SpaceKind, ...]:
    """The kinds of space a strategy class declares (`space_kinds`; a class
    without the attribute searches hyperparameters)."""
    declared = getattr(strategy_cls, "space_kinds", (SpaceKind.HYPERPARAMETERS,))
    try:
        return tuple(SpaceKind(k) for k in declared)
    except (TypeError, ValueError) as exc:
        raise AssertionError(f"space_kinds {declared!r} are not SpaceKind values: {exc}") from None


def _space(space_name: str) -> tuple[Any, Any, StructuredSpace | None]:
    """(hyperparameter space, objective, structured space or None) of a name
    of `standard_spaces()` or `structured_spaces()`."""
    structured = structured_spaces().get(space_name)
    if structured is None:
        return standard_spaces()[space_name], objective_for(space_name), None

    def objective(values: Mapping[str, Any]) -> Mapping[str, float]:
        if ARCH not in values:
            raise AssertionError(f"a trial without an architecture on a {structured.kind.value} "
                                 f"space (values {dict(values)}): the model to build is unknown")
        return structured.objective(values)

    return structured.hyperspace(), objective, structured


class _Context:
    """What a check is doing, for its failure message."""

    def __init__(self, strategy_cls: Any, make_kwargs: MakeKwargs,
                 only: Iterable[SpaceKind | str] | None = None) -> None:
        self.strategy_cls = strategy_cls
        self.make_kwargs = make_kwargs
        self.scenario = ""
        #: Every scenario started, with the kind of its space.
        self.ran: Scenarios = []
        kinds = declared_kinds(strategy_cls)
        if only is not None:
            only = [SpaceKind(k) for k in only]
            undeclared = [k.value for k in only if k not in kinds]
            if undeclared:
                raise ValueError(f"kinds {undeclared} are not among the strategy's space_kinds "
                                 f"{[k.value for k in kinds]}")
            kinds = tuple(k for k in kinds if k in only)
        driven = [k for k in kinds if k in DRIVEN_KINDS]
        if not driven:
            raise AssertionError(
                f"declares no kind of space the conformance suite can drive (space_kinds "
                f"{[k.value for k in kinds]}; driven: {[k.value for k in DRIVEN_KINDS]})")
        #: Whether to run the hyperparameter scenarios.
        self.hyperparameters = SpaceKind.HYPERPARAMETERS in driven
        #: `FOUNDATION_TASKS` and the strategy's own supernet task, if it
        #: names one (`supernet_task`, as one-shot strategies do).
        own = getattr(strategy_cls, "supernet_task", TASK_SUPERNET)
        self.foundation_tasks = tuple(dict.fromkeys(
            FOUNDATION_TASKS + ((own,) if own is not None else ())))
        #: Names of the structured spaces to run, in the declared order.
        self.structured = [structured_space_for(k).name for k in driven
                           if k is not SpaceKind.HYPERPARAMETERS]

    def new(self, seed: int, space_name: str | None = None) -> Any:
        """A new strategy, bound to the structured space `space_name` if it is one."""
        strategy = self.strategy_cls(**dict(self.make_kwargs(seed)))
        if not isinstance(strategy, Strategy):
            missing = [m for m in ("name", "setup", "ask", "tell", "state_dict", "load_state_dict")
                       if not hasattr(strategy, m)]
            raise AssertionError(f"does not implement the Strategy protocol (missing {missing})")
        if space_name is not None:
            self.bind(strategy, space_name)
        return strategy

    @staticmethod
    def bind(strategy: Any, space_name: str) -> None:
        """`use_space` with the structured space `space_name`, if it is one."""
        structured = structured_spaces().get(space_name)
        if structured is None:
            return
        if not hasattr(strategy, "use_space"):
            raise AssertionError(f"declares {structured.kind.value} spaces but has no "
                                 "use_space(kind, structure)")
        structured.bind(strategy)

    def driver(
        self,
        space_name: str,
        seed: int,
        n_trials: int,
        *,
        parallel: int = 1,
        max_trials: int | None = None,
        bind_after_setup: bool = False,
        **kwargs: Any,
    ) -> Driver:
        """A driver of a new strategy on a standard or structured space; the
        strategy is bound to a structured space before `setup`, or after it
        with `bind_after_setup`."""
        mode = "sequential" if parallel == 1 else f"async, {parallel} pending"
        space, objective, structured = _space(space_name)
        kind = SpaceKind.HYPERPARAMETERS if structured is None else structured.kind
        self.scenario = (
            f"space {space_name!r} ({kind.value}), {mode}, seed {seed}, n_trials {n_trials}, "
            f"max_trials {max_trials}"
        )
        if structured is not None and bind_after_setup:
            self.scenario += ", use_space after setup"
        self.ran.append((kind, self.scenario))
        if not bind_after_setup:
            strategy = self.new(seed, space_name)
        else:
            strategy = self.new(seed)
            strategy.setup(space, [SCORE], max_trials)
            self.bind(strategy, space_name)
            space = None  # set up already
        fake = supernet_outputs(_space(space_name)[0])
        outputs = {task: fake for task in self.foundation_tasks}
        # A strategy whose estimates rank by metrics of their own (a
        # zero-cost strategy's proxies) gets them from its estimate task.
        ranked_by = getattr(strategy, "ranking_metrics", None)
        task = getattr(strategy, "estimate_task", None)
        metrics = {task: ranked_by()} if callable(ranked_by) and isinstance(task, str) else {}
        return Driver(
            strategy, objective, n_trials, space=space,
            objectives=[SCORE], max_trials=max_trials, parallel=parallel,
            seed=seed, task_outputs=outputs, task_metrics=metrics, **kwargs,
        )


def _conformance_check(fn: Callable[[_Context, int], None]) -> Callable[..., Scenarios]:
    @functools.wraps(fn)
    def check(
        strategy_cls: Any, *, make_kwargs: MakeKwargs | None = None, n_trials: int = DEFAULT_TRIALS,
        kinds: Iterable[SpaceKind | str] | None = None,
    ) -> Scenarios:
        if n_trials < 10:
            raise ValueError(f"the conformance checks need n_trials >= 10, got {n_trials}")
        head = f"{fn.__name__} failed for strategy {strategy_label(strategy_cls)}"
        try:
            ctx = _Context(strategy_cls, make_kwargs or default_make_kwargs, kinds)
        except AssertionError as exc:
            raise AssertionError(f"{head}: {exc}") from exc
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
        return ctx.ran

    check.__doc__ = fn.__doc__
    return check


def _first_difference(a: list[Step], b: list[Step]) -> str | None:
    da, db = [describe(s) for s in a], [describe(s) for s in b]
    for i, (x, y) in enumerate(zip(da, db)):
        if x != y:
            return (f"ask #{i} differs:\n  expected {_fmt(x)}\n  got      {_fmt(y)}"
                    + _arch_difference(x[3], y[3]))
    if len(da) != len(db):
        return f"{len(da)} asks expected, got {len(db)} (the shorter one is a prefix of the other)"
    return None


def _fmt(desc: tuple[Any, ...]) -> str:
    trial_id, kind, values, arch, parent, epochs, initial, task, config = desc
    vals = {k: v for k, _, v in values}
    out = (
        f"trial {trial_id} {kind} values={vals} parent_id={parent} epochs={epochs}"
        f" initial_epoch={initial}"
    )
    if task is not None or config is not None:
        out += f" task={task} task_config={config}"
    return out if arch is None else f"{out} arch={_short(arch)}"


def _arch_difference(a: str | None, b: str | None, context: int = 80) -> str:
    """Where two architectures (canonical JSON) first differ, when they do
    and both exist (the messages shorten long ones)."""
    if a is None or b is None or a == b:
        return ""
    at = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    lo = max(0, at - context)
    return (f"\n  the architectures differ at character {at}:"
            f"\n  expected ...{a[lo:at + context]}...\n  got      ...{b[lo:at + context]}...")


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _run_validated(ctx: _Context, space_name: str, seed: int, n: int, **kwargs: Any) -> Driver:
    """Runs a driver whose every suggestion must pass `suggestion_problems`."""
    driver = ctx.driver(space_name, seed, n, **kwargs)
    space, _, structured = _space(space_name)

    def on_step(step: Step) -> None:
        problems = suggestion_problems(space, step, driver, structured)
        if problems:
            raise AssertionError("; ".join(problems))

    driver.on_step = on_step
    driver.run()
    return driver


def _proposals(steps: list[Step]) -> list[tuple[Any, ...]]:
    """The values and architecture of every run suggestion."""
    return [describe(s)[2:4] for s in steps if s.kind == "run"]


# ---------------------------------------------------------------------------
# the checks
# ---------------------------------------------------------------------------
@_conformance_check
def check_same_seed_same_proposals(ctx: _Context, n_trials: int) -> None:
    """Two instances built with the same seed and driven identically make
    identical suggestions (ids, kinds, values with their types,
    architectures, parent ids, epochs, initial epochs, tasks): on the mixed
    space sequentially, on the NAS-Bench-201-like space with 3 pending
    trials, on the finite space past exhaustion, with a time budget and
    results of continued (promoted) trials (`PROMOTIONS`), and on each
    structured space the strategy declares sequentially, with 3 pending
    trials and with `PROMOTIONS` (the
    first instance bound to it with `use_space` before `setup`, the second
    after).
    Instances built with different seeds (1 and 2) propose different values
    or architectures on the mixed space and on each structured space, unless
    the strategy declares `seeded = False` (deterministic by design)."""
    finite = standard_spaces()["finite"].size()
    scenarios = []
    if ctx.hyperparameters:
        scenarios += [
            ("mixed", 0, n_trials, {}),
            ("nb201", 7, n_trials, {"parallel": 3}),
            ("finite", 3, finite + 3, {}),
            ("mixed", 4, n_trials, PROMOTIONS),
        ]
    for name in ctx.structured:
        scenarios += [(name, 0, n_trials, {}), (name, 7, n_trials, {"parallel": 3}),
                      (name, 4, n_trials, PROMOTIONS)]
    for space_name, seed, n, kwargs in scenarios:
        first = ctx.driver(space_name, seed, n, **kwargs).run()
        # On a structured space, the second instance is bound after setup.
        second = ctx.driver(space_name, seed, n, bind_after_setup=True, **kwargs).run()
        diff = _first_difference(first, second)
        if diff is not None:
            raise AssertionError(f"same seed, different suggestions: {diff}")
    if not getattr(ctx.strategy_cls, "seeded", True):
        return
    for space_name in (["mixed"] if ctx.hyperparameters else []) + ctx.structured:
        runs = [_proposals(ctx.driver(space_name, seed, n_trials).run()) for seed in (1, 2)]
        ctx.scenario = f"space {space_name!r}, sequential, seeds 1 and 2, n_trials {n_trials}"
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
    fresh.setup(_space(space_name)[0], [SCORE], kwargs.get("max_trials"))
    if kwargs.get("time_budget") is not None and hasattr(fresh, "set_time_budget"):
        fresh.set_time_budget(kwargs["time_budget"])
    ctx.bind(fresh, space_name)  # after setup here, before it in every other run
    fresh.load_state_dict(json.loads(text))
    driver.strategy = fresh
    return driver.run()


@_conformance_check
def check_resume_equivalence(ctx: _Context, n_trials: int) -> None:
    """A strategy saved with `state_dict()` at any point, passed through
    `json.dumps`/`json.loads` (strict JSON, no NaN/Infinity) and loaded into
    a fresh instance (built with a different seed, `setup` with an equal
    space, bound to an equal structured space with `use_space` if any, then
    `load_state_dict`) makes exactly the later suggestions of an
    uninterrupted run, architectures included. Saved before the first ask,
    with asked-but-not-told trials pending, between trials, and at the
    exhaustion of the finite space; sequentially and with 3 pending trials,
    failures and max_trials, and with a time budget and results of
    continued trials (`PROMOTIONS`); on each structured space also between the
    strategy's steps (after 5 and 10 trials, and after the 11th was asked:
    the first progressive step of the toy cell space has 10 cells)."""
    finite = standard_spaces()["finite"].size()
    half = n_trials // 2
    scenarios = []
    if ctx.hyperparameters:
        scenarios += [
            # (space, seed, n, driver kwargs, save points as event counts)
            ("mixed", 0, n_trials, {}, [0, 1, 2, 9, 2 * half + 1]),
            (
                "nb201", 5, n_trials,
                {"parallel": 3, "outcome": failure_pattern, "max_trials": n_trials - 2},
                [0, 2, 7, n_trials + 1, 2 * n_trials - 6],
            ),
            ("finite", 2, finite + 3, {}, [2 * finite - 1, 2 * finite]),
            ("mixed", 4, n_trials, PROMOTIONS, [5, 9, 2 * half - 1]),
        ]
    for name in ctx.structured:
        scenarios += [
            (name, 4, n_trials, PROMOTIONS, [5, 9, 2 * half - 1]),
            (name, 0, n_trials, {}, [1, 10, 20, 21, 2 * n_trials - 3]),
            (
                name, 5, n_trials,
                {"parallel": 3, "outcome": late_failure_pattern, "max_trials": n_trials - 2},
                [7, n_trials + 1, 2 * n_trials - 6],
            ),
        ]
    for space_name, seed, n, kwargs, events in scenarios:
        reference = ctx.driver(space_name, seed, n, **kwargs).run()
        for event in events:
            resumed = _resume_at(ctx, space_name, seed, n, event, kwargs)
            diff = _first_difference(reference, resumed)
            if diff is not None:
                raise AssertionError(f"the resumed run differs from the uninterrupted one: {diff}")


def _repeats(space: Any, steps: list[Step], limit: int | None = None) -> str | None:
    """The first run suggestion that repeats an earlier one: the same active
    values, architecture (canonical JSON), parent and task (a trial that
    continues training a parent, such as NASH's parent trained further, is a
    new trial even with the parent's architecture; so is the retraining of
    an architecture a one-shot search estimated), before `limit` distinct
    ones."""
    seen: dict[Any, str] = {}
    for step in steps:
        if step.kind != "run":
            continue
        if limit is not None and len(seen) >= limit:
            return None
        s = step.suggestion
        key = (space.key(dict(s.values)), canonical_arch(s.arch), s.parent_id, s.task)
        if key in seen:
            arch = "" if s.arch is None else f", arch {_short(canonical_arch(s.arch) or '')}"
            parent = "" if s.parent_id is None else f", parent {s.parent_id}"
            return (f"trial {step.trial_id} repeats trial {seen[key]} ({dict(s.values)}{arch}"
                    f"{parent}) when only {len(seen)} distinct trials had been proposed")
        seen[key] = step.trial_id
    return None


@_conformance_check
def check_no_duplicates_until_exhausted(ctx: _Context, n_trials: int) -> None:
    """On the finite space (12 configurations) no configuration
    (`space.key(values)`) is proposed twice for the same parent and task
    before every configuration was proposed, sequentially and with 3
    pending trials, for two seeds. After exhaustion the strategy may say
    "done" or go on proposing. On each structured space, no trial repeats
    an earlier one (the same values, architecture, parent and task) within
    `n_trials`, in the same four runs."""
    runs: list[tuple[str, int]] = []
    if ctx.hyperparameters:
        runs.append(("finite", standard_spaces()["finite"].size()))
    runs += [(name, n_trials) for name in ctx.structured]
    for space_name, size in runs:
        structured = space_name in ctx.structured
        space = _space(space_name)[0]
        for parallel in (1, 3):
            for seed in (0, 1):
                n = size if structured else size + 4
                steps = ctx.driver(space_name, seed, n, parallel=parallel).run()
                found = _repeats(space, steps, None if structured else size)
                if found is not None:
                    raise AssertionError(found)


def _foundation_failed(driver: Driver, tasks: tuple[str, ...]) -> bool:
    """Whether a trial of one of `tasks` (`FOUNDATION_TASKS` and the
    strategy's `supernet_task`) failed."""
    return any(step.kind == "run" and step.suggestion.task in tasks
               and driver.told.get(step.trial_id) is TrialStatus.FAILED for step in driver.steps)


def _runs_without_failures(ctx: _Context, space_name: str, seed: int, n: int,
                           parallel: int) -> int:
    """How many trials the same run makes when every trial completes (the
    scenario reported and recorded is left as it was)."""
    scenario, ran = ctx.scenario, list(ctx.ran)
    driver = ctx.driver(space_name, seed, n, parallel=parallel)
    driver.run()
    ctx.scenario, ctx.ran = scenario, ran
    return driver.n_run


@_conformance_check
def check_failed_observations(ctx: _Context, n_trials: int) -> None:
    """FAILED observations (no metrics, a message) and STOPPED ones (valid
    metrics, fewer epochs) mixed in (`failure_pattern`: the first 4 trials
    fail; `late_failure_pattern`: the first completes) do not crash the
    strategy, and it keeps proposing valid suggestions (as in
    `check_python_scalars`) up to `n_trials` on the large spaces; also when
    every trial fails. A strategy that ends the search by itself may end it
    as early as it does when no trial fails (a one-shot search's planned
    trials), or right after a trial of a task the search is built on failed
    (`FOUNDATION_TASKS`: a supernet). On the structured spaces, where a
    search grows from its first trials and may end when they fail, the
    same runs (with `late_failure_pattern`) must not crash and must stay
    valid, but may end with "done"."""

    def always_fail(index: int, trial_id: str, values: Any) -> TrialStatus:
        return TrialStatus.FAILED

    scenarios = []
    if ctx.hyperparameters:
        scenarios += [
            ("mixed", 0, n_trials, {"outcome": failure_pattern}),
            ("nb201", 1, n_trials, {"outcome": failure_pattern, "parallel": 3}),
            ("nb201", 4, n_trials, {"outcome": late_failure_pattern}),
            ("mixed", 2, min(n_trials, 12), {"outcome": always_fail}),
        ]
    for name in ctx.structured:
        scenarios += [
            (name, 0, n_trials, {"outcome": late_failure_pattern}),
            (name, 1, n_trials, {"outcome": late_failure_pattern, "parallel": 3}),
            (name, 2, min(n_trials, 12), {"outcome": failure_pattern, "parallel": 3}),
            (name, 3, min(n_trials, 12), {"outcome": always_fail}),
        ]
    for space_name, seed, n, kwargs in scenarios:
        driver = _run_validated(ctx, space_name, seed, n, **kwargs)
        if (driver.n_run >= n or space_name in ctx.structured
                or _foundation_failed(driver, ctx.foundation_tasks)
                or driver.n_run >= _runs_without_failures(ctx, space_name, seed, n,
                                                          kwargs.get("parallel", 1))):
            continue
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
    m = 15 on the 12-configuration space; on each structured space m = 1, 3
    (4 pending), 5 (3 pending) and 15."""
    scenarios = []
    if ctx.hyperparameters:
        scenarios += [
            ("mixed", 0, 1, {}),
            ("nb201", 1, 5, {"parallel": 3}),
            ("mixed", 2, 3, {"parallel": 4}),
            ("finite", 3, 15, {}),
        ]
    for name in ctx.structured:
        scenarios += [(name, 0, 1, {}), (name, 1, 5, {"parallel": 3}),
                      (name, 2, 3, {"parallel": 4}), (name, 3, 15, {})]
    for space_name, seed, m, kwargs in scenarios:
        driver = ctx.driver(space_name, seed, m + 10, max_trials=m, asks_after_done=3, **kwargs)
        driver.run()
        if driver.n_run > m:
            raise AssertionError(f"returned {driver.n_run} 'run' suggestions with max_trials={m}")


@_conformance_check
def check_python_scalars(ctx: _Context, n_trials: int) -> None:
    """Every suggestion on every standard space and every structured space
    the strategy declares (sequential and with 3 pending trials) is valid
    (`suggestion_problems`): values are plain Python scalars
    (`is_python_scalar`, not numpy types) under non-reserved keys and are
    exactly the active, legal hyperparameters (`space.complete(values) ==
    values`, types included); values, notes, architecture and task
    configuration pass strict JSON; a parent id names a trial asked and
    reported (not failed) before; epochs is a positive int, initial_epoch a
    non-negative int below epochs; on a structured space every trial carries an
    architecture of that space."""
    finite = standard_spaces()["finite"].size()
    names = ["finite", "mixed", "nb201"] if ctx.hyperparameters else []
    for space_name in names + ctx.structured:
        n = finite + 3 if space_name == "finite" else n_trials
        for parallel in (1, 3):
            _run_validated(ctx, space_name, 11, n, parallel=parallel)


#: Every check, in the order `check_strategy` runs them.
CHECKS: tuple[Callable[..., Scenarios], ...] = (
    check_same_seed_same_proposals,
    check_resume_equivalence,
    check_no_duplicates_until_exhausted,
    check_failed_observations,
    check_max_trials,
    check_python_scalars,
)


def check_strategy(
    strategy_cls: Any, *, make_kwargs: MakeKwargs | None = None, n_trials: int = DEFAULT_TRIALS,
    kinds: Iterable[SpaceKind | str] | None = None,
) -> dict[str, Scenarios]:
    """Runs every conformance check on a strategy class, on every kind of
    space it declares that the suite has a toy space for.

    Args:
        strategy_cls: A class implementing the Strategy protocol.
        make_kwargs: `make_kwargs(seed)` -> constructor keyword arguments
            (default `{"seed": seed}`).
        n_trials: Trials per run on the large spaces (at least 10).
        kinds: Only these of the declared kinds of space (default: all;
            e.g. the hyperparameter mode alone, for make_kwargs that tune
            only that mode).

    Returns:
        Check name -> the scenarios it ran (`(SpaceKind, description)`).

    Raises:
        AssertionError: naming every failed check, the strategy and the
            scenario each failed in.
    """
    failures, ran = [], {}
    for check in CHECKS:
        try:
            ran[check.__name__] = check(strategy_cls, make_kwargs=make_kwargs, n_trials=n_trials,
                                        kinds=kinds)
        except AssertionError as exc:
            failures.append(str(exc))
    if failures:
        raise AssertionError(
            f"{len(failures)} of {len(CHECKS)} conformance checks failed for strategy "
            f"{strategy_label(strategy_cls)}:\n- " + "\n- ".join(failures)
        )
    return ran
