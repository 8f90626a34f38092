"""The Keras side of `make_space`: default hypermodels, the user's space
resolved, bound to the strategy, and built once to check it. Imports
TensorFlow; `autokeras_nas.workflow.spaces` imports this module only once a
space is made.
"""

from __future__ import annotations

import inspect
from typing import Any

import keras
import keras_tuner
import numpy as np

from autokeras_nas.core import SpaceKind
from autokeras_nas.tuner import CellHyperModel, MorphHyperModel, space_of
from autokeras_nas.workflow.base import first_line
from autokeras_nas.workflow.strategies import declared_kinds, strategies_searching
from autokeras_nas.workflow.userspace import SpaceError, factory_arguments

__all__ = ["FunctionHyperModel", "bind_space", "check_space_builds", "default_hypermodel",
           "resolve_space"]

#: How an error names a space of each kind.
DESCRIPTIONS = {
    SpaceKind.HYPERPARAMETERS: "a hyperparameter space",
    SpaceKind.NETWORK: "a morphable network (MorphHyperModel)",
    SpaceKind.CELLS: "a cell space (CellHyperModel)",
    SpaceKind.SUPERNET: "a supernet",
}


class FunctionHyperModel(keras_tuner.HyperModel):
    """A `build_model(hp)` function as a HyperModel (as KerasTuner wraps one)."""

    def __init__(self, build: Any) -> None:
        super().__init__()
        self._build = build

    def build(self, hp: Any) -> Any:
        return self._build(hp)


# -- defaults -----------------------------------------------------------------------
def default_hypermodel(dataset: Any, kind: SpaceKind) -> tuple[Any, str, Any]:
    """The default space of `kind` for the dataset: (hypermodel, name, the
    structure a strategy is given, or None for a hyperparameter space).

    Structured kinds: a morphable network, a cell space or (`SUPERNET`) the
    NAS-Bench-201 cell space of the data's shape (`spaces.nb201`, 2-D for
    images, 1-D for series; its structure is its choices, name -> operations).
    Hyperparameters: the MLP of `spaces.tabular` for tables (with the
    training data's statistics; `tabular_regressor`, with the training
    target's too, for a regression dataset), the 1-D CNN of `spaces.timeseries` for time
    series, the small CNN of `spaces.image` for images.
    """
    shape, classes = dataset.input_shape, dataset.num_classes
    if kind is SpaceKind.NETWORK:
        hypermodel = MorphHyperModel(shape, classes)
        return hypermodel, "morphable network", hypermodel.start
    if kind is SpaceKind.CELLS:
        hypermodel = CellHyperModel(shape, classes)
        return hypermodel, "cell space", hypermodel.cells
    if kind is SpaceKind.SUPERNET:
        from autokeras_nas.spaces.nb201 import Nb201Space

        hypermodel = Nb201Space(input_shape=shape, num_classes=classes)
        return hypermodel, "NAS-Bench-201 cell space", hypermodel.choices
    if dataset.kind == "tabular":
        from autokeras_nas.spaces.tabular import tabular_classifier, tabular_regressor

        x = np.asarray(dataset.x_train, dtype="float64")
        if getattr(dataset, "task", "classification") == "regression":
            y = np.asarray(dataset.y_train, dtype="float64")
            return tabular_regressor(shape, mean=x.mean(axis=0), variance=x.var(axis=0),
                                     target_mean=float(y.mean()), target_std=float(y.std())
                                     ), "tabular MLP regressor", None
        return tabular_classifier(shape, classes, mean=x.mean(axis=0),
                                  variance=x.var(axis=0)), "tabular MLP", None
    if dataset.kind == "timeseries":
        from autokeras_nas.spaces.timeseries import timeseries_classifier

        return timeseries_classifier(shape, classes), "1-D CNN", None
    from autokeras_nas.spaces.image import image_classifier

    return image_classifier(shape, classes), "CNN", None


# -- the user's space -------------------------------------------------------------------
def _describe_data(dataset: Any) -> str:
    return f"{dataset.name} ({dataset.kind} data, input {tuple(dataset.input_shape)})"


def _call_factory(obj: Any, label: str, dataset: Any, names: list[str]) -> Any:
    given = {"input_shape": tuple(dataset.input_shape), "num_classes": int(dataset.num_classes)}
    try:
        return obj(**{n: given[n] for n in names})
    except (ValueError, TypeError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise SpaceError(f"--space {label} cannot be used with {_describe_data(dataset)}: "
                         f"{first}") from None


def resolve_space(obj: Any, label: str, dataset: Any) -> Any:
    """The hypermodel a user's space names: a `keras_tuner.HyperModel`, or a
    `build_model(hp)` function; factories (and classes) are called with the
    dataset's `input_shape` / `num_classes`.

    Raises:
        SpaceError: the factory refuses the data, or returns no space.
    """
    if isinstance(obj, keras_tuner.HyperModel):
        return obj
    if inspect.isclass(obj) and not issubclass(obj, keras_tuner.HyperModel):
        raise SpaceError(f"--space {label}: the class {obj.__name__} is not a "
                         "keras_tuner.HyperModel")
    names = factory_arguments(obj)
    if names is None:
        return obj  # build_model(hp)
    made = _call_factory(obj, label, dataset, names)
    if isinstance(made, keras_tuner.HyperModel) or (callable(made) and not inspect.isclass(made)):
        return made
    raise SpaceError(f"--space {label} returned a {type(made).__name__}, not a build_model(hp) "
                     "function or a keras_tuner.HyperModel")


def _either(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def bind_space(hypermodel: Any, strategy: Any, label: str) -> SpaceKind:
    """Binds the strategy to the space (`use_space` for a structured kind);
    returns the space's kind.

    Raises:
        SpaceError: the strategy does not declare the space's kind; the
            message names the installed strategies that do.
    """
    kind, structure = space_of(hypermodel)
    if kind not in declared_kinds(strategy):
        able = strategies_searching(kind)
        hint = f"use --strategy {_either(able)}" if able else "no installed strategy can"
        raise SpaceError(f"--space {label} is {DESCRIPTIONS[kind]}: --strategy {strategy.name} "
                         f"cannot search it; {hint}")
    if kind is not SpaceKind.HYPERPARAMETERS:
        strategy.use_space(kind, structure)
    return kind


def check_space_builds(hypermodel: Any, label: str, dataset: Any) -> None:
    """Builds one model with the default hyperparameters, as trial 0 would, and
    checks that it is a compiled Keras model taking the dataset's inputs.

    Raises:
        SpaceError: naming what is wrong, in one line.
    """
    build = hypermodel.build if isinstance(hypermodel, keras_tuner.HyperModel) else hypermodel
    try:
        model = build(keras_tuner.HyperParameters())
    except Exception as e:
        raise SpaceError(f"--space {label}: building a model with the default hyperparameters "
                         f"failed: {first_line(e)}") from None
    try:
        if not isinstance(model, keras.Model):
            raise SpaceError(f"--space {label}: building returned a {type(model).__name__}, "
                             "not a keras.Model")
        if getattr(model, "optimizer", None) is None:
            raise SpaceError(f"--space {label}: the model is not compiled; call "
                             "model.compile(optimizer, loss, metrics) in build_model")
        _check_input_shape(model, label, dataset)
    finally:
        keras.backend.clear_session()


def _check_input_shape(model: Any, label: str, dataset: Any) -> None:
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return  # a Sequential without an Input layer: built on the data
    if not inputs or len(inputs) != 1:
        return
    shape = tuple(inputs[0].shape[1:])
    wanted = tuple(dataset.input_shape)
    if len(shape) != len(wanted) or any(s is not None and s != w for s, w in zip(shape, wanted)):
        raise SpaceError(f"--space {label}: the model takes inputs of shape {shape}, but "
                         f"{dataset.name} ({dataset.kind} data) has inputs of shape {wanted}")
