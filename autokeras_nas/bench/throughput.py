"""Trials per minute with 1, 2, ... parallel workers.

`autokeras-nas bench workers --workers 1,2 --trials 8` runs the same search
(`autokeras-nas search`, by default of tiny digits models, 1 epoch per trial;
`--dataset fashion_mnist:10000` for models of Fashion-MNIST's size) as a chief
and N workers for each N, and reports trials per minute over the span from the
first trial request to the last trial end (the chief's `chief_stats.json`),
so that process start-up and the final export are left out; the wall time
is shown too. `--threads auto,tf-default` compares sizing TensorFlow's
thread pools to a share of the cores with TensorFlow's own default.
Imports no TensorFlow here: the searches run in child processes.
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Sequence

from autokeras_nas.launch import run_parallel

THREAD_MODES = ("auto", "tf-default")


@dataclass
class ThroughputResult:
    workers: int
    threads: str
    trials: int
    completed: int
    trials_span_s: float | None
    wall_s: float

    @property
    def trials_per_minute(self) -> float | None:
        if not self.trials_span_s:
            return None
        return 60.0 * self.completed / self.trials_span_s

    def to_dict(self) -> dict:
        return {**asdict(self), "trials_per_minute": self.trials_per_minute}


def _search_command(out: Path, trials: int, epochs: int, seed: int,
                    dataset: str) -> list[str]:
    return [sys.executable, "-m", "autokeras_nas.cli", "search", "--dataset", dataset,
            "--max-trials", str(trials), "--epochs", str(epochs), "--seed", str(seed),
            "--out", str(out), "--resume"]


def one_run(workers: int, threads: str, *, trials: int, epochs: int, seed: int,
            directory: Path, dataset: str) -> ThroughputResult:
    """One parallel search in `directory/w{workers}-{threads}`."""
    if threads not in THREAD_MODES:
        raise ValueError(f"threads must be one of {THREAD_MODES}, got {threads!r}")
    out = directory / f"w{workers}-{threads}"
    result = run_parallel(_search_command(out, trials, epochs, seed, dataset), workers=workers,
                          log_dir=out / "logs", threads="auto" if threads == "auto" else None,
                          echo=None)
    stats = json.loads((out / "chief_stats.json").read_text())
    records = json.loads((out / "results.json").read_text())["trials"]
    return ThroughputResult(
        workers=workers, threads=threads, trials=trials,
        completed=sum(t["status"] == "completed" for t in records),
        trials_span_s=stats.get("trials_span_s"), wall_s=round(result.wall_s, 2),
    )


def workers_throughput(workers: Sequence[int] = (1, 2), *, trials: int = 8, epochs: int = 1,
                       threads: Sequence[str] = ("auto",), seed: int = 0,
                       dataset: str = "digits", directory: str | Path | None = None,
                       progress: Callable[[str], None] | None = None) -> list[ThroughputResult]:
    """One parallel search per (workers, threads) pair, in that order."""
    if trials < 1 or epochs < 1 or not workers or min(workers) < 1:
        raise ValueError("workers, trials and epochs must be positive")
    results = []
    with tempfile.TemporaryDirectory(prefix="akn-workers-") as tmp:
        base = Path(directory) if directory is not None else Path(tmp)
        for n in workers:
            for mode in threads:
                if progress is not None:
                    progress(f"{n} worker(s), threads {mode}: {trials} trials...")
                results.append(one_run(n, mode, trials=trials, epochs=epochs, seed=seed,
                                       directory=base, dataset=dataset))
    return results


def format_throughput(results: Sequence[ThroughputResult]) -> str:
    lines = [f"{'workers':>7}  {'threads':<10}  {'completed':>9}  {'trials/min':>10}  "
             f"{'span_s':>7}  {'wall_s':>7}"]
    for r in results:
        rate = "-" if r.trials_per_minute is None else f"{r.trials_per_minute:.1f}"
        span = "-" if r.trials_span_s is None else f"{r.trials_span_s:.1f}"
        lines.append(f"{r.workers:>7}  {r.threads:<10}  {r.completed:>9}  {rate:>10}  "
                     f"{span:>7}  {r.wall_s:>7.1f}")
    return "\n".join(lines)
