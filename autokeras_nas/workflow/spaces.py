"""The search space of a search, chosen by the data and the strategy's
declared space kinds (`BaseStrategy.space_kinds`), and bound to the strategy.

`make_space(dataset, strategy)` gives the default: the first kind the
strategy declares that the data has a default space of (images and time
series: a morphable network, a cell space, the NAS-Bench-201 cell space
for a supernet, or the CNN / 1-D CNN hyperparameter space; tables: the
MLP, with a linear head for a regression target; regression on images or
series has no default). `make_space(dataset, strategy, space)` takes the user's space (an
object, a built-in name such as `nb201`, or `MODULE:NAME` text loaded by
`load_space`), checks that the strategy declares its kind and that it builds
a compiled model for the data. TensorFlow is imported only once the user's
text has loaded (a bad name fails fast).
"""

from __future__ import annotations

from typing import Any, NamedTuple

from autokeras_nas.core import SpaceKind
from autokeras_nas.workflow.strategies import declared_kinds
from autokeras_nas.workflow.userspace import SpaceError, load_space

__all__ = ["DATA_SPACE_KINDS", "BoundSpace", "default_space", "make_space"]

_ALL = (SpaceKind.NETWORK, SpaceKind.CELLS, SpaceKind.SUPERNET, SpaceKind.HYPERPARAMETERS)
#: The kinds of space each kind of data has a default of.
DATA_SPACE_KINDS = {
    "image": _ALL,
    "timeseries": _ALL,
    "tabular": (SpaceKind.HYPERPARAMETERS,),
}


class BoundSpace(NamedTuple):
    """A search space bound to its strategy."""

    #: A `keras_tuner.HyperModel` or a `build_model(hp)` function.
    hypermodel: Any
    #: Its name in messages: e.g. `CNN`, `cell space`, or the user's `MODULE:NAME`.
    name: str
    kind: SpaceKind


def default_space(dataset: Any, strategy: Any) -> BoundSpace:
    """The default space for the dataset's kind, of the first kind the
    strategy declares that the data has a default of, bound to the strategy.

    Raises:
        SpaceError: no default space fits the data and the strategy.
    """
    supported = DATA_SPACE_KINDS.get(dataset.kind)
    if supported is None:
        raise SpaceError(f"no default search space for {dataset.kind!r} data; pass --space")
    if getattr(dataset, "task", "classification") == "regression" and dataset.kind != "tabular":
        raise SpaceError(f"no default search space for regression on {dataset.kind} data (the "
                         "default regressor is the tabular MLP); pass --space with a model "
                         "compiled for regression, or --task classification")
    kinds = declared_kinds(strategy)
    kind = next((k for k in kinds if k in supported), None)
    if kind is None:
        searched = ", ".join(k.value for k in kinds)
        raise SpaceError(f"no default search space for {dataset.kind} data that strategy "
                         f"{strategy.name!r} can search (it searches: {searched}); pass --space")
    from autokeras_nas.workflow import hypermodels

    hypermodel, name, structure = hypermodels.default_hypermodel(dataset, kind)
    if kind is not SpaceKind.HYPERPARAMETERS:
        strategy.use_space(kind, structure)
    return BoundSpace(hypermodel, name, kind)


def _label(space: Any) -> str:
    name = getattr(space, "__qualname__", None) or type(space).__name__
    module = getattr(space, "__module__", None)
    return f"{module}:{name}" if module else name


def make_space(dataset: Any, strategy: Any, space: Any = None, *,
               label: str | None = None) -> BoundSpace:
    """The search space of a search, bound to `strategy`.

    Args:
        dataset: The `autokeras_nas.data.Dataset` searched.
        strategy: The strategy, not yet searching (see `make_strategy`).
        space: None for the default (`default_space`); else the user's
            space as `MODULE:NAME` / `FILE.py:NAME` text, or the object
            itself: a `build_model(hp)` function, a `keras_tuner.HyperModel`
            (class or instance), or a factory taking `input_shape` and/or
            `num_classes`.
        label: The space's name in messages and in the result (default:
            the text, or the object's `module:name`).

    Raises:
        SpaceError: the space cannot be loaded, does not fit the data, is of
            a kind the strategy does not declare (naming the installed
            strategies that do), or does not build a compiled model.
    """
    if space is None:
        return default_space(dataset, strategy)
    if isinstance(space, str):
        label, space = label or space, load_space(space)
    label = label or _label(space)
    from autokeras_nas.workflow import hypermodels

    hypermodel = hypermodels.resolve_space(space, label, dataset)
    kind = hypermodels.bind_space(hypermodel, strategy, label)
    hypermodels.check_space_builds(hypermodel, label, dataset)
    return BoundSpace(hypermodel, label, kind)
