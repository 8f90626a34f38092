"""The `autokeras-nas` command line.

    autokeras-nas strategies
    autokeras-nas datasets
    autokeras-nas bench nb201 --strategy aging-evolution --peers random,optuna-tpe
    autokeras-nas search --dataset digits --strategy random --max-trials 10 \
        --epochs 3 --out runs/digits
    autokeras-nas report runs/digits --csv runs/digits.csv
    autokeras-nas dashboard runs/digits runs/nash
    autokeras-nas export runs/digits --format keras,tflite

Each command parses its options, calls the workflow the library owns
(`autokeras_nas.workflow`: dataset, space, tuner, export) and prints.
Importing this package, `--help` and the listing commands do not import
TensorFlow (nor do `report` and `dashboard`); `search` and `export` import it once
their arguments are checked.
"""

from __future__ import annotations

import click

from autokeras_nas.cli.bench import bench
from autokeras_nas.cli.dashboard import dashboard
from autokeras_nas.cli.datasets import datasets
from autokeras_nas.cli.export import export
from autokeras_nas.cli.report import report
from autokeras_nas.cli.search import search
from autokeras_nas.cli.steer import steer


class _Sections(click.Group):
    """`--help` lists the user commands apart from the research benchmarks."""

    #: Section title -> its commands, in this order.
    SECTIONS = {"Commands": ("search", "report", "dashboard", "steer", "export", "datasets",
                             "strategies"),
                "Research benchmarks": ("bench",)}

    def _sections(self) -> dict[str, tuple[str, ...]]:
        """SECTIONS, with commands it does not place (a plugin's) under "Commands"."""
        placed = {name for names in self.SECTIONS.values() for name in names}
        sections = dict(self.SECTIONS)
        sections["Commands"] += tuple(sorted(set(self.commands) - placed))
        return sections

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [name for names in self._sections().values() for name in names]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        sections = self._sections()
        longest = max(len(name) for name in self.commands)
        width = formatter.width - 6 - longest
        for title, names in sections.items():
            rows = [(name.ljust(longest), self.commands[name].get_short_help_str(width))
                    for name in names if name in self.commands and not self.commands[name].hidden]
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)


@click.group(cls=_Sections, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="autokeras-nas", prog_name="autokeras-nas")
def main() -> None:
    """Neural architecture search for Keras, from the command line."""


@main.command()
@click.option("--paths", is_flag=True, help="Show where each strategy is defined (module:Class).")
def strategies(paths: bool) -> None:
    """List the installed strategies with one line about each.

    The lines come from the strategies' docstrings, read without importing
    the plugins (a broken plugin is still listed).
    """
    from autokeras_nas import plugins

    found = plugins.available()
    if not found:
        click.echo("no strategy plugins installed")
        return
    width = max(len(name) for name in found)
    for name, target in found.items():
        text = target if paths else (plugins.summary(target) or target)
        click.echo(f"{name.ljust(width)}  {text}")


main.add_command(search)
main.add_command(bench)
main.add_command(datasets)
main.add_command(report)
main.add_command(dashboard)
main.add_command(export)
main.add_command(steer)

__all__ = ["main"]
