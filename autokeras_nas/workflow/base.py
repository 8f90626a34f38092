"""What every step of the workflow shares: its errors, file names and small helpers.

No TensorFlow, no plugins: the command line imports this for `--help`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from autokeras_nas.results import write_json_atomic

#: The search's settings and outcome, written when the search finishes.
SUMMARY_FILENAME = "summary.json"
#: The best model of a search, in its directory.
MODEL_FILENAME = "best_model.keras"
#: Files that mark a directory as a search directory (safe to overwrite).
SEARCH_MARKERS = ("results.json", "oracle.json", SUMMARY_FILENAME)


class WorkflowError(ValueError):
    """Bad input to a step of the workflow: a one-line message.

    The command line prints it as `Error: <message>` and exits with 2.
    Line breaks and runs of spaces in the message become single spaces.
    """

    def __init__(self, message: object) -> None:
        super().__init__(" ".join(str(message).split()))


class SearchFailedError(WorkflowError):
    """A search that ran and produced nothing to keep (too many failed
    trials, no trial completed); the command line exits with 1."""


def first_line(error: BaseException) -> str:
    """`Type: first line of the message` (at most 300 characters of it)."""
    lines = [ln.strip() for ln in str(error).splitlines() if ln.strip()]
    return f"{type(error).__name__}: {lines[0][:300]}" if lines else type(error).__name__


def read_json(path: Path) -> Any:
    """The parsed file, or None when it is missing or not JSON."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def write_json(path: Path, document: Any) -> Path:
    """Writes `document` as indented JSON (one trailing newline), atomically;
    returns `path`."""
    write_json_atomic(str(path), document, indent=1)
    return path
