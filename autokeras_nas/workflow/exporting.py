"""The Keras side of `export` (see `autokeras_nas.workflow.exports`): imports
TensorFlow.

Rebuilds a trial's model without a tuner and without writing to the search
directory, optionally retrains its architecture from scratch, writes the
chosen formats (and a quantized TFLite model, compared with the float one:
`autokeras_nas.tuner.trainers.tflite`), loads each file back and evaluates it on the test split:
accuracy, or for a regression search (summary.json's `task`) MAE and RMSE
in the target's units (`autokeras_nas.workflow.scores`).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any, Callable

import keras
import keras_tuner
import numpy as np
import tensorflow as tf

from autokeras_nas.tuner import train_from_scratch
from autokeras_nas.tuner.trainers import tflite
from autokeras_nas.tuner.trainers.weights import build_optimizer
from autokeras_nas.workflow.base import MODEL_FILENAME, WorkflowError, write_json
from autokeras_nas.workflow.exportplan import Comparison, ExportJob, ExportResult
from autokeras_nas.workflow.hypermodels import FunctionHyperModel
from autokeras_nas.workflow.scores import PRIMARY, describe_scores, score, task_of
from autokeras_nas.workflow.spaces import make_space
from autokeras_nas.workflow.strategies import make_strategy
from autokeras_nas.workflow.training import (
    all_training_data,
    as_array,
    make_pipeline,
    test_scores,
)

__all__ = ["convert_tflite", "load_trial_model", "make_hypermodel", "retrain", "run_export",
           "save_keras", "save_savedmodel", "trial_hyperparameters"]

KERAS_FILENAME = "model.keras"
SAVEDMODEL_DIRNAME = "saved_model"
TFLITE_FILENAME = "model.tflite"
#: The quantized TFLite model, by quantization.
QUANTIZED_FILENAME = "model_{}.tflite"
MANIFEST_FILENAME = "export.json"
Step = Callable[[str], None]


def make_hypermodel(job: ExportJob, dataset: Any) -> keras_tuner.HyperModel:
    """The search space the search used, as summary.json records it (its
    `space`, else the default for the dataset and strategy, with the
    strategy's `params`), bound to the strategy as in the search.

    Raises:
        WorkflowError: the strategy or the space cannot be made again.
    """
    name = str(job.summary.get("strategy") or job.results.get("strategy"))
    try:
        strategy = make_strategy(name, seed=job.seed, params=job.summary.get("params"))
        space = make_space(dataset, strategy, job.summary.get("space") or None).hypermodel
    except WorkflowError as e:
        raise WorkflowError(f"cannot rebuild the search space: {e}") from None
    return space if isinstance(space, keras_tuner.HyperModel) else FunctionHyperModel(space)


def trial_hyperparameters(trial_dir: Path) -> Any:
    """The trial's `keras_tuner.HyperParameters` (reserved `nas/` keys included)."""
    from keras_tuner.engine import trial as trial_module

    try:
        return trial_module.Trial.load(str(trial_dir / "trial.json")).hyperparameters
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise WorkflowError(f"cannot read {trial_dir.name}/trial.json: "
                            f"{type(e).__name__}: {e}") from None


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
        raise WorkflowError(f"the weights of {trial_dir.name} do not fit the rebuilt model: "
                            f"{first}") from None
    return model


def retrain(job: ExportJob, dataset: Any, hypermodel: Any, hp: Any) -> tuple[keras.Model, float]:
    """The trial's architecture trained from scratch on train + validation
    data (seeded by the search's seed); returns (model, seconds)."""
    data = make_pipeline(*all_training_data(dataset), job.batch_size, shuffle=True,
                         seed=job.seed)
    return train_from_scratch(hypermodel, hp, data, epochs=job.retrain_epochs, seed=job.seed,
                              shuffle=False, verbose=0)


def save_keras(model: keras.Model, path: Path) -> None:
    """`model.save` with the optimizer's slots built (no mismatch warning on load)."""
    build_optimizer(model)
    model.save(path)


def save_savedmodel(model: keras.Model, path: Path) -> None:
    """A TF SavedModel with a `serve` endpoint (replacing a previous export)."""
    if path.exists():
        shutil.rmtree(path)  # checked to be a SavedModel by plan_export
    model.export(str(path), format="tf_saved_model", verbose=False)


def convert_tflite(saved_model: Path, path: Path) -> float:
    """Converts a SavedModel to TFLite; returns the conversion's seconds.

    Raises:
        WorkflowError: the converter failed (its first line); nothing is written.
    """
    t0 = time.perf_counter()
    try:
        content = tf.lite.TFLiteConverter.from_saved_model(str(saved_model)).convert()
    except Exception as e:  # noqa: BLE001 - the converter's errors have no common type
        raise WorkflowError(f"TFLite cannot convert this model: {tflite.first_line(e)} "
                            "(the other formats can still be exported: --format keras,savedmodel)"
                            ) from None
    path.write_bytes(content)
    return time.perf_counter() - t0


def savedmodel_predictions(path: Path, x: np.ndarray, batch_size: int) -> np.ndarray:
    """The SavedModel's `serve` outputs for `x`."""
    loaded = tf.saved_model.load(str(path))
    batches = [loaded.serve(tf.constant(x[i:i + batch_size])).numpy()
               for i in range(0, len(x), batch_size)]
    return np.concatenate(batches)


def tflite_predictions(path: Path, x: np.ndarray) -> np.ndarray:
    """The TFLite model's outputs for `x` (one call for all the samples)."""
    return tflite.predict(path.read_bytes(), x)


def _kfold(job: ExportJob) -> bool:
    """Whether the search validated by k-fold (its val_accuracy is a mean
    over fold models, not the score of one model on the split)."""
    validation = job.summary.get("validation")
    return isinstance(validation, dict) and validation.get("scheme") == "kfold"


def _retrained_by_search(job: ExportJob) -> dict[str, Any] | None:
    """The search's retraining of this trial on all training samples (k-fold
    searches retrain their best configuration), when its model is kept."""
    retrained = job.summary.get("retrained")
    if job.retrain_epochs or not isinstance(retrained, dict) \
            or str(retrained.get("trial_id")) != job.trial_id:
        return None
    return retrained if (job.directory / MODEL_FILENAME).is_file() else None


def _primary(dataset: Any) -> str:
    """The score compared with the search's: `accuracy`, or `mean_absolute_error`."""
    return PRIMARY[task_of(dataset)]


def _reported(job: ExportJob, dataset: Any) -> dict[str, float]:
    """The scores the search reported for this trial's model (`val_accuracy`
    and `test_accuracy`, or `val_` and `test_mean_absolute_error`)."""
    if job.retrain_epochs:
        return {}
    out = {}
    primary = _primary(dataset)
    val = (job.trial.get("metrics") or {}).get(f"val_{primary}")
    if isinstance(val, (int, float)) and not _kfold(job):
        out[f"val_{primary}"] = float(val)
    test = job.summary.get(f"test_{primary}")
    if str(job.summary.get("best_trial_id")) == job.trial_id and isinstance(test, (int, float)):
        out[f"test_{primary}"] = float(test)
    return out


def _record(manifest: dict[str, Any], fmt: str, scores: dict[str, float]) -> str:
    """Adds a format's test scores to the manifest (`test_accuracy`:
    {format: value}, ...); returns them in words."""
    for name, value in scores.items():
        manifest.setdefault(f"test_{name}", {})[fmt] = value
    return f"test {describe_scores(scores)}"


def _savedmodel_and_tflite(job: ExportJob, dataset: Any, model: keras.Model,
                           manifest: dict[str, Any], step: Step) -> None:
    files, task = manifest["files"], task_of(dataset)
    x_test = as_array(dataset.x_test)  # a streamed test split, decoded once for both
    with tempfile.TemporaryDirectory() as tmp:
        saved = (job.out / SAVEDMODEL_DIRNAME if "savedmodel" in job.formats
                 else Path(tmp) / SAVEDMODEL_DIRNAME)
        save_savedmodel(model, saved)
        if "savedmodel" in job.formats:
            files["savedmodel"] = str(saved)
            scores = score(savedmodel_predictions(saved, x_test, job.batch_size),
                           dataset.y_test, task)
            step(f"{saved}  (SavedModel, `serve`): {_record(manifest, 'savedmodel', scores)}")
        if "tflite" in job.formats:
            path = job.out / TFLITE_FILENAME
            manifest["tflite_convert_s"] = round(convert_tflite(saved, path), 3)
            files["tflite"] = str(path)
            scores = score(tflite_predictions(path, x_test), dataset.y_test, task)
            step(f"{path}  (converted in {manifest['tflite_convert_s']:.1f} s): "
                 f"{_record(manifest, 'tflite', scores)}")


def _export_files(job: ExportJob, dataset: Any, model: keras.Model, manifest: dict[str, Any],
                  step: Step) -> keras.Model:
    """Writes and evaluates every chosen format; returns the model whose
    validation score is compared (the reloaded .keras when written)."""
    checked = model
    if "keras" in job.formats:
        path = job.out / KERAS_FILENAME
        save_keras(model, path)
        checked = keras.saving.load_model(path, safe_mode=True)
        manifest["files"]["keras"] = str(path)
        scores = test_scores(checked, dataset.x_test, dataset.y_test, job.batch_size,
                             task_of(dataset))
        step(f"{path}  (reloaded with safe_mode=True): {_record(manifest, 'keras', scores)}")
    if "savedmodel" in job.formats or "tflite" in job.formats:
        _savedmodel_and_tflite(job, dataset, model, manifest, step)
    return checked


def _calibration(dataset: Any) -> tuple[str, np.ndarray]:
    """The representative samples of a quantization: up to
    `tflite.CALIBRATION_SAMPLES` of the validation split (of the training
    split when the validation split is empty)."""
    if len(dataset.x_val):
        return "validation", dataset.x_val[:tflite.CALIBRATION_SAMPLES]
    return "training", dataset.x_train[:tflite.CALIBRATION_SAMPLES]


def _tflite_entry(content: bytes, path: Path | None, dataset: Any) -> dict[str, Any]:
    """A TFLite model's size, latency and test scores."""
    return {"file": None if path is None else str(path), "bytes": len(content),
            "kib": round(len(content) / 1024.0, 2),
            "latency": tflite.measure_latency(content).to_dict(),
            "test": score(tflite.predict(content, dataset.x_test), dataset.y_test,
                          task_of(dataset))}


def _quantized(job: ExportJob, dataset: Any, model: keras.Model, manifest: dict[str, Any],
               step: Step) -> None:
    """Writes `model_QUANTIZE.tflite` and compares it with the float TFLite
    model (the one written, else converted in memory): size, latency, test
    score; `manifest["quantization"]`."""
    mode, primary = job.quantize, _primary(dataset)
    split, samples = _calibration(dataset)
    float_path = Path(manifest["files"]["tflite"]) if "tflite" in manifest["files"] else None
    try:
        float_bytes = float_path.read_bytes() if float_path else tflite.convert(model)[0]
        content, conversion = tflite.convert(model, mode, samples if mode == "int8" else None)
    except Exception as e:  # noqa: BLE001 - the converter's errors have no common type
        raise WorkflowError(f"TFLite cannot convert this model ({mode}): "
                            f"{tflite.first_line(e)}") from None
    for note in conversion.notes():
        step(note)
    path = job.out / QUANTIZED_FILENAME.format(mode)
    path.write_bytes(content)
    manifest["files"][f"tflite_{mode}"] = str(path)
    models = {"float": _tflite_entry(float_bytes, float_path, dataset),
              mode: _tflite_entry(content, path, dataset)}
    _record(manifest, f"tflite_{mode}", models[mode]["test"])
    change = models[mode]["test"][primary] - models["float"]["test"][primary]
    record: dict[str, Any] = {
        "mode": mode, "metric": primary, "conversion": conversion.to_dict(),
        "calibration": ({"split": split, "samples": len(samples)} if mode == "int8" else None),
        "latency_protocol": dict(tflite.LATENCY_PROTOCOL), "models": models,
    }
    if task_of(dataset) == "regression":
        record["change"] = round(change, 6)
    else:
        record["drop_points"] = round(-100.0 * change, 2) + 0.0
    record["quantization_aware_training"] = QAT_NOTE
    manifest["quantization"] = record
    step(f"{path}  ({mode}, converted in {conversion.seconds:.1f} s, "
         f"{len(content) / 1024:.1f} KiB against {len(float_bytes) / 1024:.1f}): "
         f"test {describe_scores(models[mode]['test'])}")


#: What export.json says about quantization-aware training.
QAT_NOTE = ("not offered: tensorflow-model-optimization supports Keras 2 (tf_keras) models "
            "only (Keras 3 support is an open request, tensorflow/model-optimization#1119) "
            "and Keras 3 has a fake-quant op but no quantization-aware training to TFLite; "
            "post-training quantization instead")


def _model(job: ExportJob, dataset: Any, manifest: dict[str, Any], step: Step) -> keras.Model:
    """The trial's model: its checkpoint, or its architecture retrained."""
    trial_dir = job.directory / f"trial_{job.trial_id}"
    hypermodel = make_hypermodel(job, dataset)
    hp = trial_hyperparameters(trial_dir)
    step(f"exporting trial {job.trial_id} of {job.directory} -> {job.out}")
    retrained = _retrained_by_search(job)
    if retrained is not None:
        step(f"the search retrained its configuration on all {retrained['samples']} training "
             f"samples for {retrained['epochs']} epochs: exporting that model, "
             f"{MODEL_FILENAME}")
        return keras.saving.load_model(job.directory / MODEL_FILENAME, safe_mode=True)
    if not job.retrain_epochs:
        return load_trial_model(hypermodel, hp, trial_dir)
    model, seconds = retrain(job, dataset, hypermodel, hp)
    n = len(dataset.y_train) + len(dataset.y_val)
    manifest["retrain_s"] = round(seconds, 3)
    step(f"retrained its architecture from scratch: {job.retrain_epochs} epochs on {n} "
         f"training + validation samples in {seconds:.1f} s (not compared with the "
         "search's numbers, which are of the trial's own training)")
    return model


def run_export(job: ExportJob, dataset: Any, step: Step) -> ExportResult:
    """Exports, evaluates and compares; writes the manifest."""
    task, primary = task_of(dataset), _primary(dataset)
    manifest: dict[str, Any] = {
        "directory": str(job.directory), "trial_id": job.trial_id,
        "dataset": job.summary["dataset"], "task": task, "seed": job.seed,
        "retrain_epochs": job.retrain_epochs, "files": {}, f"test_{primary}": {},
    }
    model = _model(job, dataset, manifest, step)
    job.out.mkdir(parents=True, exist_ok=True)
    checked = _export_files(job, dataset, model, manifest, step)
    if job.quantize:
        _quantized(job, dataset, model, manifest, step)
    reported = _reported(job, dataset)
    manifest["reported"] = reported
    comparisons = []
    relative = task == "regression"  # an error in the target's units, not accuracy points
    test, val = f"test_{primary}", f"val_{primary}"
    if test in reported and manifest[test]:
        comparisons.append(Comparison(test.replace("_", " ", 1), reported[test],
                                      next(iter(manifest[test].values())), relative=relative))
    if val in reported and len(dataset.y_val):
        manifest[val] = test_scores(checked, dataset.x_val, dataset.y_val, job.batch_size,
                                    task)[primary]
        comparisons.append(Comparison(val, reported[val], manifest[val], relative=relative))
    path = write_json(job.out / MANIFEST_FILENAME, manifest)
    return ExportResult(manifest, path, comparisons)
