"""Weights between trials: atomic checkpoints, inheriting a parent's, and
creating a model's training variables before `fit` (`build_training_state`,
with Adam's update fused: `prepare_fit`)."""

from __future__ import annotations

import contextlib
import os
import shutil
from typing import Any

import numpy as np

from autokeras_nas.results import replacing
from autokeras_nas.tuner.trainers.fused_adam import fuse_adam


def save_weights_atomic(model: Any, path: str) -> None:
    """Saves `model`'s weights (optimizer state included) to `path`
    atomically: a crash leaves the old file or the new."""
    with replacing(path) as tmp:
        model.save_weights(tmp)


def copy_weights_file(source: str, path: str) -> None:
    """Makes `path` a copy of the weights file `source`, atomically (as
    `save_weights_atomic`): a hard link where the file system allows one,
    else a byte copy; either is much cheaper than saving the model again.
    `source` may be replaced later (it is never written in place)."""
    with replacing(path) as tmp:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)


def copy_matching_weights(model: Any, source: Any) -> int:
    """Copies the weights of `source`'s layers into the layers of `model`
    whose name and weight shapes match; returns how many layers."""
    weights = {layer.name: layer.get_weights() for layer in source.layers}
    n = 0
    for layer in model.layers:
        found = weights.get(layer.name)
        target = layer.get_weights()
        if found and len(found) == len(target) and all(
            s.shape == t.shape for s, t in zip(found, target)
        ):
            layer.set_weights(found)
            n += 1
    return n


def training_inputs(args: tuple, kwargs: dict) -> Any:
    """The training inputs `x` of `fit(*args, **kwargs)`."""
    return args[0] if args else kwargs.get("x")


def training_labels(args: tuple, kwargs: dict) -> Any:
    """The training labels `y` of `fit(*args, **kwargs)` (None when the
    inputs carry them, as a dataset of `(x, y)` batches does)."""
    return args[1] if len(args) > 1 else kwargs.get("y")


def _batch_spec(args: tuple, kwargs: dict) -> tuple | None:
    """One batch's structure of `fit(*args, **kwargs)`: a dataset's
    `(x, y[, sample_weight])` element spec, or the first rows of arrays;
    None for other data (a generator, a dataset without labels)."""
    x = training_inputs(args, kwargs)
    spec = getattr(x, "element_spec", None)
    if spec is not None:
        return tuple(spec) if isinstance(spec, tuple) and len(spec) in (2, 3) else None
    y = training_labels(args, kwargs)
    if isinstance(x, np.ndarray) and isinstance(y, np.ndarray) and len(x) and len(y):
        return x[:1], y[:1]
    return None


def build_optimizer(model: Any, strategy: Any = None) -> None:
    """Creates the optimizer slots of a compiled `model` that has none yet
    (under `strategy`'s scope when given), so that its weights file holds
    them: a checkpoint loads into it, and a saved model reloads without
    an optimizer mismatch warning. A model without optimizer is left as is."""
    optimizer = getattr(model, "optimizer", None)  # None or absent: not compiled
    if optimizer is not None and not optimizer.built:
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            optimizer.build(model.trainable_variables)


def build_training_state(model: Any, args: tuple, kwargs: dict) -> bool:
    """Creates, before `fit`, the variables `fit` would otherwise create
    inside its first traced step: the compiled metrics' and loss's state and
    the optimizer's slots, shaped from the training data's batch structure
    (symbolically: no data is read and no value changes).

    TensorFlow traces a step function that creates variables twice (once
    creating them, once more without), so a model fitted unprepared traces
    its training step twice; prepared, once. Keras does the same itself
    only under a distribution strategy. A model that is not built yet, has
    no optimizer, or whose data has no batch structure is left as it is
    (`fit` then creates the variables, as it always does).

    Returns:
        Whether the variables were created here.
    """
    build = getattr(model, "_symbolic_build", None)
    if not getattr(model, "built", False) or getattr(model, "optimizer", None) is None \
            or build is None:
        return False
    batch = _batch_spec(args, kwargs)
    if batch is None:
        return False
    strategy = getattr(model, "distribute_strategy", None)
    try:
        with strategy.scope() if strategy is not None else contextlib.nullcontext():
            build(data_batch=batch)
    except Exception:  # noqa: BLE001 - fit builds what is missing, as without this
        return False
    return True


def prepare_fit(model: Any, args: tuple, kwargs: dict) -> None:
    """What a trial does to a model before `fit(*args, **kwargs)`: its
    training state made (`build_training_state`: one trace of the step, not
    two) and an Adam optimizer's update fused into one op per variable
    (`autokeras_nas.tuner.trainers.fused_adam`: a cheaper trace)."""
    build_training_state(model, args, kwargs)
    fuse_adam(getattr(model, "optimizer", None))


def sample_inputs(args: tuple, kwargs: dict, n: int = 32) -> Any:
    """Up to `n` training inputs from `fit`'s arguments (arrays or a
    tf.data.Dataset of batches), or None."""
    x = training_inputs(args, kwargs)
    if isinstance(x, np.ndarray):
        return x[:n]
    if hasattr(x, "take") and hasattr(x, "element_spec"):
        batch = next(iter(x.take(1)), None)
        if isinstance(batch, (tuple, list)):
            batch = batch[0]
        return None if batch is None else np.asarray(batch)[:n]
    return None


def inherit(hypermodel: Any, hp: Any, model: Any, parent: Any,
            args: tuple, kwargs: dict) -> tuple[dict[str, float], dict[str, Any]]:
    """Starts `model` from its parent's weights.

    A parent that is a weight-sharing supernet (it holds mixed operations)
    gives `model` the weights of its chosen candidates and of the layers
    outside the choices (`autokeras_nas.oneshot.inherit_supernet_weights`),
    counted in the metric `inherited_layers`. Otherwise a hypermodel with a
    method `inherit(hp, model, parent_model, parent_hp, x)` does it itself
    (network morphisms transfer weights exactly and
    measure on `x`, a batch of training inputs, that the function is
    preserved) and what it returns becomes the trial's outputs; otherwise
    the layers whose name and weight shapes match are copied, counted in
    the metric `inherited_layers`.

    Returns:
        (metrics, outputs); both empty without a parent.
    """
    if parent is None:
        return {}, {}
    from autokeras_nas import oneshot

    if oneshot.mixed_ops(parent.model):  # a supernet: its chosen candidates, nested
        return {"inherited_layers": float(oneshot.inherit_supernet_weights(model,
                                                                           parent.model))}, {}
    hook = getattr(hypermodel, "inherit", None)
    if callable(hook):
        found = hook(hp, model, parent.model, parent.hyperparameters, sample_inputs(args, kwargs))
        return {}, {k: v.item() if isinstance(v, np.generic) else v
                    for k, v in (found or {}).items()}
    return {"inherited_layers": float(copy_matching_weights(model, parent.model))}, {}
