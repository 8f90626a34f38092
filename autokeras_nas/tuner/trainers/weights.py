"""Weights between trials: atomic checkpoints and inheriting a parent's."""

from __future__ import annotations

from typing import Any

import numpy as np

from autokeras_nas.results import replacing


def save_weights_atomic(model: Any, path: str) -> None:
    """Saves `model`'s weights (optimizer state included) to `path`
    atomically: a crash leaves the old file or the new."""
    with replacing(path) as tmp:
        model.save_weights(tmp)


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

    A hypermodel with a method `inherit(hp, model, parent_model, parent_hp,
    x)` does it itself (network morphisms transfer weights exactly and
    measure on `x`, a batch of training inputs, that the function is
    preserved) and what it returns becomes the trial's outputs; otherwise
    the layers whose name and weight shapes match are copied, counted in
    the metric `inherited_layers`.

    Returns:
        (metrics, outputs); both empty without a parent.
    """
    if parent is None:
        return {}, {}
    hook = getattr(hypermodel, "inherit", None)
    if callable(hook):
        found = hook(hp, model, parent.model, parent.hyperparameters, sample_inputs(args, kwargs))
        return {}, {k: v.item() if isinstance(v, np.generic) else v
                    for k, v in (found or {}).items()}
    return {"inherited_layers": float(copy_matching_weights(model, parent.model))}, {}
