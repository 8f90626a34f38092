"""One-shot (weight-sharing) search as a sequence of typed phases.

A one-shot strategy trains one supernet holding every candidate operation,
ranks architectures with the supernet's weights instead of training each,
and retrains the best from scratch. `OneShotStrategy` runs the three phases;
each trial's phase is in its notes (`notes["phase"]`):

1. `PHASE_SUPERNET`: one trial of task `TASK_SUPERNET` with the space's
   defaults; the strategy waits for it. Its failure ends the search.
2. `PHASE_SEARCH`: trials of task `TASK_ESTIMATE` whose parent is the
   supernet trial, proposed by an inner strategy that searches only the
   choices (`choice_subspace`), the other hyperparameters fixed to the
   supernet's values. Several may be pending at once.
3. `PHASE_RETRAIN`: the best estimates, trained from scratch (the default
   task); the search is done when they are told.

A subclass names the supernet's mode and makes the inner strategy
(`make_inner`); a third party writes a one-shot strategy the same way. A
strategy with no supernet (`supernet_task = None`: training-free search)
starts in the search phase, its trials of its own `estimate_task` (e.g.
"score"), the choices searched being every `Choice` of the space and the
other hyperparameters at their defaults; it ranks them with
`rank_estimates`. A
strategy whose supernet task itself finds architectures (ENAS's controller
samples them inside the supernet's training) reads them from the supernet
trial's outputs (`supernet_result`) in `make_inner`, and its inner strategy
proposes them. A strategy whose supernet trial derives the architectures
to retrain itself (`retrains_derived`: FreeDARTS scores every operation at
initialization) has no search phase: the supernet trial's
`outputs["architectures"]`, best first, are retrained. Numpy only, like
every strategy.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, ClassVar, Iterable, Mapping, Sequence

from autokeras_nas.core.hyperparameters import Choice, Parameter
from autokeras_nas.core import oneshot_plan
from autokeras_nas.core.oneshot_plan import Plan
from autokeras_nas.core.pareto import pareto_order
from autokeras_nas.core.space import HyperSpace
from autokeras_nas.core.strategy import (
    TASK_ESTIMATE,
    TASK_SUPERNET,
    BaseStrategy,
    Objective,
    Observation,
    Scalar,
    SpaceKind,
    Suggestion,
    TrialStatus,
)

PHASE_SUPERNET = "supernet"
PHASE_SEARCH = "search"
PHASE_RETRAIN = "retrain"
#: The phases in order; "done" follows the last.
PHASES = (PHASE_SUPERNET, PHASE_SEARCH, PHASE_RETRAIN)
_DONE = "done"
#: A retrain plan's entry for an architecture the supernet trial derived
#: (followed by its index in `derived`), where others are estimate trial ids.
_DERIVED = "derived:"
#: Where a retrain starts (`OneShotStrategy`'s `retrain_from`).
RETRAIN_FROM = ("supernet", "scratch")
#: The default `collapse_stop` of each differentiable mode (their trainer and
#: strategies; None: off). With 0.5, a supernet whose derived cell takes
#: weightless candidates on more than half of its contested choices after an
#: epoch stops (DARTS+'s early stopping). On where every path runs weighted by
#: the softmax (DARTS' skip collapse), off where one path is sampled per step:
#: chosen by measurement (docs/oneshot.md "Against collapse").
DEFAULT_COLLAPSE_STOP = {"darts": 0.5, "snas": 0.5, "gdas": None, "proxyless": None}
#: The default `max_parameter_free` of each differentiable mode (P-DARTS'
#: limit on the derived architecture's weightless choices; None: off). On for
#: GDAS, one of whose three measured search seeds derived a cell two-thirds
#: parameter-free (the limit made it rank 9 of 31 instead of 16); off where
#: `collapse_stop` is on or where it was not measured (docs/oneshot.md
#: "Against collapse").
DEFAULT_MAX_PARAMETER_FREE = {"darts": None, "snas": None, "gdas": 0.5, "proxyless": None}


def choice_subspace(space: HyperSpace, names: Iterable[str],
                    fixed: Mapping[str, Scalar]) -> HyperSpace:
    """The `Choice` hyperparameters of `space` called one of `names`, as a
    space of their own.

    A condition on another kept choice is kept; a condition on any other
    parameter is decided by `fixed` (the values the other parameters keep):
    it is dropped when it holds there, and the parameter is left out when
    it does not.
    """
    wanted = set(names)
    kept: list[Parameter] = []
    kept_names: set[str] = set()
    for param in space.params:
        if not isinstance(param, Choice) or param.name not in wanted:
            continue
        conditions, active = [], True
        for condition in param.conditions:
            if condition.name in kept_names:
                conditions.append(condition)
            elif not condition.holds(fixed):
                active = False
        if not active:
            continue
        if any(p.name == param.name and p.conditions == tuple(conditions) for p in kept):
            continue  # the same parameter, now under the same conditions
        kept.append(Choice(param.name, param.values, default=param.default,
                           ordered=param.ordered, conditions=tuple(conditions)))
        kept_names.add(param.name)
    return HyperSpace(kept)


def architecture_values(space: HyperSpace, arch: Mapping[str, Any]) -> dict[str, Scalar] | None:
    """An architecture (choice name -> candidate, a candidate matching a
    value of the choice equal to it or to its text) as values of `space`'s
    choices; None when it names a parameter the space does not have or a
    candidate its choice does not offer."""
    names = {param.name for param in space.params}
    if not isinstance(arch, Mapping) or set(arch) - names:
        return None
    values: dict[str, Scalar] = {}
    for param in space.params:
        if not isinstance(param, Choice) or param.name not in arch:
            continue
        wanted = arch[param.name]
        match = [v for v in param.values if v == wanted or str(v) == str(wanted)]
        if not match:
            return None
        values[param.name] = match[0]
    return values


def supernet_choices(space: HyperSpace, outputs: Mapping[str, Any]) -> list[str]:
    """The names of the choices a supernet trial holds: the keys of its
    `outputs["choices"]`, or, when absent, every `Choice` of the space."""
    choices = outputs.get("choices")
    if isinstance(choices, Mapping):
        return [str(name) for name in choices]
    return [p.name for p in space.params if isinstance(p, Choice)]


class OneShotStrategy(BaseStrategy):
    """Supernet, search with inherited weights, retrain: the phase machinery.

    Sizes. Without a time budget the supernet trains `supernet_epochs`
    epochs, `candidates` architectures are estimated and the best `top_k`
    are retrained for `retrain_epochs` epochs. With `max_trials` m the
    trials are one supernet, min(`top_k`, (m - 1) // 2) retrains (so at
    least 3 trials are needed for a retrained model) and the rest, at most
    `candidates`, estimates. With a time budget B (`set_time_budget`; see
    `oneshot_plan`) the supernet gets B / 2 (`task_config["time_budget_s"]`,
    its epochs only a ceiling), the search stops once its estimates took a
    tenth of B (those that loaded the supernet not counted; still at most
    `candidates`) or, once an estimate succeeded, once all the trials took
    0.6 B (a supernet that overran its half leaves the retrains their
    share), and the retrains share the rest of B equally: each gets
    its share as `task_config["time_budget_s"]` and stops at the end of the
    last epoch that fits in it, its epochs (the supernet's; at least 100 for
    a retrain from scratch) only a ceiling
    (`oneshot_plan.retrain_seconds`). A retrain proposed once the earlier
    ones were told gets what they left, shared by the retrains still to
    run; when that is under half the planned share (earlier ones overran
    it), no more retrains are proposed.

    The search ends early when the inner strategy is done (a small space
    exhausted). Failed estimates are never retrained; with no usable
    estimate, or when every retrain failed, the search says "done" with the
    reason.

    Args:
        supernet_epochs: Epochs of the supernet without a time budget;
            default 10, a CPU-sized training of a small cell supernet in
            which every path is sampled on many batches.
        candidates: Architectures estimated (at most, with a time budget);
            default 100, several generations of an inner evolution for the
            cost of a few epochs of training.
        top_k: Best estimates retrained; default 2, so one unlucky
            estimate or training does not decide the search alone.
        retrain_epochs: Epochs of each retrain without a time budget (with
            one, the supernet's epochs are their ceiling); default 10, as
            long as the supernet's default training.
        conditional: Whether the supernet keeps an operation's weights per
            choice of the operation it reads from (`conditional` in the
            supernet's task_config); default False, the plain supernet.
        retrain_from: "supernet" (the default): each retrain starts from
            the supernet's weights of its architecture (the retrain's
            parent is the supernet trial; a trainer inherits a supernet
            parent's chosen candidates), so the supernet's training is not
            thrown away: on Fashion-MNIST 4 epochs from the supernet reached
            0.907 validation accuracy where 4 from scratch reached 0.892.
            "scratch": freshly initialised weights, the papers' protocol.
        seed: Seed of the strategy's generator; `None` draws one and
            records it. The inner strategy's seed is drawn from it.

    Raises:
        ValueError: A size that is not an int >= 1, `conditional` not a
            bool, or `retrain_from` not one of `RETRAIN_FROM`.
    """

    space_kinds: ClassVar[tuple[SpaceKind, ...]] = (SpaceKind.SUPERNET,
                                                    SpaceKind.HYPERPARAMETERS)
    #: The supernet's mode (`task_config["mode"]`): "single" (one sampled
    #: path per batch) or "all" (every path, with path dropout).
    mode: ClassVar[str] = "single"
    #: The supernet trial's task: `TASK_SUPERNET`, or the name of a trainer
    #: that trains a supernet with something of its own (ENAS's controller);
    #: None: no supernet phase (the estimates need none).
    supernet_task: ClassVar[str | None] = TASK_SUPERNET
    #: The task of the search phase's trials.
    estimate_task: ClassVar[str] = TASK_ESTIMATE
    #: Whether a failed estimate uses up one of the `candidates` (False: the
    #: search proposes another in its place, within max_trials and the
    #: time budget).
    failed_estimates_count: ClassVar[bool] = True
    #: Whether the supernet trial derives the architectures to retrain
    #: (its `outputs["architectures"]`, best first; the best `top_k` of
    #: those of the space are retrained, with no search phase) instead of
    #: an inner strategy proposing estimates.
    retrains_derived: ClassVar[bool] = False

    def __init__(
        self,
        *,
        supernet_epochs: int = 10,
        candidates: int = 100,
        top_k: int = 2,
        retrain_epochs: int = 10,
        conditional: bool = False,
        retrain_from: str = "supernet",
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        sizes = {"supernet_epochs": supernet_epochs, "candidates": candidates,
                 "top_k": top_k, "retrain_epochs": retrain_epochs}
        for arg, value in sizes.items():
            if type(value) is not int or value < 1:
                raise ValueError(f"{arg} must be an int >= 1, got {value!r}")
        if type(conditional) is not bool:
            raise ValueError(f"conditional must be True or False, got {conditional!r}")
        if retrain_from not in RETRAIN_FROM:
            raise ValueError(f"retrain_from must be one of {', '.join(RETRAIN_FROM)}, "
                             f"got {retrain_from!r}")
        self.supernet_epochs = supernet_epochs
        self.candidates = candidates
        self.top_k = top_k
        self.retrain_epochs = retrain_epochs
        self.conditional = conditional
        self.retrain_from = retrain_from
        self._reset_phases()

    def _reset_phases(self) -> None:
        self.phase = PHASE_SUPERNET if self.supernet_task is not None else PHASE_SEARCH
        self.supernet_id: str | None = None
        #: The choices the supernet holds (names), once it is told.
        self.choices: list[str] | None = None
        self.estimates: list[str] = []
        #: The architectures the supernet trial derived (`retrains_derived`),
        #: as complete values, best first.
        self.derived: list[dict[str, Scalar]] = []
        self.retrains: list[str] = []
        self.retrain_plan: list[str] = []
        self.planned_retrain_epochs: int | None = None
        #: Each retrain's share of a time budget when the retrains started.
        self.planned_retrain_seconds: float | None = None
        self.reason = ""
        self._search_closed = False
        self._inner: BaseStrategy | None = None
        self._inner_state: Mapping[str, Any] | None = None

    # -- for subclasses --------------------------------------------------------
    @abc.abstractmethod
    def make_inner(self, seed: int) -> BaseStrategy:
        """A new inner strategy, seeded with `seed`, that proposes the
        architectures to estimate: made once the supernet was told (or when
        a saved state is restored), then `setup` on the choices alone
        (`choice_subspace`) with the planned number of estimates as its
        `max_trials`."""

    def supernet_result(self) -> Observation | None:
        """The supernet trial's observation (its outputs, seconds, epochs),
        once it was told."""
        return next((o for o in self.history
                     if o.trial_id == self.supernet_id and o.continues is None), None)

    def supernet_options(self) -> dict[str, Any]:
        """Options of the supernet's task_config besides mode, conditional
        and the time budget (e.g. a path-dropout rate)."""
        return {}

    def estimate_options(self) -> dict[str, Any] | None:
        """The estimate trials' task_config; None: the trainer's defaults."""
        return None

    def search_share(self) -> float:
        """Share of a time budget after which no new estimate is proposed
        (`oneshot_plan.SEARCH_SHARE`)."""
        return oneshot_plan.SEARCH_SHARE

    def ranking_metrics(self) -> tuple[str, ...]:
        """The metrics the estimates are ranked by: the objectives'."""
        return tuple(o.name for o in self.objectives)

    def rank_estimates(self, observations: Sequence[Observation]) -> list[str]:
        """The trial ids of `observations` (the latest result of each
        estimate) that can be retrained, best first: by the objective (Pareto
        order with several), those without a finite one left out."""
        usable, vectors = [], []
        for observation in observations:
            vector = observation.objective_vector(self.objectives)
            if vector is not None:
                usable.append(observation.trial_id)
                vectors.append(vector)
        if len(self.objectives) > 1 and usable:
            return [usable[i] for i in pareto_order(vectors)]
        order = sorted(range(len(usable)), key=lambda i: (-vectors[i][0], i))
        return [usable[i] for i in order]

    def estimate_record(self, observation: Observation) -> dict[str, float]:
        """What a retrain's notes keep of its estimate (`notes["estimate"]`):
        the objectives' values."""
        return {o.name: float(observation.metrics[o.name]) for o in self.objectives}

    # -- space -----------------------------------------------------------------
    def use_space(self, kind: SpaceKind | str, structure: Any = None) -> None:
        """A supernet space is a hyperparameter space whose choices were made
        with `choose`: like a hyperparameter space, it needs no structure."""
        if kind in (SpaceKind.SUPERNET, SpaceKind.SUPERNET.value) and structure is None:
            return
        super().use_space(kind, structure)

    def bind_structure(self, kind: SpaceKind, structure: Any) -> None:
        """Nothing to bind: the space's hyperparameters are all it needs."""

    def setup(self, space: Any, objectives: Sequence[Objective],
              max_trials: int | None = None) -> None:
        super().setup(space, objectives, max_trials)
        if self._inner is not None:  # the space grew: the inner searches the new one
            self._inner.setup(self._subspace(), self.objectives, self._inner_max_trials())

    def plan(self) -> Plan:
        """The numbers of estimates and retrains (see the class docstring)."""
        return Plan.make(candidates=self.candidates, top_k=self.top_k,
                         max_trials=self.max_trials, supernet=self.supernet_task is not None,
                         estimates=not self.retrains_derived)

    def _fixed(self) -> dict[str, Scalar]:
        if self.supernet_task is None:
            return dict(self.space.complete({}))
        return dict(self.asked[self.supernet_id]) if self.supernet_id is not None else {}

    def _subspace(self) -> HyperSpace:
        choices = self.choices
        if choices is None and self.supernet_task is None:
            choices = supernet_choices(self.space, {})
        return choice_subspace(self.space, choices or (), self._fixed())

    def inner(self) -> BaseStrategy:
        """The inner strategy (made, or restored, on first use)."""
        if self._inner is None:
            if self._inner_state is not None:
                inner = self.make_inner(int(self._inner_state["seed"]))
            else:
                inner = self.make_inner(int(self.rng.integers(2**31 - 1)))
            inner.setup(self._subspace(), self.objectives, self._inner_max_trials())
            if self._inner_state is not None:
                inner.load_state_dict(self._inner_state)
                self._inner_state = None
            self._inner = inner
        return self._inner

    # -- proposals ---------------------------------------------------------------
    def propose(self, trial_id: str) -> Suggestion:
        if self.phase == PHASE_SUPERNET:
            if self.supernet_id is None:
                return self._supernet(trial_id)
            return Suggestion.wait()
        if self.phase == PHASE_SEARCH:
            found = self._estimate(trial_id)
            if found is not None:
                return found
            if self._pending(self.estimates):
                return Suggestion.wait()
            self._start_retrain()
        if self.phase == PHASE_RETRAIN:
            if len(self.retrains) < len(self.retrain_plan):
                found = self._retrain(trial_id)
                if found is not None:
                    return found
            if self._pending(self.retrains):
                return Suggestion.wait()
            self._finish()
        return Suggestion.done(self.reason)

    def _supernet(self, trial_id: str) -> Suggestion:
        config = {"mode": self.mode, "conditional": self.conditional, **self.supernet_options()}
        epochs = self.supernet_epochs
        if self.time_budget is not None:
            config["time_budget_s"] = oneshot_plan.supernet_seconds(self.time_budget)
            if self.retrain_from == "scratch":
                # its retrains' only training is what the supernet leaves:
                # no epoch past its share (a slow supernet's last epoch
                # used to leave a retrain from scratch one epoch)
                config["stop_ahead"] = True
            epochs = max(epochs, oneshot_plan.BUDGET_SUPERNET_EPOCHS)
        self.supernet_id = trial_id
        return Suggestion.run(self.space.complete({}), epochs=epochs, task=self.supernet_task,
                              task_config=config, notes={"phase": PHASE_SUPERNET})

    def _estimate(self, trial_id: str) -> Suggestion | None:
        """The next estimate; None once the search phase proposes no more."""
        if not self._search_closed and (self._estimates_made() >= self.plan().estimates
                                        or self._search_budget_spent()):
            self._search_closed = True
        if self._search_closed:
            return None
        suggestion = self.inner().ask(trial_id)
        if suggestion.kind == "wait" and self._pending(self.estimates):
            return suggestion
        if suggestion.kind != "run":
            self._search_closed = True
            return None
        values = self.space.complete({**self._fixed(), **suggestion.values})
        self.estimates.append(trial_id)
        notes = {**suggestion.notes, "phase": PHASE_SEARCH}
        return Suggestion.run(values, parent_id=self.supernet_id, task=self.estimate_task,
                              task_config=self.estimate_options(), notes=notes)

    def _inner_max_trials(self) -> int | None:
        """The inner strategy's max_trials: the planned estimates; None when
        failed ones are replaced (this strategy counts them)."""
        return self.plan().estimates if self.failed_estimates_count else None

    def _estimates_made(self) -> int:
        """The estimates proposed, those that failed left out unless
        `failed_estimates_count`."""
        if self.failed_estimates_count:
            return len(self.estimates)
        latest = self.latest()
        return sum(1 for t in self.estimates
                   if t not in latest or latest[t].status is not TrialStatus.FAILED)

    def _search_budget_spent(self) -> bool:
        if self.time_budget is None:
            return False
        own = set(self.estimates)
        return oneshot_plan.search_over(
            budget=float(self.time_budget), spent=self._spent(),
            estimates=[o for o in self.history if o.trial_id in own], share=self.search_share())

    def _spent(self) -> float:
        """Seconds of all trials told so far."""
        return sum(float(o.seconds) for o in self.history if o.seconds is not None)

    def _start_retrain(self) -> None:
        ranked = self._ranked_estimates()
        self.retrain_plan = ranked[:self.plan().retrains]
        self.planned_retrain_epochs = self._retrain_epochs()
        self.planned_retrain_seconds = self._retrain_seconds(len(self.retrain_plan))
        self.phase = PHASE_RETRAIN
        if not self.retrain_plan:
            nothing = ("the supernet trial derived no architecture of the space: nothing to "
                       "retrain" if self.retrains_derived
                       else "no estimate succeeded: nothing to retrain")
            self.reason = nothing if not ranked else "no trial left to retrain within max_trials"

    def _ranked_estimates(self) -> list[str]:
        """The estimates with usable results, best first (`rank_estimates`
        on the latest result of each); with `retrains_derived`, the derived
        architectures (`_DERIVED` and their index)."""
        if self.retrains_derived:
            return [f"{_DERIVED}{i}" for i in range(len(self.derived))]
        latest = self.latest()  # by the trial asked for: a continuation's own id is another
        return self.rank_estimates([dataclasses.replace(latest[t], trial_id=t)
                                    for t in self.estimates if t in latest])

    def _retrain_epochs(self) -> int:
        """`retrain_epochs`; under a time budget a ceiling (the retrain's
        share of the budget ends it): the supernet's epochs for a retrain
        that continues from its weights, else at least
        `oneshot_plan.BUDGET_SUPERNET_EPOCHS` (a retrain from scratch owes
        nothing to how long the supernet trained)."""
        supernet = self.supernet_result()
        if self.time_budget is None:
            return self.retrain_epochs
        if self.retrain_from == "scratch" or supernet is None or not supernet.epochs:
            return max(self.retrain_epochs, oneshot_plan.BUDGET_SUPERNET_EPOCHS)
        return int(supernet.epochs)

    def _retrain_seconds(self, retrains: int) -> float | None:
        """Each of `retrains` retrains' share of what is left of the time
        budget; None without one."""
        if self.time_budget is None:
            return None
        return oneshot_plan.retrain_seconds(budget=self.time_budget, spent=self._spent(),
                                            retrains=retrains)

    def _retrain(self, trial_id: str) -> Suggestion | None:
        """The next retrain; None when the time budget left it under half
        its planned share (it would be ranked against longer trainings on
        unequal terms): then no more retrains are proposed."""
        source = self.retrain_plan[len(self.retrains)]
        seconds = self.planned_retrain_seconds
        if seconds is not None and self.retrains and not self._pending(self.retrains):
            # The earlier retrains ran one after another: share what they left.
            seconds = self._retrain_seconds(len(self.retrain_plan) - len(self.retrains))
            if 2 * seconds < self.planned_retrain_seconds:
                dropped = len(self.retrain_plan) - len(self.retrains)
                self.retrain_plan = self.retrain_plan[:len(self.retrains)]
                self.reason = (f"retrained the best {len(self.retrains)} of the estimates; the "
                               f"time budget left under half the planned "
                               f"{self.planned_retrain_seconds:.0f} s of training for the "
                               f"other {dropped}")
                return None
        self.retrains.append(trial_id)
        if source.startswith(_DERIVED):
            values = dict(self.derived[int(source[len(_DERIVED):])])
            notes: dict[str, Any] = {"phase": PHASE_RETRAIN, "derived_by": self.supernet_id,
                                     "rank": int(source[len(_DERIVED):])}
        else:
            values = dict(self.asked[source])
            notes = {"phase": PHASE_RETRAIN, "estimate_trial": source,
                     "estimate": self.estimate_record(self.latest()[source])}
        notes["retrain_from"] = self.retrain_from
        parent = self.supernet_id if self.retrain_from == "supernet" else None
        config = None
        if seconds is not None:
            config = {"time_budget_s": seconds}
            notes["time_budget_s"] = seconds
        return Suggestion.run(values, epochs=self.planned_retrain_epochs,
                              parent_id=parent, task_config=config, notes=notes)

    def _finish(self) -> None:
        self.phase = _DONE
        told = {o.trial_id: o for o in self.history}
        if self.retrains and all(told[t].status is TrialStatus.FAILED for t in self.retrains):
            self.reason = f"every retrain failed ({len(self.retrains)})"
        elif not self.reason:
            what = "derived architectures" if self.retrains_derived else "estimates"
            self.reason = f"retrained the best {len(self.retrains)} of the {what}"

    def _pending(self, trial_ids: Sequence[str]) -> bool:
        told = {o.trial_id for o in self.history}
        return any(t not in told for t in trial_ids)

    # -- results -----------------------------------------------------------------
    def observe(self, observation: Observation) -> None:
        own = observation.continues or observation.trial_id
        if own == self.supernet_id and observation.continues is None:
            self._supernet_told(observation)
        elif own in self.estimates:
            self._tell_inner(observation)

    def _supernet_told(self, observation: Observation) -> None:
        if observation.status is TrialStatus.FAILED:
            self.phase = _DONE
            self.reason = f"supernet failed: {observation.message or 'no message'}"
            return
        self.choices = supernet_choices(self.space, observation.outputs)
        self.phase = PHASE_SEARCH
        if self.retrains_derived:
            self.derived = self._derived_values(observation.outputs)
            self._search_closed = True
            return
        self.inner()

    def _derived_values(self, outputs: Mapping[str, Any]) -> list[dict[str, Scalar]]:
        """The distinct architectures of `outputs["architectures"]` that are
        architectures of the space, as complete values (the other
        parameters as the supernet had them), in order."""
        found: list[dict[str, Scalar]] = []
        listed = outputs.get("architectures")
        for arch in listed if isinstance(listed, list) else []:
            values = architecture_values(self.space, arch) if isinstance(arch, Mapping) else None
            if values is None:
                continue
            complete = dict(self.space.complete({**self._fixed(), **values}))
            if complete not in found:
                found.append(complete)
        return found

    def _tell_inner(self, observation: Observation) -> None:
        inner = self.inner()
        own = observation.continues or observation.trial_id
        inner.tell(Observation(
            trial_id=observation.trial_id, values=dict(inner.asked[own]),
            status=observation.status, metrics=dict(observation.metrics),
            epochs=observation.epochs, message=observation.message,
            outputs=dict(observation.outputs), continues=observation.continues,
            seconds=observation.seconds))

    # -- state -------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        inner = self._inner.state_dict() if self._inner is not None else self._inner_state
        return {
            "phase": self.phase, "supernet_id": self.supernet_id, "choices": self.choices,
            "estimates": list(self.estimates), "derived": [dict(v) for v in self.derived],
            "retrains": list(self.retrains),
            "retrain_plan": list(self.retrain_plan),
            "retrain_epochs": self.planned_retrain_epochs,
            "retrain_seconds": self.planned_retrain_seconds, "reason": self.reason,
            "search_closed": self._search_closed,
            "inner": None if inner is None else dict(inner),
        }

    def load_extra_state(self, state: Mapping[str, Any]) -> None:
        self._reset_phases()
        if not state:
            return
        self.phase = str(state["phase"])
        self.supernet_id = state["supernet_id"]
        self.choices = None if state["choices"] is None else [str(c) for c in state["choices"]]
        self.estimates = [str(t) for t in state["estimates"]]
        self.derived = [dict(v) for v in state.get("derived") or []]
        self.retrains = [str(t) for t in state["retrains"]]
        self.retrain_plan = [str(t) for t in state["retrain_plan"]]
        self.planned_retrain_epochs = state["retrain_epochs"]
        self.planned_retrain_seconds = state.get("retrain_seconds")
        self.reason = str(state["reason"])
        self._search_closed = bool(state["search_closed"])
        self._inner_state = state["inner"]
