"""An export checked and described without TensorFlow: `plan_export` (the
search, the trial and its files, summary.json, the destination), the
`ExportJob` it returns and the `ExportResult` of `export` (see
`autokeras_nas.workflow.exports`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from autokeras_nas.results import retrain_epochs as retrain_epochs_of
from autokeras_nas.workflow.base import SUMMARY_FILENAME, WorkflowError
from autokeras_nas.workflow.searchdir import choose_trial, load_search, require_completed

__all__ = ["FORMATS", "QUANTIZATIONS", "TOLERANCE_POINTS", "Comparison", "ExportJob",
           "ExportResult", "parse_formats", "parse_quantize", "plan_export", "quantization_table"]

FORMATS = ("keras", "savedmodel", "tflite")
#: Post-training quantizations of `export --quantize` (as
#: `autokeras_nas.tuner.trainers.tflite.QUANTIZATIONS`, which imports the tuner).
QUANTIZATIONS = ("int8", "float16", "dynamic")
CHECKPOINT = "checkpoint.weights.h5"
#: Largest difference, in accuracy points (for an error, a regression's: in
#: per cent of the search's number), expected between a reloaded export and
#: the search's own number (float32 round-off, a few samples).
TOLERANCE_POINTS = 0.5


def parse_formats(values: Iterable[str] | None) -> list[str]:
    """Format names (each may be comma-separated; `all` for every one) ->
    formats in canonical order; None or nothing given means all.

    Raises:
        WorkflowError: an unknown format.
    """
    chosen = {part.strip().lower() for v in (values or ("all",)) for part in v.split(",")}
    chosen.discard("")
    unknown = sorted(chosen - set(FORMATS) - {"all"})
    if unknown or not chosen:
        raise WorkflowError(f"{', '.join(unknown) or 'nothing'}: choose from all, "
                            f"{', '.join(FORMATS)}")
    return list(FORMATS) if "all" in chosen else [f for f in FORMATS if f in chosen]


def parse_quantize(value: str | None) -> str | None:
    """`int8`, `float16`, `dynamic` (any case) or None.

    Raises:
        WorkflowError: anything else.
    """
    if value is None:
        return None
    chosen = str(value).strip().lower()
    if chosen not in QUANTIZATIONS:
        raise WorkflowError(f"{value!r}: choose from {', '.join(QUANTIZATIONS)}")
    return chosen


@dataclass(frozen=True)
class ExportJob:
    """A checked export: the search, the trial, what to write where."""

    directory: Path
    results: Mapping[str, Any]
    trial: Mapping[str, Any]
    summary: Mapping[str, Any]
    formats: list[str]
    out: Path
    retrain_epochs: int | None = None
    #: A post-training quantization also written as `model_QUANTIZE.tflite`.
    quantize: str | None = None

    @property
    def trial_id(self) -> str:
        return str(self.trial["trial_id"])

    @property
    def seed(self) -> int:
        return int(self.summary.get("seed", 0))

    @property
    def batch_size(self) -> int:
        return int(self.summary.get("batch_size", 32))


def _check_trial_files(directory: Path, trial_id: str, retrain: bool) -> None:
    trial_dir = directory / f"trial_{trial_id}"
    needed = ["trial.json"] + ([] if retrain else [CHECKPOINT])
    missing = [name for name in needed if not (trial_dir / name).is_file()]
    if missing:
        raise WorkflowError(f"trial {trial_id} cannot be rebuilt: {trial_dir.name}/{missing[0]} "
                            f"is missing in {directory}")


def _read_summary(directory: Path, retrain_epochs: int | None) -> dict[str, Any]:
    path = directory / SUMMARY_FILENAME
    why = ("--retrain-epochs needs the dataset" if retrain_epochs
           else "export needs the dataset to rebuild and evaluate the model")
    if not path.is_file():
        raise WorkflowError(f"{why}, but {path} is missing (`autokeras-nas search` writes it "
                            "when the search finishes; rerun the search command to finish it)")
    try:
        summary = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise WorkflowError(f"cannot read {path}: {e}") from None
    if not isinstance(summary, dict) or not isinstance(summary.get("dataset"), str):
        raise WorkflowError(f"{path} does not name the dataset of the search")
    return summary


def _check_out(out: Path, formats: Sequence[str]) -> None:
    if out.exists() and not out.is_dir():
        raise WorkflowError(f"--out {out} is a file; pass a folder")
    saved = out / "saved_model"
    if "savedmodel" in formats and saved.exists():
        if not saved.is_dir() or not (saved / "saved_model.pb").is_file():
            raise WorkflowError(f"{saved} exists and is not a SavedModel; choose another --out")


def plan_export(directory: str | Path, *, trial_id: str | None = None,
                formats: Iterable[str] | None = None, out: str | Path | None = None,
                retrain_epochs: int | str | None = None,
                quantize: str | None = None) -> ExportJob:
    """Checks an export without TensorFlow: the search, the trial and its
    files, summary.json, the destination and the quantization. `retrain_epochs="auto"`:
    the epochs the trial was best at (`autokeras_nas.results.retrain_epochs`,
    as `NasTuner.retrain_best` chooses them).

    Raises:
        WorkflowError: naming the first problem, in one line.
    """
    quantize = parse_quantize(quantize)
    search = load_search(directory)
    require_completed(search.results, search.directory)
    trial = choose_trial(search.results, trial_id, search.directory)
    _check_trial_files(search.directory, str(trial["trial_id"]), retrain_epochs is not None)
    summary = _read_summary(search.directory, retrain_epochs)
    if retrain_epochs == "auto":
        retrain_epochs = retrain_epochs_of(search.results, trial, int(summary.get("epochs") or 1))
    elif retrain_epochs is not None and (type(retrain_epochs) is not int or retrain_epochs < 1):
        raise WorkflowError(f"--retrain-epochs must be a positive number or auto, got "
                            f"{retrain_epochs!r}")
    chosen = parse_formats(formats)
    destination = Path(out).expanduser() if out is not None else search.directory / "export"
    _check_out(destination, chosen)
    return ExportJob(directory=search.directory, results=search.results, trial=trial,
                     summary=summary, formats=chosen, out=destination,
                     retrain_epochs=retrain_epochs, quantize=quantize)


@dataclass(frozen=True)
class Comparison:
    """A score the search reported against the exported model's."""

    name: str
    reported: float
    measured: float
    #: The difference in per cent of `reported` (an error in the target's
    #: units, e.g. a regression's MAE), not in accuracy points.
    relative: bool = False

    @property
    def points(self) -> float:
        """measured - reported, in accuracy points, or (`relative`) in per
        cent of `reported` (2 decimals)."""
        difference = self.measured - self.reported
        if self.relative:
            difference /= abs(self.reported) or 1.0
        return round(100.0 * difference, 2) + 0.0  # no "-0.00"

    @property
    def unit(self) -> str:
        """How `points` is named: `points`, or `%`."""
        return "%" if self.relative else "points"

    @property
    def within_tolerance(self) -> bool:
        return abs(self.points) <= TOLERANCE_POINTS


@dataclass(frozen=True)
class ExportResult:
    """What `export` wrote and measured."""

    #: export.json's content: files, test accuracy per format, ...
    manifest: dict[str, Any]
    manifest_path: Path
    comparisons: list[Comparison] = field(default_factory=list)


def quantization_table(record: Mapping[str, Any]) -> list[str]:
    """export.json's `quantization` as the lines of a table: for the float
    and the quantized TFLite model, file size (KiB), latency (median ms and
    interquartile range) and the test score, then the change of the score:
    accuracy points lost, or a regression's MAE change."""
    models = record["models"]
    metric = record["metric"]
    regression = metric != "accuracy"
    head = "test MAE" if regression else "test accuracy"
    rows = [["model", "size KiB", "latency ms (median, IQR)", head]]
    for name, model in models.items():
        latency = model["latency"]
        rows.append([f"{name} ({Path(model['file']).name})" if model.get("file")
                     else f"{name} (not written)",
                     f"{model['bytes'] / 1024:.1f}" if "bytes" in model else f"{model['kib']:.1f}",
                     f"{latency['median_ms']:.4f} ({latency['p25_ms']:.4f}-"
                     f"{latency['p75_ms']:.4f})",
                     f"{model['test'][metric]:.4f}"])
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                       for i, (c, w) in enumerate(zip(row, widths))).rstrip() for row in rows]
    lines.insert(1, "-" * len(lines[0]))
    if regression:
        lines.append(f"MAE change: {record['change']:+.4f} (quantized - float, in the "
                     "target's units)")
    else:
        lines.append(f"accuracy drop: {record['drop_points']:+.2f} points (float - "
                     f"{record['mode']})")
    return lines
