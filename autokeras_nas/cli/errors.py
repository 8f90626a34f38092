"""One-line errors for the CLI."""

from __future__ import annotations

import contextlib
from typing import Iterator, NoReturn

import click

from autokeras_nas.workflow.base import SearchFailedError, WorkflowError

#: Exit code of bad input (as click uses for usage errors).
USAGE_EXIT_CODE = 2


class CliError(click.ClickException):
    """Bad input found after parsing: prints `Error: <message>`, exits with 2."""

    exit_code = USAGE_EXIT_CODE


def fail(message: str) -> NoReturn:
    """Stops the command with a one-line error and exit code 2."""
    raise CliError(" ".join(str(message).split()))


@contextlib.contextmanager
def workflow_errors() -> Iterator[None]:
    """The workflow's errors as the command's: bad input exits with 2, a
    search that kept nothing (`SearchFailedError`) with 1."""
    try:
        yield
    except SearchFailedError as e:
        raise click.ClickException(str(e)) from None
    except WorkflowError as e:
        fail(str(e))
