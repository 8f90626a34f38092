"""`autokeras-nas report DIR`: the leaderboard and plots of a search directory.

Reads `DIR/results.json` only (no TensorFlow is imported) and prints the
leaderboard. `--json PATH` and `--csv PATH` write the same rows as
machine-readable records (`-` for standard output: then stdout holds only
that document and everything else goes to stderr). The plots chosen by
`autokeras_nas.report.write_plots` go into DIR (or `--plots-dir`):
`progress.png` always, `pareto.png` for multi-objective and POPNAS/PNAS
searches, `lineage.png` when trials have parents (NASH), `predictions.png`
when trials hold predictions (POPNAS/PNAS), `oneshot.png` for a one-shot
search, `probabilities.png` when its supernet recorded operation
probabilities by epoch (ENAS, the differentiable searches). A one-shot
search also
prints its supernet's training curve and its retrained architectures'
estimated against retrained objective, with Kendall's tau and Spearman's
rho from 3 of them (`autokeras_nas.report.oneshot`). Nothing else in DIR is
changed.

The search is read with `autokeras_nas.workflow.load_search`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

import click

from autokeras_nas import workflow
from autokeras_nas.cli.errors import fail, workflow_errors
from autokeras_nas.cli.leaderboard import format_leaderboard, leaderboard_csv, leaderboard_records

STDOUT = "-"


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


def _echo_oneshot(results: Mapping[str, Any], err: bool) -> None:
    from autokeras_nas.report import format_oneshot, oneshot_summary

    text = format_oneshot(oneshot_summary(results))
    if text:
        click.echo("", err=err)
        click.echo(text, err=err)


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
    morphisms); predictions.png (popnas, pnas: predicted against actual);
    oneshot.png (one-shot searches: the supernet's curve,
    estimated against retrained accuracy); probabilities.png (enas, darts,
    snas, gdas, proxyless: each edge's operation probabilities by epoch).
    """
    if json_path == STDOUT and csv_path == STDOUT:
        fail("--json and --csv cannot both write to standard output ('-')")
    directory = directory.expanduser()
    with workflow_errors():
        results = workflow.load_search(directory).results
        workflow.require_completed(results, directory)
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
    _echo_oneshot(results, err=quiet)
    _echo_correlations(results, err=quiet)
    for path in written:
        click.echo(f"plot: {path}", err=quiet)
    click.echo(f"results: {directory.resolve() / 'results.json'} (every trial: values, "
               f"metrics, curves); trials' weights in {directory.resolve()}/trial_*/", err=quiet)
    records = leaderboard_records(results, limit=top)
    if json_path is not None:
        _write_text(json_path, _json_document(results, directory, records, written), "JSON")
    if csv_path is not None:
        _write_text(csv_path, leaderboard_csv(records), "CSV")
