"""`autokeras-nas export DIR`: a searched model as `.keras`, SavedModel and TFLite.

Exports the best trial of the search in DIR (or `--trial ID`) into `--out`
(default `DIR/export`): `model.keras` (Keras 3 format, reloadable with
`keras.saving.load_model(path, safe_mode=True)`), `saved_model/`
(`model.export`, for TF Serving) and `model.tflite` (converted from the
SavedModel), plus `export.json`, a manifest of what was exported and how it
scored. `--format` chooses among them (default all).

The model is rebuilt as KerasTuner's `load_model` does, without a tuner and
without writing to DIR: the CLI's default search space for the dataset and
strategy (`autokeras_nas.cli.training.build_space`), the trial's
hyperparameters (`trial_ID/trial.json`, including the architecture under
`nas/arch` for NASH and POPNAS), and the trial's best checkpoint. So DIR
must come from `autokeras-nas search`; its `summary.json` names the dataset
and seed (same seed, same split). With `--retrain-epochs N` the trial's
architecture is trained from scratch on the training and validation data
for N epochs before it is exported.

Every exported file is loaded back and evaluated on the test split; without
retraining, the accuracies are compared to those the search reported.
This module checks the arguments and the directory; the TensorFlow half,
`autokeras_nas.cli.exporting`, is imported only after that.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping, Sequence

import click

from autokeras_nas import tfenv
from autokeras_nas.cli.errors import fail
from autokeras_nas.cli.report import RESULT_STATUSES, load_search, require_completed

FORMATS = ("keras", "savedmodel", "tflite")
SUMMARY_FILENAME = "summary.json"
CHECKPOINT = "checkpoint.weights.h5"
#: validation_split of `autokeras-nas search` when summary.json does not say.
DEFAULT_VALIDATION_SPLIT = 0.2


def parse_formats(ctx: click.Context, param: click.Parameter, value: Sequence[str]) -> list[str]:
    """`--format` values (repeated or comma-separated) -> formats in canonical order."""
    chosen = {part.strip().lower() for v in (value or ("all",)) for part in v.split(",")}
    chosen.discard("")
    unknown = sorted(chosen - set(FORMATS) - {"all"})
    if unknown or not chosen:
        raise click.BadParameter(f"{', '.join(unknown) or 'nothing'}: choose from all, "
                                 f"{', '.join(FORMATS)}", param_hint="--format")
    return list(FORMATS) if "all" in chosen else [f for f in FORMATS if f in chosen]


def choose_trial(results: Mapping[str, Any], trial_id: str | None, directory: Path
                 ) -> dict[str, Any]:
    """The trial to export: `trial_id` (also matched as a number, "3" for
    "03"), or the best one. Stops with a one-line error for an unknown
    trial or one without results."""
    trials = {str(t["trial_id"]): t for t in results.get("trials", [])}
    if trial_id is None:
        best = [str(b) for b in results.get("best_trial_ids") or [] if str(b) in trials]
        if not best:
            fail(f"no completed trial in {directory} to export")
        return trials[best[0]]
    found = trials.get(trial_id)
    if found is None and trial_id.isdigit():
        same = [t for tid, t in trials.items() if tid.isdigit() and int(tid) == int(trial_id)]
        found = same[0] if len(same) == 1 else None
    if found is None:
        known = ", ".join(trials) if len(trials) <= 20 else ", ".join(list(trials)[:20]) + ", ..."
        fail(f"no trial {trial_id!r} in {directory}; its trials are: {known}")
    status = found.get("status")
    if status not in RESULT_STATUSES:
        reason = f": {found['message']}" if found.get("message") else ""
        fail(f"trial {found['trial_id']} {status}{reason}; export a completed trial "
             "(see `autokeras-nas report`)")
    return found


def check_trial_files(directory: Path, trial_id: str, retrain: bool) -> None:
    """Stops when the trial's hyperparameters (or, unless retraining, its
    weights) are not on disk."""
    trial_dir = directory / f"trial_{trial_id}"
    needed = ["trial.json"] + ([] if retrain else [CHECKPOINT])
    missing = [name for name in needed if not (trial_dir / name).is_file()]
    if missing:
        fail(f"trial {trial_id} cannot be rebuilt: {trial_dir.name}/{missing[0]} is missing "
             f"in {directory}")


def read_summary(directory: Path, retrain_epochs: int | None) -> dict[str, Any]:
    """`summary.json` of the search, which names its dataset and seed."""
    path = directory / SUMMARY_FILENAME
    why = ("--retrain-epochs needs the dataset" if retrain_epochs
           else "export needs the dataset to rebuild and evaluate the model")
    if not path.is_file():
        fail(f"{why}, but {path} is missing (`autokeras-nas search` writes it when the "
             "search finishes; rerun the search command to finish it)")
    try:
        summary = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        fail(f"cannot read {path}: {e}")
    if not isinstance(summary, dict) or not isinstance(summary.get("dataset"), str):
        fail(f"{path} does not name the dataset of the search")
    return summary


def check_out_dir(out: Path, formats: Sequence[str]) -> None:
    """Stops when `out` is a file or holds a `saved_model` that is not one."""
    if out.exists() and not out.is_dir():
        fail(f"--out {out} is a file; pass a folder")
    saved = out / "saved_model"
    if "savedmodel" in formats and saved.exists():
        if not saved.is_dir() or not (saved / "saved_model.pb").is_file():
            fail(f"{saved} exists and is not a SavedModel; choose another --out")


def load_search_dataset(summary: Mapping[str, Any]) -> Any:
    """The search's dataset with its split (numpy only)."""
    from autokeras_nas.data import load_dataset

    split = summary.get("validation_split", DEFAULT_VALIDATION_SPLIT)
    try:
        return load_dataset(summary["dataset"], seed=int(summary.get("seed", 0)),
                            validation_split=float(split))
    except (ValueError, OSError) as e:
        fail(f"cannot load the search's dataset {summary['dataset']!r}: {e}")


@click.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--trial", "trial_id", default=None, metavar="ID",
              help="Trial to export.  [default: the best trial]")
@click.option("--format", "formats", multiple=True, callback=parse_formats, metavar="FORMAT",
              help="all, keras, savedmodel or tflite; repeat or separate with commas.  "
                   "[default: all]")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Destination folder.  [default: DIRECTORY/export]")
@click.option("--retrain-epochs", type=click.IntRange(min=1), default=None, metavar="N",
              help="Train the trial's architecture from scratch for N epochs on the training "
                   "and validation data, then export that model.")
def export(directory: Path, trial_id: str | None, formats: list[str], out: Path | None,
           retrain_epochs: int | None) -> None:
    """Export the best model (or --trial ID) of the search in DIRECTORY.

    Writes model.keras, saved_model/ and model.tflite (see --format) and
    export.json into --out, then loads each back and prints its test
    accuracy next to the accuracy the search reported.
    """
    directory = directory.expanduser()
    results = load_search(directory)
    require_completed(results, directory)
    trial = choose_trial(results, trial_id, directory)
    check_trial_files(directory, str(trial["trial_id"]), retrain=retrain_epochs is not None)
    summary = read_summary(directory, retrain_epochs)
    out = (out or directory / "export").expanduser()
    check_out_dir(out, formats)
    tfenv.prepare()
    dataset = load_search_dataset(summary)
    from autokeras_nas.cli import exporting

    exporting.run_export(exporting.ExportJob(
        directory=directory, results=results, trial=trial, summary=summary, dataset=dataset,
        formats=list(formats), out=out, retrain_epochs=retrain_epochs,
    ))
