"""`autokeras-nas datasets`: list the datasets `--dataset` accepts.

One line per registered dataset: the name (or its usage form, e.g.
`npz:PATH`) and its summary: size and source, and for `fashion_mnist`
whether its files are installed. Reads no data and imports no TensorFlow:
every summary is a string or a cheap callable (see
`autokeras_nas.data.base.register`).
"""

from __future__ import annotations

import click


def format_datasets(rows: list[tuple[str, str]]) -> str:
    """`usage  summary` lines, the usages padded to one width."""
    if not rows:
        return "no datasets registered"
    width = max(len(usage) for usage, _ in rows)
    return "\n".join(f"{usage.ljust(width)}  {summary}".rstrip() for usage, summary in rows)


@click.command()
def datasets() -> None:
    """List the datasets for --dataset, with their size and source."""
    from autokeras_nas.data import dataset_summaries

    click.echo(format_datasets(dataset_summaries()))
