"""The benchmark package autokeras_nas.bench: NAS-Bench-201 table, scores,
searchers and runners (numpy only; never imports TensorFlow)."""

from __future__ import annotations

import itertools
import json
import math
import subprocess
import sys
from typing import Any

import numpy as np
import optuna
import pytest

from autokeras_nas.bench import (
    BenchmarkError,
    NB201Table,
    Searcher,
    SearcherError,
    cell_index,
    cell_values,
    float_space,
    nb201_quality,
    overhead,
    peer_searcher,
    strategy_searcher,
)
from autokeras_nas.bench.nb201 import DATASETS, METRICS, REFERENCE_ACCURACY, check_objectives
from autokeras_nas.bench.searchers import _optuna_values
from autokeras_nas.core import (
    Boolean,
    Choice,
    Condition,
    Fixed,
    Float,
    HyperSpace,
    Int,
)
from autokeras_nas.testing.spaces import NB201_EDGES, NB201_OPS, mixed_space

ACC = check_objectives(["val_acc"])
ACC_LATENCY = check_objectives(["val_acc", "latency"])


@pytest.fixture(scope="module")
def table() -> NB201Table:
    return NB201Table("cifar10")


def run_python(code: str) -> dict:
    """Runs `code` in a fresh interpreter; returns the JSON it prints last."""
    proc = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def wrapped(inner: Searcher, check: Any) -> Searcher:
    """A searcher that runs `inner` and calls `check(space, values)` on each evaluation."""

    def run(space, objectives, n_trials, seed, evaluate):
        def spy(values):
            check(space, values)
            return evaluate(values)

        inner.run(space, objectives, n_trials, seed, spy)

    return Searcher(f"spy {inner.label}", run)


# -- the table ----------------------------------------------------------------------
def test_table_has_every_cell_and_the_known_best_mean(table: NB201Table) -> None:
    assert len(table) == 15_625 == len(NB201_OPS) ** len(NB201_EDGES)
    assert table.best_mean == pytest.approx(91.607, abs=1e-3)
    assert set(np.unique(table.n_seeds)) <= {2, 3}


@pytest.mark.parametrize("index", [0, 1, 4, 5, 777, 3125, 11667, 15624])
def test_cell_index_and_values_round_trip(index: int) -> None:
    values = cell_values(index)
    assert list(values) == list(NB201_EDGES)
    assert set(values.values()) <= set(NB201_OPS)
    assert cell_index(values) == index


def test_cell_index_of_the_extreme_cells() -> None:
    assert cell_index({e: "none" for e in NB201_EDGES}) == 0
    assert cell_index({e: "avg_pool_3x3" for e in NB201_EDGES}) == 15_624
    assert cell_values(1) == {**{e: "none" for e in NB201_EDGES}, NB201_EDGES[-1]: "skip_connect"}


def test_cells_cut_off_from_the_output_score_chance(table: NB201Table) -> None:
    # Every edge into node 3 "none": the output sees nothing, accuracy ~10 %.
    into_output = [e for e in NB201_EDGES if e.endswith("_3")]
    cut = [i for i in range(len(table)) if all(cell_values(i)[e] == "none" for e in into_output)]
    assert len(cut) == 125
    assert table.mean_acc[cut].max() < 11.0


def test_query_returns_a_seed_accuracy_and_mean_costs(table: NB201Table) -> None:
    rng = np.random.default_rng(0)
    for index in (0, 11667, 4321, 15624):
        out = table.query(cell_values(index), rng)
        seeds = table.seed_acc[index]
        assert out["val_acc"] in list(seeds[~np.isnan(seeds)])
        for name in ("latency", "train_time", "model_size"):
            assert out[name] == table.metrics[name][index]
    assert np.isnan(table.seed_acc[table.n_seeds == 2, 2]).all()


def test_query_noise_is_reproducible_and_varies(table: NB201Table) -> None:
    three = np.where((table.n_seeds == 3) & (np.nanstd(table.seed_acc, axis=1) > 0))[0]
    values = cell_values(int(three[0]))
    rng1, rng2 = np.random.default_rng(7), np.random.default_rng(7)
    seq1 = [table.query(values, rng1)["val_acc"] for _ in range(50)]
    seq2 = [table.query(values, rng2)["val_acc"] for _ in range(50)]
    assert seq1 == seq2
    assert len(set(seq1)) > 1


def test_unknown_dataset_is_refused() -> None:
    with pytest.raises(BenchmarkError, match="cifar10"):
        NB201Table("mnist")


# -- scores -------------------------------------------------------------------------
def test_regret_scores_the_mean_of_the_best_observed_cell(table: NB201Table) -> None:
    best = int(np.argmax(table.mean_acc))
    worse, other = 4321, 999
    assert table.mean_acc[worse] < table.mean_acc[best]
    # The best observed accuracy wins even when its cell's mean is lower.
    assert table.regret([best, worse], [50.0, 60.0]) == pytest.approx(
        table.best_mean - table.mean_acc[worse])
    # Ties: the first one.
    assert table.regret([worse, other], [70.0, 70.0]) == pytest.approx(
        table.best_mean - table.mean_acc[worse])
    assert table.regret([other, worse], [70.0, 70.0]) == pytest.approx(
        table.best_mean - table.mean_acc[other])
    assert table.regret([worse, best], [1.0, 99.0]) == 0.0


def test_hypervolume_ratio_of_all_cells_is_one(table: NB201Table) -> None:
    assert table.hypervolume_ratio(range(len(table)), ACC_LATENCY) == pytest.approx(1.0, abs=1e-9)


def test_hypervolume_ratio_grows_with_the_prefix(table: NB201Table) -> None:
    order = np.random.default_rng(3).permutation(len(table))
    ratios = [table.hypervolume_ratio(order[:n], ACC_LATENCY) for n in (1, 5, 20, 100, 500, 3000)]
    assert all(a <= b for a, b in itertools.pairwise(ratios))
    assert 0.0 < ratios[-1] <= 1.0 and ratios[0] < ratios[-1]


_TABLES: dict[str, NB201Table] = {}


def _table(dataset: str) -> NB201Table:
    if dataset not in _TABLES:
        _TABLES[dataset] = NB201Table(dataset)
    return _TABLES[dataset]


@pytest.mark.parametrize("dataset", DATASETS)
@pytest.mark.parametrize("cost", [m for m in METRICS if m != "val_acc"])
def test_every_table_and_cost_has_a_front_above_its_reference(dataset: str, cost: str) -> None:
    table = _table(dataset)
    objectives = check_objectives(["val_acc", cost])
    reference = table.reference(objectives)
    assert reference[0] == REFERENCE_ACCURACY[dataset]
    # The reference keeps about the worst 15 % of the table's cells below it, as 80 on CIFAR-10.
    assert 0.10 < np.mean(table.mean_acc < reference[0]) < 0.20
    assert table._front_volume(objectives) > 0
    assert table.hypervolume_ratio(range(len(table)), objectives) == pytest.approx(1.0, abs=1e-9)
    sample = np.random.default_rng(0).permutation(len(table))[:150]
    assert 0.0 < table.hypervolume_ratio(sample, objectives) < 1.0


def test_the_cifar10_reference_of_the_published_figures_is_kept() -> None:
    assert REFERENCE_ACCURACY["cifar10"] == 80.0


def test_hypervolume_ratio_of_cells_below_80_percent_is_zero(table: NB201Table) -> None:
    low = np.where(table.mean_acc < 80.0)[0]
    assert len(low) > 100
    assert table.hypervolume_ratio(low, ACC_LATENCY) == 0.0


# -- objectives -----------------------------------------------------------------------
def test_check_objectives_directions() -> None:
    assert [(o.name, o.direction) for o in ACC] == [("val_acc", "max")]
    assert [(o.name, o.direction) for o in ACC_LATENCY] == [("val_acc", "max"), ("latency", "min")]


@pytest.mark.parametrize("names", [
    ["val_acc", "foo"],                       # unknown metric
    ["val_acc", "val_acc"],                   # repeat
    ["latency"],                              # val_acc not first
    ["latency", "val_acc"],
    [],
    ["val_acc", "latency", "model_size"],     # three
])
def test_check_objectives_refuses(names: list[str]) -> None:
    with pytest.raises(BenchmarkError):
        check_objectives(names)


# -- quality runs -----------------------------------------------------------------------
def test_quality_is_deterministic(table: NB201Table) -> None:
    searchers = [strategy_searcher("aging-evolution"), peer_searcher("random")]
    first = nb201_quality(searchers, table, ACC, budgets=(20, 60), runs=4, seed=3)
    second = nb201_quality(searchers, table, ACC, budgets=(20, 60), runs=4, seed=3)
    assert [r.scores for r in first] == [r.scores for r in second]
    other = nb201_quality(searchers, table, ACC, budgets=(20, 60), runs=4, seed=4)
    assert [r.scores for r in first] != [r.scores for r in other]


@pytest.mark.parametrize("searcher", [strategy_searcher("random"), peer_searcher("random")],
                         ids=["strategy", "peer"])
def test_random_search_regret_is_in_the_expected_range(table: NB201Table, searcher: Searcher) -> None:
    (result,) = nb201_quality([searcher], table, ACC, budgets=(50, 150), runs=20)
    assert result.runs == 20 and result.short_runs == 0
    assert result.scores[150].n == 20
    assert 0.2 < result.scores[150].mean < 1.2
    assert result.scores[50].mean >= result.scores[150].mean


@pytest.mark.parametrize("inner", [strategy_searcher("aging-evolution"), peer_searcher("random")],
                         ids=["aging-evolution", "random-peer"])
def test_smaller_budget_scores_the_prefix_of_the_run(table: NB201Table, inner: Searcher) -> None:
    runs: list[list[tuple[int, float]]] = []

    def run(space, objectives, n_trials, seed, evaluate):
        runs.append([])

        def record(values):
            metrics = evaluate(values)
            runs[-1].append((cell_index(values), metrics["val_acc"]))
            return metrics

        inner.run(space, objectives, n_trials, seed, record)

    (result,) = nb201_quality([Searcher("spy", run)], table, ACC, budgets=(30, 90), runs=5)
    assert [len(r) for r in runs] == [90] * 5
    for n in (30, 90):
        regrets = [table.regret([i for i, _ in r[:n]], [a for _, a in r[:n]]) for r in runs]
        assert result.scores[n].mean == pytest.approx(np.mean(regrets), abs=1e-12)
    assert result.scores[30].mean >= result.scores[90].mean


def test_optuna_tpe_makes_exactly_budget_evaluations(table: NB201Table) -> None:
    counts: list[int] = []

    def count(space: Any, values: Any) -> None:
        counts[-1] += 1

    inner = peer_searcher("optuna-tpe")

    def run(space, objectives, n_trials, seed, evaluate):
        counts.append(0)
        wrapped(inner, count).run(space, objectives, n_trials, seed, evaluate)

    (result,) = nb201_quality([Searcher("tpe", run)], table, ACC, budgets=(20,), runs=3)
    assert counts == [20, 20, 20]
    assert result.short_runs == 0 and 0.0 <= result.scores[20].mean < 10.0


def test_multi_objective_ratios_are_in_unit_interval(table: NB201Table) -> None:
    searchers = [strategy_searcher("aging-evolution"), peer_searcher("random")]
    results = nb201_quality(searchers, table, ACC_LATENCY, budgets=(10, 60), runs=3)
    for r in results:
        for score in r.scores.values():
            assert 0.0 < score.mean <= 1.0
        assert r.scores[10].mean <= r.scores[60].mean  # a hypervolume never shrinks


def test_single_objective_peer_refused_in_multi_objective_mode_before_import() -> None:
    report = run_python(
        "import json, sys\n"
        "from autokeras_nas.bench import NB201Table, SearcherError, nb201_quality, peer_searcher\n"
        "from autokeras_nas.bench.nb201 import check_objectives\n"
        "try:\n"
        "    nb201_quality([peer_searcher('kt-random')], NB201Table('cifar10'),\n"
        "                  check_objectives(['val_acc', 'latency']), budgets=(5,), runs=1)\n"
        "    refused = ''\n"
        "except SearcherError as e:\n"
        "    refused = str(e)\n"
        "print(json.dumps({'refused': refused, 'kt': 'keras_tuner' in sys.modules,\n"
        "                  'tf': 'tensorflow' in sys.modules}))\n"
    )
    assert "kt-random" in report["refused"]
    assert report["kt"] is False and report["tf"] is False


def test_quality_refuses_bad_budgets_and_runs(table: NB201Table) -> None:
    with pytest.raises(SearcherError):
        nb201_quality([peer_searcher("random")], table, ACC, budgets=(0, 10), runs=1)
    with pytest.raises(SearcherError):
        nb201_quality([peer_searcher("random")], table, ACC, budgets=(), runs=1)
    with pytest.raises(SearcherError):
        nb201_quality([peer_searcher("random")], table, ACC, budgets=(10,), runs=0)


def test_unknown_strategy_and_peer_are_refused() -> None:
    with pytest.raises(SearcherError, match="nope"):
        strategy_searcher("nope")
    with pytest.raises(SearcherError, match="optuna-tpe"):
        peer_searcher("nope")


@pytest.mark.parametrize("inner", [
    strategy_searcher("aging-evolution"), peer_searcher("random"), peer_searcher("optuna-tpe"),
], ids=["aging-evolution", "random", "optuna-tpe"])
def test_searchers_evaluate_only_legal_cells(table: NB201Table, inner: Searcher) -> None:
    seen: list[dict] = []

    def legal(space: Any, values: Any) -> None:
        assert space.complete(values) == dict(values)
        seen.append(dict(values))

    nb201_quality([wrapped(inner, legal)], table, ACC, budgets=(25,), runs=2)
    assert len(seen) == 50


# -- Optuna's values -------------------------------------------------------------------
def _optuna_trials(n: int):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for k in range(n):
        trial = study.ask()
        yield trial
        study.tell(trial, float(k % 5))


def conditional_space_without_log_ints() -> HyperSpace:
    """mixed_space's kinds and conditional scopes, but a linear `units`."""
    conv = (Condition("block", ["conv"]),)
    dense = (Condition("block", ["dense"]),)
    return HyperSpace([
        Fixed("input_size", 28),
        Int("layers", 1, 4),
        Float("learning_rate", 1e-4, 1e-1, sampling="log"),
        Boolean("dropout"),
        Float("dropout_rate", 0.0, 0.5, step=0.1, conditions=(Condition("dropout", [True]),)),
        Choice("block", ["conv", "dense"]),
        Int("filters", 8, 64, step=8, conditions=conv),
        Choice("kernel_size", [3, 5, 7], conditions=conv),
        Int("units", 16, 512, step=16, conditions=dense),
    ])


def test_optuna_values_are_exactly_the_active_legal_parameters() -> None:
    space = conditional_space_without_log_ints()
    blocks = set()
    for trial in _optuna_trials(30):
        values = _optuna_values(trial, space)
        assert values == space.complete(values)
        assert ("units" in values) == (values["block"] == "dense")
        assert ("dropout_rate" in values) == values["dropout"]
        blocks.add(values["block"])
    assert blocks == {"conv", "dense"}


def test_optuna_values_on_mixed_space() -> None:
    space = mixed_space()
    for trial in _optuna_trials(20):
        values = _optuna_values(trial, space)
        assert values == space.complete(values)


# -- overhead -------------------------------------------------------------------------
def test_float_space_has_n_floats() -> None:
    assert len(float_space(8).params) == 8
    assert all(isinstance(p, Float) for p in float_space(3).params)


def test_overhead_times_every_trial() -> None:
    result = overhead(strategy_searcher("random"), "float8", 200)
    assert result.trials == 200 and result.space == "float8" and result.label == "random"
    assert 0.0 < result.mean_ms and math.isfinite(result.mean_ms)
    assert 0.0 < result.last_ms and math.isfinite(result.last_ms)


# -- imports ------------------------------------------------------------------------------
def test_quality_with_strategy_and_random_peer_imports_neither_tensorflow_nor_optuna() -> None:
    report = run_python(
        "import json, sys\n"
        "from autokeras_nas.bench import NB201Table, nb201_quality, peer_searcher, strategy_searcher\n"
        "from autokeras_nas.bench.nb201 import check_objectives\n"
        "res = nb201_quality([strategy_searcher('aging-evolution'), peer_searcher('random')],\n"
        "                    NB201Table('cifar10'), check_objectives(['val_acc']), budgets=(10,), runs=2)\n"
        "print(json.dumps({'n': len(res), 'loaded': [m for m in ('tensorflow', 'keras', 'optuna',\n"
        "                  'keras_tuner') if m in sys.modules]}))\n"
    )
    assert report == {"n": 2, "loaded": []}
