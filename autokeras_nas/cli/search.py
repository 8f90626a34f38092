"""`autokeras-nas search`: search a dataset end to end.

Loads the dataset and the strategy plugin, checks the output directory, and
only then imports TensorFlow (`autokeras_nas.cli.training`) to run the search
with `NasTuner` in exactly `--out`. Afterwards it prints the leaderboard from
`results.json`, evaluates the best model on the test split, saves it as
`best_model.keras` and writes `summary.json`.

Resuming is KerasTuner's default (`overwrite=False`): rerunning a command
continues the search in `--out`; `--overwrite` starts afresh.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Mapping, NoReturn, Sequence

import click

from autokeras_nas.cli.errors import fail
from autokeras_nas.cli.leaderboard import format_leaderboard, format_metric, format_values
from autokeras_nas.results import SearchDirectoryError

SUMMARY_FILENAME = "summary.json"
#: Files that mark a directory as a search directory (safe to overwrite).
SEARCH_MARKERS = ("results.json", "oracle.json", SUMMARY_FILENAME)
#: Substrings of metric names that are minimised when no direction is given.
MINIMISED = ("loss", "error", "mse", "mae", "mape", "crossentropy", "hinge",
             "latency", "time", "params")


def parse_objective(text: str) -> str:
    """`NAME` or `NAME:min|max` -> `NAME:direction`, guessing a missing direction.

    Raises:
        click.BadParameter: empty name or a direction other than min/max.
    """
    name, sep, direction = text.partition(":")
    if not name or (sep and direction not in ("min", "max")):
        raise click.BadParameter(f"{text!r} is not NAME or NAME:min|max", param_hint="--objective")
    if not sep:
        direction = "min" if any(word in name.lower() for word in MINIMISED) else "max"
    return f"{name}:{direction}"


def _objectives_callback(
    ctx: click.Context, param: click.Parameter, value: Sequence[str]
) -> list[str]:
    return [parse_objective(v) for v in (value or ("val_accuracy",))]


class ProgressPrinter:
    """Turns the tuner's progress events into one short line each.

    Args:
        objectives: Metric names shown at the end of a trial.
        verbose: Also print a line per epoch.
    """

    def __init__(self, objectives: Sequence[str], verbose: bool = False) -> None:
        self.objectives = list(objectives)
        self.verbose = verbose
        self.started: dict[str, float] = {}

    def __call__(self, event: Mapping[str, Any]) -> None:
        handler = getattr(self, f"_on_{event.get('event')}", None)
        if handler is not None:
            handler(event)

    def _on_trial_begin(self, event: Mapping[str, Any]) -> None:
        self.started[str(event["trial_id"])] = time.perf_counter()
        click.echo(f"trial {event['trial_id']}: start  {format_values(event.get('values') or {})}")

    def _on_epoch_end(self, event: Mapping[str, Any]) -> None:
        if self.verbose:
            logs = event.get("logs") or {}
            shown = " ".join(f"{k}={format_metric(v)}" for k, v in logs.items())
            click.echo(f"trial {event['trial_id']}: epoch {event['epoch']}  {shown}")

    def _on_trial_end(self, event: Mapping[str, Any]) -> None:
        trial_id = str(event["trial_id"])
        status = str(event.get("status", "")).lower()
        metrics = event.get("metrics") or {}
        parts = [f"{name}={format_metric(metrics.get(name))}" for name in self.objectives]
        if trial_id in self.started:
            parts.append(f"{time.perf_counter() - self.started.pop(trial_id):.1f}s")
        message = str(event.get("message") or "").strip().splitlines()
        if message:
            parts.append(message[-1][:200])
        click.echo(f"trial {trial_id}: {status}  {'  '.join(parts)}")


@dataclass(frozen=True)
class SearchRun:
    """The checked arguments of one `search` invocation."""

    dataset: str
    strategy: str
    seed: int
    objectives: list[str]
    max_trials: int
    epochs: int
    batch_size: int
    early_stopping: str | None
    out_dir: Path
    overwrite: bool
    started: float = field(default_factory=time.perf_counter)

    @classmethod
    def from_options(cls, opts: Mapping[str, Any]) -> "SearchRun":
        return cls(
            dataset=opts["dataset"], strategy=opts["strategy"], seed=opts["seed"],
            objectives=list(opts["objectives"]), max_trials=opts["max_trials"],
            epochs=opts["epochs"], batch_size=opts["batch_size"],
            early_stopping=None if opts["early_stopping"] == "none" else opts["early_stopping"],
            out_dir=opts["out"].expanduser().resolve(), overwrite=opts["overwrite"],
        )

    @property
    def objective_names(self) -> list[str]:
        return [o.partition(":")[0] for o in self.objectives]


def _load_dataset(name: str, seed: int, validation_split: float) -> Any:
    from autokeras_nas.data import load_dataset

    try:
        return load_dataset(name, seed=seed, validation_split=validation_split)
    except ValueError as e:
        fail(str(e))


def _make_strategy(name: str, seed: int) -> Any:
    from autokeras_nas import plugins

    try:
        cls = plugins.load(name)
    except plugins.UnknownStrategyError as e:
        fail(str(e))
    try:
        return cls(seed=seed)
    except (TypeError, ValueError) as e:
        fail(f"cannot create strategy {name!r}: {e}")


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _check_out_dir(run: SearchRun) -> None:
    """Refuses to overwrite a non-search directory or to resume a different search."""
    out = run.out_dir
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not any((out / marker).exists() for marker in SEARCH_MARKERS):
        fail(f"--out {out} is a non-empty directory that holds no search; choose another --out")
    if run.overwrite:
        return
    for filename, key, wanted in (("results.json", "strategy", run.strategy),
                                  (SUMMARY_FILENAME, "dataset", run.dataset)):
        found = (_read_json(out / filename) or {}).get(key)
        if found is not None and found != wanted:
            fail(f"--out {out} holds a search with {key} {found!r}, not {wanted!r}; "
                 "pass --overwrite to replace it or choose another --out")
    click.echo(f"resuming the search in {out} (pass --overwrite to start afresh)")


def _strategy_report(run: SearchRun, results: dict[str, Any]) -> None:
    """What a strategy adds: the Pareto-front plot of a POPNAS or a
    multi-objective search, and how well its predictors ranked."""
    from autokeras_nas.report import pareto_plot, predictor_correlations

    if run.strategy in ("popnas", "pnas") or len(run.objectives) > 1:
        path = run.out_dir / "pareto.png"
        n = pareto_plot(results, path)
        click.echo(f"Pareto front ({n} trials): {path}")
    for quantity, row in predictor_correlations(results).items():
        parts = "  ".join(f"{k} {v:.2f}" for k, v in row.items() if k != "n")
        click.echo(f"predicted vs actual {quantity}, Spearman over {int(row['n'])} cells: {parts}")


def _print_leaderboard(out_dir: Path, limit: int | None) -> dict[str, Any]:
    from autokeras_nas.results import ResultsError, read_results

    try:
        results = read_results(str(out_dir))
    except ResultsError as e:
        raise click.ClickException(str(e)) from None
    click.echo("")
    click.echo(format_leaderboard(results, limit=limit))
    return results


def _search_failed(error: RuntimeError, out_dir: Path, limit: int | None) -> NoReturn:
    """Shows what the search did, then stops with the error's first and last lines."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()] or [repr(error)]
    with contextlib.suppress(click.ClickException):
        _print_leaderboard(out_dir, limit)
    raise click.ClickException(" ".join(dict.fromkeys([lines[0], lines[-1]])))


def _best_trial(results: Mapping[str, Any]) -> dict[str, Any]:
    ids = results.get("best_trial_ids") or []
    if not ids:
        raise click.ClickException("no trial completed; see results.json for the failures")
    return next(t for t in results["trials"] if str(t["trial_id"]) == str(ids[0]))


def _write_summary(run: SearchRun, best: Mapping[str, Any], test_accuracy: float) -> Path:
    summary = {
        "dataset": run.dataset,
        "strategy": run.strategy,
        "seed": run.seed,
        "objectives": run.objectives,
        "max_trials": run.max_trials,
        "epochs": run.epochs,
        "batch_size": run.batch_size,
        "early_stopping": run.early_stopping,
        "best_trial_id": str(best["trial_id"]),
        "best_values": best.get("values", {}),
        "val_accuracy": (best.get("metrics") or {}).get("val_accuracy"),
        "test_accuracy": test_accuracy,
        "wall_time_s": round(time.perf_counter() - run.started, 3),
        "model": "best_model.keras",
    }
    path = run.out_dir / SUMMARY_FILENAME
    path.write_text(json.dumps(summary, indent=1) + "\n")
    return path


def _import_training() -> ModuleType:
    """Imports the TensorFlow half of the command (`autokeras_nas.cli.training`)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from autokeras_nas.cli import training

    return training


@click.command()
@click.option("--dataset", default="digits", show_default=True,
              help="Dataset name, e.g. digits.")
@click.option("--strategy", default="random", show_default=True,
              help="Strategy plugin (see `autokeras-nas strategies`).")
@click.option("--max-trials", type=click.IntRange(min=1), default=10, show_default=True,
              help="Number of trials.")
@click.option("--epochs", type=click.IntRange(min=1), default=3, show_default=True,
              help="Epochs per trial (a strategy may set its own budget).")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Search directory: results.json, best_model.keras, summary.json.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the data split, the strategy and Keras.")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--validation-split", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.2, show_default=True, help="Fraction of the non-test data for validation.")
@click.option("--objective", "objectives", multiple=True, callback=_objectives_callback,
              help="NAME or NAME:min|max; repeat for a multi-objective (Pareto) search. "
                   "[default: val_accuracy]")
@click.option("--early-stopping", type=click.Choice(["none", "asha", "median"]), default="none",
              show_default=True,
              help="Early-stopping rule applied per epoch (asha: eta=3, rungs at 1, 3, 9.. epochs).")
@click.option("--overwrite/--resume", default=False, show_default=True,
              help="Start afresh, or continue the search already in --out.")
@click.option("--top", type=click.IntRange(min=1), default=None,
              help="Show only the best N rows of the leaderboard.")
@click.option("-v", "--verbose", is_flag=True, help="Also print a line per epoch.")
def search(**opts: Any) -> None:
    """Search an architecture for a dataset and keep the best model."""
    run = SearchRun.from_options(opts)
    ds = _load_dataset(run.dataset, run.seed, opts["validation_split"])
    strategy = _make_strategy(run.strategy, run.seed)
    _check_out_dir(run)
    click.echo(f"{ds.describe()}; strategy {run.strategy}, {run.max_trials} trials "
               f"x {run.epochs} epochs -> {run.out_dir}")
    training = _import_training()
    progress = ProgressPrinter(run.objective_names, opts["verbose"])
    try:
        tuner = training.run_search(ds, strategy, run, progress)
    except KeyboardInterrupt:
        click.echo("\ninterrupted; rerun the same command (with --resume) to continue", err=True)
        raise SystemExit(130) from None
    except SearchDirectoryError as e:  # cannot resume: a file missing or corrupted
        fail(str(e))
    except RuntimeError as e:  # KerasTuner: too many consecutive failed trials
        _search_failed(e, run.out_dir, opts["top"])
    results = _print_leaderboard(run.out_dir, opts["top"])
    _strategy_report(run, results)
    best = _best_trial(results)
    test_accuracy = training.export_best(tuner, ds, run.out_dir, run.batch_size)
    _write_summary(run, best, test_accuracy)
    click.echo(f"\nbest trial {best['trial_id']}: "
               f"val_accuracy {format_metric((best.get('metrics') or {}).get('val_accuracy'))}, "
               f"test accuracy {test_accuracy:.4f}")
    click.echo(f"saved {run.out_dir / training.MODEL_FILENAME} and "
               f"{run.out_dir / SUMMARY_FILENAME}")
