"""A finished (or running) search directory, read without TensorFlow:
`load_search` for `report` and `export`, and the checks they share.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from autokeras_nas.workflow.base import SUMMARY_FILENAME, WorkflowError, read_json

__all__ = ["RESULT_STATUSES", "Search", "choose_trial", "load_search", "require_completed"]

#: Statuses of trials that produced a model and measured results.
RESULT_STATUSES = ("completed", "stopped")


@dataclass(frozen=True)
class Search:
    """A search directory's results.json and summary.json."""

    directory: Path
    #: The parsed results.json (see `autokeras_nas.results`).
    results: dict[str, Any]
    #: The parsed summary.json, written when the search finished; None
    #: before (or when it is unreadable).
    summary: dict[str, Any] | None


def load_search(directory: str | Path) -> Search:
    """The search in `directory` (its results, and its summary if written).

    Raises:
        WorkflowError: the directory is missing, not a search directory, or
            its results.json is corrupted.
    """
    from autokeras_nas.results import FILENAME, ResultsError, read_results

    directory = Path(directory).expanduser()
    if not directory.exists():
        raise WorkflowError(f"search directory {directory} does not exist")
    if not directory.is_dir():
        raise WorkflowError(f"{directory} is not a directory; pass a search directory "
                            "(the --out of a search)")
    if not (directory / FILENAME).exists():
        raise WorkflowError(f"{directory} is not a search directory: it has no {FILENAME}")
    try:
        results = read_results(str(directory))
    except ResultsError as e:
        raise WorkflowError(str(e)) from None
    summary = read_json(directory / SUMMARY_FILENAME)
    return Search(directory, results, summary if isinstance(summary, dict) else None)


def require_completed(results: Mapping[str, Any], directory: Path) -> list[dict[str, Any]]:
    """The trials with results (completed or stopped early).

    Raises:
        WorkflowError: there is none; names the first failure.
    """
    trials = list(results.get("trials", []))
    done = [t for t in trials if t.get("status") in RESULT_STATUSES]
    if done:
        return done
    if not trials:
        raise WorkflowError(f"no completed trial in {directory}: the search has no trials yet")
    failed = [t for t in trials if t.get("status") == "failed"]
    detail = f"{len(failed)} failed, {len(trials) - len(failed)} unfinished"
    if failed:
        reason = str(failed[0].get("message") or "no reason recorded")[:200]
        detail += f"; trial {failed[0]['trial_id']}: {reason}"
    raise WorkflowError(f"no completed trial in {directory} ({detail})")


def choose_trial(results: Mapping[str, Any], trial_id: str | None, directory: Path
                 ) -> dict[str, Any]:
    """The trial `trial_id` (also matched as a number, "3" for "03"), or the
    best one when `trial_id` is None.

    Raises:
        WorkflowError: an unknown trial, or one without results.
    """
    trials = {str(t["trial_id"]): t for t in results.get("trials", [])}
    if trial_id is None:
        best = [str(b) for b in results.get("best_trial_ids") or [] if str(b) in trials]
        if not best:
            raise WorkflowError(f"no completed trial in {directory} to export")
        return trials[best[0]]
    found = trials.get(trial_id)
    if found is None and trial_id.isdigit():
        same = [t for tid, t in trials.items() if tid.isdigit() and int(tid) == int(trial_id)]
        found = same[0] if len(same) == 1 else None
    if found is None:
        known = ", ".join(trials) if len(trials) <= 20 else ", ".join(list(trials)[:20]) + ", ..."
        raise WorkflowError(f"no trial {trial_id!r} in {directory}; its trials are: {known}")
    status = found.get("status")
    if status not in RESULT_STATUSES:
        reason = f": {found['message']}" if found.get("message") else ""
        raise WorkflowError(f"trial {found['trial_id']} {status}{reason}; export a completed "
                            "trial (see `autokeras-nas report`)")
    return found
