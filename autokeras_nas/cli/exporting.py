"""The TensorFlow half of `autokeras-nas export` (see `autokeras_nas.cli.export`).

Rebuilds a trial's model without a tuner and without writing to the search
directory, optionally retrains its architecture from scratch, writes the
chosen formats, loads each file back and evaluates it on the test split.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import click
import keras
import keras_tuner
import numpy as np
import tensorflow as tf

from autokeras_nas.cli import training
from autokeras_nas.cli.errors import fail

KERAS_FILENAME = "model.keras"
SAVEDMODEL_DIRNAME = "saved_model"
TFLITE_FILENAME = "model.tflite"
MANIFEST_FILENAME = "export.json"
#: Largest difference, in accuracy points, expected between a reloaded
#: export and the search's own number (float32 round-off, a few samples).
TOLERANCE_POINTS = 0.5


@dataclass(frozen=True)
class ExportJob:
    """The checked arguments of one `export` invocation."""

    directory: Path
    results: Mapping[str, Any]
    trial: Mapping[str, Any]
    summary: Mapping[str, Any]
    dataset: Any
    formats: list[str]
    out: Path
    retrain_epochs: int | None = None

    @property
    def trial_id(self) -> str:
        return str(self.trial["trial_id"])

    @property
    def seed(self) -> int:
        return int(self.summary.get("seed", 0))

    @property
    def batch_size(self) -> int:
        return int(self.summary.get("batch_size", 32))


class _FunctionHyperModel(keras_tuner.HyperModel):
    """A `build_model(hp)` function as a HyperModel (as KerasTuner wraps one)."""

    def __init__(self, build: Any) -> None:
        super().__init__()
        self._build = build

    def build(self, hp: Any) -> Any:
        return self._build(hp)


def make_hypermodel(job: ExportJob) -> Any:
    """The search space `autokeras-nas search` used: its `--space` when
    summary.json records one under "space", else the default for the
    dataset and strategy; bound to the strategy as in the search."""
    from autokeras_nas import plugins
    from autokeras_nas.cli.userspace import SpaceError, load_space

    name = str(job.summary.get("strategy") or job.results.get("strategy"))
    spec = job.summary.get("space")
    try:
        strategy = plugins.load(name)(seed=job.seed)
    except plugins.UnknownStrategyError as e:
        fail(f"cannot rebuild the search space: {e}")
    try:
        user = load_space(spec) if spec else None
        space, _ = training.make_space(job.dataset, strategy, name, user, spec)
    except SpaceError as e:
        fail(f"cannot rebuild the search space: {e}")
    return space if isinstance(space, keras_tuner.HyperModel) else _FunctionHyperModel(space)


def trial_hyperparameters(trial_dir: Path) -> Any:
    """The trial's `keras_tuner.HyperParameters` (reserved `nas/` keys included)."""
    from keras_tuner.engine import trial as trial_module

    try:
        return trial_module.Trial.load(str(trial_dir / "trial.json")).hyperparameters
    except (OSError, ValueError, KeyError, TypeError) as e:
        fail(f"cannot read {trial_dir.name}/trial.json: {type(e).__name__}: {e}")


def load_trial_model(hypermodel: Any, hp: Any, trial_dir: Path) -> keras.Model:
    """The trial's model with its best checkpoint's weights, as KerasTuner's
    `Tuner.load_model` builds it."""
    model = hypermodel.build(hp)
    config = trial_dir / "build_config.json"
    if not model.built and config.is_file():
        model.build_from_config(json.loads(config.read_text()))
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            model.load_weights(str(trial_dir / "checkpoint.weights.h5"))
    except (ValueError, OSError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        fail(f"the weights of {trial_dir.name} do not fit the rebuilt model: {first}")
    return model


def retrain(job: ExportJob, hypermodel: Any, hp: Any) -> tuple[keras.Model, float]:
    """The trial's architecture trained from scratch on train + validation
    data (seeded by the search's seed); returns (model, seconds)."""
    ds = job.dataset
    keras.utils.set_random_seed(job.seed)
    model = hypermodel.build(hp)
    data = training.make_pipeline(np.concatenate([ds.x_train, ds.x_val]),
                                  np.concatenate([ds.y_train, ds.y_val]), job.batch_size,
                                  shuffle=True, seed=job.seed)
    t0 = time.perf_counter()
    hypermodel.fit(hp, model, data, epochs=job.retrain_epochs, shuffle=False, verbose=0)
    return model, time.perf_counter() - t0


def save_keras(model: keras.Model, path: Path) -> None:
    """`model.save` with the optimizer's slots built (no mismatch warning on load)."""
    if model.optimizer is not None and not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    model.save(path)


def save_savedmodel(model: keras.Model, path: Path) -> None:
    """A TF SavedModel with a `serve` endpoint (replacing a previous export)."""
    if path.exists():
        shutil.rmtree(path)  # checked to be a SavedModel by the light half
    model.export(str(path), format="tf_saved_model", verbose=False)


def convert_tflite(saved_model: Path, path: Path) -> float:
    """Converts a SavedModel to TFLite; returns the conversion's seconds."""
    t0 = time.perf_counter()
    converter = tf.lite.TFLiteConverter.from_saved_model(str(saved_model))
    path.write_bytes(converter.convert())
    return time.perf_counter() - t0


def _top1(predictions: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(predictions, axis=-1) == y))


def savedmodel_accuracy(path: Path, x: np.ndarray, y: np.ndarray, batch_size: int) -> float:
    loaded = tf.saved_model.load(str(path))
    batches = [loaded.serve(tf.constant(x[i:i + batch_size])).numpy()
               for i in range(0, len(x), batch_size)]
    return _top1(np.concatenate(batches), y)


def tflite_accuracy(path: Path, x: np.ndarray, y: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation notice
        interpreter = tf.lite.Interpreter(model_path=str(path))
    source = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(source["index"], (len(x),) + tuple(x.shape[1:]))
    interpreter.allocate_tensors()
    interpreter.set_tensor(source["index"], x.astype(source["dtype"]))
    interpreter.invoke()
    return _top1(interpreter.get_tensor(interpreter.get_output_details()[0]["index"]), y)


def _reported(job: ExportJob) -> dict[str, float]:
    """Accuracies the search reported for this trial's model."""
    if job.retrain_epochs:
        return {}
    out = {}
    val = (job.trial.get("metrics") or {}).get("val_accuracy")
    if isinstance(val, (int, float)):
        out["val_accuracy"] = float(val)
    test = job.summary.get("test_accuracy")
    if str(job.summary.get("best_trial_id")) == job.trial_id and isinstance(test, (int, float)):
        out["test_accuracy"] = float(test)
    return out


def _compare(name: str, reported: float, measured: float) -> None:
    diff = round(100.0 * (measured - reported), 2) + 0.0  # no "-0.00"
    click.echo(f"search reported {name} {reported:.4f}; the export gives {measured:.4f} "
               f"({diff:+.2f} points)")
    if abs(diff) > TOLERANCE_POINTS:
        click.echo(f"warning: {name} differs by more than {TOLERANCE_POINTS} points", err=True)


def _export_files(job: ExportJob, model: keras.Model, manifest: dict[str, Any]) -> keras.Model:
    """Writes and evaluates every chosen format; returns the model whose
    validation accuracy is compared (the reloaded .keras when written)."""
    ds, files, acc = job.dataset, manifest["files"], manifest["test_accuracy"]
    checked = model
    if "keras" in job.formats:
        path = job.out / KERAS_FILENAME
        save_keras(model, path)
        checked = keras.saving.load_model(path, safe_mode=True)
        files["keras"], acc["keras"] = str(path), training.accuracy(
            checked, ds.x_test, ds.y_test, job.batch_size)
        click.echo(f"{path}  (reloaded with safe_mode=True): test accuracy {acc['keras']:.4f}")
    if "savedmodel" in job.formats or "tflite" in job.formats:
        with tempfile.TemporaryDirectory() as tmp:
            saved = (job.out / SAVEDMODEL_DIRNAME if "savedmodel" in job.formats
                     else Path(tmp) / SAVEDMODEL_DIRNAME)
            save_savedmodel(model, saved)
            if "savedmodel" in job.formats:
                files["savedmodel"] = str(saved)
                acc["savedmodel"] = savedmodel_accuracy(saved, ds.x_test, ds.y_test,
                                                        job.batch_size)
                click.echo(f"{saved}  (SavedModel, `serve`): test accuracy "
                           f"{acc['savedmodel']:.4f}")
            if "tflite" in job.formats:
                path = job.out / TFLITE_FILENAME
                manifest["tflite_convert_s"] = round(convert_tflite(saved, path), 3)
                files["tflite"], acc["tflite"] = str(path), tflite_accuracy(
                    path, ds.x_test, ds.y_test)
                click.echo(f"{path}  (converted in {manifest['tflite_convert_s']:.1f} s): "
                           f"test accuracy {acc['tflite']:.4f}")
    return checked


def run_export(job: ExportJob) -> dict[str, Any]:
    """Exports, evaluates and compares; writes and returns the manifest."""
    trial_dir = job.directory / f"trial_{job.trial_id}"
    hypermodel = make_hypermodel(job)
    hp = trial_hyperparameters(trial_dir)
    manifest: dict[str, Any] = {
        "directory": str(job.directory), "trial_id": job.trial_id,
        "dataset": job.summary["dataset"], "seed": job.seed,
        "retrain_epochs": job.retrain_epochs, "files": {}, "test_accuracy": {},
    }
    click.echo(f"exporting trial {job.trial_id} of {job.directory} -> {job.out}")
    if job.retrain_epochs:
        model, seconds = retrain(job, hypermodel, hp)
        n = len(job.dataset.y_train) + len(job.dataset.y_val)
        manifest["retrain_s"] = round(seconds, 3)
        click.echo(f"retrained its architecture from scratch: {job.retrain_epochs} epochs on "
                   f"{n} training + validation samples in {seconds:.1f} s (not compared with "
                   "the search's numbers, which are of the trial's own training)")
    else:
        model = load_trial_model(hypermodel, hp, trial_dir)
    job.out.mkdir(parents=True, exist_ok=True)
    checked = _export_files(job, model, manifest)
    reported = _reported(job)
    manifest["reported"] = reported
    if "test_accuracy" in reported and manifest["test_accuracy"]:
        _compare("test accuracy", reported["test_accuracy"],
                 next(iter(manifest["test_accuracy"].values())))
    if "val_accuracy" in reported and len(job.dataset.y_val):
        manifest["val_accuracy"] = training.accuracy(checked, job.dataset.x_val,
                                                     job.dataset.y_val, job.batch_size)
        _compare("val_accuracy", reported["val_accuracy"], manifest["val_accuracy"])
    path = job.out / MANIFEST_FILENAME
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    click.echo(f"manifest: {path}")
    return manifest
