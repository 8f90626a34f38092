"""The training half of `autokeras-nas search`: imports TensorFlow.

Imported only inside the `search` command, after the arguments were checked,
so that `--help` and the listing commands stay light.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import keras
import numpy as np

from autokeras_nas.data import Dataset
from autokeras_nas.spaces.image import image_classifier
from autokeras_nas.tuner import NasTuner

if TYPE_CHECKING:
    from autokeras_nas.cli.search import SearchRun

MODEL_FILENAME = "best_model.keras"


def build_space(dataset: Dataset, strategy: Any = None) -> Any:
    """The default search space for the dataset's kind and the strategy: a
    morphable network for a strategy that grows one (`nash`), a cell space
    for a progressive one (`popnas`, `pnas`), else the small-CNN space for
    images (time series have no other default yet)."""
    if dataset.kind not in ("image", "timeseries"):
        raise ValueError(f"no default search space for {dataset.kind!r} data")
    if hasattr(strategy, "use_network"):
        from autokeras_nas.tuner import MorphHyperModel

        hypermodel = MorphHyperModel(dataset.input_shape, dataset.num_classes)
        strategy.use_network(hypermodel.start)
        return hypermodel
    if hasattr(strategy, "use_cells"):
        from autokeras_nas.tuner import CellHyperModel

        hypermodel = CellHyperModel(dataset.input_shape, dataset.num_classes)
        strategy.use_cells(hypermodel.cells)
        return hypermodel
    if dataset.kind != "image":
        raise ValueError(
            f"no default search space for {dataset.kind} data with strategy "
            f"{getattr(strategy, 'name', strategy)!r}; use --strategy popnas, pnas or nash"
        )
    return image_classifier(dataset.input_shape, dataset.num_classes)


def run_search(
    dataset: Dataset, strategy: Any, run: "SearchRun", progress: Callable[[dict], None]
) -> NasTuner:
    """Searches with `NasTuner` in exactly `run.out_dir`; returns the tuner."""
    keras.utils.set_random_seed(run.seed)
    objectives = list(run.objectives)
    tuner = NasTuner(
        build_space(dataset, strategy),
        strategy=strategy,
        objective=objectives[0] if len(objectives) == 1 else objectives,
        max_trials=run.max_trials,
        early_stopping=run.early_stopping,
        directory=str(run.out_dir.parent),
        project_name=run.out_dir.name,
        overwrite=run.overwrite,
        progress=progress,
    )
    tuner.search(
        dataset.x_train,
        dataset.y_train,
        validation_data=(dataset.x_val, dataset.y_val),
        epochs=run.epochs,
        batch_size=run.batch_size,
        verbose=0,
    )
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
        model.optimizer.build(model.trainable_variables)
    model.save(out_dir / MODEL_FILENAME)
    return test_accuracy
