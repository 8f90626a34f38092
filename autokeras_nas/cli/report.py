"""`autokeras-nas report DIR`: the leaderboard and plots of a search directory.

Reads `DIR/results.json` only (no TensorFlow is imported) and prints the
leaderboard. `--json PATH` and `--csv PATH` write the same rows as
machine-readable records (`-` for standard output: then stdout holds only
that document and everything else goes to stderr). The plots chosen by
`autokeras_nas.report.write_plots` go into DIR (or `--plots-dir`):
`progress.png` always, `pareto.png` for multi-objective and POPNAS/PNAS
searches, `lineage.png` when trials have parents (NASH), `predictions.png`
when trials hold predictions (POPNAS/PNAS). Nothing else in DIR is changed.

The helpers `load_search` and `require_completed` are shared with
`autokeras-nas export`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import click

from autokeras_nas.cli.errors import fail
from autokeras_nas.cli.leaderboard import format_leaderboard, leaderboard_csv, leaderboard_records

#: Statuses of trials that produced a model and measured results.
RESULT_STATUSES = ("completed", "stopped")
STDOUT = "-"


def load_search(directory: Path) -> dict[str, Any]:
    """`directory/results.json`, parsed; stops with a one-line error when the
    directory is missing, not a search directory, or the file is corrupted."""
    from autokeras_nas.results import FILENAME, ResultsError, read_results

    if not directory.exists():
        fail(f"search directory {directory} does not exist")
    if not directory.is_dir():
        fail(f"{directory} is not a directory; pass a search directory (the --out of a search)")
    if not (directory / FILENAME).exists():
        fail(f"{directory} is not a search directory: it has no {FILENAME}")
    try:
        return read_results(str(directory))
    except ResultsError as e:
        fail(str(e))


def require_completed(results: Mapping[str, Any], directory: Path) -> list[dict[str, Any]]:
    """The trials with results (completed or stopped early); stops with a
    one-line error naming the first failure when there is none."""
    trials = list(results.get("trials", []))
    done = [t for t in trials if t.get("status") in RESULT_STATUSES]
    if done:
        return done
    if not trials:
        fail(f"no completed trial in {directory}: the search has no trials yet")
    failed = [t for t in trials if t.get("status") == "failed"]
    detail = f"{len(failed)} failed, {len(trials) - len(failed)} unfinished"
    if failed:
        reason = str(failed[0].get("message") or "no reason recorded")[:200]
        detail += f"; trial {failed[0]['trial_id']}: {reason}"
    fail(f"no completed trial in {directory} ({detail})")


def _write_text(target: str, text: str, what: str) -> None:
    if target == STDOUT:
        click.echo(text, nl=not text.endswith("\n"))
        return
    path = Path(target).expanduser()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    except OSError as e:
        fail(f"cannot write the {what} to {path}: {e.strerror or e}")
    click.echo(f"{what}: {path}", err=True)


def _json_document(results: Mapping[str, Any], directory: Path, records: list[dict[str, Any]],
                   plots: list[Path]) -> str:
    best = results.get("best_trial_ids") or []
    document = {
        "directory": str(directory),
        "strategy": results.get("strategy"),
        "objectives": results.get("objectives", []),
        "best_trial_id": str(best[0]) if best else None,
        "trials": records,
        "plots": [str(p) for p in plots],
    }
    return json.dumps(document, indent=1, allow_nan=False) + "\n"


def _echo_correlations(results: Mapping[str, Any], err: bool) -> None:
    from autokeras_nas.report import predictor_correlations

    for quantity, row in predictor_correlations(results).items():
        parts = "  ".join(f"{k} {v:.2f}" for k, v in row.items() if k != "n")
        click.echo(f"predicted vs actual {quantity}, Spearman over {int(row['n'])} trials: "
                   f"{parts}", err=err)


@click.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--top", type=click.IntRange(min=1), default=None,
              help="Show (and write) only the best N rows.")
@click.option("--json", "json_path", metavar="PATH", default=None,
              help="Write the leaderboard as JSON to PATH ('-': standard output only).")
@click.option("--csv", "csv_path", metavar="PATH", default=None,
              help="Write the leaderboard as CSV to PATH ('-': standard output only).")
@click.option("--plots-dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder for the PNG plots.  [default: DIRECTORY]")
@click.option("--plots/--no-plots", default=True, show_default=True,
              help="Write the PNG plots.")
def report(directory: Path, top: int | None, json_path: str | None, csv_path: str | None,
           plots_dir: Path | None, plots: bool) -> None:
    """Print the leaderboard of the search in DIRECTORY and plot it.

    Plots (PNG, in DIRECTORY unless --plots-dir): progress.png (best
    objective so far against trial number and cumulative training time);
    pareto.png (multi-objective, popnas, pnas); lineage.png (trials with
    parents, e.g. nash: the family tree, the winner's chain and its
    morphisms); predictions.png (popnas, pnas: predicted against actual).
    """
    if json_path == STDOUT and csv_path == STDOUT:
        fail("--json and --csv cannot both write to standard output ('-')")
    directory = directory.expanduser()
    results = load_search(directory)
    require_completed(results, directory)
    quiet = STDOUT in (json_path, csv_path)  # stdout holds one document only
    if not quiet:
        click.echo(format_leaderboard(results, limit=top))
    written: list[Path] = []
    if plots:
        from autokeras_nas.report import write_plots

        target = (plots_dir or directory).expanduser()
        try:
            written = write_plots(results, target)
        except OSError as e:
            fail(f"cannot write the plots to {target}: {e.strerror or e}")
    _echo_correlations(results, err=quiet)
    for path in written:
        click.echo(f"plot: {path}", err=quiet)
    records = leaderboard_records(results, limit=top)
    if json_path is not None:
        _write_text(json_path, _json_document(results, directory, records, written), "JSON")
    if csv_path is not None:
        _write_text(csv_path, leaderboard_csv(records), "CSV")
