"""The training half of `autokeras-nas search`: imports TensorFlow.

Imported only inside the `search` command, after the arguments were checked,
so that `--help` and the listing commands stay light.

* `make_space`: the search space, the dataset kind's default for the
  strategy, or the user's `--space` resolved and checked against the data
  and the strategy (`SpaceError`, one line, on any mismatch).
* `run_search`: `NasTuner` in exactly `--out`, fed by a tf.data pipeline
  built once for the whole search (see `make_pipeline`).
* `export_best`: the best model, its test accuracy and `best_model.keras`.
"""

from __future__ import annotations

import contextlib
import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import keras
import keras_tuner
from keras_tuner.src import config as kt_config
import numpy as np
import tensorflow as tf

from autokeras_nas.cli.userspace import SpaceError, factory_arguments
from autokeras_nas.data import Dataset
from autokeras_nas.tuner import CellHyperModel, MorphHyperModel, NasTuner, parallel

if TYPE_CHECKING:
    from autokeras_nas.cli.search import SearchRun

MODEL_FILENAME = "best_model.keras"
#: Strategy hooks that a space of their own needs: hook -> (space, strategies).
SPACE_HOOKS = {
    MorphHyperModel: ("use_network", "a morphable network (MorphHyperModel)", "nash"),
    CellHyperModel: ("use_cells", "a cell space (CellHyperModel)", "popnas or pnas"),
}


# -- search spaces -------------------------------------------------------------
def default_space(dataset: Dataset, strategy: Any) -> tuple[Any, str]:
    """The default space for the dataset's kind and the strategy, and its name.

    A strategy that grows networks (`nash`: `use_network`) gets a morphable
    network and a progressive one (`popnas`, `pnas`: `use_cells`) a cell
    space, for images and time series; every other strategy the small CNN
    (`spaces.image`) or the 1-D CNN (`spaces.timeseries`). Tables get the
    MLP of `spaces.tabular` whatever the strategy (`nash` and `popnas` then
    search its hyperparameters in their generic mode).
    """
    shape, classes = dataset.input_shape, dataset.num_classes
    if dataset.kind == "tabular":
        from autokeras_nas.spaces.tabular import tabular_classifier

        x = np.asarray(dataset.x_train, dtype="float64")
        return tabular_classifier(shape, classes, mean=x.mean(axis=0),
                                  variance=x.var(axis=0)), "tabular MLP"
    if dataset.kind not in ("image", "timeseries"):
        raise SpaceError(f"no default search space for {dataset.kind!r} data; pass --space")
    if hasattr(strategy, "use_network"):
        hypermodel = MorphHyperModel(shape, classes)
        strategy.use_network(hypermodel.start)
        return hypermodel, "morphable network"
    if hasattr(strategy, "use_cells"):
        hypermodel = CellHyperModel(shape, classes)
        strategy.use_cells(hypermodel.cells)
        return hypermodel, "cell space"
    if dataset.kind == "timeseries":
        from autokeras_nas.spaces.timeseries import timeseries_classifier

        return timeseries_classifier(shape, classes), "1-D CNN"
    from autokeras_nas.spaces.image import image_classifier

    return image_classifier(shape, classes), "CNN"


def _describe_data(dataset: Dataset) -> str:
    return f"{dataset.name} ({dataset.kind} data, input {tuple(dataset.input_shape)})"


def _call_factory(obj: Any, spec: str, dataset: Dataset, names: list[str]) -> Any:
    given = {"input_shape": tuple(dataset.input_shape), "num_classes": int(dataset.num_classes)}
    try:
        return obj(**{n: given[n] for n in names})
    except (ValueError, TypeError) as e:
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise SpaceError(f"--space {spec} cannot be used with {_describe_data(dataset)}: "
                         f"{first}") from None


def resolve_space(obj: Any, spec: str, dataset: Dataset) -> Any:
    """The hypermodel that `--space` names: a `keras_tuner.HyperModel`, or a
    `build_model(hp)` function; factories (and classes) are called with the
    dataset's `input_shape` / `num_classes`.

    Raises:
        SpaceError: the factory refuses the data, or returns no space.
    """
    if isinstance(obj, keras_tuner.HyperModel):
        return obj
    if inspect.isclass(obj) and not issubclass(obj, keras_tuner.HyperModel):
        raise SpaceError(f"--space {spec}: the class {obj.__name__} is not a "
                         "keras_tuner.HyperModel")
    names = factory_arguments(obj)
    if names is None:
        return obj  # build_model(hp)
    made = _call_factory(obj, spec, dataset, names)
    if isinstance(made, keras_tuner.HyperModel) or (callable(made) and not inspect.isclass(made)):
        return made
    raise SpaceError(f"--space {spec} returned a {type(made).__name__}, not a build_model(hp) "
                     "function or a keras_tuner.HyperModel")


def bind_strategy(hypermodel: Any, strategy: Any, strategy_name: str, spec: str) -> None:
    """Gives a strategy the space it needs (`use_network`, `use_cells`).

    Raises:
        SpaceError: the space needs a strategy of its own and this is not one.
    """
    for cls, (hook, what, strategies) in SPACE_HOOKS.items():
        if not isinstance(hypermodel, cls):
            continue
        if not hasattr(strategy, hook):
            raise SpaceError(f"--space {spec} is {what}: --strategy {strategy_name} cannot "
                             f"search it; use --strategy {strategies}")
        getattr(strategy, hook)(hypermodel.start if hook == "use_network" else hypermodel.cells)


def _first_line(error: BaseException) -> str:
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    return f"{type(error).__name__}: {lines[0][:300]}" if lines else type(error).__name__


def check_space_builds(hypermodel: Any, spec: str, dataset: Dataset) -> None:
    """Builds one model with the default hyperparameters, as trial 0 would, and
    checks that it is a compiled Keras model taking the dataset's inputs.

    Raises:
        SpaceError: naming what is wrong, in one line.
    """
    build = hypermodel.build if isinstance(hypermodel, keras_tuner.HyperModel) else hypermodel
    try:
        model = build(keras_tuner.HyperParameters())
    except Exception as e:
        raise SpaceError(f"--space {spec}: building a model with the default hyperparameters "
                         f"failed: {_first_line(e)}") from None
    try:
        if not isinstance(model, keras.Model):
            raise SpaceError(f"--space {spec}: building returned a {type(model).__name__}, "
                             "not a keras.Model")
        if getattr(model, "optimizer", None) is None:
            raise SpaceError(f"--space {spec}: the model is not compiled; call "
                             "model.compile(optimizer, loss, metrics) in build_model")
        _check_input_shape(model, spec, dataset)
    finally:
        keras.backend.clear_session()


def _check_input_shape(model: Any, spec: str, dataset: Dataset) -> None:
    try:
        inputs = model.inputs
    except (AttributeError, ValueError):
        return  # a Sequential without an Input layer: built on the data
    if not inputs or len(inputs) != 1:
        return
    shape = tuple(inputs[0].shape[1:])
    wanted = tuple(dataset.input_shape)
    if len(shape) != len(wanted) or any(s is not None and s != w for s, w in zip(shape, wanted)):
        raise SpaceError(f"--space {spec}: the model takes inputs of shape {shape}, but "
                         f"{dataset.name} ({dataset.kind} data) has inputs of shape {wanted}")


def make_space(dataset: Dataset, strategy: Any, strategy_name: str,
               user: Any = None, spec: str | None = None) -> tuple[Any, str]:
    """The search space and a short name for it: the default for the data
    and the strategy, or the user's (`user`, loaded from `--space spec`)
    resolved, bound to the strategy and built once to check it.

    Raises:
        SpaceError: the space cannot be used with this data or strategy.
    """
    if user is None:
        return default_space(dataset, strategy)
    hypermodel = resolve_space(user, spec, dataset)
    bind_strategy(hypermodel, strategy, strategy_name, spec)
    check_space_builds(hypermodel, spec, dataset)
    return hypermodel, spec


def build_space(dataset: Dataset, strategy: Any = None, space: str | None = None) -> Any:
    """The space a search used, rebuilt (e.g. by `export`): the default for the
    data and the strategy, or `--space` (`summary.json`'s `"space"`).

    Raises:
        ValueError: (`SpaceError`) the space cannot be loaded or used.
    """
    from autokeras_nas.cli.userspace import load_space

    user = None if space is None else load_space(space)
    name = str(getattr(strategy, "name", strategy))
    return make_space(dataset, strategy, name, user, space)[0]


# -- data and search --------------------------------------------------------------
def make_pipeline(x: np.ndarray, y: np.ndarray, batch_size: int, *, shuffle: bool,
                  seed: int) -> tf.data.Dataset:
    """A tf.data pipeline over arrays, built once and reused by every trial:
    tensors -> cache -> (shuffle, a new order every epoch) -> batch -> prefetch.

    Keras would otherwise convert the arrays into a new pipeline in every
    `fit`; the shuffle buffer holds the whole set, as Keras' own shuffle.
    """
    data = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle:
        data = data.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _tensorboard(log_dir: Path | None) -> list[Any]:
    """KerasTuner gives every trial its own log dir (`DIR/TRIAL_ID/execution0`)
    and adds TensorBoard's HParams callback to a `TensorBoard` it finds."""
    return [] if log_dir is None else [keras.callbacks.TensorBoard(log_dir=str(log_dir))]


def run_search(
    dataset: Dataset,
    strategy: Any,
    run: "SearchRun",
    progress: Callable[[dict], None],
    hypermodel: Any,
    *,
    tuner_kwargs: dict[str, Any] | None = None,
) -> NasTuner:
    """Searches with `NasTuner` in exactly `run.out_dir`; returns the tuner.

    Raises:
        SearchDirectoryError: `--out` cannot be resumed.
        RuntimeError: the search stopped (too many failed trials, or
            KerasTuner's fatal errors, with their message).
    """
    keras.utils.set_random_seed(run.seed)
    # A failed trial's reason goes to results.json and its progress line; the
    # whole traceback stays in its trial.json, not on stderr.
    kt_config.DEBUG = False
    objectives = list(run.objectives)
    tuner = NasTuner(
        hypermodel,
        strategy=strategy,
        objective=objectives[0] if len(objectives) == 1 else objectives,
        max_trials=run.max_trials,
        early_stopping=run.early_stopping,
        time_budget=run.time_budget,
        directory=str(run.out_dir.parent),
        project_name=run.out_dir.name,
        overwrite=run.overwrite,
        progress=progress,
        trial_timeout=run.trial_timeout,
        max_consecutive_failed_trials=run.max_failures,
        distribution_strategy=parallel.distribution_strategy(run.distribute),
        **(tuner_kwargs or {}),
    )
    train = make_pipeline(dataset.x_train, dataset.y_train, run.batch_size, shuffle=True,
                          seed=run.seed)
    fit_kwargs: dict[str, Any] = {}
    if len(dataset.y_val):
        fit_kwargs["validation_data"] = make_pipeline(dataset.x_val, dataset.y_val,
                                                      run.batch_size, shuffle=False, seed=run.seed)
    try:
        tuner.search(train, epochs=run.epochs, shuffle=False, verbose=0,
                     callbacks=_tensorboard(run.tensorboard), **fit_kwargs)
    except keras_tuner.errors.FatalError as e:
        raise RuntimeError(_first_line(e)) from None
    return tuner


def accuracy(model: Any, x: np.ndarray, y: np.ndarray, batch_size: int) -> float:
    """Top-1 accuracy of a classifier's predictions."""
    predictions = model.predict(x, batch_size=batch_size, verbose=0)
    return float(np.mean(np.argmax(predictions, axis=-1) == y))


def export_best(tuner: NasTuner, dataset: Dataset, out_dir: Path, batch_size: int) -> float:
    """Saves the best model as `out_dir/best_model.keras`; returns its test accuracy.

    Raises:
        RuntimeError: No trial produced a model.
    """
    models = tuner.get_best_models(1)
    if not models:
        raise RuntimeError("no trial produced a model")
    model = models[0]
    test_accuracy = accuracy(model, dataset.x_test, dataset.y_test, batch_size)
    if model.optimizer is not None and not model.optimizer.built:
        # Saved with its (fresh) slots, so that loading the file warns of no mismatch.
        strategy = tuner.distribution_strategy
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            model.optimizer.build(model.trainable_variables)
    model.save(out_dir / MODEL_FILENAME)
    return test_accuracy
