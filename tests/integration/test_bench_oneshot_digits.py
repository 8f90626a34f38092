"""`autokeras-nas bench oneshot` end to end on digits: a tiny ground truth
(3 cells, 1 epoch, 4 channels), an all-paths supernet and ENAS's of 1
epoch each in their own process, and a second run that finds the whole
ground truth in the cache."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from autokeras_nas.testing.cli import probe_cli

pytestmark = pytest.mark.tf

CLI = [sys.executable, "-m", "autokeras_nas.cli", "bench", "oneshot"]
TINY = ["--dataset", "digits", "--sample", "3", "--truth-epochs", "1", "--channels", "4",
        "--supernet-epochs", "1", "--train-size", "512", "--val-size", "128", "--seed", "2"]
FIRST = ["oneshot", "enas"]


def _oneshot(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=1800)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("oneshot")
    cache = out / "truth.json"
    first = _oneshot(*TINY, "--strategies", ",".join(FIRST), "--conditional", "off",
                     "--cache", str(cache), "--json", str(out / "first.json"))
    assert first.returncode == 0, first.stdout + first.stderr
    cached = cache.read_text()
    report, stdout, stderr = probe_cli("bench", "oneshot", *TINY, "--strategies", "none",
                                       "--cache", str(cache), "--json", str(out / "second.json"))
    assert report["code"] == 0, stdout + stderr
    return {"first": first, "second": (report, stdout, stderr), "cached": cached,
            "cache": cache.read_text(), "a": json.loads((out / "first.json").read_text()),
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
    report, stdout, stderr = runs["second"]
    assert "all 6 trainings found in the cache" in stderr
    assert "ground truth 1/" not in stderr
    assert report["loaded"] == []  # not even TensorFlow was imported
    assert runs["cache"] == runs["cached"]
    assert runs["b"]["truth"] == runs["a"]["truth"] and runs["b"]["runs"] == []
    assert "noise ceiling" in stdout
