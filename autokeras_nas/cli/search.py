"""`autokeras-nas search`: search a dataset end to end.

The options become a `autokeras_nas.workflow.SearchConfig`; the command then
follows the workflow (`autokeras_nas.workflow`) step by step and prints
between the steps: load the dataset and the strategy (with `--param`
arguments), check `--out`, make the space (TensorFlow is imported from
here on), run the search with a progress view, then the leaderboard, the
best model's test accuracy (regression: test MAE and RMSE, in the target's
units), `best_model.keras` and `summary.json`.

Resuming is KerasTuner's default (`overwrite=False`): rerunning a command
continues the search in `--out`; `--overwrite` starts afresh. With
`--workers N` the command runs again as a KerasTuner chief and N workers
(`autokeras_nas.cli.workers`).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Mapping, NoReturn, Sequence

import click

from autokeras_nas import tfenv, workflow
from autokeras_nas.cli import workers as parallel_cli
from autokeras_nas.cli.errors import fail, workflow_errors
from autokeras_nas.cli.leaderboard import format_leaderboard, format_metric
from autokeras_nas.cli.progress import MODES, format_duration, make_progress
from autokeras_nas.core.stopping import EARLY_STOPPING_NAMES
from autokeras_nas.workflow.config import (
    DEFAULT_EARLY_STOPPING,
    DEFAULT_MAX_TRIALS,
    SearchConfig,
)
from autokeras_nas.workflow.scores import describe_scores

__all__ = ["search"]


def _objectives_callback(ctx: click.Context, param: click.Parameter, value: Sequence[str]
                         ) -> list[str]:
    try:
        return [workflow.parse_objective(v) for v in value]  # none: the data's default
    except workflow.WorkflowError as e:
        raise click.BadParameter(str(e), param_hint="--objective") from None


def _config(opts: Mapping[str, Any]) -> SearchConfig:
    """The search's settings from the parsed options."""
    return SearchConfig(
        out_dir=opts["out"], dataset=opts["dataset"], strategy=opts["strategy"],
        params=workflow.parse_params(opts["params"]), space=opts["space"], seed=opts["seed"],
        objectives=opts["objectives"], max_trials=opts["max_trials"],
        time_budget=opts["time_budget"], time_budget_scope=opts["time_budget_scope"],
        epochs=opts["epochs"], batch_size=opts["batch_size"],
        validation_split=opts["validation_split"], early_stopping=opts["early_stopping"],
        extend_best=opts["extend_best"],
        validation=opts["validation"],
        overwrite=opts["overwrite"], tensorboard=opts["tensorboard"], target=opts["target"],
        task=opts["task"], data_dir=opts["data_dir"], image_size=opts["image_size"],
        stream=opts["stream"], distribute=opts["distribute"],
        trial_timeout=opts["trial_timeout"], max_failures=opts["max_failures"],
        constraints=opts["constraints"],
    )


def _plan(config: SearchConfig) -> str:
    """`5 trials x 2 epochs`, `trials within 3:00 x 2 epochs`, ..."""
    trials = "trials" if config.max_trials is None else f"{config.max_trials} trials"
    if config.time_budget is not None:
        trials += f" within {format_duration(config.time_budget)}"
    return f"{trials} x {config.epochs} epoch{'' if config.epochs == 1 else 's'}"


def _for_data(config: SearchConfig, opts: Mapping[str, Any], dataset: Any) -> SearchConfig:
    """`config` with the data's default epochs and batch size where the
    options left them out (`training_defaults`)."""
    return config.for_data(dataset)


def _budget_on_resume(config: SearchConfig) -> str:
    """What the time budget of a resumed search counts, in one line."""
    try:
        spent = workflow.load_search(config.out_dir).results.get("search_seconds")
    except workflow.WorkflowError:
        spent = None
    spent_text = "an unknown time" if spent is None else format_duration(spent)
    if config.time_budget_scope == "search":
        return (f"time budget {format_duration(config.time_budget)} for the whole search: "
                f"earlier runs spent {spent_text} of it")
    return (f"time budget {format_duration(config.time_budget)} from now (earlier runs spent "
            f"{spent_text}; --time-budget-scope search counts them)")


def _validation_line(config: SearchConfig, plan: Any) -> str:
    """`validation: 5-fold stratified cross-validation over 50 ... (auto: ...)`."""
    line = f"validation: {plan.describe()}"
    if plan.kfold and config.early_stopping is not None:
        line += f"; --early-stopping {config.early_stopping} is off under k-fold"
    return line


def _leaderboard(out_dir: Path, limit: int | None) -> None:
    click.echo("")
    click.echo(format_leaderboard(workflow.load_search(out_dir).results, limit=limit))


def _search_failed(error: Exception, out_dir: Path, limit: int | None) -> NoReturn:
    """Shows what the search did, then stops with the error (exit 1)."""
    with contextlib.suppress(workflow.WorkflowError):
        _leaderboard(out_dir, limit)
    raise click.ClickException(str(error))


def _report(config: SearchConfig, outcome: Any, top: int | None) -> None:
    if outcome.budget_elapsed is not None:
        click.echo(f"time budget {format_duration(config.time_budget)} reached after "
                   f"{format_duration(outcome.budget_elapsed)}")
    click.echo("")
    click.echo(format_leaderboard(outcome.results, limit=top))
    if outcome.pareto is not None:
        click.echo(f"Pareto front ({outcome.pareto[1]} trials): {outcome.pareto[0]}")
    for quantity, row in outcome.correlations.items():
        parts = "  ".join(f"{k} {v:.2f}" for k, v in row.items() if k != "n")
        click.echo(f"predicted vs actual {quantity}, Spearman over {int(row['n'])} cells: {parts}")
    best = outcome.best
    val_metric = outcome.val_metric
    val = format_metric((best.get("metrics") or {}).get(val_metric))
    retrained = outcome.retrained
    if retrained is not None:
        click.echo(f"\nretrained trial {best['trial_id']}'s configuration from scratch on all "
                   f"{retrained['samples']} training samples for {retrained['epochs']} epochs, "
                   f"{retrained.get('members', 1)} times, predictions averaged "
                   f"({retrained['seconds']:.1f} s)")
        val += f" ({outcome.validation.folds}-fold mean)"
    units = " (in the target's units)" if outcome.task == "regression" else ""
    click.echo(f"\nbest trial {best['trial_id']}: {val_metric} {val}, "
               f"test {describe_scores(outcome.test_scores)}{units}")
    click.echo(f"saved {outcome.model_path} and {outcome.summary_path}")
    click.echo(f"every trial: {config.out_dir / 'results.json'} (leaderboard and plots: "
               f"autokeras-nas report {config.out_dir})")


@click.command()
@click.option("--dataset", default="digits", show_default=True,
              help="Dataset name, e.g. digits, csv:PATH (see `autokeras-nas datasets`).")
@click.option("--target", default=None, metavar="COLUMN",
              help="The target column of a csv:PATH dataset: classes, or numbers to predict "
                   "(regression).")
@click.option("--task", default="auto", show_default=True,
              metavar="auto|classification|regression",
              help="What the target is (csv:PATH, npz:PATH). auto: regression for numbers "
                   "with a non-integer value (csv: or more than 20 distinct values), else "
                   "classification. Regression searches the tabular MLP with a linear head, "
                   "objective val_mean_absolute_error.")
@click.option("--data-dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Where tfds:NAME datasets are kept (default: tensorflow-datasets' own).")
@click.option("--image-size", default=None, metavar="H,W",
              help="Size every image of an images:DIR dataset is resized to, e.g. 96,80 or "
                   "96x80. [default: the folder's most common size, shrunk only beyond 1 MiB "
                   "per decoded image]")
@click.option("--stream/--no-stream", default=None,
              help="Read an images:DIR dataset from disk batch by batch (tf.data), or decode "
                   "it whole into memory. [default: stream above 1 GiB decoded]")
@click.option("--space", default=None, metavar="MODULE:NAME",
              help="Your search space: build_model(hp), a keras_tuner.HyperModel (class or "
                   "instance) or a factory taking input_shape/num_classes, as MODULE:NAME or "
                   "FILE.py:NAME; or nb201, the NAS-Bench-201 cell space, or mbconv, ProxylessNAS' "
                   "MBConv blocks. "
                   "[default: the dataset kind's CNN, 1-D CNN or MLP space, "
                   "or the strategy's own]")
@click.option("--strategy", default="random", show_default=True,
              help="Strategy plugin (see `autokeras-nas strategies`).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Constructor argument of the strategy (repeatable), e.g. "
                   "population_size=8; VALUE is read as JSON when it parses.")
@click.option("--max-trials", type=click.IntRange(min=1), default=None,
              help=f"Most trials. [default: {DEFAULT_MAX_TRIALS}; no limit with --time-budget]")
@click.option("--time-budget", default=None, metavar="DURATION",
              help="Wall-clock budget, e.g. 90s, 3m, 1h30m or seconds: no trial starts after "
                   "it, the running one stops at its next epoch end.")
@click.option("--time-budget-scope", type=click.Choice(["run", "search"]), default="run",
              show_default=True,
              help="run: the budget counts from this run's start (a resumed search gets it "
                   "whole again); search: the time earlier runs of the search spent counts too.")
@click.option("--epochs", type=click.IntRange(min=1), default=None,
              help="Epochs per trial, the top rung under asha (a strategy may set its own "
                   "budget; a one-shot strategy's supernet and retrains train this long). "
                   "[default: 40 for time series of under 1000 training samples, "
                   "else 9 under asha or hyperband, else 3]")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Search directory: results.json, best_model.keras, summary.json.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the data split, the strategy and Keras.")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="[default: 16 for time series of under 1000 training samples, else 32]")
@click.option("--validation-split", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              default=0.2, show_default=True, help="Fraction of the non-test data for validation.")
@click.option("--objective", "objectives", multiple=True, callback=_objectives_callback,
              help="NAME or NAME:min|max; repeat for a multi-objective (Pareto) search. "
                   "Besides the metrics: params, latency_ms, train_time_s, and measured in the "
                   "TFLite interpreter when named: tflite_latency_ms, tflite_int8_latency_ms, "
                   "int8_val_accuracy.  "
                   "[default: val_accuracy; val_mean_absolute_error for regression]")
@click.option("--validation", default="auto", show_default=True, metavar="auto|split|kfold:K",
              help="How trials are validated: split (--validation-split), kfold:K (stratified "
                   "K-fold over all training data; the best model is then retrained on all "
                   "of it; early stopping off), or auto: k-fold:5 below 1000 training "
                   "samples, else split.")
@click.option("--early-stopping", type=click.Choice(list(EARLY_STOPPING_NAMES)),
              default=DEFAULT_EARLY_STOPPING, show_default=True,
              help="asha: every configuration trains to 1 epoch, the best third go on from "
                   "where they stopped to 3, then 9 epochs (--epochs is the top rung); "
                   "hyperband: the same in synchronous brackets; asha-stop, median: rules "
                   "that stop a trial after an epoch.")
@click.option("--extend-best/--no-extend-best", default=True, show_default=True,
              help="With --time-budget and asha or hyperband: end the budget on the best "
                   "configuration, continued from its state for every epoch that fits with "
                   "its learning rate annealed; --no-extend-best: the schedule runs until "
                   "the budget stops it.")
@click.option("--overwrite/--resume", default=False, show_default=True,
              help="Start afresh, or continue the search already in --out.")
@click.option("--top", type=click.IntRange(min=1), default=None,
              help="Show only the best N rows of the leaderboard.")
@click.option("--tensorboard", default=None, type=click.Path(file_okay=False, path_type=Path),
              metavar="DIR", help="Write TensorBoard logs with HParams, one run per trial.")
@click.option("--progress", "progress_mode", type=click.Choice(MODES), default="auto",
              show_default=True,
              help="Live view (terminal) or plain lines; auto: live when stdout is a terminal.")
@click.option("--workers", type=parallel_cli.WorkersType(), default="0", show_default=True,
              metavar="N|auto",
              help="Trials in parallel: a KerasTuner chief and N worker processes on this "
                   "machine (a GPU each when there are GPUs); 0: one process; auto: one per "
                   "GPU, else one per core (up to 8). Logs in --out/logs.")
@click.option("--oracle-host", default="127.0.0.1", show_default=True,
              help="Address the chief of --workers listens on (reachable by anyone who can "
                   "reach it: keep loopback unless workers run on other hosts).")
@click.option("--distribute", type=click.Choice(["none", "mirrored"]), default="none",
              show_default=True,
              help="mirrored: train each trial with tf.distribute.MirroredStrategy over the "
                   "process's GPUs.")
@click.option("--trial-timeout", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="SECONDS", help="A trial running longer fails (\"timeout after Ns\").")
@click.option("--constraint", "constraints", multiple=True, metavar="METRIC<=N",
              help="Hard constraint (repeatable): params<=N, latency_ms<=N, model_kb<=N or "
                   "tflite_latency_ms<=N. "
                   "A candidate that violates one is measured, not trained, and recorded as "
                   "infeasible.")
@click.option("--max-failures", type=click.IntRange(min=1), default=3, show_default=True,
              help="Stop the search after this many failed trials in a row.")
@click.option("-v", "--verbose", is_flag=True, help="Also print a line per epoch (plain mode).")
@click.pass_context
def search(ctx: click.Context, **opts: Any) -> None:
    """Search an architecture for a dataset and keep the best model."""
    tfenv.prepare()  # before any TensorFlow import (a tfds dataset imports it)
    with workflow_errors():
        config = _config(opts)
        dataset = workflow.load_dataset(config.dataset, seed=config.seed,
                                        validation_split=config.validation_split,
                                        target=config.target, data_dir=config.data_dir,
                                        task=config.task, image_size=config.image_size,
                                        stream=config.stream)
        config = _for_data(config, opts, dataset)
        strategy = workflow.make_strategy(config.strategy, seed=config.seed,
                                          params=config.params, time_budget=config.time_budget,
                                          epochs=config.epochs)
        plan = workflow.plan_validation(config, dataset, strategy)
        # A chief or worker of --workers: the parent checked --out.
        resuming = not parallel_cli.is_parallel_child() and workflow.check_out_dir(config)
        workers = parallel_cli.resolve_workers(opts["workers"])
        if workers:
            parallel_cli.run_search_in_parallel(ctx, config.out_dir, workers,
                                                opts["oracle_host"], config.overwrite)
            return
        user_space = None if config.space is None else workflow.load_space(config.space)
        space = workflow.make_space(dataset, strategy, user_space, label=config.space)
    if resuming:
        click.echo(f"resuming the search in {config.out_dir} (pass --overwrite to start afresh)")
        if config.time_budget is not None:
            click.echo(_budget_on_resume(config))
    click.echo(f"{dataset.describe()}; strategy {config.strategy} on {space.name}, "
               f"{_plan(config)} -> {config.out_dir}")
    click.echo(_validation_line(config, plan))
    progress = make_progress(opts["progress_mode"], objectives=config.objective_names,
                             verbose=opts["verbose"], out_dir=config.out_dir,
                             max_trials=config.max_trials, epochs=config.epochs,
                             budget_s=config.time_budget,
                             validation=f"{plan.folds}-fold" if plan.kfold else None)
    try:
        with progress:
            tuner = workflow.run_search(dataset, strategy, space.hypermodel, config,
                                        progress=progress, plan=plan)
        if parallel_cli.is_worker():
            return  # the chief reports
        outcome = workflow.finish_search(tuner, dataset, config, plan)
    except KeyboardInterrupt:
        click.echo("\ninterrupted; rerun the same command (with --resume) to continue", err=True)
        raise SystemExit(130) from None
    except workflow.SearchFailedError as e:
        _search_failed(e, config.out_dir, opts["top"])
    except workflow.WorkflowError as e:  # the search directory cannot be resumed
        fail(str(e))
    _report(config, outcome, opts["top"])
