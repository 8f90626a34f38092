"""Drivers that run a strategy against an analytic objective, without Keras.

A driver plays the part of the oracle and the workers: it asks the strategy
for trials, "trains" them by evaluating a deterministic function of the
values, and tells the results back. The sequential driver keeps one trial
running; the asynchronous driver keeps up to `parallel` trials running and
reports them in an order drawn from its own seeded generator, as results of
parallel workers arrive.

Trial ids are "0", "1", ...; an id is used up only by a "run" suggestion
(after "wait" or "done" the next ask reuses it, as KerasTuner does).
"""

from __future__ import annotations

import dataclasses
import json
import math
import zlib
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from autokeras_nas.core import (
    ARCH,
    BaseStrategy,
    Choice,
    Objective,
    Observation,
    Suggestion,
    TrialStatus,
    make_rng,
)

#: The objective the drivers report by default.
SCORE = Objective("score", "max")

#: `objective_fn(values)` returns the score, or a dict of metrics; a trial's
#: architecture, if it has one, is in `values` under `ARCH` (JSON text).
ObjectiveFn = Callable[[Mapping[str, Any]], "float | Mapping[str, float]"]
#: `outcome(index, trial_id, values)` decides how the `index`-th run trial ends.
OutcomeFn = Callable[[int, str, Mapping[str, Any]], TrialStatus]
#: `outputs(suggestion)` returns the JSON outputs of a trial of some task
#: (`Driver(task_outputs={task: outputs})`), as its trainer would.
OutputsFn = Callable[[Suggestion], Mapping[str, Any]]

#: Message of the failures the drivers simulate.
FAILURE_MESSAGE = "simulated failure (autokeras_nas.testing): ResourceExhaustedError: OOM"


@dataclass(frozen=True)
class Step:
    """One call of `ask` and what the driver did with its answer.

    Attributes:
        trial_id: The id `ask` was called with.
        suggestion: What `ask` returned.
        observation: What the driver told the strategy about this trial; None
            for "wait" and "done", and for a trial not yet reported.
    """

    trial_id: str
    suggestion: Suggestion
    observation: Observation | None = None

    @property
    def kind(self) -> str:
        return self.suggestion.kind


def cost_metrics(values: Mapping[str, Any], epochs: int = 1) -> dict[str, float]:
    """Deterministic stand-ins for the cost metrics a tuner measures."""
    blob = json.dumps(dict(values), sort_keys=True, default=str).encode()
    h = zlib.crc32(blob)
    per_epoch = 0.5 + (h % 1000) / 1000.0
    return {
        "train_time_s": round(per_epoch * epochs, 6),
        "params": float(1000 + (h >> 10) % 100_000),
        "latency_ms": round(0.1 + ((h >> 20) % 1000) / 100.0, 6),
    }


def make_observation(
    trial_id: str,
    suggestion: Suggestion,
    objective_fn: ObjectiveFn,
    status: TrialStatus = TrialStatus.COMPLETED,
) -> Observation:
    """Evaluates `objective_fn` on a suggestion and builds its Observation.

    The objective and the cost metrics see the values and, for a trial with
    an architecture, the architecture under `ARCH`; the observation carries
    the architecture in `arch`. A FAILED trial has no metrics and a message;
    a STOPPED trial trained half its epochs (at least one) and has valid
    metrics.
    """
    values = dict(suggestion.values)
    arch = suggestion.arch
    epochs = suggestion.epochs or 1
    if status is TrialStatus.FAILED:
        return Observation(trial_id, values, status, {}, epochs=0, message=FAILURE_MESSAGE,
                           arch=arch)
    if status is TrialStatus.STOPPED:
        epochs = max(1, epochs // 2)
    seen = values if arch is None else {**values, ARCH: arch}
    result = objective_fn(seen)
    if isinstance(result, Mapping):
        metrics = {str(k): float(v) for k, v in result.items()}
    else:
        metrics = {SCORE.name: float(result)}
    for k, v in cost_metrics(seen, epochs).items():
        metrics.setdefault(k, v)
    seconds = round(metrics["train_time_s"] + 1.0, 6)
    return Observation(trial_id, values, status, metrics, epochs=epochs, arch=arch,
                       seconds=seconds)


def supernet_outputs(space: Any) -> OutputsFn:
    """The outputs of a fake supernet trial on `space`, as the supernet
    trainer reports them: `{"choices": {name: [candidate, ...]}}` for every
    `Choice` hyperparameter of the space (a supernet built with `choose`
    holds one mixed operation per choice), with the trial's `mode` and
    `conditional` from its task_config. A trial whose task_config asks for
    `architectures` (a count, as ENAS's trainer takes) also gets that many
    distinct `architectures` (choice -> candidate), drawn with the
    task_config's `seed` as a trained controller would report them."""
    choices: dict[str, list[Any]] = {}
    for param in getattr(space, "params", ()):
        if isinstance(param, Choice):
            choices.setdefault(param.name, list(param.values))

    def outputs(suggestion: Suggestion) -> Mapping[str, Any]:
        config = dict(suggestion.task_config or {})
        found: dict[str, Any] = {
            "choices": {k: list(v) for k, v in choices.items()},
            "mode": config.get("mode", "single"),
            "conditional": bool(config.get("conditional", False))}
        count = config.get("architectures")
        if type(count) is int and count > 0:
            found["architectures"] = _drawn_architectures(choices, count,
                                                          int(config.get("seed", 0)))
        return found

    return outputs


def _drawn_architectures(choices: Mapping[str, list[Any]], count: int,
                         seed: int) -> list[dict[str, Any]]:
    """Up to `count` distinct architectures drawn uniformly with `seed`."""
    rng = make_rng(seed)
    found: dict[str, dict[str, Any]] = {}
    for _ in range(20 * count):
        if len(found) >= count:
            break
        arch = {name: values[int(rng.integers(len(values)))] for name, values in choices.items()}
        found.setdefault(json.dumps(arch, sort_keys=True, default=str), arch)
    return list(found.values())


def continuation_of(observation: Observation) -> Observation:
    """The result of a trial that continued `observation`'s configuration to
    a higher rung (as promotion scheduling tells it): id `<id>+`, three
    times the epochs, the first objective a little better, `continues` set."""
    metrics = dict(observation.metrics)
    score = metrics.get(SCORE.name)
    if score is not None:
        metrics[SCORE.name] = score + 0.1 * abs(score) + 0.01
    epochs = 3 * (observation.epochs or 1)
    return Observation(f"{observation.trial_id}+", dict(observation.values),
                       TrialStatus.COMPLETED, metrics, epochs=epochs, arch=observation.arch,
                       continues=observation.trial_id, seconds=2 * (observation.seconds or 1.0))


def failure_pattern(
    index: int, trial_id: str = "", values: Mapping[str, Any] | None = None
) -> TrialStatus:
    """A standard mix of outcomes: the first 4 trials fail, then every 3rd
    fails and every 4th is stopped early; the rest complete."""
    if index < 4 or index % 3 == 1:
        return TrialStatus.FAILED
    if index % 4 == 2:
        return TrialStatus.STOPPED
    return TrialStatus.COMPLETED


def late_failure_pattern(
    index: int, trial_id: str = "", values: Mapping[str, Any] | None = None
) -> TrialStatus:
    """`failure_pattern` without the early failures: the first trial
    completes (a structured search grows from it), then every 3rd trial
    fails (the 2nd, 5th, ...) and every 4th is stopped early."""
    if index % 3 == 1:
        return TrialStatus.FAILED
    if index % 4 == 2:
        return TrialStatus.STOPPED
    return TrialStatus.COMPLETED


class Driver:
    """Runs a strategy step by step; the pieces the checks are built from.

    An *event* is one `ask` or one `tell`. While fewer than `parallel` trials
    are pending and the budget allows, the driver asks; otherwise it tells
    the result of one pending trial (the only one when `parallel == 1`, else
    one drawn by the driver's own generator). "wait" makes the driver tell a
    pending result before asking again; "wait" with nothing pending is an
    error. After "done" the driver reports the pending trials and stops
    (or, with `asks_after_done`, asks again that many more times).

    `strategy` may be replaced between events (e.g. by one restored from a
    `state_dict`); the driver's own state (pending trials, its generator)
    carries on.

    Args:
        strategy: The strategy, already `setup` unless `space` is given.
        objective_fn: Analytic objective of the values.
        n_trials: Maximum number of "run" suggestions to accept.
        space: If given, `strategy.setup(space, objectives, max_trials)`.
        objectives: Objectives for `setup` (default: maximise "score").
        max_trials: `max_trials` for `setup`.
        parallel: Maximum number of pending (asked, not told) trials.
        seed: Seed of the generator that picks which pending trial reports.
        outcome: `outcome(index, trial_id, values)` -> status of the
            `index`-th run trial (default: all complete).
        on_step: Called with each `Step` right after `ask` returns.
        asks_after_done: How many times to ask again after a "done".
        max_events: Safety bound on events (default `20 * n_trials + 50`).
        continue_every: When > 0, every `continue_every`-th completed run
            trial is followed, in the same event, by the result of a trial
            that continued it (`continuation_of`), as under promotion
            scheduling.
        time_budget: When given, `strategy.set_time_budget(time_budget)`
            is called (if the strategy has it), as the oracle does for a
            search with a time budget; observations carry `seconds`.
        task_outputs: Task name -> `outputs(suggestion)`: a trial of that
            task that does not fail is told with those outputs (e.g.
            `{"supernet": supernet_outputs(space)}`, a fake supernet);
            every trial is scored by `objective_fn` whatever its task.
        task_metrics: Task name -> metric names: a trial of that task that
            does not fail also reports each of these metrics, equal to its
            first objective's value (e.g. the proxies a zero-cost strategy
            ranks its "score" trials by).
    """

    def __init__(
        self,
        strategy: Any,
        objective_fn: ObjectiveFn,
        n_trials: int,
        *,
        space: Any = None,
        objectives: Sequence[Objective] | None = None,
        max_trials: int | None = None,
        parallel: int = 1,
        seed: int = 0,
        outcome: OutcomeFn | None = None,
        on_step: Callable[[Step], Any] | None = None,
        asks_after_done: int = 0,
        max_events: int | None = None,
        continue_every: int = 0,
        time_budget: float | None = None,
        task_outputs: Mapping[str, OutputsFn] | None = None,
        task_metrics: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        if parallel < 1:
            raise ValueError(f"parallel must be >= 1, got {parallel!r}")
        if n_trials < 0:
            raise ValueError(f"n_trials must be >= 0, got {n_trials!r}")
        self.strategy = strategy
        self.objective_fn = objective_fn
        self.n_trials = n_trials
        self.objectives = tuple(objectives or (SCORE,))
        self.parallel = parallel
        self.outcome = outcome
        self.on_step = on_step
        self.asks_after_done = asks_after_done
        self.max_events = 20 * n_trials + 50 if max_events is None else max_events
        self.rng = make_rng(seed)
        #: Every ask, in order; `observation` filled in when told.
        self.steps: list[Step] = []
        #: Indexes into `steps` of the trials asked and not yet told.
        self.pending: list[int] = []
        #: trial id -> status of the trials told so far.
        self.told: dict[str, TrialStatus] = {}
        self.n_run = 0
        self.n_done = 0
        self.events = 0
        self._must_tell = False
        self.continue_every = continue_every
        self.task_outputs = dict(task_outputs or {})
        self.task_metrics = {task: tuple(names) for task, names in (task_metrics or {}).items()}
        if space is not None:
            strategy.setup(space, list(self.objectives), max_trials)
        if time_budget is not None and hasattr(strategy, "set_time_budget"):
            strategy.set_time_budget(time_budget)

    # -- state -------------------------------------------------------------
    @property
    def asking(self) -> bool:
        """Whether the driver would still ask for trials."""
        return self.n_run < self.n_trials and self.n_done <= self.asks_after_done

    @property
    def finished(self) -> bool:
        return not self.pending and not self.asking

    def suggestions(self) -> list[Suggestion]:
        return [s.suggestion for s in self.steps]

    def runs(self) -> list[Step]:
        """The steps whose suggestion was "run"."""
        return [s for s in self.steps if s.kind == "run"]

    # -- events ------------------------------------------------------------
    def step(self) -> str:
        """Performs one event; returns "ask", "tell" or "" when finished."""
        if self.events >= self.max_events:
            raise AssertionError(
                f"driver: no end after {self.events} events "
                f"({self.n_run} run suggestions, {len(self.pending)} pending)"
            )
        if self.asking and not self._must_tell and len(self.pending) < self.parallel:
            self.events += 1
            self._ask()
            return "ask"
        if self.pending:
            self.events += 1
            self._tell()
            return "tell"
        return ""

    def run(self, until_event: int | None = None) -> list[Step]:
        """Steps until finished (or until `events == until_event`)."""
        while not self.finished and (until_event is None or self.events < until_event):
            self.step()
        return self.steps

    def _ask(self) -> None:
        trial_id = str(self.n_run)
        suggestion = self.strategy.ask(trial_id)
        if not isinstance(suggestion, Suggestion):
            raise AssertionError(
                f"ask({trial_id!r}) returned {type(suggestion).__name__}, not a Suggestion"
            )
        step = Step(trial_id, suggestion)
        self.steps.append(step)
        if suggestion.kind == "run":
            self.n_run += 1
            self.pending.append(len(self.steps) - 1)
        elif suggestion.kind == "wait":
            if not self.pending:
                raise AssertionError(
                    f"ask({trial_id!r}) said 'wait' while no trial was running: a "
                    "strategy may wait only for results of trials it proposed"
                )
            self._must_tell = True
        elif suggestion.kind == "done":
            self.n_done += 1
        else:
            raise AssertionError(f"ask({trial_id!r}) returned unknown kind {suggestion.kind!r}")
        if self.on_step is not None:
            self.on_step(step)

    def _tell(self) -> None:
        if self.parallel == 1 or len(self.pending) == 1:
            pos = 0
        else:
            pos = int(self.rng.integers(len(self.pending)))
        index = self.pending.pop(pos)
        step = self.steps[index]
        run_index = sum(1 for s in self.steps[:index] if s.kind == "run")
        status = (
            TrialStatus.COMPLETED
            if self.outcome is None
            else self.outcome(run_index, step.trial_id, step.suggestion.values)
        )
        observation = make_observation(step.trial_id, step.suggestion, self.objective_fn, status)
        outputs = self.task_outputs.get(step.suggestion.task or "")
        if outputs is not None and status is not TrialStatus.FAILED:
            observation = dataclasses.replace(observation, outputs=dict(outputs(step.suggestion)))
        names = self.task_metrics.get(step.suggestion.task or "", ())
        value = observation.metrics.get(self.objectives[0].name)
        if names and value is not None and status is not TrialStatus.FAILED:
            metrics = {**observation.metrics, **{name: value for name in names}}
            observation = dataclasses.replace(observation, metrics=metrics)
        self.strategy.tell(observation)
        if (self.continue_every and status is TrialStatus.COMPLETED
                and run_index % self.continue_every == 0):
            self.strategy.tell(continuation_of(observation))
        self.steps[index] = Step(step.trial_id, step.suggestion, observation)
        self.told[step.trial_id] = status
        self._must_tell = False


def run_sequential(
    strategy: Any,
    objective_fn: ObjectiveFn,
    n_trials: int,
    *,
    on_step: Callable[[Step], Any] | None = None,
    space: Any = None,
    objectives: Sequence[Objective] | None = None,
    max_trials: int | None = None,
    outcome: OutcomeFn | None = None,
) -> list[Step]:
    """Ask, evaluate, tell, one trial at a time, up to `n_trials` trials.

    Args:
        strategy: The strategy; `setup` is called first if `space` is given.
        objective_fn: `objective_fn(values)` -> score (maximised) or metrics.
        n_trials: Maximum number of "run" suggestions.
        on_step: Called with each `Step` right after `ask` returns.
        space, objectives, max_trials: Passed to `strategy.setup`.
        outcome: Chooses each trial's status (see `failure_pattern`).

    Returns:
        Every `Step` in the order asked; the last is "done" if the strategy
        ended the search.

    Raises:
        AssertionError: The strategy said "wait" with no trial running, or
            returned something other than a Suggestion.
    """
    driver = Driver(
        strategy, objective_fn, n_trials, space=space, objectives=objectives,
        max_trials=max_trials, outcome=outcome, on_step=on_step,
    )
    return driver.run()


def run_async(
    strategy: Any,
    objective_fn: ObjectiveFn,
    n_trials: int,
    *,
    parallel: int = 3,
    seed: int = 0,
    on_step: Callable[[Step], Any] | None = None,
    space: Any = None,
    objectives: Sequence[Objective] | None = None,
    max_trials: int | None = None,
    outcome: OutcomeFn | None = None,
) -> list[Step]:
    """Like `run_sequential` with up to `parallel` trials running at once,
    their results told in an order drawn from a generator seeded by `seed`."""
    driver = Driver(
        strategy, objective_fn, n_trials, space=space, objectives=objectives,
        max_trials=max_trials, parallel=parallel, seed=seed, outcome=outcome,
        on_step=on_step,
    )
    return driver.run()


def describe(step: Step) -> tuple[Any, ...]:
    """What must be identical between two runs: the id, kind, values (with
    their types), architecture (canonical JSON), parent id, training budget
    and task with its configuration (not the notes)."""
    s = step.suggestion
    values = tuple(
        sorted(((k, type(v).__name__, _canon(v)) for k, v in s.values.items()), key=lambda t: t[0])
    )
    config = None if s.task_config is None else canonical_json(s.task_config)
    return (step.trial_id, s.kind, values, canonical_arch(s.arch), s.parent_id, s.epochs,
            s.initial_epoch, s.task, config)


def canonical_json(obj: Any) -> str:
    """JSON text with sorted keys and compact separators."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


def canonical_arch(arch: str | None) -> str | None:
    """An architecture's JSON text in canonical form (equal architectures
    written with their keys in another order compare equal)."""
    if arch is None:
        return None
    try:
        return canonical_json(json.loads(arch))
    except (TypeError, ValueError):
        return arch


def _canon(v: Any) -> Any:
    if isinstance(v, float) and math.isnan(v):
        return "nan"
    return v


class ScriptedStrategy(BaseStrategy):
    """A strategy for tests of the trial machinery: trial `i` runs the
    space's defaults (updated with `script[i]["values"]`, if given) with the
    other options of `script[i]` (keyword arguments of `Suggestion.run`:
    `task`, `task_config`, `parent_id`, `epochs`, ...).

    Args:
        script: One mapping of `Suggestion.run` options per trial.
        seed: As for every strategy.
    """

    name = "scripted"
    allow_repeats = True

    def __init__(self, script: Sequence[Mapping[str, Any]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.script = [dict(options) for options in script]

    def propose(self, trial_id: str) -> Suggestion:
        options = dict(self.script[int(trial_id)])
        return Suggestion.run(self.space.complete(dict(options.pop("values", {}))), **options)
