"""One-line errors for the CLI."""

from __future__ import annotations

from typing import NoReturn

import click

#: Exit code of bad input (as click uses for usage errors).
USAGE_EXIT_CODE = 2


class CliError(click.ClickException):
    """Bad input found after parsing: prints `Error: <message>`, exits with 2."""

    exit_code = USAGE_EXIT_CODE


def fail(message: str) -> NoReturn:
    """Stops the command with a one-line error and exit code 2."""
    raise CliError(" ".join(str(message).split()))
