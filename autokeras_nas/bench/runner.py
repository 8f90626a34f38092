"""The benchmark runner: search quality on NAS-Bench-201 and strategy overhead.

The protocols of docs/benchmarks.md, sections 1 and 2. Every searcher runs
with the same run seeds; run `r` uses seed `seed + r` for the searcher and
for the table's noise, so every searcher faces the same noise stream. One run proposes
`max(budgets)` cells; the score at a smaller budget N uses the run's first
N proposals (what a run stopped at N would have seen).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from autokeras_nas.bench.nb201 import REFERENCE_ACCURACY, NB201Table, cell_index
from autokeras_nas.bench.searchers import Searcher, SearcherError
from autokeras_nas.core import Float, HyperSpace, Objective
from autokeras_nas.testing.spaces import nb201_objective, nb201_space, score_values

#: Seed offset of the table's noise generator (distinct from the searcher's).
NOISE_STREAM = 201


@dataclass
class Score:
    """Mean and standard error of a score over runs."""

    mean: float
    se: float
    n: int

    @classmethod
    def of(cls, values: Sequence[float]) -> "Score":
        arr = np.asarray(values, dtype=float)
        se = float(arr.std(ddof=1) / math.sqrt(len(arr))) if len(arr) > 1 else float("nan")
        return cls(float(arr.mean()), se, len(arr))

    def __str__(self) -> str:
        return f"{self.mean:.3f} ± {self.se:.3f}" if math.isfinite(self.se) else f"{self.mean:.3f}"


@dataclass
class QualityResult:
    """One searcher's scores at each budget."""

    label: str
    runs: int
    scores: dict[int, Score]
    seconds_per_run: float
    short_runs: int = 0  # runs that ended with fewer evaluations than the largest budget

    def to_dict(self) -> dict[str, Any]:
        return {
            "searcher": self.label, "runs": self.runs, "seconds_per_run": self.seconds_per_run,
            "short_runs": self.short_runs,
            "scores": {str(n): {"mean": s.mean, "se": s.se if math.isfinite(s.se) else None}
                       for n, s in self.scores.items()},
        }


ProgressFn = Callable[[str], None]


def nb201_quality(
    searchers: Sequence[Searcher],
    table: NB201Table,
    objectives: tuple[Objective, ...],
    *,
    budgets: Sequence[int] = (50, 150),
    runs: int = 100,
    seed: int = 0,
    slow_runs: int | None = None,
    progress: ProgressFn | None = None,
) -> list[QualityResult]:
    """Runs every searcher `runs` times on the table; scores each budget.

    Single objective: mean regret (best mean accuracy - the mean accuracy of
    the cell with the best observed accuracy). Several: hypervolume ratio of
    the true values of the evaluated cells.

    Args:
        slow_runs: Runs of a searcher with `max_runs` (a slow peer); defaults
            to its `max_runs`.
    """
    if not budgets or min(budgets) < 1:
        raise SearcherError(f"budgets must be positive, got {list(budgets)}")
    if runs < 1:
        raise SearcherError(f"runs must be >= 1, got {runs}")
    multi = len(objectives) > 1
    for s in searchers:
        if multi and not s.multi_objective:
            raise SearcherError(f"{s.label} cannot search several objectives")
    space, n_max = table.space(), max(budgets)
    results = []
    for searcher in searchers:
        n_runs = runs if searcher.max_runs is None else min(runs, slow_runs or searcher.max_runs)
        per_budget: dict[int, list[float]] = {n: [] for n in budgets}
        short, start = 0, time.perf_counter()
        for r in range(n_runs):
            indices, observed = _one_run(searcher, table, space, objectives, n_max, seed + r)
            short += len(indices) < n_max
            for n in budgets:
                if not indices[:n]:
                    continue
                if multi:
                    per_budget[n].append(table.hypervolume_ratio(indices[:n], objectives))
                else:
                    per_budget[n].append(table.regret(indices[:n], observed[:n]))
            if progress:
                progress(f"{searcher.label}: run {r + 1}/{n_runs}")
        elapsed = time.perf_counter() - start
        results.append(QualityResult(
            searcher.label, n_runs, {n: Score.of(v) for n, v in per_budget.items() if v},
            elapsed / n_runs, short,
        ))
    return results


def _one_run(searcher: Searcher, table: NB201Table, space: HyperSpace,
             objectives: tuple[Objective, ...], n_max: int, run_seed: int
             ) -> tuple[list[int], list[float]]:
    noise = np.random.default_rng([run_seed, NOISE_STREAM])
    indices: list[int] = []
    observed: list[float] = []

    def evaluate(values: Mapping[str, Any]) -> dict[str, float]:
        metrics = table.query(values, noise)
        if len(indices) < n_max:
            indices.append(cell_index(values))
            observed.append(metrics["val_acc"])
        return metrics

    searcher.run(space, objectives, n_max, run_seed, evaluate)
    return indices, observed


def format_quality(results: Sequence[QualityResult], table: NB201Table,
                   objectives: tuple[Objective, ...], runs: int, seed: int) -> str:
    """The table `bench nb201` prints."""
    budgets = sorted({n for r in results for n in r.scores})
    if len(objectives) == 1:
        what = (f"mean regret ± standard error; regret = {table.best_mean:.3f} (best mean accuracy) "
                "- mean accuracy of the best observed cell; lower is better")
    else:
        names = ", ".join(f"{o.name} ({o.direction})" for o in objectives)
        what = (f"hypervolume ratio ± standard error of ({names}) over the table's front; "
                f"reference: accuracy {REFERENCE_ACCURACY[table.dataset]:g}, costs at the table's "
                "worst; higher is better")
    lines = [f"NAS-Bench-201 {table.dataset}: {what}",
             f"runs seeded {seed}..{seed + runs - 1} (fewer where the runs column says so)"]
    width = max([len("searcher")] + [len(r.label) for r in results])
    header = f"{'searcher'.ljust(width)}  {'runs':>4}  " + "  ".join(
        f"{f'N={n}':>15}" for n in budgets) + "     s/run"
    lines.append(header)
    for r in results:
        cells = "  ".join(f"{str(r.scores[n]) if n in r.scores else '-':>15}" for n in budgets)
        note = f"  ({r.short_runs} runs ended early)" if r.short_runs else ""
        lines.append(f"{r.label.ljust(width)}  {r.runs:>4}  {cells}  {r.seconds_per_run:8.2f}{note}")
    return "\n".join(lines)


# -- overhead ------------------------------------------------------------------
def float_space(n: int = 8) -> HyperSpace:
    """`n` Floats in [0, 1] (every other one log-scaled in [1e-4, 1])."""
    return HyperSpace([
        Float(f"x{i}", 1e-4, 1.0, sampling="log") if i % 2 else Float(f"x{i}", 0.0, 1.0)
        for i in range(n)
    ])


#: name -> (space factory, analytic objective) of the overhead benchmark.
OVERHEAD_SPACES: dict[str, tuple[Callable[[], HyperSpace], Callable[[Mapping[str, Any]], float]]] = {
    "nb201": (nb201_space, nb201_objective),
    "float8": (float_space, score_values),
}


@dataclass
class OverheadResult:
    label: str
    space: str
    trials: int
    mean_ms: float
    last_ms: float  # mean over the last 10 % of the trials

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def overhead(searcher: Searcher, space_name: str, n_trials: int, seed: int = 0) -> OverheadResult:
    """Time the searcher spends between evaluations, per trial.

    The objective is analytic and its own time is excluded: trial i's cost
    is the time from the end of evaluation i-1 to the start of evaluation i
    (an ask, and the tell of the previous trial), plus the final tell.
    """
    make_space, objective = OVERHEAD_SPACES[space_name]
    gaps: list[float] = []
    last_end = [time.perf_counter()]

    def evaluate(values: Mapping[str, Any]) -> dict[str, float]:
        gaps.append(time.perf_counter() - last_end[0])
        score = float(objective(values))
        last_end[0] = time.perf_counter()
        return {"score": score}

    searcher.run(make_space(), (Objective("score", "max"),), n_trials, seed, evaluate)
    gaps.append(time.perf_counter() - last_end[0])  # the last tell
    if len(gaps) > 1:
        gaps[-2] += gaps.pop()
    arr = np.asarray(gaps) * 1e3
    tail = arr[-max(1, len(arr) // 10):]
    return OverheadResult(searcher.label, space_name, len(arr), float(arr.mean()), float(tail.mean()))


def format_overhead(results: Sequence[OverheadResult]) -> str:
    width = max([len("searcher")] + [len(r.label) for r in results])
    lines = ["strategy overhead: ask + tell per trial, analytic objective excluded (milliseconds)",
             f"{'searcher'.ljust(width)}  {'space':<7} {'trials':>7}  {'mean ms':>9}  {'last 10% ms':>11}"]
    for r in results:
        lines.append(f"{r.label.ljust(width)}  {r.space:<7} {r.trials:>7}  {r.mean_ms:9.3f}  {r.last_ms:11.3f}")
    return "\n".join(lines)
