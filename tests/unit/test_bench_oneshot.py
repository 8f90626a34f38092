"""The pure parts of `autokeras-nas bench oneshot`: the sample of cells, the
rank statistics, the ground truth's cache, the variants, the benchmark's
strategy and the report (no TensorFlow)."""

from __future__ import annotations

import dataclasses
import json
import math
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from autokeras_nas.bench import oneshot
from autokeras_nas.bench.oneshot import Settings, Variant, plan_variants
from autokeras_nas.bench.oneshot_strategy import SampleEstimates
from autokeras_nas.bench.oneshot_report import format_oneshot, memory_claim, summarize
from autokeras_nas.bench.oneshot_truth import (
    OneshotBenchError,
    TruthCache,
    arch_key,
    choice_rank,
    is_connected,
    rank_correlations,
    sample_architectures,
)
from autokeras_nas.core import TASK_ESTIMATE, Objective, Observation, TrialStatus
from autokeras_nas.testing.spaces import NB201_EDGES, NB201_OPS, nb201_space


def cell(default: str = "nor_conv_3x3", **edges: str) -> dict[str, str]:
    return {edge: edges.get(edge, default) for edge in NB201_EDGES}


# -- the sample ---------------------------------------------------------------------------
def test_a_cell_is_connected_when_a_path_of_operations_leads_to_its_output() -> None:
    assert is_connected(cell())
    assert not is_connected(cell("none"))
    assert is_connected(cell("none", edge_0_3="skip_connect"))
    # 0 -> 1 -> 3, every other edge none
    assert is_connected(cell("none", edge_0_1="avg_pool_3x3", edge_1_3="nor_conv_1x1"))
    # node 1 is reached, but nothing leaves it toward the output
    assert not is_connected(cell("none", edge_0_1="nor_conv_3x3", edge_1_2="none",
                                 edge_2_3="skip_connect"))


def test_the_sample_is_seeded_distinct_connected_and_grows_by_its_end() -> None:
    sample = sample_architectures(40, seed=3)
    assert sample == sample_architectures(40, seed=3)
    assert sample != sample_architectures(40, seed=4)
    assert len({arch_key(a) for a in sample}) == 40
    assert all(is_connected(a) for a in sample)
    assert all(set(a) == set(NB201_EDGES) and set(a.values()) <= set(NB201_OPS) for a in sample)
    assert sample_architectures(30, seed=3) == sample[:30]


@pytest.mark.parametrize("n", [0, -1, 10_000, 2.5, True])
def test_a_bad_sample_size_is_refused(n) -> None:
    with pytest.raises(OneshotBenchError, match="sample size"):
        sample_architectures(n, seed=0)


# -- rank statistics ------------------------------------------------------------------------
def test_rank_correlations_of_known_rankings() -> None:
    truth = [0.1, 0.2, 0.3, 0.4]
    same = rank_correlations(truth, [1.0, 2.0, 3.0, 4.0])
    assert same["kendall_tau"] == pytest.approx(1.0) and same["spearman_rho"] == pytest.approx(1)
    reverse = rank_correlations(truth, [4.0, 3.0, 2.0, 1.0])
    assert reverse["kendall_tau"] == pytest.approx(-1.0)
    assert reverse["spearman_rho"] == pytest.approx(-1.0)
    # one swapped pair of 6: tau = (5 - 1) / 6; rho = 1 - 6 * 2 / (4 * 15)
    swapped = rank_correlations(truth, [0.1, 0.3, 0.2, 0.4])
    assert swapped["kendall_tau"] == pytest.approx(4 / 6)
    assert swapped["spearman_rho"] == pytest.approx(0.8)
    assert swapped["pairs"] == 4


def test_rank_correlations_leave_out_missing_estimates_and_refuse_too_few() -> None:
    out = rank_correlations([0.1, 0.2, 0.3, 0.4, 0.5], [1, None, 3, math.nan, 5])
    assert out == {"kendall_tau": pytest.approx(1.0), "spearman_rho": pytest.approx(1.0),
                   "pairs": 3}
    assert rank_correlations([0.1, 0.2], [1, 2])["kendall_tau"] is None
    constant = rank_correlations([0.1, 0.2, 0.3], [0.5, 0.5, 0.5])
    assert constant["kendall_tau"] is None and constant["spearman_rho"] is None


def test_the_choice_is_the_best_score_ranked_by_the_truth() -> None:
    truth = [0.50, 0.90, 0.70, 0.80, 0.60, 0.85, 0.55, 0.65]
    chosen = choice_rank(truth, [0.1, 0.2, 0.9, 0.3, None, 0.2, 0.1, 0.1])
    assert chosen == {"index": 2, "rank": 4, "of": 8, "top_quarter": False,
                      "true_accuracy": 0.70}
    best = choice_rank(truth, [0.0, 0.5, 0.1, 0.5, 0, 0, 0, 0])  # a tie: the first
    assert best["index"] == 1 and best["rank"] == 1 and best["top_quarter"]
    assert choice_rank(truth, [None] * 8) is None


# -- the cache --------------------------------------------------------------------------------
KEY = {"dataset": "digits", "epochs": 1, "sample_seed": 0}


def test_the_cache_keeps_trainings_per_key_and_seed_in_its_file(tmp_path: Path) -> None:
    path = tmp_path / "truth.json"
    a, b = cell(), cell(edge_0_1="skip_connect")
    cache = TruthCache(path, KEY)
    cache.record(a, 0, accuracy=0.8, seconds=12.3456, params=100)
    cache.record(a, 1, accuracy=0.7, seconds=11.0, params=100)
    again = TruthCache(path, KEY)
    assert again.accuracy(a, 0) == 0.8 and again.accuracy(a, 1) == 0.7
    assert again.seconds(a, 0) == pytest.approx(12.346)
    assert again.accuracy(b, 0) is None and again.accuracy(a, 2) is None
    other = TruthCache(path, {**KEY, "epochs": 2})  # another protocol: trains afresh
    assert other.accuracy(a, 0) is None
    other.record(b, 0, accuracy=0.5, seconds=1, params=1)
    data = json.loads(path.read_text())
    assert len(data["entries"]) == 2
    assert TruthCache(path, KEY).accuracy(a, 0) == 0.8


def test_the_cache_keeps_a_test_accuracy_when_one_was_measured(tmp_path: Path) -> None:
    path = tmp_path / "truth.json"
    a = cell()
    TruthCache(path, KEY).record(a, 0, accuracy=0.8, seconds=1.0, params=10)
    cache = TruthCache(path, KEY)
    assert cache.test_accuracy(a, 0) is None
    cache.record(a, 1, accuracy=0.7, seconds=1.0, params=10, test_accuracy=0.69)
    again = TruthCache(path, KEY)
    assert again.test_accuracy(a, 1) == 0.69 and again.test_accuracy(a, 0) is None


def test_the_derived_cell_reuses_cached_trainings_with_their_test_accuracy(
        tmp_path: Path) -> None:
    """Both seeds' trainings cached with test accuracies: nothing trains, and
    the means come from the cache; without a test split a validation
    accuracy alone suffices."""
    a = cell(edge_0_1="skip_connect")
    cache = TruthCache(tmp_path / "truth.json", KEY)
    cache.record(a, 0, accuracy=0.8, seconds=1.0, params=10, test_accuracy=0.78)
    cache.record(a, 1, accuracy=0.6, seconds=1.0, params=10, test_accuracy=0.62)
    settings = Settings(dataset="digits", variants=())
    seen = []
    tested = types.SimpleNamespace(x_test=np.zeros((1, 2)), y_test=np.zeros(1))
    found = oneshot._derived_truth(settings, tested, a, cache, seen.append)
    assert found == {"arch": a, "val_accuracy": [0.8, 0.6], "mean": pytest.approx(0.7),
                     "test_accuracy": [0.78, 0.62], "test_mean": pytest.approx(0.7)}
    b = cell(edge_0_2="skip_connect")
    cache.record(b, 0, accuracy=0.5, seconds=1.0, params=10)
    cache.record(b, 1, accuracy=0.7, seconds=1.0, params=10)
    untested = types.SimpleNamespace(x_test=None)
    found = oneshot._derived_truth(settings, untested, b, cache, seen.append)
    assert found["mean"] == pytest.approx(0.6) and found["test_mean"] is None
    assert seen == []  # nothing was trained


def test_a_sampled_cell_without_test_accuracy_keeps_its_truth(tmp_path: Path,
                                                              monkeypatch) -> None:
    """A derived cell that is a sampled cell trained before test accuracies
    were measured is trained again for its test accuracy only: the cached
    validation accuracy (the sample's truth) stays."""
    a = cell(edge_1_2="skip_connect")
    cache = TruthCache(tmp_path / "truth.json", KEY)
    cache.record(a, 0, accuracy=0.8, seconds=1.0, params=10)
    calls = []

    def train_alone(arch, data, **kwargs):
        calls.append(kwargs["seed"])
        return {"accuracy": 0.5, "seconds": 2.0, "params": 10, "test_accuracy": 0.77}

    monkeypatch.setitem(sys.modules, "autokeras_nas.bench.oneshot_train",
                        types.SimpleNamespace(train_alone=train_alone))
    tested = types.SimpleNamespace(x_test=np.zeros((1, 2)), y_test=np.zeros(1))
    found = oneshot._derived_truth(Settings(dataset="digits", variants=()), tested, a, cache,
                                   lambda line: None)
    assert calls == [0, 1]
    assert found["val_accuracy"] == [0.8, 0.5] and found["test_accuracy"] == [0.77, 0.77]
    again = TruthCache(tmp_path / "truth.json", KEY)
    assert again.accuracy(a, 0) == 0.8 and again.test_accuracy(a, 0) == 0.77
    assert again.accuracy(a, 1) == 0.5 and again.test_accuracy(a, 1) == 0.77


def test_a_file_that_is_not_a_cache_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.json"
    path.write_text('{"something": 1}')
    with pytest.raises(OneshotBenchError, match="not a bench oneshot cache"):
        TruthCache(path, KEY)


# -- variants --------------------------------------------------------------------------------
def test_variants_pair_each_strategy_with_conditional_weights_except_all_paths() -> None:
    variants, notes = plan_variants(["spos", "oneshot", "enas"], "both")
    assert variants == [Variant("spos", False), Variant("spos", True),
                        Variant("oneshot", False), Variant("enas", False),
                        Variant("enas", True)]
    assert len(notes) == 1 and notes[0].startswith("oneshot:")
    assert plan_variants(["random-ws"], "on")[0] == [Variant("random-ws", True)]
    assert Variant("spos", True).label == "spos +cond"
    assert plan_variants(["none"], "both") == ([], [])  # the ground truth only
    relaxed, notes = plan_variants(["darts", "gdas"], "both")
    assert relaxed == [Variant("darts", False), Variant("gdas", False)]
    assert notes[0].startswith("darts: its supernet is not single-path (darts)")


def test_search_seeds_run_each_supernet_once_per_seed_on_the_same_sample() -> None:
    variants, _ = plan_variants(["gdas", "spos"], "off", seeds=[0, 2])
    assert variants == [Variant("gdas", False, 0), Variant("gdas", False, 2),
                        Variant("spos", False, 0), Variant("spos", False, 2)]
    assert variants[1].label == "gdas seed 2" and variants[1].slug == "gdas-seed2"
    assert Variant("spos", True).slug == "spos-cond"
    sample = sample_architectures(4, 3)
    settings = Settings(dataset="digits", variants=tuple(variants), seed=3,
                        params={"warmup_epochs": 1}, estimates=False)
    config = oneshot._child_config(settings, variants[1], sample, Path("x"))
    # the data and the sample stay the benchmark's seed; the search takes its own
    assert (config["seed"], config["search_seed"]) == (3, 2)
    assert config["params"] == {"warmup_epochs": 1}
    assert config["sample"] == [] and config["candidates"] == 4  # --no-estimates
    with_estimates = oneshot._child_config(dataclasses.replace(settings, estimates=True),
                                           Variant("spos", False), sample, Path("x"))
    assert with_estimates["search_seed"] == 3 and with_estimates["sample"] == sample


@pytest.mark.parametrize("seeds, params, message", [
    ([1, 1], None, "distinct"),
    ([], None, "distinct"),
    ([-1], None, "distinct"),
    (None, {"order": 2}, "--param for spos"),  # spos takes no order
    (None, {"no_such_option": 1}, "--param for"),
])
def test_bad_seeds_and_params_are_refused(seeds, params, message) -> None:
    with pytest.raises(OneshotBenchError, match=message):
        plan_variants(["darts", "spos"], "off", seeds=seeds, params=params)
    assert plan_variants(["darts"], "off", params={"order": 2})[0] == [Variant("darts", False)]


@pytest.mark.parametrize("names, message", [
    (["random"], "not a one-shot strategy"),
    (["no-such-strategy"], "no-such-strategy"),
    (["spos", "spos"], "twice"),
    ([], "no strategy"),
    (["none", "spos"], "none"),
])
def test_bad_strategies_are_refused(names, message) -> None:
    with pytest.raises(OneshotBenchError, match=message):
        plan_variants(names, "off")


# -- the benchmark's strategy ------------------------------------------------------------------
def _strategy(name: str, sample, **kwargs):
    from autokeras_nas import plugins

    strategy = SampleEstimates(plugins.load(name)(seed=5, candidates=len(sample) or 1, **kwargs),
                               sample)
    strategy.setup(nb201_space(), [Objective("val_accuracy", "max")])
    return strategy


def _told(trial_id, suggestion, status=TrialStatus.COMPLETED, message=""):
    return Observation(trial_id, dict(suggestion.values), status,
                       {} if message else {"val_accuracy": 0.5}, message=message)


def test_the_strategy_sends_its_own_supernet_then_estimates_the_sample_in_order() -> None:
    sample = sample_architectures(3, seed=1)
    strategy = _strategy("oneshot", sample, supernet_epochs=4)
    first = strategy.ask("0")
    assert (first.task, first.epochs) == ("supernet", 4)
    assert first.task_config == {"mode": "all", "conditional": False, "drop_rate": 0.3}
    assert strategy.ask("1").kind == "wait"
    strategy.tell(_told("0", first))
    estimates = [strategy.ask(str(i)) for i in range(1, 4)]
    for i, (arch, suggestion) in enumerate(zip(sample, estimates)):
        assert suggestion.task == TASK_ESTIMATE and suggestion.parent_id == "0"
        assert dict(suggestion.values) == arch and suggestion.notes["sample"] == i
    assert strategy.estimate_ids == ["1", "2", "3"]
    assert strategy.ask("4").kind == "done"


def test_enas_sends_its_controller_task_asking_for_as_many_architectures() -> None:
    strategy = _strategy("enas", sample_architectures(7, seed=0), conditional=True)
    first = strategy.ask("0")
    assert first.task == "enas"
    assert first.task_config["architectures"] == 7 and first.task_config["conditional"] is True


def test_a_failed_supernet_ends_the_benchmark_strategy_with_its_reason() -> None:
    strategy = _strategy("spos", sample_architectures(2, seed=0))
    first = strategy.ask("0")
    strategy.tell(_told("0", first, TrialStatus.FAILED, "out of memory"))
    done = strategy.ask("1")
    assert done.kind == "done" and "out of memory" in done.notes["reason"]


# -- the report --------------------------------------------------------------------------------
def _record(label, strategy, mode, increase, estimates, conditional=False, **extra):
    return {"label": label, "strategy": strategy, "conditional": conditional, "status": "ok",
            "mode": mode, "epochs": 2, "supernet_train_s": 10.0, "peak_rss_mb": 900 + increase,
            "peak_increase_mb": increase, "estimates": estimates, **extra}


def test_summary_memory_claim_and_table() -> None:
    truth = [0.6, 0.8, 0.7, 0.9]
    runs = [summarize(_record("spos", "spos", "single", 100.0, [0.1, 0.3, 0.2, 0.4]), truth),
            summarize(_record("oneshot", "oneshot", "all", 400.0, [0.4, 0.2, 0.3, 0.1]), truth),
            summarize(_record("enas", "enas", "single", 120.0, [0.1, 0.2, 0.3, 0.2],
                              controller_log_probs=[-1.0, -3.0, -2.0, -4.0]), truth),
            {"label": "random-ws", "strategy": "random-ws", "conditional": False,
             "status": "failed", "error": "boom"}]
    assert runs[0]["kendall_tau"] == pytest.approx(1.0)
    assert runs[0]["chosen"]["rank"] == 1 and runs[1]["chosen"]["rank"] == 4
    assert runs[2]["chosen"]["index"] == 2 and runs[2]["controller_choice"]["index"] == 0
    claim = memory_claim(runs)
    assert claim["single"] == "spos" and claim["all"] == "oneshot"
    assert claim["ratio"] == pytest.approx(0.25) and claim["holds"]
    assert not memory_claim(runs[:1])
    assert not memory_claim([dict(runs[0], peak_increase_mb=300.0), runs[1]])["holds"]
    payload = {"dataset_loaded": "digits", "train_size": 100, "val_size": 20,
               "space": {"channels": 4, "cells_per_stage": 1}, "batch_size": 32, "seed": 0,
               "truth": {"seeds": [0, 1], "epochs": 1, "mean_train_time_s": 3.0,
                         "architectures": [{"mean": t} for t in truth],
                         "noise_ceiling": {"kendall_tau": 0.5, "spearman_rho": 0.6}},
               "runs": runs, "memory": claim, "notes": ["a note"]}
    text = format_oneshot(payload)
    rows = {line.split("  ")[0]: line for line in text.splitlines()}
    assert "1.000" in rows["spos"] and "1/4" in rows["spos"] and "+100" in rows["spos"]
    assert "-1.000" in rows["oneshot"] and "4/4" in rows["oneshot"]
    assert "FAILED: boom" in text
    assert "noise ceiling" in text and "tau 0.500" in text
    assert "controller's most probable cell of the sample ranks 4/4" in text
    assert "ratio 0.25; 'at most half' holds" in text and "note: a note" in text


def test_a_derived_cell_is_ranked_within_the_sample() -> None:
    """A differentiable supernet's derived cell, trained alone like the
    sample, is ranked among the sample and itself; the table says so with
    its parameter-free share."""
    truth = [0.6, 0.8, 0.7, 0.9]
    record = _record("darts", "darts", "darts", 300.0, [0.1, 0.3, 0.2, 0.4],
                     derived={"edge_0_1": "skip_connect"}, parameter_free_share=0.5,
                     derived_truth={"arch": {"edge_0_1": "skip_connect"},
                                    "val_accuracy": [0.74, 0.76], "mean": 0.75})
    run = summarize(record, truth)
    assert run["derived_rank"] == {"rank": 3, "of": 5, "top_quarter": False,
                                   "true_accuracy": 0.75, "test_accuracy": None}
    payload = {"dataset_loaded": "digits", "train_size": 100, "val_size": 20,
               "space": {"channels": 4, "cells_per_stage": 1}, "batch_size": 32, "seed": 0,
               "runs": [run], "notes": []}
    assert ("darts: its derived cell (what it retrains), trained alone like the sample, ranks "
            "3/5 (the sample and itself; accuracy 0.7500); 50% of its edges are "
            "parameter-free: edge_0_1=skip_connect") in format_oneshot(payload)
    # without estimates (--no-estimates): no rank correlations, the derived
    # cell still ranked, with its test accuracy when it was measured
    record.update(estimates=[], derived_truth={**record["derived_truth"], "test_mean": 0.74})
    alone = summarize(record, truth)
    assert "kendall_tau" not in alone and "chosen" not in alone
    assert alone["derived_rank"]["test_accuracy"] == 0.74
    text = format_oneshot({**payload, "runs": [alone], "params": {"order": 2}})
    assert "accuracy 0.7500, test accuracy 0.7400); 50%" in text
    assert text.splitlines()[0].endswith("seed 0, order=2")


# -- the command's bad input ------------------------------------------------------------------
def test_bad_input_is_one_line_and_imports_no_tensorflow(tmp_path: Path) -> None:
    from autokeras_nas.testing.cli import one_line_error, probe_cli_runs

    runs = probe_cli_runs(
        ["bench", "oneshot", "--dataset", "digits", "--strategies", "spos,random"],
        ["bench", "oneshot", "--dataset", "digits", "--train-size", "99999"],
        ["bench", "oneshot", "--dataset", "no-such-data"],
        ["bench", "--help"], cwd=tmp_path)
    for run, words in zip(runs, ["'random' is not a one-shot strategy", "--train-size",
                                 "no-such-data"]):
        assert run["code"] == 2, run
        assert words in one_line_error(run["stderr"] or run["stdout"]), run
    assert runs[3]["code"] == 0 and " oneshot " in runs[3]["stdout"]
    assert "oneshot-run" not in runs[3]["stdout"]  # the child's command is hidden
    assert runs[-1]["loaded"] == []
    assert not (tmp_path / "bench-oneshot-truth.json").exists()
