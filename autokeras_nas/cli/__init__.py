"""The `autokeras-nas` command line.

    autokeras-nas strategies
    autokeras-nas datasets
    autokeras-nas bench nb201 --strategy aging-evolution --peers random,optuna-tpe
    autokeras-nas search --dataset digits --strategy random --max-trials 10 \
        --epochs 3 --out runs/digits
    autokeras-nas report runs/digits --csv runs/digits.csv
    autokeras-nas export runs/digits --format keras,tflite

Each command parses its options, calls the workflow the library owns
(`autokeras_nas.workflow`: dataset, space, tuner, export) and prints.
Importing this package, `--help` and the listing commands do not import
TensorFlow (nor does `report`); `search` and `export` import it once
their arguments are checked.
"""

from __future__ import annotations

import click

from autokeras_nas.cli.bench import bench
from autokeras_nas.cli.datasets import datasets
from autokeras_nas.cli.export import export
from autokeras_nas.cli.report import report
from autokeras_nas.cli.search import search


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="autokeras-nas", prog_name="autokeras-nas")
def main() -> None:
    """Neural architecture search for Keras, from the command line."""


@main.command()
def strategies() -> None:
    """List the installed strategy plugins (without importing them)."""
    from autokeras_nas import plugins

    found = plugins.available()
    if not found:
        click.echo("no strategy plugins installed")
        return
    width = max(len(name) for name in found)
    for name, target in found.items():
        click.echo(f"{name.ljust(width)}  {target}")


main.add_command(search)
main.add_command(bench)
main.add_command(datasets)
main.add_command(report)
main.add_command(export)

__all__ = ["main"]
