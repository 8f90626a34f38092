"""`autokeras-nas search`: search a dataset end to end.

Loads the dataset and the strategy plugin, checks the output directory, and
only then imports TensorFlow (`autokeras_nas.cli.training`) to run the search
with `NasTuner` in exactly `--out`. Afterwards it prints the leaderboard from
`results.json`, evaluates the best model on the test split, saves it as
`best_model.keras` and writes `summary.json`.

Resuming is KerasTuner's default (`overwrite=False`): rerunning a command
continues the search in `--out`; `--overwrite` starts afresh.

The search space is the default for the dataset's kind and the strategy
(`autokeras_nas.cli.training.default_space`) or the user's `--space
MODULE:NAME` (`autokeras_nas.cli.userspace`). `--time-budget` is the
tuner's wall-clock budget (`NasTuner(time_budget=...)`), counted from this
run's start, also when resuming; with it and no `--max-trials`, the number
of trials is not limited.
"""

from __future__ import annotations

import contextlib
import inspect
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, Mapping, NoReturn, Sequence

import click

from autokeras_nas import tfenv
from autokeras_nas.cli import workers as parallel_cli
from autokeras_nas.cli.errors import fail
from autokeras_nas.cli.leaderboard import format_leaderboard, format_metric
from autokeras_nas.cli.progress import MODES, ProgressPrinter, format_duration, make_progress
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


__all__ = ["ProgressPrinter", "parse_duration", "parse_objective", "search"]

#: Trials of a search without --max-trials nor --time-budget.
DEFAULT_MAX_TRIALS = 10
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([hms]?)")
_UNIT_S = {"h": 3600.0, "m": 60.0, "s": 1.0, "": 1.0}


def parse_duration(text: str) -> float:
    """`90`, `90s`, `3m`, `1.5h`, `1h30m` -> seconds.

    Raises:
        ValueError: anything else, or a duration that is not positive.
    """
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact \
            or (len(parts) > 1 and any(not u for _, u in parts)):
        raise ValueError(f"--time-budget {text!r} is not a duration: give seconds, "
                         "or e.g. 90s, 3m, 1h, 1h30m")
    seconds = sum(float(n) * _UNIT_S[u] for n, u in parts)
    if not seconds > 0:
        raise ValueError(f"--time-budget must be positive, got {text!r}")
    return seconds


@dataclass(frozen=True)
class SearchRun:
    """The checked arguments of one `search` invocation."""

    dataset: str
    strategy: str
    seed: int
    objectives: list[str]
    max_trials: int | None
    epochs: int
    batch_size: int
    early_stopping: str | None
    out_dir: Path
    overwrite: bool
    space: str | None = None
    time_budget: float | None = None
    tensorboard: Path | None = None
    target: str | None = None
    data_dir: str | None = None
    distribute: str = "none"
    trial_timeout: float | None = None
    max_failures: int = 3
    started: float = field(default_factory=time.perf_counter)

    @classmethod
    def from_options(cls, opts: Mapping[str, Any]) -> "SearchRun":
        """The run of the parsed options (`fail`s on a bad --time-budget)."""
        budget = None
        if opts.get("time_budget") is not None:
            try:
                budget = parse_duration(opts["time_budget"])
            except ValueError as e:
                fail(str(e))
        max_trials = opts["max_trials"]
        if max_trials is None and budget is None:
            max_trials = DEFAULT_MAX_TRIALS
        tensorboard = opts.get("tensorboard")
        return cls(
            dataset=opts["dataset"], strategy=opts["strategy"], seed=opts["seed"],
            objectives=list(opts["objectives"]), max_trials=max_trials,
            epochs=opts["epochs"], batch_size=opts["batch_size"],
            early_stopping=None if opts["early_stopping"] == "none" else opts["early_stopping"],
            out_dir=opts["out"].expanduser().resolve(), overwrite=opts["overwrite"],
            space=opts.get("space"), time_budget=budget,
            tensorboard=None if tensorboard is None else tensorboard.expanduser().resolve(),
            target=opts.get("target"),
            data_dir=None if opts.get("data_dir") is None else str(opts["data_dir"].expanduser()),
            distribute=opts.get("distribute", "none"), trial_timeout=opts.get("trial_timeout"),
            max_failures=opts.get("max_failures", 3),
        )

    @property
    def objective_names(self) -> list[str]:
        return [o.partition(":")[0] for o in self.objectives]


def _load_dataset(run: SearchRun, validation_split: float) -> Any:
    from autokeras_nas.data import load_dataset

    options = {k: v for k, v in (("target", run.target), ("data_dir", run.data_dir))
               if v is not None}  # passed only when given
    try:
        return load_dataset(run.dataset, seed=run.seed, validation_split=validation_split,
                            **options)
    except ValueError as e:
        fail(str(e))


def _make_strategy(name: str, seed: int, time_budget: float | None = None) -> Any:
    """The strategy plugin; one that plans with a time budget of its own
    (`nash`'s `time_budget_s`) is given `--time-budget` as well."""
    from autokeras_nas import plugins

    try:
        cls = plugins.load(name)
    except plugins.UnknownStrategyError as e:
        fail(str(e))
    kwargs: dict[str, Any] = {"seed": seed}
    with contextlib.suppress(TypeError, ValueError):
        if time_budget is not None and "time_budget_s" in inspect.signature(cls).parameters:
            kwargs["time_budget_s"] = time_budget
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as e:
        fail(f"cannot create strategy {name!r}: {e}")


def _load_space(spec: str | None) -> Any:
    """The object `--space` names (imports the user's module), or None."""
    if spec is None:
        return None
    from autokeras_nas.cli.userspace import SpaceError, load_space

    try:
        return load_space(spec)
    except SpaceError as e:
        fail(str(e))


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _check_out_dir(run: SearchRun) -> bool:
    """Refuses to overwrite a non-search directory or to resume a different
    search; returns whether the search in `--out` is resumed."""
    out = run.out_dir
    if not out.is_dir() or not any(out.iterdir()):
        return False
    if not any((out / marker).exists() for marker in SEARCH_MARKERS):
        fail(f"--out {out} is a non-empty directory that holds no search; choose another --out")
    if run.overwrite:
        return False
    for filename, key, wanted in (("results.json", "strategy", run.strategy),
                                  (SUMMARY_FILENAME, "dataset", run.dataset),
                                  (SUMMARY_FILENAME, "space", run.space)):
        found = _read_json(out / filename) or {}
        if key in found and found[key] != wanted:
            fail(f"--out {out} holds a search with {key} {found[key]!r}, not {wanted!r}; "
                 "pass --overwrite to replace it or choose another --out")
    return True


def _strategy_report(run: SearchRun, results: dict[str, Any]) -> None:
    """What a strategy adds: the Pareto-front plot of a POPNAS or a
    multi-objective search, and how well its predictors ranked."""
    from autokeras_nas.report import pareto_axes, pareto_plot, predictor_correlations

    axes = pareto_axes(results)
    if axes is not None:
        path = run.out_dir / "pareto.png"
        n = pareto_plot(results, path, **axes)
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
        "space": run.space,
        "time_budget_s": run.time_budget,
        "target": run.target,
        "data_dir": run.data_dir,
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


def _plan(run: SearchRun) -> str:
    """`5 trials x 2 epochs`, `trials for 3:00 x 2 epochs`, ..."""
    trials = "trials" if run.max_trials is None else f"{run.max_trials} trials"
    if run.time_budget is not None:
        trials += f" within {format_duration(run.time_budget)}"
    return f"{trials} x {run.epochs} epoch{'' if run.epochs == 1 else 's'}"


def _budget_report(run: SearchRun, tuner: Any) -> None:
    if run.time_budget is not None and tuner.budget.exhausted:
        click.echo(f"time budget {format_duration(run.time_budget)} reached after "
                   f"{format_duration(tuner.budget.elapsed)}")


def _import_training() -> ModuleType:
    """Imports the TensorFlow half of the command (`autokeras_nas.cli.training`)."""
    from autokeras_nas.cli import training

    return training


@click.command()
@click.option("--dataset", default="digits", show_default=True,
              help="Dataset name, e.g. digits, csv:PATH (see `autokeras-nas datasets`).")
@click.option("--target", default=None, metavar="COLUMN",
              help="The class column of a csv:PATH dataset.")
@click.option("--data-dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Where tfds:NAME datasets are kept (default: tensorflow-datasets' own).")
@click.option("--space", default=None, metavar="MODULE:NAME",
              help="Your search space: build_model(hp), a keras_tuner.HyperModel (class or "
                   "instance) or a factory taking input_shape/num_classes, as MODULE:NAME or "
                   "FILE.py:NAME. [default: the dataset kind's CNN, 1-D CNN or MLP space, "
                   "or the strategy's own]")
@click.option("--strategy", default="random", show_default=True,
              help="Strategy plugin (see `autokeras-nas strategies`).")
@click.option("--max-trials", type=click.IntRange(min=1), default=None,
              help=f"Most trials. [default: {DEFAULT_MAX_TRIALS}; no limit with --time-budget]")
@click.option("--time-budget", default=None, metavar="DURATION",
              help="Wall-clock budget of this run, e.g. 90s, 3m, 1h30m or seconds: no trial "
                   "starts after it, the running one stops at its next epoch end.")
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
@click.option("--tensorboard", default=None, type=click.Path(file_okay=False, path_type=Path),
              metavar="DIR", help="Write TensorBoard logs with HParams, one run per trial.")
@click.option("--progress", "progress_mode", type=click.Choice(MODES), default="auto",
              show_default=True,
              help="Live view (terminal) or plain lines; auto: live when stdout is a terminal.")
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Trials in parallel: a KerasTuner chief and N worker processes on this "
                   "machine (a GPU each when there are GPUs); 0: one process. Logs in --out/logs.")
@click.option("--oracle-host", default="127.0.0.1", show_default=True,
              help="Address the chief of --workers listens on (reachable by anyone who can "
                   "reach it: keep loopback unless workers run on other hosts).")
@click.option("--distribute", type=click.Choice(["none", "mirrored"]), default="none",
              show_default=True,
              help="mirrored: train each trial with tf.distribute.MirroredStrategy over the "
                   "process's GPUs.")
@click.option("--trial-timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="SECONDS", help="A trial running longer fails (\"timeout after Ns\").")
@click.option("--max-failures", type=click.IntRange(min=1), default=3, show_default=True,
              help="Stop the search after this many failed trials in a row.")
@click.option("-v", "--verbose", is_flag=True, help="Also print a line per epoch (plain mode).")
@click.pass_context
def search(ctx: click.Context, **opts: Any) -> None:
    """Search an architecture for a dataset and keep the best model."""
    tfenv.prepare()  # before any TensorFlow import (a tfds dataset imports it)
    run = SearchRun.from_options(opts)
    ds = _load_dataset(run, opts["validation_split"])
    strategy = _make_strategy(run.strategy, run.seed, run.time_budget)
    if parallel_cli.is_parallel_child():
        resuming = False  # the parent checked --out
    else:
        resuming = _check_out_dir(run)
    if opts["workers"]:
        parallel_cli.run_search_in_parallel(ctx, run.out_dir, opts["workers"],
                                            opts["oracle_host"], run.overwrite)
        return
    user_space = _load_space(run.space)
    training = _import_training()
    try:
        hypermodel, space_name = training.make_space(ds, strategy, run.strategy, user_space,
                                                     run.space)
    except ValueError as e:  # SpaceError: the space does not fit the data or the strategy
        fail(str(e))
    if resuming:
        click.echo(f"resuming the search in {run.out_dir} (pass --overwrite to start afresh)")
    click.echo(f"{ds.describe()}; strategy {run.strategy} on {space_name}, {_plan(run)} "
               f"-> {run.out_dir}")
    progress = make_progress(opts["progress_mode"], objectives=run.objective_names,
                             verbose=opts["verbose"], out_dir=run.out_dir,
                             max_trials=run.max_trials, epochs=run.epochs,
                             budget_s=run.time_budget)
    try:
        with progress:
            tuner = training.run_search(ds, strategy, run, progress, hypermodel)
    except KeyboardInterrupt:
        click.echo("\ninterrupted; rerun the same command (with --resume) to continue", err=True)
        raise SystemExit(130) from None
    except SearchDirectoryError as e:  # cannot resume: a file missing or corrupted
        fail(str(e))
    except RuntimeError as e:  # KerasTuner: too many consecutive failed trials
        _search_failed(e, run.out_dir, opts["top"])
    if parallel_cli.is_worker():
        return  # the chief reports
    _budget_report(run, tuner)
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
