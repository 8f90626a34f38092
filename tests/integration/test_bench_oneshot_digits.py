"""`autokeras-nas bench oneshot` end to end on digits: a tiny ground truth
(3 cells, 1 epoch, 4 channels, 512 training and 128 validation images),
an all-paths supernet and ENAS's of 1 epoch each in their
own process, and a second run, in a fresh interpreter, that finds the whole
ground truth in the cache; then `bench zero-cost` on that cached truth.
The first run and bench zero-cost are processes forked from the session's
`fork_server` (TensorFlow imported once); the supernets' own processes are
started by the command itself, each a fresh interpreter."""

from __future__ import annotations

import json

import numpy as np
import pytest

from autokeras_nas.testing.cli import probe_cli, probe_cli_runs

pytestmark = pytest.mark.tf

#: The ground truth's settings (shared by bench zero-cost), then the supernets'.
TRUTH = ["--dataset", "digits", "--sample", "3", "--truth-epochs", "1", "--channels", "4",
         "--train-size", "512", "--val-size", "128", "--seed", "2"]
TINY = [*TRUTH, "--supernet-epochs", "1"]
FIRST = ["oneshot", "enas"]
#: The proxies of bench zero-cost (their values: tests/integration/test_zerocost.py).
PROXIES = ["synflow", "snip", "naswot"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory, fork_server) -> dict:
    out = tmp_path_factory.mktemp("oneshot")
    cache = out / "truth.json"
    first = fork_server.run(["bench", "oneshot", *TINY, "--strategies", ",".join(FIRST),
                             "--conditional", "off", "--cache", str(cache),
                             "--json", str(out / "first.json")], cwd=out, timeout=1800)
    assert first.returncode == 0, first.stdout + first.stderr
    cached = cache.read_text()
    # A fresh interpreter: the cached re-run must not import TensorFlow
    # ("loaded" is what was imported).
    (second,) = probe_cli_runs(
        ["bench", "oneshot", *TINY, "--strategies", "none", "--cache", str(cache),
         "--json", str(out / "second.json")],
        timeout=900)
    assert second["code"] == 0 and second["exception"] is None, second
    zero_cost = fork_server.run(
        ["bench", "zero-cost", *TRUTH, "--cache", str(cache), "--proxies", ",".join(PROXIES),
         "--repeats", "2", "--score-batch", "16", "--json", str(out / "zero-cost.json")],
        cwd=out, timeout=900)
    return {"first": first, "second": second, "cached": cached, "cache": cache.read_text(),
            "zero_cost": zero_cost, "zero_cost_json": out / "zero-cost.json",
            "a": json.loads((out / "first.json").read_text()),
            "b": json.loads((out / "second.json").read_text())}


def _row(stdout: str, label: str) -> str:
    found = [line for line in stdout.splitlines() if line.startswith(label + "  ")]
    assert len(found) == 1, stdout
    return found[0]


def test_the_ground_truth_is_two_trainings_of_each_sampled_cell(runs) -> None:
    truth = runs["a"]["truth"]
    assert len(truth["architectures"]) == len(runs["a"]["sample"]) == 3
    assert truth["seeds"] == [2, 3] and truth["epochs"] == 1
    for cell, arch in zip(truth["architectures"], runs["a"]["sample"]):
        assert cell["arch"] == arch
        assert all(0 <= a <= 1 for a in cell["val_accuracy"])
        assert cell["mean"] == pytest.approx(np.mean(cell["val_accuracy"]))
    assert set(truth["noise_ceiling"]) == {"kendall_tau", "spearman_rho", "pairs"}
    assert "noise ceiling (seed 2 vs seed 3)" in runs["first"].stdout
    assert runs["first"].stderr.count("ground truth ") == 6


def test_each_supernet_is_estimated_on_every_cell_and_compared(runs) -> None:
    payload = runs["a"]
    truth = [c["mean"] for c in payload["truth"]["architectures"]]
    assert [r["label"] for r in payload["runs"]] == FIRST
    for record in payload["runs"]:
        assert record["status"] == "ok", record
        assert record["epochs"] == 1 and record["supernet_train_s"] > 0
        assert record["peak_rss_mb"] > record["rss_before_mb"] > 0
        estimates = record["estimates"]
        assert len(estimates) == 3 and all(0 <= e <= 1 for e in estimates)
        assert -1 <= record["kendall_tau"] <= 1 and -1 <= record["spearman_rho"] <= 1
        chosen = record["chosen"]
        assert chosen["index"] == int(np.argmax(estimates))
        assert chosen["rank"] == 1 + sum(t > truth[chosen["index"]] for t in truth)
        row = _row(runs["first"].stdout, record["label"])
        assert f"{record['kendall_tau']:.3f}" in row and f"{chosen['rank']}/3" in row
    oneshot, enas = payload["runs"]
    assert oneshot["task_config"] == {"mode": "all", "conditional": False, "drop_rate": 0.3}
    assert enas["task"] == "enas" and enas["task_config"]["architectures"] == 3
    assert enas["task_config"]["mode"] == "single"
    assert len(enas["controller_log_probs"]) == 3
    assert all(p < 0 for p in enas["controller_log_probs"])
    assert "controller's most probable cell of the sample ranks" in runs["first"].stdout
    spans = sorted((r["started_at"], r["ended_at"]) for r in payload["runs"])
    assert all(end <= start for (_, end), (start, _) in zip(spans, spans[1:]))


def test_the_memory_claim_compares_single_path_with_all_paths(runs) -> None:
    memory = runs["a"]["memory"]
    oneshot, enas = runs["a"]["runs"]
    assert (memory["single"], memory["all"]) == ("enas", "oneshot")
    assert memory["ratio"] == pytest.approx(
        enas["peak_increase_mb"] / oneshot["peak_increase_mb"], abs=1e-3)
    assert "memory: single-path (enas)" in runs["first"].stdout


def test_a_rerun_finds_the_ground_truth_in_the_cache_and_trains_nothing(runs) -> None:
    second = runs["second"]
    assert "all 6 trainings found in the cache" in second["stderr"]
    assert "ground truth 1/" not in second["stderr"]
    assert second["loaded"] == []  # not even TensorFlow was imported
    assert runs["cache"] == runs["cached"]
    assert runs["b"]["truth"] == runs["a"]["truth"] and runs["b"]["runs"] == []
    assert "noise ceiling" in second["stdout"]


def test_zero_cost_proxies_rank_the_cached_ground_truth(runs) -> None:
    from scipy.stats import rankdata

    from autokeras_nas import zerocost
    from autokeras_nas.bench.oneshot_truth import rank_correlations
    from autokeras_nas.bench.zerocost import DEFAULT_PROXIES

    assert set(DEFAULT_PROXIES) == set(zerocost.PROXIES)
    proxies = PROXIES
    done = runs["zero_cost"]
    assert done.returncode == 0, done.stdout + done.stderr
    assert "all 6 trainings found in the cache" in done.stderr  # the same truth, not retrained
    assert runs["cache"] == runs["cached"]  # and the cache left as it was
    payload = json.loads(runs["zero_cost_json"].read_text())
    assert payload["truth"] == runs["a"]["truth"]
    truth = [c["mean"] for c in payload["truth"]["architectures"]]
    rows = {r["proxy"]: r for r in payload["rows"]}
    assert list(rows) == [*proxies, "vote"]
    for name in proxies:
        row = rows[name]
        scores = np.array(row["scores"])
        assert scores.shape == (3, 2) and np.isfinite(scores).all()
        means = scores.mean(axis=1)  # a cell's score: the mean over its initialisations
        assert row["chosen"]["index"] == int(np.argmax(means))
        assert row["kendall_tau"] == rank_correlations(truth, list(means))["kendall_tau"]
        assert row["seconds_per_score"] > 0
        assert f"{row['chosen']['rank']}/3" in _row(done.stdout, name)
    # the two initialisations differ, so each cell was built twice
    assert not np.allclose(*np.array(rows["synflow"]["scores"]).T)
    vote = np.mean([rankdata(np.mean(rows[p]["scores"], axis=1)) for p in proxies], axis=0)
    np.testing.assert_allclose(rows["vote"]["scores"], vote)
    assert "noise ceiling tau" in done.stdout
    # and synflow against NAS-Bench-201's CIFAR-10 accuracy, from the shipped scores
    from autokeras_nas.bench import nb201_synflow
    from autokeras_nas.bench.nb201 import NB201Table

    expected = nb201_synflow.correlations(nb201_synflow.load_scores(),
                                          NB201Table("cifar10").mean_acc)
    assert payload["nb201"] == {"proxy": "synflow", **expected} and expected["cells"] == 15625
    assert f"synflow rho {expected['spearman']:.3f}" in done.stdout


def test_zero_cost_refuses_an_unknown_proxy_before_loading_anything() -> None:
    report, stdout, stderr = probe_cli("bench", "zero-cost", *TRUTH, "--proxies", "synflow,fisher")
    assert report["code"] != 0 and report["loaded"] == []
    assert "unknown proxy fisher; choose from synflow,snip,grad_norm,jacob_cov,naswot" in stderr
