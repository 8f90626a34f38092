"""`autokeras-nas steer DIR`: edit the space of a search, running or stopped.

    autokeras-nas steer runs/nb201 --exclude '*=nor_conv_3x3'   # an op on every edge
    autokeras-nas steer runs/digits --pin conv_blocks=2 --exclude kernel_size=5
    autokeras-nas steer runs/digits --clear conv_blocks
    autokeras-nas steer runs/digits                                # list the edits

The edits go to DIR/steering.json (`autokeras_nas.steering`), the same file
the dashboard's edits go to: a running search honours them from its next
proposal, a stopped one when it is resumed. No TensorFlow is imported.
"""

from __future__ import annotations

from pathlib import Path

import click

from autokeras_nas import steering
from autokeras_nas.cli.errors import fail


def _pair(option: str, text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name or not value:
        fail(f"{option} takes NAME=VALUE (NAME '*' for every hyperparameter), got {text!r}")
    return name, value


def _format(edit: dict) -> str:
    value = "" if edit.get("value") is None else f"={edit['value']!r}"
    return f"#{edit.get('id')} {edit.get('time', '')} {edit.get('action')} {edit.get('param')}{value}" \
           f" ({edit.get('source', '')})"


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--exclude", "excludes", multiple=True, metavar="NAME=VALUE",
              help="No more trials with this value (NAME '*': every hyperparameter that has it, "
                   "an operation on every edge). Repeatable.")
@click.option("--pin", "pins", multiple=True, metavar="NAME=VALUE",
              help="Every next trial takes this value. Repeatable.")
@click.option("--clear", "clears", multiple=True, metavar="NAME[=VALUE]",
              help="Drop the pin and exclusions of NAME (only the exclusion of VALUE when "
                   "given). Repeatable.")
def steer(directory: Path, excludes: tuple[str, ...], pins: tuple[str, ...],
          clears: tuple[str, ...]) -> None:
    """Exclude or pin hyperparameter values of a search, or list its edits.

    A running search honours an edit from its next proposal; a stopped one
    when resumed. Values are checked against the space the search records in
    its results.json. The dashboard (`--allow-edit`) writes the same edits.
    """
    if not directory.is_dir():
        fail(f"no search directory {directory}")
    requests = [("clear", *(_pair("--clear", c) if "=" in c else (c, None))) for c in clears]
    requests += [("exclude", *_pair("--exclude", e)) for e in excludes]
    requests += [("pin", *_pair("--pin", p)) for p in pins]
    try:
        for action, param, value in requests:
            edit = steering.add_edit(str(directory), action=action, param=param, value=value,
                                     source="cli")
            click.echo(f"added {_format(edit)}")
        if not requests:
            edits = steering.read_edits(str(directory))
            for edit in edits:
                click.echo(_format(edit))
            if not edits:
                click.echo(f"no edits in {directory}")
    except steering.SteeringError as e:
        fail(str(e))
