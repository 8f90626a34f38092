"""The one-shot view of `autokeras-nas report` (no TensorFlow): the
supernet's curve, estimated against retrained objective, rank correlations,
`oneshot.png`, and the phases in the leaderboard."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from autokeras_nas.cli import main
from autokeras_nas.cli.leaderboard import format_leaderboard
from autokeras_nas.report import (
    format_oneshot,
    is_oneshot,
    oneshot_plot,
    oneshot_summary,
    rank_correlations,
    write_plots,
)
from autokeras_nas.report.oneshot import CURVE_ROWS, MIN_CORRELATED

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _trial(tid: str, phase: str, value: float | None, *, task: str, status: str = "completed",
           notes: dict | None = None, curve: list | None = None, values: dict | None = None,
           outputs: dict | None = None, seconds: float = 1.0, epochs: int = 0) -> dict[str, Any]:
    metrics = {} if value is None else {"val_accuracy": value, "train_time_s": 2.0 * epochs,
                                        "epochs": float(epochs)}
    return {"trial_id": tid, "status": status, "task": task, "parent_id": None,
            "epochs": epochs, "metrics": metrics, "notes": {"phase": phase, **(notes or {})},
            "values": values or {"op": "a", "nas/task": task}, "outputs": outputs or {},
            "message": "", "arch": None, "curve": curve or [], "seconds": seconds}


def _curve(epochs: int) -> list[dict[str, float]]:
    return [{"epoch": e, "loss": 2.0 / e, "accuracy": 0.1 * e, "val_loss": 2.1 / e,
             "val_accuracy": 0.09 * e} for e in range(1, epochs + 1)]


def oneshot_results(retrained: list[tuple[float, float]], *, epochs: int = 3,
                    failed_retrain: bool = False) -> dict[str, Any]:
    """A supernet, one estimate per pair, and a retrain of each estimate
    (estimated value, retrained value)."""
    trials = [_trial("0", "supernet", 0.27, task="supernet", curve=_curve(epochs),
                     epochs=epochs, outputs={"mode": "single", "conditional": False},
                     seconds=30.0)]
    for i, (estimated, _) in enumerate(retrained):
        trials.append(_trial(str(1 + i), "search", estimated, task="estimate",
                             values={"op": f"o{i}"}, seconds=0.5))
    n = len(trials)
    for i, (estimated, value) in enumerate(retrained):
        trials.append(_trial(str(n + i), "retrain", value, task="train", epochs=4,
                             values={"op": f"o{i}", "nas/epochs": 4},
                             notes={"estimate_trial": str(1 + i),
                                    "estimate": {"val_accuracy": estimated}}))
    if failed_retrain:
        trials.append(_trial(str(len(trials)), "retrain", None, task="train", status="failed",
                             notes={"estimate_trial": "1", "estimate": {"val_accuracy": 0.5}}))
    best = sorted((t for t in trials if t["task"] == "train" and t["status"] == "completed"),
                  key=lambda t: -t["metrics"]["val_accuracy"])
    return {"format": "autokeras_nas.results", "version": 1, "strategy": "spos",
            "objectives": [{"name": "val_accuracy", "direction": "max"}],
            "max_trials": None, "best_trial_ids": [t["trial_id"] for t in best],
            "trials": trials}


def test_rank_correlations_match_hand_computed_values() -> None:
    # One swapped pair out of six: tau = (5 - 1) / 6; rho = 1 - 6 * 2 / (4 * 15).
    found = rank_correlations([1, 2, 3, 4], [10, 30, 20, 40])
    assert found["kendall_tau"] == pytest.approx(4 / 6)
    assert found["spearman"] == pytest.approx(0.8)
    assert rank_correlations([1, 2, 3], [3, 2, 1]) == {"kendall_tau": -1.0, "spearman": -1.0}


@pytest.mark.parametrize("estimated, actual", [([1, 2], [2, 1]), ([1, 1, 1], [1, 2, 3]),
                                               ([1, 2, 3], [5, 5, 5])])
def test_rank_correlations_need_three_pairs_that_vary(estimated, actual) -> None:
    assert all(math.isnan(v) for v in rank_correlations(estimated, actual).values())


def test_rank_correlations_refuse_unequal_lengths() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        rank_correlations([1, 2, 3], [1, 2])


def test_summary_pairs_each_retrained_architecture_with_its_estimate() -> None:
    res = oneshot_results([(0.5, 0.9), (0.4, 0.7), (0.45, 0.95)], failed_retrain=True)
    summary = oneshot_summary(res)
    assert summary["objective"] == "val_accuracy"
    assert summary["supernet"]["trial_id"] == "0" and summary["supernet"]["epochs"] == 3
    assert [p["epoch"] for p in summary["supernet"]["curve"]] == [1, 2, 3]
    assert summary["estimates"] == 3 and summary["estimate_range"] == (0.4, 0.5)
    assert summary["estimate_seconds"] == pytest.approx(1.5)
    rows = summary["retrained"]  # the failed retrain has no result: left out
    assert [(r["estimate_trial"], r["estimated"], r["retrained"]) for r in rows] == \
        [("1", 0.5, 0.9), ("2", 0.4, 0.7), ("3", 0.45, 0.95)]
    assert summary["kendall_tau"] == pytest.approx(1 / 3)
    assert summary["spearman"] == pytest.approx(0.5)


def test_an_estimate_missing_from_the_notes_is_read_from_its_trial() -> None:
    res = oneshot_results([(0.5, 0.9)])
    del res["trials"][-1]["notes"]["estimate"]
    assert oneshot_summary(res)["retrained"][0]["estimated"] == 0.5


def test_a_search_without_a_supernet_has_no_oneshot_view() -> None:
    res = oneshot_results([(0.5, 0.9)])
    for t in res["trials"]:
        t["notes"] = {}
    assert not is_oneshot(res)
    assert oneshot_summary(res) is None and format_oneshot(None) == ""
    with pytest.raises(ValueError, match="not a one-shot search"):
        oneshot_plot(res, "unused.png")


def test_text_shows_the_curve_the_pairs_and_the_correlations() -> None:
    text = format_oneshot(oneshot_summary(oneshot_results([(0.5, 0.9), (0.4, 0.7),
                                                           (0.45, 0.95)])))
    lines = text.splitlines()
    assert lines[0].startswith("supernet: trial 0 (supernet, one path per batch), completed, "
                               "3 epochs")
    assert lines[1].split() == ["epoch", "loss", "accuracy", "val_loss", "val_accuracy"]
    assert lines[4].split() == ["3", "0.6667", "0.3000", "0.7000", "0.2700"]
    assert "search: 3 architectures estimated" in text and "0.4000 to 0.5000" in text
    assert any(line.split()[:4] == ["6", "3", "0.4500", "0.9500"] for line in lines)
    assert lines[-1] == ("rank correlation over 3 retrained architectures: Kendall tau 0.33, "
                         "Spearman 0.50")


def test_text_says_when_too_few_architectures_were_retrained() -> None:
    text = format_oneshot(oneshot_summary(oneshot_results([(0.5, 0.9), (0.4, 0.7)])))
    assert text.splitlines()[-1] == (f"rank correlation: needs at least {MIN_CORRELATED} "
                                     "retrained architectures (2 here)")


def test_a_long_supernet_curve_is_shown_at_spaced_epochs_ending_with_the_last() -> None:
    text = format_oneshot(oneshot_summary(oneshot_results([(0.5, 0.9)], epochs=100)))
    lines = text.splitlines()
    end = next(i for i, line in enumerate(lines) if line.startswith("search:"))
    rows = [line.split()[0] for line in lines[2:end]]
    assert len(rows) <= CURVE_ROWS + 1 and rows[0] == "1" and rows[-1] == "100"


def test_write_plots_adds_oneshot_png_for_a_oneshot_search(tmp_path: Path) -> None:
    res = oneshot_results([(0.5, 0.9), (0.4, 0.7), (0.45, 0.95)])
    written = write_plots(res, tmp_path)
    path = tmp_path / "oneshot.png"
    assert path in written
    assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 5000
    assert oneshot_plot(res, tmp_path / "again.png") == 3


def test_leaderboard_names_each_trials_phase() -> None:
    lines = format_leaderboard(oneshot_results([(0.5, 0.9)])).splitlines()
    assert lines[2].split()[:3] == ["1", "2", "retrain"]
    assert [line.split()[1:3] for line in lines[3:]] == [["0", "supernet"], ["1", "search"]]


def test_report_command_prints_the_oneshot_view(tmp_path: Path) -> None:
    directory = tmp_path / "spos"
    directory.mkdir()
    res = oneshot_results([(0.5, 0.9), (0.4, 0.7), (0.45, 0.95)])
    (directory / "results.json").write_text(json.dumps(res))
    result = CliRunner().invoke(main, ["report", str(directory)])
    assert result.exit_code == 0, result.output
    assert "supernet: trial 0 (supernet, one path per batch)" in result.output
    assert "Kendall tau 0.33, Spearman 0.50" in result.output
    assert f"plot: {directory / 'oneshot.png'}" in result.output.splitlines()
