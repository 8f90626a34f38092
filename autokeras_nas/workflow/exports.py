"""A searched model as `.keras`, SavedModel and TFLite, each loaded back and
evaluated on the test split.

`export(directory)` exports the best trial of the search in `directory` (or
`trial_id`) into `out` (default `directory/export`): `model.keras` (Keras 3
format, reloadable with `keras.saving.load_model(path, safe_mode=True)`),
`saved_model/` (`model.export`, for TF Serving) and `model.tflite`
(converted from the SavedModel), plus `export.json`, a manifest of what was
exported and how it scored. `formats` chooses among them (default all).

`quantize` (`int8`, `float16` or `dynamic`) also writes
`model_QUANTIZE.tflite`, post-training quantized: `int8` is full-integer
(int8 input and output), calibrated on up to 200 samples of the validation
split; when that conversion fails it falls back, saying so, to int8
weights with float input and output. The float and the quantized TFLite
models are reloaded in the TFLite interpreter (an int8 input quantized
with the input's scale and zero point, the output dequantized), scored on
the test split and timed (`autokeras_nas.tuner.trainers.tflite`'s
protocol: one thread, 10 warm-up and 100 timed runs of one sample, the
median and interquartile range); export.json's `quantization` records the
files' sizes, the latencies, the scores and the accuracy drop in points
(a regression's MAE change).

The model is rebuilt as KerasTuner's `load_model` does, without a tuner and
without writing to the search directory: the search's space (the default
for its dataset and strategy, or its `space`, as summary.json records them,
with the same strategy parameters), the trial's hyperparameters
(`trial_ID/trial.json`, with the architecture under `nas/arch` for NASH and
POPNAS) and the trial's best checkpoint. With `retrain_epochs=N` the
trial's architecture is trained from scratch on the training and
validation data for N epochs instead. The best trial of a search validated
by k-fold exports the model the search already retrained on all training
samples (its `best_model.keras`; see `autokeras_nas.workflow.searching`). Without retraining, the accuracies
(a regression search's: test MAE and RMSE, in the target's units) are compared with those the
search reported (`ExportResult.comparisons`).

Everything is checked (`plan_export`, no TensorFlow) before TensorFlow is
imported (`autokeras_nas.workflow.exporting`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

from autokeras_nas.workflow.datasets import search_dataset
from autokeras_nas.workflow.exportplan import ExportResult, plan_export

__all__ = ["export"]


def export(directory: str | Path, *, trial_id: str | None = None,
           formats: Iterable[str] | None = None, out: str | Path | None = None,
           retrain_epochs: int | str | None = None, quantize: str | None = None,
           on_step: Callable[[str], None] | None = None) -> ExportResult:
    """Exports a trial of the search in `directory` (see the module's docs).

    Args:
        directory: A search directory written by `search` / `autokeras-nas search`.
        trial_id: The trial to export; None: the best.
        formats: Among `keras`, `savedmodel`, `tflite` (or `all`); None: all.
        out: Destination folder; None: `directory/export`.
        retrain_epochs: Train the architecture from scratch for this many
            epochs on the training and validation data first; "auto": for
            the epochs the trial was best at (its learning curve).
        quantize: `int8`, `float16` or `dynamic`: also a quantized TFLite
            model, compared with the float one; None: none.
        on_step: Called with a line for each step done (file written, ...).

    Returns:
        The manifest (also written as `out/export.json`) and the comparisons
        with the search's numbers.

    Raises:
        WorkflowError: the search, trial, dataset or space cannot be used.
    """
    job = plan_export(directory, trial_id=trial_id, formats=formats, out=out,
                      retrain_epochs=retrain_epochs, quantize=quantize)
    dataset = search_dataset(job.summary)
    from autokeras_nas.workflow import exporting

    return exporting.run_export(job, dataset, on_step or (lambda line: None))
