"""`autokeras-nas export DIR`: a searched model as `.keras`, SavedModel and TFLite.

Calls `autokeras_nas.workflow.export` (see `autokeras_nas.workflow.exports`
for what is rebuilt, written and evaluated) and prints each step, then the
accuracies (a regression search's: MAE) compared with those the search
reported. Every check of the
arguments and the directory comes before TensorFlow is imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import click

from autokeras_nas import tfenv, workflow
from autokeras_nas.cli.errors import workflow_errors
from autokeras_nas.workflow.exportplan import QUANTIZATIONS, TOLERANCE_POINTS


def _formats(ctx: click.Context, param: click.Parameter, value: Sequence[str]) -> list[str]:
    try:
        return workflow.parse_formats(value)
    except workflow.WorkflowError as e:
        raise click.BadParameter(str(e), param_hint="--format") from None


def _quantize(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    try:
        return workflow.parse_quantize(value)
    except workflow.WorkflowError as e:
        raise click.BadParameter(str(e), param_hint="--quantize") from None


class _RetrainEpochs(click.ParamType):
    """A positive number of epochs, or "auto"."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        if isinstance(value, int) or str(value).strip().lower() == "auto":
            return value if isinstance(value, int) else "auto"
        try:
            epochs = int(value)
        except ValueError:
            epochs = 0
        if epochs < 1:
            self.fail(f"{value!r} is neither a positive number of epochs nor auto", param, ctx)
        return epochs


@click.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--trial", "trial_id", default=None, metavar="ID",
              help="Trial to export.  [default: the best trial]")
@click.option("--format", "formats", multiple=True, callback=_formats, metavar="FORMAT",
              help="all, keras, savedmodel or tflite; repeat or separate with commas.  "
                   "[default: all]")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Destination folder.  [default: DIRECTORY/export]")
@click.option("--retrain-epochs", type=_RetrainEpochs(), default=None, metavar="N|auto",
              help="Train the trial's architecture from scratch for N epochs on the training "
                   "and validation data, then export that model; auto: for the epochs the "
                   "trial was best at (its learning curve, as the tuners' retrain_best).")
@click.option("--quantize", default=None, callback=_quantize, metavar="|".join(QUANTIZATIONS),
              help="Also write model_QUANTIZE.tflite, quantized after training: int8 (full "
                   "integer, int8 input and output, calibrated on up to 200 validation "
                   "samples), float16 or dynamic (int8 weights); compared with the float "
                   "TFLite model: size, TFLite latency, test accuracy.")
def export(directory: Path, trial_id: str | None, formats: list[str], out: Path | None,
           retrain_epochs: int | str | None, quantize: str | None) -> None:
    """Export the best model (or --trial ID) of the search in DIRECTORY.

    Writes model.keras, saved_model/ and model.tflite (see --format) and
    export.json into --out, then loads each back and prints its test
    accuracy (regression: MAE and RMSE) next to the one the search reported.
    With --quantize, also a quantized TFLite model and a table comparing it
    with the float one (file size, TFLite latency, test accuracy and drop).
    """
    tfenv.prepare()  # before TensorFlow is imported, once the arguments are checked
    with workflow_errors():
        result = workflow.export(directory, trial_id=trial_id, formats=formats, out=out,
                                 retrain_epochs=retrain_epochs, quantize=quantize,
                                 on_step=click.echo)
    for c in result.comparisons:
        click.echo(f"search reported {c.name} {c.reported:.4f}; the export gives "
                   f"{c.measured:.4f} ({c.points:+.2f} {c.unit})")
        if not c.within_tolerance:
            click.echo(f"warning: {c.name} differs by more than {TOLERANCE_POINTS} {c.unit}",
                       err=True)
    if "quantization" in result.manifest:
        for line in workflow.quantization_table(result.manifest["quantization"]):
            click.echo(line)
    click.echo(f"manifest: {result.manifest_path}")
