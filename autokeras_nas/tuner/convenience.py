"""Convenience tuners made from a strategy class: one source for every argument.

A `StrategyTuner` subclass names its strategy class and gets, as its
constructor, the positional arguments of `keras_tuner.RandomSearch` in their
order, then every keyword argument of the strategy's constructor with the
strategy's own default, then those of `NasTuner` and `keras_tuner.Tuner`
(`**kwargs`). Its signature (`inspect.signature`, `help`) and the Args of its
docstring are generated from the strategy, so they cannot drift from it.
A third-party plugin makes its tuner the same way:

    from autokeras_nas.tuner import StrategyTuner

    class MyTuner(StrategyTuner):
        '''My strategy as a drop-in for `keras_tuner.RandomSearch`.'''

        strategy_class = MyStrategy

The structured spaces (a `MorphHyperModel`'s network, a `CellHyperModel`'s
cells) are bound with the strategy's `use_space`, by the kind of space the
hypermodel is: a strategy that does not declare that kind refuses it.
"""

from __future__ import annotations

import inspect
import textwrap
from typing import Any, ClassVar, Mapping

from autokeras_nas import plugins
from autokeras_nas.core import SpaceKind
from autokeras_nas.tuner.cellmodel import CellHyperModel
from autokeras_nas.tuner.morphable import MorphHyperModel
from autokeras_nas.tuner.tuner import NasTuner

#: The objective of every tuner when none is given: KerasTuner's default.
DEFAULT_OBJECTIVE = "val_loss"
#: Trials when `max_trials` is not given: `keras_tuner.RandomSearch`'s
#: default, so that a drop-in replacement runs as many trials.
DEFAULT_MAX_TRIALS = 10
#: `keras_tuner.RandomSearch`'s positional arguments, in their order.
POSITIONAL = ("hypermodel", "objective", "max_trials", "seed", "hyperparameters",
              "tune_new_entries", "allow_new_entries", "max_retries_per_trial",
              "max_consecutive_failed_trials")
#: Arguments of `NasTuner` that a convenience tuner sets itself.
_SET_BY_TUNER = ("strategy", "oracle")


class _ClassDefault:
    """`max_trials` not given: the class's `default_max_trials`."""

    def __repr__(self) -> str:
        return "default_max_trials"


_CLASS_DEFAULT: Any = _ClassDefault()
_WIDTH = 76

_COMMON_DOC = {
    "hypermodel": "A `build_model(hp)` function or a `keras_tuner.HyperModel`.",
    "objective": ("A metric name, a `keras_tuner.Objective`, \"name:min|max\", or a list of "
                  "them (several objectives: a Pareto search). `None`: "
                  f"\"{DEFAULT_OBJECTIVE}\" (minimised), as in KerasTuner."),
    "max_trials": ("Maximum number of trials (default "
                   f"{DEFAULT_MAX_TRIALS}, as `keras_tuner.RandomSearch`)."),
    "seed": "Seed of the strategy's generator; `None` draws one and records it.",
    "hyperparameters, tune_new_entries, allow_new_entries, max_retries_per_trial, "
    "max_consecutive_failed_trials": "As for `keras_tuner.RandomSearch`.",
}
_KWARGS_DOC = ("`early_stopping` (`None`, \"asha\", \"median\" or a stopping rule), "
               "`warmup` (a zero-cost warm-up, \"jacob_cov:200\"), "
               "`progress`, `time_budget`, `trial_timeout`, ... as for "
               "`autokeras_nas.NasTuner`; `directory`, `project_name`, `overwrite`, "
               "`distribution_strategy`, ... as for `keras_tuner.Tuner`.")


def strategy_arguments(strategy_class: type, hidden: tuple[str, ...] = ()) -> dict[str, inspect.Parameter]:
    """The keyword arguments of a strategy's constructor, in order (those of
    base constructors it passes `**kwargs` on to included), without `seed`
    (a positional argument of the tuners) and the `hidden` ones."""
    named, _ = plugins.constructor_arguments(strategy_class)
    return {n: p for n, p in named.items() if n not in ("seed", *hidden)}


def _tuner_arguments() -> set[str]:
    """Named arguments of `NasTuner` and the KerasTuner classes it extends."""
    names: set[str] = set()
    for klass in NasTuner.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or not klass.__module__.startswith(("autokeras_nas", "keras_tuner")):
            continue
        names.update(p.name for p in inspect.signature(init).parameters.values()
                     if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL))
    return names - {"self", "hypermodel", *_SET_BY_TUNER}


def split_arguments(
    tuner_name: str, strategy_args: Mapping[str, Any], extra_args: Mapping[str, Any],
    kwargs: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Splits `kwargs` into the strategy's, the tuner's own (`extra_args`:
    the default hypermodel's options) and `NasTuner`'s.

    Raises:
        ValueError: an argument none of them takes, or one the tuner sets.
    """
    strategy, extra, rest = {}, {}, {}
    allowed = _tuner_arguments()
    for name, value in kwargs.items():
        if name in strategy_args:
            strategy[name] = value
        elif name in extra_args:
            extra[name] = value
        elif name in allowed:
            rest[name] = value
        elif name in _SET_BY_TUNER:
            raise ValueError(f"{tuner_name} makes its own {name}; use autokeras_nas.NasTuner "
                             f"to pass one")
        else:
            known = ", ".join(strategy_args) or "none"
            raise ValueError(f"{tuner_name} got an unknown argument {name!r}; its strategy "
                             f"takes: {known}")
    return strategy, extra, rest


def space_of(hypermodel: Any) -> tuple[SpaceKind, Any]:
    """The kind of space a hypermodel is and the structure a strategy is
    bound to (`BaseStrategy.use_space`): a `MorphHyperModel`'s start network,
    a `CellHyperModel`'s cells, else hyperparameters (nothing to bind)."""
    if isinstance(hypermodel, MorphHyperModel):
        return SpaceKind.NETWORK, hypermodel.start
    if isinstance(hypermodel, CellHyperModel):
        return SpaceKind.CELLS, hypermodel.cells
    return SpaceKind.HYPERPARAMETERS, None


def bind_space(strategy: Any, hypermodel: Any) -> None:
    """Binds `strategy` to the space `hypermodel` is (see `space_of`).

    Raises:
        ValueError: the strategy does not search spaces of that kind.
    """
    kind, structure = space_of(hypermodel)
    use_space = getattr(strategy, "use_space", None)
    if use_space is not None:
        use_space(kind, structure)
    elif kind is not SpaceKind.HYPERPARAMETERS:
        raise ValueError(f"strategy {getattr(strategy, 'name', strategy)!r} declares no space "
                         f"kinds; it cannot search a {kind.value} space")


class StrategyTuner(NasTuner):
    """Base of the convenience tuners: a `NasTuner` whose strategy is made
    from the tuner's arguments (see the module's docstring).

    Subclasses set `strategy_class`; `hidden_arguments` names the strategy
    arguments the tuner does not take (a structure bound from the
    hypermodel, a mode the class fixes); `default_hypermodel` may build the
    hypermodel when none is given, from keyword options of its own that
    become the tuner's.
    """

    #: The strategy the tuner runs.
    strategy_class: ClassVar[type | None] = None
    #: Strategy arguments the tuner does not take.
    hidden_arguments: ClassVar[tuple[str, ...]] = ()
    #: The text of `**kwargs` in the generated docstring.
    kwargs_doc: ClassVar[str] = _KWARGS_DOC
    #: The tuner's `max_trials` when none is given; None: no limit, the
    #: strategy's own sizes decide (a one-shot strategy's `candidates`).
    default_max_trials: ClassVar[int | None] = DEFAULT_MAX_TRIALS

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.strategy_class is None:
            return
        strategy_args = strategy_arguments(cls.strategy_class, cls.hidden_arguments)
        extra_args = _keyword_options(cls.default_hypermodel)
        clash = (set(strategy_args) & set(extra_args)) | (set(strategy_args) & set(POSITIONAL))
        if clash:
            raise TypeError(f"{cls.__name__}: arguments {sorted(clash)} are both the "
                            "strategy's and the tuner's")
        cls._strategy_args, cls._extra_args = strategy_args, extra_args
        cls.__signature__ = _signature(cls, strategy_args, extra_args)
        cls.__doc__ = _document(cls, strategy_args, extra_args)

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        max_trials: Any = _CLASS_DEFAULT,
        seed: int | None = None,
        hyperparameters: Any = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        **kwargs: Any,
    ) -> None:
        name = type(self).__name__
        if self.strategy_class is None:
            raise TypeError(f"{name} names no strategy_class")
        if max_trials is _CLASS_DEFAULT:
            max_trials = self.default_max_trials
        strategy_kwargs, extra, rest = split_arguments(
            name, self._strategy_args, self._extra_args, kwargs)
        if hypermodel is None:
            hypermodel = self.default_hypermodel(**extra)
            if hypermodel is None:
                options = " and ".join(self._extra_args)
                raise ValueError(f"{name} needs a hypermodel" + (f", or {options}" if options else ""))
        strategy = self.make_strategy(seed=seed, **strategy_kwargs)
        bind_space(strategy, hypermodel)
        super().__init__(
            hypermodel, strategy=strategy,
            objective=DEFAULT_OBJECTIVE if objective is None else objective,
            max_trials=max_trials, hyperparameters=hyperparameters,
            tune_new_entries=tune_new_entries, allow_new_entries=allow_new_entries,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials, **rest,
        )

    def make_strategy(self, **strategy_kwargs: Any) -> Any:
        """The strategy, from `seed` and the strategy arguments the tuner
        was given. A tuner that fixes or translates some of them (a hidden
        argument, another class's signature) overrides this; it is called
        before `NasTuner.__init__`."""
        return self.strategy_class(**strategy_kwargs)

    @classmethod
    def default_hypermodel(cls, **options: Any) -> Any:
        """The hypermodel when none is given; `None`: one is required."""
        return None


def _keyword_options(hook: Any) -> dict[str, inspect.Parameter]:
    return {p.name: p for p in inspect.signature(hook).parameters.values()
            if p.kind is p.KEYWORD_ONLY}


def _positional(cls: type) -> list[inspect.Parameter]:
    """The tuner's positional arguments: those of `StrategyTuner.__init__`,
    or of the first `__init__` of a subclass that defines its own (a tuner
    with another KerasTuner class's signature, such as `Hyperband`)."""
    init = next(k.__dict__["__init__"] for k in cls.__mro__ if "__init__" in k.__dict__)
    return [p for p in list(inspect.signature(init).parameters.values())[1:]
            if p.kind is p.POSITIONAL_OR_KEYWORD]


def _signature(cls: type, strategy_args: Mapping[str, inspect.Parameter],
               extra_args: Mapping[str, inspect.Parameter]) -> inspect.Signature:
    base = list(inspect.signature(StrategyTuner.__init__).parameters.values())[1:]
    max_trials = cls.default_max_trials
    positional = [p.replace(default=max_trials) if p.name == "max_trials" else p
                  for p in _positional(cls)]
    keyword = [p.replace(kind=p.KEYWORD_ONLY)
               for p in (*strategy_args.values(), *extra_args.values())]
    return inspect.Signature([*positional, *keyword, base[-1]])


def _document(cls: type, strategy_args: Mapping[str, inspect.Parameter],
              extra_args: Mapping[str, inspect.Parameter]) -> str:
    """The class's own docstring, then Args generated from the strategy's
    signature and docstring and the default hypermodel's options."""
    strategy = cls.strategy_class
    where = f"`{strategy.__module__}.{strategy.__qualname__}`"
    strategy_docs: dict[str, str] = {}
    for klass in reversed(strategy.__mro__):  # a base documents what it takes for a subclass
        strategy_docs.update(arg_docs(klass) if "__doc__" in vars(klass) else {})
    extra_docs = arg_docs(cls.default_hypermodel)
    entries = _positional_docs(cls)
    default = cls.default_max_trials
    if default != DEFAULT_MAX_TRIALS and "max_trials" in entries:
        why = ": no limit, the strategy's own sizes decide" if default is None else ""
        entries["max_trials"] = f"Maximum number of trials (default {default}{why})."
    summary = inspect.getdoc(cls.default_hypermodel) or ""
    if extra_args:
        first = summary.split("\n\n")[0].replace("\n", " ")
        entries["hypermodel"] = f"{entries['hypermodel'][:-1]}; `None`: {first[:1].lower()}{first[1:]}"
    entries.update(_grouped(strategy_args, strategy_docs, f"See {where}."))
    entries.update(_grouped(extra_args, extra_docs, ""))
    entries["**kwargs"] = cls.kwargs_doc
    about = f"Its strategy is {where}" + ("; the strategy's arguments are keyword-only."
                                          if strategy_args else ".")
    lines = [inspect.cleandoc(cls.__doc__ or cls.__name__), "", *textwrap.wrap(about, _WIDTH), "",
             "Args:"]
    for name, text in entries.items():
        lines += textwrap.wrap(f"{name}: {text}", _WIDTH, initial_indent="    ",
                               subsequent_indent="        ", break_on_hyphens=False)
    return "\n".join(lines) + "\n"


def _positional_docs(cls: type) -> dict[str, str]:
    """Doc entries of the positional arguments, in their order: the common
    ones' text, or that of the `Args` of the subclass `__init__` that
    defines them."""
    own = arg_docs(next(k.__dict__["__init__"] for k in cls.__mro__ if "__init__" in k.__dict__))
    common = {name.strip(): label for label in _COMMON_DOC for name in label.split(",")}
    entries: dict[str, str] = {}
    for parameter in _positional(cls):
        name = parameter.name
        if name in common and common[name] not in entries:
            entries[common[name]] = _COMMON_DOC[common[name]]
        elif name not in common:
            entries[name] = own.get(name, "")
    return entries


def _grouped(params: Mapping[str, inspect.Parameter], docs: Mapping[str, str],
             missing: str) -> dict[str, str]:
    """Doc entries of `params`: consecutive arguments documented together
    ("a, b: ...") stay together; each entry ends with the defaults."""
    groups: list[list[str]] = []
    for name in params:
        if groups and name in docs and docs.get(groups[-1][-1]) == docs[name]:
            groups[-1].append(name)
        else:
            groups.append([name])
    out = {}
    for names in groups:
        defaults = [f"`{params[n].default!r}`" for n in names if params[n].default is not params[n].empty]
        label = "Default" if len(names) == 1 else "Defaults"
        tail = f" {label}: {', '.join(defaults)}." if len(defaults) == len(names) else ""
        out[", ".join(names)] = (docs.get(names[0], missing) + tail).strip()
    return out


def arg_docs(obj: Any) -> dict[str, str]:
    """Each argument's text in the Args section of `obj`'s Google-style
    docstring, on one line; an entry naming several arguments ("a, b: ...")
    gives each of them the text."""
    lines = (inspect.getdoc(obj) or "").splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == "Args:"]
    entries: list[list[str]] = []
    base = None
    for line in lines[starts[0] + 1:] if starts else []:
        if not line.strip():
            if entries:
                break
            continue
        depth = len(line) - len(line.lstrip())
        base = depth if base is None else base
        if depth < base:
            break
        if depth == base or not entries:
            entries.append([line.strip()])
        else:
            entries[-1].append(line.strip())
    out: dict[str, str] = {}
    pending = ""
    for entry in entries:
        line = pending + " ".join(entry)
        names, sep, text = line.partition(": ")
        if not sep and line.endswith(":"):
            names, sep, text = line[:-1], ":", ""
        if not sep:  # the names go on to the next entry's line
            pending = line + " "
            continue
        pending = ""
        out.update(dict.fromkeys((n.strip() for n in names.split(",") if n.strip()), text.strip()))
    return out
