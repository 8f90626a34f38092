"""Strategy plugins for a search: created with their arguments, and found by
the kind of space they search (`BaseStrategy.space_kinds`).

Imports a plugin only when it is asked for (no TensorFlow).
"""

from __future__ import annotations

from typing import Any, Mapping

from autokeras_nas import plugins
from autokeras_nas.core import SpaceKind
from autokeras_nas.workflow.base import WorkflowError

__all__ = ["declared_kinds", "make_strategy", "strategies_searching"]

#: The kinds of a strategy that declares none: the Strategy protocol's
#: strategies search KerasTuner hyperparameter spaces.
DEFAULT_KINDS = (SpaceKind.HYPERPARAMETERS,)
#: A strategy argument that plans with the search's own time budget.
TIME_BUDGET_ARGUMENT = "time_budget_s"
#: Strategy arguments that take the search's epochs per trial: a one-shot
#: strategy's supernet and retrains are its trials that train.
EPOCHS_ARGUMENTS = ("supernet_epochs", "retrain_epochs")
#: The parameter that wraps any strategy in a zero-cost warm-up.
WARMUP_PARAMETER = "warmup"


def declared_kinds(strategy: Any) -> tuple[SpaceKind, ...]:
    """The kinds of space a strategy (class or instance) declares, preferred first."""
    return tuple(SpaceKind(k) for k in getattr(strategy, "space_kinds", DEFAULT_KINDS))


def _check_params(name: str, cls: type, params: Mapping[str, Any]) -> None:
    if "seed" in params:
        raise WorkflowError(f"cannot create strategy {name!r}: pass the seed as --seed "
                            "(seed=), not as a parameter")
    known, takes_any = plugins.constructor_arguments(cls)
    unknown = [] if takes_any else [p for p in params if p not in known]
    if unknown:
        takes = ", ".join(k for k in known if k != "seed") or "none"
        raise WorkflowError(f"cannot create strategy {name!r}: it takes no argument "
                            f"{unknown[0]!r} (its arguments: {takes})")


def make_strategy(name: str, *, seed: int = 0, params: Mapping[str, Any] | None = None,
                  time_budget: float | None = None, epochs: int | None = None) -> Any:
    """The installed strategy `name`, created with `seed` and `params`.

    A strategy that plans with a time budget of its own (an argument
    `time_budget_s`, as `nash`) is given `time_budget` too, unless `params`
    sets it; one that takes `EPOCHS_ARGUMENTS` (a one-shot strategy's
    supernet and retrain epochs) is given `epochs` (the search's epochs per
    trial) for those `params` leaves out. The parameter `warmup`
    ("PROXIES:POOL[:KEEP]", e.g. "jacob_cov:200") is no strategy's own: it
    wraps the strategy in a zero-cost warm-up
    (`autokeras_nas.core.warmup.ZeroCostWarmup`).

    Raises:
        WorkflowError: an unknown strategy, an argument it does not take, or
            a value it refuses (one line).
    """
    try:
        cls = plugins.load(name)
    except plugins.UnknownStrategyError as e:
        raise WorkflowError(str(e)) from None
    kwargs = dict(params or {})
    warmup = kwargs.pop(WARMUP_PARAMETER, None)
    _check_params(name, cls, kwargs)
    if time_budget is not None and TIME_BUDGET_ARGUMENT not in kwargs \
            and TIME_BUDGET_ARGUMENT in plugins.constructor_arguments(cls)[0]:
        kwargs[TIME_BUDGET_ARGUMENT] = time_budget
    if epochs is not None:
        known = plugins.constructor_arguments(cls)[0]
        kwargs.update({arg: epochs for arg in EPOCHS_ARGUMENTS
                       if arg in known and arg not in kwargs})
    given = "".join(f" {k}={v!r}" for k, v in (params or {}).items())
    detail = f" with{given}" if given else ""
    try:
        strategy = cls(seed=seed, **kwargs)
        if warmup is not None:
            from autokeras_nas.core.warmup import ZeroCostWarmup, parse_warmup

            strategy = ZeroCostWarmup(strategy, **parse_warmup(str(warmup)))
    except (TypeError, ValueError) as e:
        raise WorkflowError(f"cannot create strategy {name!r}{detail}: {e}") from None
    return strategy


def strategies_searching(kind: SpaceKind | str) -> list[str]:
    """The installed strategies that declare spaces of `kind`, by name
    (imports each plugin; one that fails to import is left out)."""
    kind = SpaceKind(kind)
    found = []
    for name in plugins.available():
        try:
            cls = plugins.load(name)
        except Exception:  # a broken third-party plugin: it cannot search anything
            continue
        if kind in declared_kinds(cls):
            found.append(name)
    return found
