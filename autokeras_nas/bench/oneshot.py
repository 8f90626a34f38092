"""`autokeras-nas bench oneshot`: how well weight-sharing supernets rank
architectures they never trained alone (docs/benchmarks.md, "One-shot").

1. Ground truth: a seeded sample of NAS-Bench-201 cells
   (`oneshot_truth.sample_architectures`), each built normally
   (`autokeras_nas.spaces.Nb201Space`) and trained alone for a fixed number
   of epochs, twice (training seeds `seed` and `seed + 1`); its validation
   accuracy, averaged over the two, is the truth, and the rank correlation
   between the two seeds is the noise ceiling. Cached in a JSON file
   (`oneshot_truth.TruthCache`), written after every training.
2. Each strategy's supernet, trained once exactly as the strategy would
   have it trained: the strategy itself proposes the supernet trial (task,
   task_config, epochs) and `NasTuner` runs it with the package's trainers;
   then every sampled cell is estimated by the "estimate" trainer
   (inherited weights, fixed path, batch norm recalibrated). Each supernet
   runs in a fresh process (`autokeras-nas bench oneshot-run`), one after
   another, so that its peak resident memory is its own and not what an
   earlier training left allocated.
3. Kendall's tau and Spearman's rho of the estimates against the truth, the
   truth rank of the cell the strategy would choose (its best estimate),
   the supernet's training time and peak resident memory.
4. For a strategy whose supernet derives a cell itself (the differentiable
   ones: `darts`, `snas`, `gdas`, `proxyless`), that cell trained alone by
   the ground truth's protocol (cached like the sample's) and its rank
   within the sample, with the share of its edges that are parameter-free.

Numpy only here; the trainings import TensorFlow (`oneshot_train`).
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from autokeras_nas.bench.real import child_failure
from autokeras_nas.bench.oneshot_report import memory_claim, run_line, summarize
from autokeras_nas.bench.oneshot_truth import (
    OneshotBenchError,
    TruthCache,
    rank_correlations,
    sample_architectures,
)
from autokeras_nas.results import write_json_atomic

__all__ = ["CONDITIONAL", "DEFAULT_STRATEGIES", "Settings", "Variant", "cut_split",
           "ground_truth", "plan_variants", "prepare", "run_benchmark", "run_variant",
           "truth_cache"]

#: The one-shot strategies compared by default.
DEFAULT_STRATEGIES = ("spos", "random-ws", "oneshot", "enas")
#: `--conditional` values: each strategy with and without conditional
#: weights, or only one of the two.
CONDITIONAL = ("both", "on", "off")

Progress = Callable[[str], None]


@dataclasses.dataclass(frozen=True)
class Variant:
    """One supernet of the benchmark: a strategy, with or without
    conditional weights, searching with `seed` (None: the benchmark's
    `--seed`, the sample's)."""

    strategy: str
    conditional: bool
    seed: int | None = None

    @property
    def label(self) -> str:
        return (self.strategy + (" +cond" if self.conditional else "")
                + ("" if self.seed is None else f" seed {self.seed}"))

    def search_seed(self, default: int) -> int:
        """The variant's seed, or `default` (the benchmark's) without one."""
        return default if self.seed is None else self.seed

    @property
    def slug(self) -> str:
        """The variant's directory name."""
        return (self.strategy + ("-cond" if self.conditional else "")
                + ("" if self.seed is None else f"-seed{self.seed}"))


@dataclasses.dataclass(frozen=True)
class Settings:
    """What one `bench oneshot` measures.

    Attributes:
        dataset: As `bench real` names it (`fashion_mnist`: the protocol's
            20,000 / 5,000 split).
        variants: The supernets (`plan_variants`).
        sample: Cells of the ground truth; default 30, the protocol's minimum.
        truth_epochs: Epochs of each cell's stand-alone training; default 3,
            the package's default trial length, so the truth ranks what its
            searches would measure.
        supernet_epochs: Epochs of every supernet; None (default): each
            strategy's own default, as its search would train it.
        seed: Seed of the sample and of the strategies whose variant has
            no seed of its own; the cells train with `seed` and `seed + 1`.
        params: Constructor arguments given to every strategy (as `search
            --param`), e.g. `{"order": 2}` for second-order DARTS.
        estimates: Whether every supernet estimates the sampled cells (the
            rank correlations); without, only the supernet trains, and a
            strategy that derives a cell has that cell ranked.
        channels: Channels of the cell space's first stage; default 16, as
            in NAS-Bench-201.
        cells_per_stage: Default 1, the space's own CPU-sized default.
        batch_size: None (default): the package's search's on the data.
        train_size: Only the first N training samples; None: all.
        val_size: Only the first N validation samples; None: all.
        memory_only: Train the supernets only (no ground truth, no estimates).
    """

    dataset: str
    variants: tuple[Variant, ...]
    sample: int = 30
    truth_epochs: int = 3
    supernet_epochs: int | None = None
    seed: int = 0
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    estimates: bool = True
    channels: int = 16
    cells_per_stage: int = 1
    batch_size: int | None = None
    train_size: int | None = None
    val_size: int | None = None
    memory_only: bool = False

    @property
    def space(self) -> dict[str, int]:
        return {"channels": self.channels, "cells_per_stage": self.cells_per_stage}

    @property
    def training_seeds(self) -> tuple[int, int]:
        """The two seeds each sampled cell is trained with."""
        return (self.seed, self.seed + 1)


def plan_variants(strategies: Sequence[str], conditional: str, *,
                  seeds: Sequence[int] | None = None,
                  params: Mapping[str, Any] | None = None) -> tuple[list[Variant], list[str]]:
    """The supernets to train, and notes on those left out; none for
    `["none"]` (the ground truth only, e.g. to fill the cache first).

    A strategy whose supernet is not single-path (Bender's "all" mode, the
    differentiable modes) has no conditional weights (they pick a copy by
    the path an earlier choice took): it runs without them, once.

    Args:
        strategies: One-shot strategy names.
        conditional: `CONDITIONAL`.
        seeds: Search seeds: every supernet runs once with each (the
            sample, and so the ground truth, stays the same); None: once,
            with the benchmark's seed.
        params: Constructor arguments for every strategy; each strategy is
            built with them here, so one that refuses them fails now.

    Raises:
        OneshotBenchError: an unknown strategy, one that is not a one-shot
            strategy, a strategy or seed listed twice, a bad `conditional`,
            or `params` a strategy refuses.
    """
    from autokeras_nas import plugins
    from autokeras_nas.core import OneShotStrategy

    if conditional not in CONDITIONAL:
        raise OneshotBenchError(f"--conditional must be one of {', '.join(CONDITIONAL)}, "
                                f"got {conditional!r}")
    if list(strategies) == ["none"]:
        return [], []
    if not strategies:
        raise OneshotBenchError("--strategies lists no strategy (none: the ground truth only)")
    if len(set(strategies)) != len(strategies):
        raise OneshotBenchError(f"a strategy is listed twice in {','.join(strategies)}")
    if seeds is not None and (not seeds or len(set(seeds)) != len(seeds)
                              or any(type(s) is not int or s < 0 for s in seeds)):
        raise OneshotBenchError(f"the search seeds must be distinct ints >= 0, got "
                                f"{list(seeds)}")
    flags = {"both": (False, True), "on": (True,), "off": (False,)}[conditional]
    runs: list[tuple[str, bool]] = []
    notes = []
    for name in strategies:
        try:
            cls = plugins.load(name)
        except Exception as e:  # noqa: BLE001 - any load failure is the user's to read
            raise OneshotBenchError(str(e).splitlines()[0]) from None
        if not (isinstance(cls, type) and issubclass(cls, OneShotStrategy)):
            raise OneshotBenchError(f"{name!r} is not a one-shot strategy (it trains no "
                                    "supernet)")
        if params:
            try:
                cls(**params)
            except (TypeError, ValueError) as e:
                raise OneshotBenchError(f"--param for {name}: {e}") from None
        if cls.mode != "single" and True in flags:
            notes.append(f"{name}: its supernet is not single-path ({cls.mode}), which has no "
                         "conditional weights; run without them")
            runs.append((name, False))
            continue
        runs.extend((name, flag) for flag in flags)
    return [Variant(name, flag, seed) for name, flag in runs
            for seed in (seeds if seeds is not None else (None,))], notes


def cut_split(data: Any, *, train_size: int | None, val_size: int | None) -> Any:
    """The dataset cut to its first `train_size` training and `val_size`
    validation samples (None: all of them).

    Raises:
        OneshotBenchError: a size above what the dataset has, or data that
            the cell space does not take.
    """
    if data.kind not in ("image", "timeseries"):
        raise OneshotBenchError(f"{data.name} holds {data.kind} data; the cell space takes "
                                "images or time series")
    cuts = {}
    for part, size in (("train", train_size), ("val", val_size)):
        have = len(getattr(data, f"y_{part}"))
        if size is not None and not 1 <= size <= have:
            raise OneshotBenchError(f"--{part}-size must be in [1, {have}] for {data.name}, "
                                    f"got {size}")
        keep = slice(None) if size is None else slice(0, size)
        cuts[f"x_{part}"] = getattr(data, f"x_{part}")[keep]
        cuts[f"y_{part}"] = getattr(data, f"y_{part}")[keep]
    return dataclasses.replace(data, **cuts)


def prepare(settings: Settings, data: Any, *, batch_size: int,
            notes: Sequence[str] = ()) -> tuple[Settings, Any, dict[str, Any]]:
    """The benchmark's settings with the batch size (`batch_size` unless the
    settings give one) and the split sizes made explicit (they key the
    cache), the dataset cut to them, and the JSON's header.

    Args:
        settings: The benchmark's settings.
        data: The dataset as `autokeras-nas search` loads it (`bench real`'s
            split).
        batch_size: The batch size the package's search uses on it.
        notes: Lines the report ends with.

    Raises:
        OneshotBenchError: as `cut_split`.
    """
    data = cut_split(data, train_size=settings.train_size, val_size=settings.val_size)
    settings = dataclasses.replace(settings, batch_size=settings.batch_size or batch_size,
                                   train_size=len(data.y_train), val_size=len(data.y_val))
    return settings, data, {
        "benchmark": "oneshot", "dataset": settings.dataset, "dataset_loaded": data.name,
        "train_size": settings.train_size, "val_size": settings.val_size,
        "batch_size": settings.batch_size, "space": settings.space, "seed": settings.seed,
        "params": dict(settings.params), "estimates": settings.estimates,
        "sample_size": 0 if settings.memory_only else settings.sample,
        "truth_epochs": None if settings.memory_only else settings.truth_epochs,
        "supernet_epochs": settings.supernet_epochs, "memory_only": settings.memory_only,
        "variants": [dataclasses.asdict(v) for v in settings.variants], "notes": list(notes),
        "python": sys.version.split()[0], "cpus": os.cpu_count()}


# -- running -------------------------------------------------------------------------------
def _epochs(n: int) -> str:
    return f"{n} epoch" + ("" if n == 1 else "s")


def truth_cache(settings: Settings, cache_path: Path | None) -> TruthCache:
    """The ground truth's cache of `settings` (its key: dataset, split and
    batch sizes, space, sample seed, epochs) at `cache_path` (None: none)."""
    return TruthCache(cache_path, {
        "dataset": settings.dataset, "train_size": settings.train_size,
        "val_size": settings.val_size, "batch_size": settings.batch_size,
        "space": settings.space, "sample_seed": settings.seed, "epochs": settings.truth_epochs})


def ground_truth(settings: Settings, data: Any, cache_path: Path | None,
                 progress: Progress = lambda message: None) -> dict[str, Any]:
    """The ground truth of `settings`' sample: each cell trained alone with
    both seeds (what the cache at `cache_path` lacks is trained and added);
    its cells (`architectures`: arch, both accuracies, their mean), seeds,
    epochs, noise ceiling and mean training seconds.

    Args:
        settings: As returned by `prepare` (batch size and sizes explicit).
        data: The dataset `prepare` returned.
        cache_path: The cache (`TruthCache`); None: train everything.
        progress: Called with a line of text at each step.
    """
    sample = sample_architectures(settings.sample, settings.seed)
    return _truth(settings, data, sample, truth_cache(settings, cache_path), progress)


def _truth(settings: Settings, data: Any, sample: list[dict[str, str]], cache: TruthCache,
           progress: Progress) -> dict[str, Any]:
    """Trains what the cache lacks (each seed's pass over the sample in
    turn); returns the ground truth."""
    todo = [(seed, i) for seed in settings.training_seeds for i in range(len(sample))
            if cache.accuracy(sample[i], seed) is None]
    if todo:
        from autokeras_nas.bench.oneshot_train import train_alone

        progress(f"ground truth: {len(todo)} of {2 * len(sample)} trainings to run "
                 f"({_epochs(settings.truth_epochs)} each); the rest are in the cache")
        for n, (seed, i) in enumerate(todo, 1):
            result = train_alone(sample[i], data, space=settings.space,
                                 epochs=settings.truth_epochs, batch_size=settings.batch_size,
                                 seed=seed)
            cache.record(sample[i], seed, **result)
            progress(f"ground truth {n}/{len(todo)}: cell {i} seed {seed}: val accuracy "
                     f"{result['accuracy']:.4f} ({result['seconds']:.0f} s)")
    else:
        progress(f"ground truth: all {2 * len(sample)} trainings found in the cache")
    a, b = ([cache.accuracy(arch, seed) for arch in sample] for seed in settings.training_seeds)
    seconds = [cache.seconds(arch, s) for arch in sample for s in settings.training_seeds]
    return {"seeds": list(settings.training_seeds), "epochs": settings.truth_epochs,
            "architectures": [{"arch": arch, "val_accuracy": [x, y], "mean": (x + y) / 2}
                              for arch, x, y in zip(sample, a, b)],
            "noise_ceiling": rank_correlations(a, b),
            "mean_train_time_s": float(np.mean([s for s in seconds if s is not None]))}


def _derived_truth(settings: Settings, data: Any, arch: Mapping[str, str], cache: TruthCache,
                   progress: Progress) -> dict[str, Any]:
    """The derived cell retrained from scratch alone with both truth seeds,
    as the sample was (the cache's trainings reused when they hold the test
    accuracy too; a cached training without one keeps its validation
    accuracy, and a new training adds the test accuracy): its validation and
    test accuracies and their means."""
    found, tests = [], []
    testable = getattr(data, "x_test", None) is not None
    for seed in settings.training_seeds:
        accuracy, test = cache.accuracy(arch, seed), cache.test_accuracy(arch, seed)
        if accuracy is None or (testable and test is None):
            from autokeras_nas.bench.oneshot_train import train_alone

            result = train_alone(arch, data, space=settings.space, epochs=settings.truth_epochs,
                                 batch_size=settings.batch_size, seed=seed)
            test = result.get("test_accuracy")
            if accuracy is None:
                cache.record(arch, seed, **result)
                accuracy = result["accuracy"]
            elif test is not None:
                # a sampled cell's training without a test accuracy: its truth
                # (the validation accuracy) stays, the test accuracy is added
                cache.record_test(arch, seed, test)
            progress(f"derived cell, seed {seed}: val accuracy {accuracy:.4f}"
                     + ("" if test is None else f", test accuracy {test:.4f}")
                     + f" ({result['seconds']:.0f} s)")
        found.append(float(accuracy))
        if test is not None:
            tests.append(float(test))
    return {"arch": dict(arch), "val_accuracy": found, "mean": float(np.mean(found)),
            "test_accuracy": tests,
            "test_mean": float(np.mean(tests)) if len(tests) == len(found) else None}


def _child_config(settings: Settings, variant: Variant, sample: list[dict[str, str]],
                  directory: Path) -> dict[str, Any]:
    return {"dataset": settings.dataset, "seed": settings.seed,
            "search_seed": variant.search_seed(settings.seed),
            "params": dict(settings.params), "candidates": len(sample),
            "train_size": settings.train_size, "val_size": settings.val_size,
            "batch_size": settings.batch_size, "space": settings.space,
            "strategy": variant.strategy, "conditional": variant.conditional,
            "supernet_epochs": settings.supernet_epochs,
            "sample": sample if settings.estimates else [], "directory": str(directory)}


def run_variant(settings: Settings, variant: Variant, sample: list[dict[str, str]],
                directory: Path) -> dict[str, Any]:
    """One supernet and its estimates in a fresh process
    (`autokeras-nas bench oneshot-run`), waited for; its record."""
    out = directory / variant.slug
    out.mkdir(parents=True, exist_ok=True)
    config, result, log = out / "config.json", out / "run.json", out / "log.txt"
    result.unlink(missing_ok=True)
    write_json_atomic(str(config), _child_config(settings, variant, sample, out / "search"))
    command = [sys.executable, "-m", "autokeras_nas.cli", "bench", "oneshot-run",
               "--config", str(config), "--result", str(result)]
    record: dict[str, Any] = {"label": variant.label, "strategy": variant.strategy,
                              "conditional": variant.conditional,
                              "search_seed": variant.search_seed(settings.seed),
                              "out": str(out),
                              "started_at": time.time()}
    with open(log, "w") as sink:
        code = subprocess.run(command, stdout=sink, stderr=subprocess.STDOUT,
                              env=dict(os.environ)).returncode
    record["ended_at"] = time.time()
    error = None if code == 0 else child_failure(log, code)
    if error is None:
        try:
            record.update(json.loads(result.read_text()))
        except (OSError, ValueError) as e:
            error = f"no result written ({e})"
    if error is not None:
        record.update(status="failed", error=error)
    return record


def run_benchmark(settings: Settings, data: Any, *, directory: Path, cache_path: Path | None,
                  header: Mapping[str, Any], json_path: Path | None = None,
                  progress: Progress = lambda message: None) -> dict[str, Any]:
    """The ground truth, then every variant's supernet one after another;
    the JSON (when given) is written after the truth and after each supernet.

    Args:
        settings: As returned by `prepare` (batch size and sizes explicit).
        data: The dataset `prepare` returned (cut to the sizes).
        directory: Where each supernet's search, config and log go.
        cache_path: The ground truth's cache (`TruthCache`); None: no cache.
        header: Fields at the top of the JSON (`prepare`).
        json_path: The JSON file, or None.
        progress: Called with a line of text at each step.

    Raises:
        OneshotBenchError: bad settings or an unusable cache.
    """
    sample = [] if settings.memory_only else sample_architectures(settings.sample, settings.seed)
    payload: dict[str, Any] = {**header, "sample": sample, "runs": []}
    truth: list[float] = []
    if sample:
        payload["truth"] = ground_truth(settings, data, cache_path, progress)
        truth = [a["mean"] for a in payload["truth"]["architectures"]]
        if json_path is not None:
            write_json_atomic(str(json_path), payload, indent=2)
    for variant in settings.variants:
        progress(f"{variant.label}: training its supernet"
                 + ("" if settings.memory_only or not settings.estimates
                    else f", then {len(sample)} estimates"))
        record = run_variant(settings, variant, sample, directory)
        if sample and record.get("status") == "ok" and record.get("derived"):
            record["derived_truth"] = _derived_truth(settings, data, record["derived"],
                                                     truth_cache(settings, cache_path), progress)
        record = summarize(record, truth)
        payload["runs"].append(record)
        payload["memory"] = memory_claim(payload["runs"])
        if json_path is not None:
            write_json_atomic(str(json_path), payload, indent=2)
        progress(run_line(record))
    return payload
