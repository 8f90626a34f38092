"""The Strategy protocol: ask for a trial, tell its result.

A strategy proposes hyperparameter values (`ask`) and learns from results
(`tell`). It never trains anything and never imports Keras: the oracle layer
(`autokeras_nas.tuner`) turns its suggestions into KerasTuner trials, and the
benchmark runner drives it with table look-ups.

The contract, checked for every installed strategy by
`autokeras_nas.testing.check_strategy`:

* `ask(trial_id)` returns a `Suggestion`: values (plain Python scalars; a
  structured architecture travels as a JSON string under `ARCH`), optionally
  a parent trial id, a training budget and notes; or "wait" (results of
  running trials are needed first) or "done".
* `tell(observation)` takes the final result of a trial: completed, stopped
  early, or failed. Under multi-fidelity scheduling (`early_stopping=
  "asha"`) the oracle also tells the results of the trials that continued a
  configuration to a higher rung: their `Observation.continues` names the
  trial the strategy asked for, and a strategy that ranks configurations
  should rank by a configuration's latest result (`BaseStrategy.latest`).
* `set_time_budget(seconds)`, when a strategy has it, is called by the
  oracle before the first `ask` of a search with a time budget, so that the
  strategy can size itself to what the budget affords
  (`BaseStrategy.affordable_proposals`).
* `state_dict()` is JSON and includes every RNG state, so a strategy restored
  with `load_state_dict()` makes exactly the proposals an uninterrupted one
  would have made.
* Randomness comes only from generators seeded by the strategy's `seed`.
"""

from __future__ import annotations

import abc
import enum
import json
import math
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Mapping, Protocol, Sequence, runtime_checkable

from autokeras_nas.core import rng as rng_module

Scalar = bool | int | float | str

#: Prefix of the hyperparameter names the package reserves for itself.
RESERVED_PREFIX = "nas/"
#: Trial id whose trained weights the trial starts from.
PARENT = "nas/parent"
#: Keras' `epochs` for the trial: the index of its last epoch, as in
#: `fit(epochs=..., initial_epoch=...)` and KerasTuner's `tuner/epochs`.
EPOCHS = "nas/epochs"
#: First epoch index when continuing a parent's training schedule.
INITIAL_EPOCH = "nas/initial_epoch"
#: A structured architecture, as a JSON string.
ARCH = "nas/arch"
#: What the trial does (a trainer's name); absent means `TASK_TRAIN`.
TASK = "nas/task"
#: The task's options, as a JSON object string (e.g. `{"recalibrate": true}`).
TASK_CONFIG = "nas/task_config"
#: Set by the oracle on a trial that continues another's training (a
#: promotion of multi-fidelity scheduling, `autokeras_nas.core.stopping`):
#: the id of the trial the strategy asked for, whose configuration this is.
#: The trial's `PARENT` is the trial it continues (weights, optimizer state
#: and epoch counter), its `INITIAL_EPOCH` that trial's last epoch.
CONTINUES = "nas/continues"
#: Set by the oracle on a trial that a multi-fidelity scheduler may continue
#: later: its trainer keeps the state the trial ends in (weights with the
#: optimizer's state) for the trial that continues it.
PROMOTABLE = "nas/promotable"
#: Set by the oracle on the trial that ends a time budget by continuing the
#: leader (`ASHA.endgame`): its trainer anneals the learning rate from the
#: compiled one to zero (cosine, per epoch) over the trial's epochs.
ANNEAL = "nas/anneal"
#: Set by the oracle once the search was steered (`autokeras_nas.steering`):
#: the id of the last edit in force when the trial was proposed.
EDITS_SEEN = "nas/edits_seen"

#: Build the model and fit it: every trial of the first strategies.
TASK_TRAIN = "train"
#: Build the model, load the parent's weights, evaluate it (zero epochs).
TASK_EVALUATE = "evaluate"
#: Train a weight-sharing supernet (one-shot search); its outputs name the
#: choices it holds.
TASK_SUPERNET = "supernet"
#: Evaluate one architecture with weights inherited from a supernet trial
#: (the trial's parent); no training, no model of its own.
TASK_ESTIMATE = "estimate"
#: Build the model and score it at initialization with training-free
#: proxies (`autokeras_nas.zerocost`); no training, no model of its own.
TASK_SCORE = "score"
#: Build a relaxed supernet and score every operation of every choice at
#: initialization (FreeDARTS); no training, no model of its own; its outputs
#: name the architectures to retrain.
TASK_SALIENCY = "saliency"
#: The package's tasks whose trial ends without a model of its own (a
#: supernet, ENAS's supernet with its controller, a differentiable supernet,
#: an estimate, a proxy score, operation saliencies): their trials are never a search's answer
#: (the best trials and models), and they may end without the objective's
#: metric (a proxy's score is no accuracy): the strategy reads what they
#: report. Every other task, a third party's included, makes a model.
ESTIMATE_TASKS = frozenset({TASK_SUPERNET, TASK_ESTIMATE, TASK_SCORE, TASK_SALIENCY, "enas",
                            "differentiable", "smash"})


def makes_model(task: str | None) -> bool:
    """Whether a trial of `task` (None: `TASK_TRAIN`) ends with a model
    that can be a search's answer (any task but `ESTIMATE_TASKS`)."""
    return (TASK_TRAIN if task is None else task) not in ESTIMATE_TASKS


class SpaceKind(str, enum.Enum):
    """The kind of search space a strategy searches (`BaseStrategy.space_kinds`).

    * `HYPERPARAMETERS`: any KerasTuner space (`build_model(hp)`), searched
      through its hyperparameter values.
    * `NETWORK`: a morphable network (`autokeras_nas.tuner.MorphHyperModel`);
      the strategy is given the start network (`use_space`).
    * `CELLS`: a cell space (`autokeras_nas.tuner.CellHyperModel`); the
      strategy is given the cell space's configuration.
    * `SUPERNET`: a weight-sharing supernet (one-shot search).
    """

    HYPERPARAMETERS = "hyperparameters"
    NETWORK = "network"
    CELLS = "cells"
    SUPERNET = "supernet"


def is_reserved(name: str) -> bool:
    """Whether `name` is one of the package's reserved hyperparameter keys."""
    return name.startswith(RESERVED_PREFIX)


def is_python_scalar(value: Any) -> bool:
    """True for exactly `bool`, `int`, `float` and `str` (not numpy types)."""
    return type(value) in (bool, int, float, str)


class TrialStatus(str, enum.Enum):
    """Final status of a trial as a strategy sees it."""

    COMPLETED = "completed"
    STOPPED = "stopped"  # stopped early by a stopping rule; metrics are valid
    FAILED = "failed"


@dataclass(frozen=True)
class Objective:
    """One objective: a metric name and whether to minimise or maximise it."""

    name: str
    direction: Literal["min", "max"] = "max"

    def __post_init__(self) -> None:
        if self.direction not in ("min", "max"):
            raise ValueError(
                f"objective direction must be 'min' or 'max', got {self.direction!r}"
            )

    def signed(self, value: float) -> float:
        """`value` oriented so that larger is better."""
        return value if self.direction == "max" else -value

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "direction": self.direction}

    @classmethod
    def from_dict(cls, d: Mapping[str, str]) -> "Objective":
        return cls(d["name"], d["direction"])  # type: ignore[arg-type]


@dataclass(frozen=True)
class Suggestion:
    """What `Strategy.ask` returns.

    Use the constructors `Suggestion.run(...)`, `Suggestion.wait()` and
    `Suggestion.done()` rather than the fields directly.
    """

    kind: Literal["run", "wait", "done"]
    values: Mapping[str, Scalar] = field(default_factory=dict)
    parent_id: str | None = None
    epochs: int | None = None
    initial_epoch: int | None = None
    notes: Mapping[str, Any] = field(default_factory=dict)
    arch: str | None = None
    task: str | None = None
    task_config: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.kind not in ("run", "wait", "done"):
            raise ValueError(f"suggestion kind must be run, wait or done, got {self.kind!r}")
        bad = {k: type(v).__name__ for k, v in self.values.items() if not is_python_scalar(v)}
        if bad:
            raise TypeError(f"suggestion values must be Python scalars, got {bad}")
        reserved = [k for k in self.values if is_reserved(k)]
        if reserved:
            raise ValueError(
                f"reserved keys {reserved} go in the Suggestion's fields, not its values"
            )
        if self.kind != "run" and (self.values or self.parent_id is not None):
            raise ValueError(f"a {self.kind!r} suggestion carries no values or parent")
        if self.parent_id is not None and not isinstance(self.parent_id, str):
            raise TypeError(f"parent_id must be a trial id (str), got {self.parent_id!r}")
        for name, low in (("epochs", 1), ("initial_epoch", 0)):
            value = getattr(self, name)
            if value is not None and (type(value) is not int or value < low):
                raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
        if self.arch is not None:
            if self.kind != "run" or not isinstance(self.arch, str):
                raise ValueError("arch is a JSON string, and only a 'run' suggestion carries one")
            try:
                json.loads(self.arch)
            except ValueError as e:
                raise ValueError(f"arch must be a JSON string: {e}") from None
        if self.epochs is not None and (self.initial_epoch or 0) >= self.epochs:
            raise ValueError(
                f"initial_epoch ({self.initial_epoch}) must be below epochs ({self.epochs})"
            )
        if self.task is not None and (self.kind != "run" or not isinstance(self.task, str)
                                      or not self.task):
            raise ValueError("task is a trainer's name, and only a 'run' suggestion carries one")
        if self.task_config is not None:
            if self.kind != "run" or not isinstance(self.task_config, Mapping):
                raise ValueError("task_config is a mapping, and only a 'run' suggestion "
                                 "carries one")
            try:
                json.dumps(dict(self.task_config), allow_nan=False)
            except (TypeError, ValueError) as e:
                raise ValueError(f"task_config must be JSON: {e}") from None

    @classmethod
    def run(
        cls,
        values: Mapping[str, Scalar],
        *,
        parent_id: str | None = None,
        epochs: int | None = None,
        initial_epoch: int | None = None,
        notes: Mapping[str, Any] | None = None,
        arch: str | None = None,
        task: str | None = None,
        task_config: Mapping[str, Any] | None = None,
    ) -> "Suggestion":
        """A trial to run with `values` (validated: plain Python scalars) and,
        for a structured space, the architecture `arch` as a JSON string.
        `task` names the trainer that runs the trial (default `TASK_TRAIN`:
        build and fit), `task_config` its options (JSON)."""
        return cls("run", dict(values), parent_id, epochs, initial_epoch, dict(notes or {}), arch,
                   task, None if task_config is None else dict(task_config))

    @classmethod
    def wait(cls) -> "Suggestion":
        """Results of running trials are needed before the next proposal."""
        return cls("wait")

    @classmethod
    def done(cls, reason: str = "") -> "Suggestion":
        """The strategy has nothing more to propose."""
        return cls("done", notes={"reason": reason} if reason else {})

    def hp_values(self) -> dict[str, Scalar]:
        """The values plus the reserved keys, as handed to a KerasTuner trial."""
        out: dict[str, Scalar] = dict(self.values)
        if self.parent_id is not None:
            out[PARENT] = str(self.parent_id)
        if self.epochs is not None:
            out[EPOCHS] = int(self.epochs)
        if self.initial_epoch is not None:
            out[INITIAL_EPOCH] = int(self.initial_epoch)
        if self.arch is not None:
            out[ARCH] = self.arch
        if self.task is not None:
            out[TASK] = self.task
        if self.task_config is not None:
            out[TASK_CONFIG] = json.dumps(dict(self.task_config), sort_keys=True)
        return out


@dataclass(frozen=True)
class Observation:
    """The final result of one trial, as `Strategy.tell` receives it.

    Attributes:
        trial_id: The id `ask` was called with.
        values: The trial's hyperparameter values (reserved keys removed).
        status: Completed, stopped early, or failed.
        metrics: Final metrics: the objectives and the cost metrics
            (`train_time_s`, `params`, `latency_ms`) where measured.
        epochs: Epochs actually trained.
        message: Why a trial failed.
        outputs: JSON outputs of the trial beside its metrics (a derived
            architecture, per-edge operation probabilities, ...).
        arch: The trial's structured architecture (JSON string), if any.
        continues: For a trial the strategy did not ask for, but that
            continued the training of one it asked for (a promotion to a
            higher rung of multi-fidelity scheduling), the id of the trial
            the strategy asked for: this is a higher-fidelity result of that
            configuration (`epochs` is its total epochs). None otherwise.
        seconds: Wall-clock seconds of the trial (build, training,
            measurements, saving), when measured.
    """

    trial_id: str
    values: Mapping[str, Scalar]
    status: TrialStatus
    metrics: Mapping[str, float] = field(default_factory=dict)
    epochs: int | None = None
    message: str = ""
    outputs: Mapping[str, Any] = field(default_factory=dict)
    arch: str | None = None
    continues: str | None = None
    seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "trial_id": self.trial_id,
            "values": dict(self.values),
            "status": self.status.value,
            "metrics": dict(self.metrics),
            "epochs": self.epochs,
            "message": self.message,
            "outputs": dict(self.outputs),
            "arch": self.arch,
            "continues": self.continues,
            "seconds": self.seconds,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Observation":
        return cls(
            trial_id=d["trial_id"],
            values=dict(d["values"]),
            status=TrialStatus(d["status"]),
            metrics=dict(d.get("metrics", {})),
            epochs=d.get("epochs"),
            message=d.get("message", ""),
            outputs=dict(d.get("outputs") or {}),
            arch=d.get("arch"),
            continues=d.get("continues"),
            seconds=d.get("seconds"),
        )

    def objective_vector(self, objectives: Sequence[Objective]) -> tuple[float, ...] | None:
        """Objective values oriented larger-is-better, or None if unusable."""
        if self.status is TrialStatus.FAILED:
            return None
        out = []
        for obj in objectives:
            v = self.metrics.get(obj.name)
            if v is None or not math.isfinite(float(v)):
                return None
            out.append(obj.signed(float(v)))
        return tuple(out)


@runtime_checkable
class Strategy(Protocol):
    """The protocol every strategy plugin implements."""

    name: ClassVar[str]

    def setup(
        self, space: Any, objectives: Sequence[Objective], max_trials: int | None
    ) -> None:
        """Binds the strategy to a search space; may be called again when the
        space grows (new hyperparameters discovered while building models)."""

    def ask(self, trial_id: str) -> Suggestion: ...

    def tell(self, observation: Observation) -> None: ...

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state: Mapping[str, Any]) -> None: ...


class BaseStrategy(abc.ABC):
    """Bookkeeping shared by strategies: seed, RNG, history, de-duplication.

    `asked` maps each trial id to its values, with the architecture under
    `ARCH` when the suggestion carried one; de-duplication (`is_new`,
    `sample_new`) compares values and architecture.

    Subclasses implement `propose(trial_id)` and, when they keep state of
    their own, `extra_state()` / `load_extra_state()`. They may override
    `observe(observation)` to learn from results.

    Args:
        seed: Seed of the strategy's generator. `None` draws one from the
            operating system and records it in the state.
    """

    #: Plugin name (the entry-point name).
    name: ClassVar[str] = ""
    #: The kinds of space the strategy searches, the one it prefers first:
    #: the command line and the tuners pick the default space, and refuse a
    #: user's space, by this declaration (see `use_space`).
    space_kinds: ClassVar[tuple[SpaceKind, ...]] = (SpaceKind.HYPERPARAMETERS,)
    #: Whether `propose` may suggest values already tried (rarely wanted).
    allow_repeats: ClassVar[bool] = False
    #: Whether the seed changes the proposals; False for a strategy that is
    #: deterministic by design (grid search), which the conformance suite
    #: then does not require to differ between seeds.
    seeded: ClassVar[bool] = True

    def __init__(self, *, seed: int | None = None) -> None:
        self.seed = rng_module.fresh_seed() if seed is None else seed
        self.rng = rng_module.make_rng(self.seed)
        self.space: Any = None
        self.objectives: tuple[Objective, ...] = ()
        self.max_trials: int | None = None
        #: trial id -> values, in the order asked.
        self.asked: dict[str, dict[str, Scalar]] = {}
        #: Observations in the order told.
        self.history: list[Observation] = []
        self._told: set[str] = set()
        self._seen: set[tuple[str, str | None]] = set()
        #: The search's time budget in seconds, or None (`set_time_budget`).
        self.time_budget: float | None = None
        #: Configurations `sample_new` returns before sampling (`warm_start`).
        self.warm: list[dict[str, Scalar]] = []

    # -- protocol -----------------------------------------------------------
    def setup(
        self, space: Any, objectives: Sequence[Objective], max_trials: int | None = None
    ) -> None:
        if not objectives:
            raise ValueError("a strategy needs at least one objective")
        self.space = space
        self.objectives = tuple(objectives)
        self.max_trials = max_trials
        self._seen = {self._identity(v) for v in self.asked.values()}

    def use_space(self, kind: SpaceKind | str, structure: Any = None) -> None:
        """Binds the strategy to a structured space of a kind it declares in
        `space_kinds`, before the search starts: `structure` is the start
        network (`NETWORK`), the cell space's configuration (`CELLS`), ...
        A hyperparameter space needs nothing (its values come in `setup`).

        Raises:
            ValueError: an unknown kind, a kind the strategy does not search,
                or a structured kind without its structure.
        """
        try:
            kind = SpaceKind(kind)
        except ValueError:
            known = ", ".join(k.value for k in SpaceKind)
            raise ValueError(f"unknown kind of space {kind!r}; one of: {known}") from None
        if kind not in self.space_kinds:
            kinds = ", ".join(SpaceKind(k).value for k in self.space_kinds)
            raise ValueError(f"strategy {self.name!r} cannot search a {kind.value} space; "
                             f"it searches: {kinds}")
        if kind is SpaceKind.HYPERPARAMETERS:
            return
        if structure is None:
            raise ValueError(f"a {kind.value} space needs its structure: "
                             f"use_space({kind.value!r}, structure)")
        self.bind_structure(kind, structure)

    def bind_structure(self, kind: SpaceKind, structure: Any) -> None:
        """Hook of `use_space` for a structured kind the strategy declares."""
        raise NotImplementedError(f"{type(self).__name__} declares {kind.value} spaces "
                                  "but does not implement bind_structure()")

    def ask(self, trial_id: str) -> Suggestion:
        """The suggestion for `trial_id`. After "wait" or "done" the same id
        is asked again later (as KerasTuner does); only "run" consumes it."""
        if self.space is None:
            raise RuntimeError(f"{type(self).__name__}.setup() must be called before ask()")
        if trial_id in self.asked:
            raise ValueError(f"trial id {trial_id!r} was already asked for")
        if self.max_trials is not None and len(self.asked) >= self.max_trials:
            return Suggestion.done("max_trials reached")
        suggestion = self.propose(trial_id)
        if suggestion.kind == "run":
            asked = dict(suggestion.values)
            if suggestion.arch is not None:
                asked[ARCH] = suggestion.arch
            self.asked[trial_id] = asked
            self._seen.add(self._identity(asked))
        return suggestion

    def set_time_budget(self, seconds: float | None) -> None:
        """The search's wall-clock budget in seconds (None: none); called by
        the oracle before the search's first `ask`."""
        if seconds is not None and not float(seconds) > 0:
            raise ValueError(f"a time budget must be positive seconds, got {seconds!r}")
        self.time_budget = None if seconds is None else float(seconds)

    def affordable_proposals(self, min_observed: int = 2) -> int | None:
        """How many proposals the search can afford, or None when unknown.

        With `max_trials`, that number. Otherwise, with a time budget and at
        least `min_observed` configurations observed with measured seconds:
        the budget divided by the mean seconds a configuration has cost so
        far (its own trial plus the trials that continued it). Computed from
        the history only, so a restored strategy gets the same answer.
        """
        if self.max_trials is not None:
            return self.max_trials
        if self.time_budget is None:
            return None
        own = [o for o in self.history if o.continues is None and o.seconds is not None]
        if len(own) < min_observed:
            return None
        total = sum(float(o.seconds) for o in self.history if o.seconds is not None)
        return max(1, int(self.time_budget * len(own) / max(total, 1e-9)))

    def latest(self) -> dict[str, Observation]:
        """Each configuration's latest result: trial id the strategy asked
        for -> its own observation, or the last one that continued it (the
        highest fidelity reached). Failed continuations are skipped."""
        out: dict[str, Observation] = {}
        for o in self.history:
            if o.continues is None:
                out.setdefault(o.trial_id, o)
            elif o.status is not TrialStatus.FAILED:
                out[o.continues] = o
        return out

    def tell(self, observation: Observation) -> None:
        """Records the final result of a trial; each trial is told once."""
        if observation.trial_id in self._told:
            raise ValueError(f"trial {observation.trial_id!r} was already told")
        self._told.add(observation.trial_id)
        self.history.append(observation)
        self.observe(observation)

    def state_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.name,
            "seed": self.seed,
            "rng": rng_module.rng_state(self.rng),
            "asked": [[tid, dict(v)] for tid, v in self.asked.items()],
            "history": [o.to_dict() for o in self.history],
            "warm": [dict(v) for v in self.warm],
            "extra": self.extra_state(),
        }

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        if state.get("strategy") not in (None, "", self.name):
            raise ValueError(
                f"state of strategy {state.get('strategy')!r} cannot be loaded into {self.name!r}"
            )
        self.seed = state["seed"]
        self.rng = rng_module.make_rng(self.seed)
        rng_module.set_rng_state(self.rng, state["rng"])
        self.asked = {tid: dict(v) for tid, v in state["asked"]}
        self.history = [Observation.from_dict(o) for o in state["history"]]
        self._told = {o.trial_id for o in self.history}
        self.warm = [dict(v) for v in state.get("warm") or []]
        if self.space is not None:
            self._seen = {self._identity(v) for v in self.asked.values()}
        self.load_extra_state(state.get("extra") or {})

    # -- for subclasses -----------------------------------------------------
    @abc.abstractmethod
    def propose(self, trial_id: str) -> Suggestion:
        """Returns the next suggestion (called by `ask`)."""

    def observe(self, observation: Observation) -> None:
        """Hook called by `tell` after the observation is recorded."""

    def extra_state(self) -> dict[str, Any]:
        """JSON state of the subclass (RNGs other than `self.rng`, models...)."""
        return {}

    def load_extra_state(self, state: Mapping[str, Any]) -> None:
        """Restores what `extra_state` returned."""

    def is_new(self, values: Mapping[str, Scalar], arch: str | None = None) -> bool:
        """Whether `values` (active part) with the architecture `arch` (a
        JSON string, compared by content) has not been proposed yet."""
        if arch is not None:
            values = {**values, ARCH: arch}
        return self._identity(values) not in self._seen

    def new_key(self, values: Mapping[str, Scalar]) -> str | None:
        """`space.key(values)` when `values` (active part, no architecture)
        was not proposed yet, else None: `is_new` and the key at the cost of
        one walk of the space, for a strategy that collects new candidates
        by key."""
        identity = self._identity(values)
        return None if identity in self._seen else identity[0]

    def _identity(self, asked: Mapping[str, Any]) -> tuple[str, str | None]:
        """What de-duplication compares: the active values and, for a
        structured space, the architecture (canonical JSON)."""
        arch = asked.get(ARCH)
        if arch is not None:
            if not isinstance(arch, str):
                raise TypeError(f"an architecture is a JSON string, got {type(arch).__name__}")
            try:
                arch = json.dumps(json.loads(arch), sort_keys=True, separators=(",", ":"))
            except ValueError:
                pass  # not JSON (a hand-edited state): compared as written
        return self.space.key({k: v for k, v in asked.items() if k != ARCH}), arch

    def warm_start(self, configurations: Sequence[Mapping[str, Scalar]]) -> None:
        """Configurations to start from (a warm-up's best, best first): the
        strategy's random draws (`sample_new`) return them, in order, before
        any random sample, so a strategy starts from them wherever it would
        start at random (aging evolution's first population, a model-based
        strategy's initial design, random search's first trials). Each is
        completed with the space's defaults; one proposed already when its
        turn comes is skipped. Kept in the state (exact resume).

        Raises:
            RuntimeError: before `setup` (the space is needed).
            ValueError: a configuration with a value its space does not allow.
        """
        if self.space is None:
            raise RuntimeError(f"{type(self).__name__}.setup() must be called before warm_start()")
        self.warm.extend(dict(self.space.complete(dict(c))) for c in configurations)

    def sample_new(self, max_tries: int = 100) -> dict[str, Scalar] | None:
        """Samples values not proposed before, or None when there are none:
        first the configurations of `warm_start`, in order, then random ones.

        On a finite space the number of draws grows with the fraction already
        seen (20 x size / unseen, at most a million), so a nearly exhausted
        space still yields its last points with probability 1 - e^-20; on an
        infinite one `max_tries` draws are made.
        """
        while self.warm:
            values = self.warm.pop(0)
            if self.is_new(values):
                return values
        size = self.space.size()
        unseen = size - sum(1 for _, arch in self._seen if arch is None)
        if unseen <= 0:
            return None
        if not math.isinf(size):
            max_tries = int(min(1e6, max(max_tries, 20 * size / unseen)))
        for _ in range(max_tries):
            values = self.space.sample(self.rng)
            if self.allow_repeats or self.is_new(values):
                return values
        return None

    def score(self, observation: Observation) -> float | None:
        """The first objective, oriented larger-is-better; None if unusable."""
        vec = observation.objective_vector(self.objectives[:1])
        return None if vec is None else vec[0]
