"""How well accuracy predictors rank NAS-Bench-201 cells (numpy/scikit-learn).

Each repetition trains every predictor on the same `n` random cells, each
with one seed's accuracy (the noise of a real run), optionally floored at a
quantile (as POPNAS's generic search fits its model), and scores it by the
Spearman correlation of its predictions with the mean accuracies of
`test_size` other cells, and by its fit time.

A predictor is any factory `() -> object with fit(X, y) and predict(X) ->
(mean, std)`, given as "module:attribute"; the defaults are POPNAS's forest
and Gaussian process.
"""

from __future__ import annotations

import importlib
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from autokeras_nas.bench.nb201 import BenchmarkError, NB201Table, cell_values

#: Label -> "module:attribute" of a predictor class or factory.
DEFAULT_PREDICTORS = {
    "forest": "autokeras_nas_plugins.popnas.predictors:ForestPredictor",
    "gaussian-process": "autokeras_nas_plugins.popnas.predictors:GaussianProcessPredictor",
}


@dataclass
class RankingResult:
    """One predictor at one training-set size, over the repetitions."""

    predictor: str
    n: int
    spearman: list[float]
    fit_seconds: list[float]

    def to_dict(self) -> dict[str, Any]:
        return {"predictor": self.predictor, "n": self.n, "spearman": self.spearman,
                "fit_seconds": self.fit_seconds}


def load_predictor(spec: str) -> Callable[[], Any]:
    """The factory named by "module:attribute"."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise BenchmarkError(f"a predictor is given as module:attribute, got {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as e:
        raise BenchmarkError(f"cannot load predictor {spec!r}: {e}") from None
    if not callable(factory):
        raise BenchmarkError(f"predictor {spec!r} is not callable")
    return factory


def predictor_ranking(table: NB201Table, predictors: Mapping[str, Callable[[], Any]],
                      sizes: Sequence[int], *, repeats: int = 5, test_size: int = 2000,
                      floor_quantile: float = 0.5, seed: int = 0,
                      progress: Callable[[str], None] | None = None) -> list[RankingResult]:
    """Spearman correlation and fit time of each predictor at each size."""
    from scipy.stats import spearmanr

    if max(sizes) + test_size > len(table):
        raise BenchmarkError(f"training ({max(sizes)}) and test ({test_size}) cells exceed "
                             f"the table's {len(table)}")
    space = table.space()
    warm = np.stack([space.encode(cell_values(i)) for i in range(10)])
    for factory in predictors.values():  # imports and first calls, outside the timing
        factory().fit(warm, table.mean_acc[:10]).predict(warm)
    results = {(label, n): RankingResult(label, n, [], []) for n in sizes for label in predictors}
    for rep in range(repeats):
        rng = np.random.default_rng([seed, rep])
        order = rng.permutation(len(table))
        test = order[:test_size]
        X_test = np.stack([space.encode(cell_values(int(i))) for i in test])
        for n in sizes:
            train = order[test_size:test_size + n]
            X = np.stack([space.encode(cell_values(int(i))) for i in train])
            y = np.array([table.seed_acc[i, rng.integers(table.n_seeds[i])] for i in train])
            if floor_quantile > 0:
                y = np.maximum(y, np.quantile(y, floor_quantile))
            for label, factory in predictors.items():
                start = time.perf_counter()
                model = factory().fit(X, y)
                elapsed = time.perf_counter() - start
                rho = float(spearmanr(model.predict(X_test)[0], table.mean_acc[test]).correlation)
                results[(label, n)].spearman.append(rho)
                results[(label, n)].fit_seconds.append(elapsed)
                if progress:
                    progress(f"{label}: n={n} repetition {rep + 1}/{repeats}: "
                             f"spearman {rho:.3f}, fit {elapsed * 1000:.0f} ms")
    return list(results.values())


def format_ranking(results: Sequence[RankingResult], table: NB201Table, repeats: int,
                   floor_quantile: float) -> str:
    """The table `bench predictors` prints."""
    floor = f"targets floored at their {floor_quantile:g} quantile" if floor_quantile else "no floor"
    lines = [f"NAS-Bench-201 {table.dataset}: Spearman correlation with held-out cells' mean "
             f"accuracy (mean over {repeats} repetitions; {floor}) and fit time",
             f"{'predictor':<20} {'n':>6} {'spearman':>9} {'fit':>10}"]
    for r in results:
        fit = float(np.mean(r.fit_seconds))
        lines.append(f"{r.predictor:<20} {r.n:>6} {np.mean(r.spearman):>9.3f} "
                     f"{fit * 1000:>7.0f} ms")
    return "\n".join(lines)
