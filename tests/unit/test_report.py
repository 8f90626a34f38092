"""`autokeras-nas report` and the light half of `export` (no TensorFlow):
trajectory, lineage, predictions, Pareto plots, leaderboard records, and
every bad-input case as a one-line error."""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from autokeras_nas.cli import main
from autokeras_nas.testing.cli import one_line_error, probe_cli
from autokeras_nas.cli.leaderboard import leaderboard_csv, leaderboard_records
from autokeras_nas.report import (
    best_so_far,
    chain,
    lineage_plot,
    pareto_axes,
    pareto_plot,
    prediction_pairs,
    predictions_plot,
    progress_plot,
    trajectory,
    write_plots,
)
from autokeras_nas.report.lineage import parents, step_label, tree_layout

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ACC = [{"name": "val_accuracy", "direction": "max"}]


def trial(tid: str, value: float | None, *, status: str = "completed", parent: str | None = None,
          time_s: float = 1.0, notes: dict | None = None, values: dict | None = None,
          message: str = "", **metrics: float) -> dict[str, Any]:
    m = {"train_time_s": time_s, "params": 100.0, "epochs": 1.0, **metrics}
    if value is not None:
        m["val_accuracy"] = value
    return {"trial_id": tid, "status": status, "parent_id": parent, "epochs": 1,
            "metrics": m if status != "failed" else {}, "notes": notes or {},
            "values": values if values is not None else {"units": 32, "nas/epochs": 2},
            "message": message, "arch": None, "curve": []}


def results(trials: list[dict], *, strategy: str = "random", objectives=None,
            best: list[str] | None = None) -> dict[str, Any]:
    objectives = objectives or ACC
    if best is None:
        done = [t for t in trials if t["status"] == "completed"]
        best = [t["trial_id"] for t in sorted(done, key=lambda t: -t["metrics"]["val_accuracy"])]
    return {"format": "autokeras_nas.results", "version": 1, "strategy": strategy,
            "objectives": objectives, "max_trials": len(trials), "best_trial_ids": best,
            "trials": trials}


def nash_results() -> dict[str, Any]:
    """start 0 -> neighbours 1, 2, 3 -> (best 2) neighbours 4, 5 -> final 6."""
    return results([
        trial("0", 0.80, notes={"origin": "start"}),
        trial("1", 0.82, parent="0", notes={"origin": "neighbour", "morphisms": ["wider n1 16->18"]}),
        trial("2", 0.86, parent="0", notes={"origin": "neighbour", "morphisms": ["deeper n3"]}),
        trial("3", None, parent="0", status="failed", message="ValueError: boom"),
        trial("4", 0.88, parent="2", notes={"origin": "neighbour", "morphisms": []}),
        trial("5", 0.85, parent="2", notes={"origin": "neighbour",
                                             "morphisms": ["skip_add n2 -> n3", "wider n7"]}),
        trial("6", 0.90, parent="4", notes={"origin": "final", "morphisms": []}),
    ], strategy="nash")


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 5000


# -- trajectory ---------------------------------------------------------------------
def test_best_so_far_follows_the_direction_and_skips_missing_values() -> None:
    values = [math.nan, 0.5, 0.4, 0.7, math.nan, 0.6]
    assert np.allclose(best_so_far(values, "max"), [math.nan, 0.5, 0.5, 0.7, 0.7, 0.7],
                       equal_nan=True)
    assert np.allclose(best_so_far(values, "min"), [math.nan, 0.5, 0.4, 0.4, 0.4, 0.4],
                       equal_nan=True)
    with pytest.raises(ValueError, match="direction"):
        best_so_far(values, "up")


def test_trajectory_counts_failed_trials_but_not_their_value() -> None:
    data = trajectory(nash_results(), "val_accuracy")
    assert list(data["number"]) == [1, 2, 3, 4, 5, 6, 7]
    assert math.isnan(data["value"][3]) and data["value"][6] == 0.9
    assert list(data["cumulative_time"]) == [1, 2, 3, 3, 4, 5, 6]  # the failed one took none


def test_progress_plot_returns_each_objectives_final_best(tmp_path: Path) -> None:
    two = [{"name": "val_accuracy", "direction": "max"}, {"name": "latency_ms", "direction": "min"}]
    res = results([trial("0", 0.5, latency_ms=3.0), trial("1", 0.7, latency_ms=5.0),
                   trial("2", 0.6, latency_ms=1.0)], objectives=two)
    finals = progress_plot(res, tmp_path / "p.png")
    assert finals == {"val_accuracy": 0.7, "latency_ms": 1.0}
    assert is_png(tmp_path / "p.png")


# -- lineage ------------------------------------------------------------------------
def test_chain_follows_parents_to_the_root() -> None:
    res = nash_results()
    assert chain(res, "6") == ["0", "2", "4", "6"]
    assert chain(res, "0") == ["0"]
    assert parents(res)["5"] == "2" and parents(res)["0"] is None


def test_chain_survives_a_cycle_and_a_missing_parent() -> None:
    res = results([trial("a", 0.5, parent="b"), trial("b", 0.6, parent="a"),
                   trial("c", 0.7, parent="gone")])
    assert chain(res, "a") == ["b", "a"]
    assert parents(res)["c"] is None
    assert set(tree_layout(parents(res))) == {"a", "b", "c"}


def test_tree_layout_puts_children_one_generation_right_and_centres_parents() -> None:
    pos = tree_layout(parents(nash_results()))
    assert {tid: x for tid, (x, _) in pos.items()} == {
        "0": 0, "1": 1, "2": 1, "3": 1, "4": 2, "5": 2, "6": 3}
    leaves = sorted(pos[t][1] for t in ("1", "3", "5", "6"))
    assert leaves == [0, 1, 2, 3]  # one slot per leaf
    assert pos["2"][1] == (pos["4"][1] + pos["5"][1]) / 2


@pytest.mark.parametrize("notes, parent, expected", [
    ({"origin": "neighbour", "morphisms": ["wider n1", "deeper n2"]}, "0", "wider n1; deeper n2"),
    ({"origin": "neighbour", "morphisms": []}, "0", "trained further"),
    ({"origin": "final", "morphisms": []}, "0", "final training"),
    ({"origin": "start"}, None, "start"),
    ({}, "3", "child"),
])
def test_step_label_says_what_made_a_trial(notes, parent, expected) -> None:
    assert step_label(trial("9", 0.5, parent=parent, notes=notes)) == expected


def test_lineage_plot_highlights_the_winners_chain(tmp_path: Path) -> None:
    res = nash_results()
    res["best_trial_ids"] = ["6", "4", "2"]
    assert lineage_plot(res, tmp_path / "l.png") == ["0", "2", "4", "6"]
    assert is_png(tmp_path / "l.png")
    assert lineage_plot(res, tmp_path / "l5.png", trial_id="5") == ["0", "2", "5"]


# -- predictions and Pareto ---------------------------------------------------------------
def popnas_results() -> dict[str, Any]:
    trials = []
    for i in range(8):
        blocks = 1 if i < 4 else 2
        notes = {"origin": "initial" if blocks == 1 else "pareto", "blocks": blocks}
        if blocks == 2:
            notes.update(predicted_accuracy=0.5 + 0.05 * i, predicted_time_per_epoch=1.0 + i)
        trials.append(trial(f"{i:02d}", 0.4 + 0.05 * i, time_s=2.0 + i, notes=notes))
    return results(trials, strategy="popnas")


def test_prediction_pairs_hold_predicted_actual_and_blocks(tmp_path: Path) -> None:
    pairs = prediction_pairs(popnas_results())
    assert set(pairs) == {"accuracy", "time per epoch (s)"}
    assert [p[2] for p in pairs["accuracy"]] == [2, 2, 2, 2]
    assert pairs["accuracy"][0][:2] == pytest.approx((0.7, 0.6))
    assert pairs["time per epoch (s)"][0][:2] == pytest.approx((5.0, 6.0))  # 6 s / 1 epoch
    assert predictions_plot(popnas_results(), tmp_path / "pred.png") == 8
    assert is_png(tmp_path / "pred.png")


@pytest.mark.parametrize("x_direction, expected_front", [("min", 1), ("max", 3)])
def test_pareto_plot_honours_directions(tmp_path: Path, x_direction: str,
                                        expected_front: int) -> None:
    # The fastest trial is also the most accurate: it dominates the others
    # when latency is minimised; with latency maximised all three trade off.
    res = results([trial("0", 0.9, latency_ms=1.0), trial("1", 0.8, latency_ms=2.0),
                   trial("2", 0.7, latency_ms=3.0)])
    n = pareto_plot(res, tmp_path / "p.png", x="latency_ms", x_direction=x_direction)
    assert n == expected_front
    assert is_png(tmp_path / "p.png")
    with pytest.raises(ValueError, match="direction"):
        pareto_plot(res, tmp_path / "q.png", x="latency_ms", y_direction="up")


@pytest.mark.parametrize("make, expected", [
    (lambda: results([trial("0", 0.5), trial("1", 0.6)]), ["progress.png"]),
    (lambda: results([trial("0", 0.5, latency_ms=1.0), trial("1", 0.6, latency_ms=2.0)],
                     objectives=ACC + [{"name": "latency_ms", "direction": "min"}]),
     ["progress.png", "pareto.png"]),
    (nash_results, ["progress.png", "lineage.png"]),
    (popnas_results, ["progress.png", "pareto.png", "predictions.png"]),
])
def test_write_plots_chooses_the_plots_of_the_search(tmp_path: Path, make, expected) -> None:
    written = write_plots(make(), tmp_path / "plots")
    assert [p.name for p in written] == expected
    assert all(is_png(p) for p in written)
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == sorted(expected)


def test_pareto_axes_are_the_objectives_or_training_time_for_popnas() -> None:
    lat = ACC + [{"name": "latency_ms", "direction": "min"}]
    assert pareto_axes(results([trial("0", 0.5, latency_ms=1.0)], strategy="popnas",
                               objectives=lat)) == {
        "x": "latency_ms", "y": "val_accuracy", "x_direction": "min", "y_direction": "max"}
    assert pareto_axes(popnas_results())["x"] == "train_time_s"
    assert pareto_axes(results([trial("0", 0.5)])) is None


def test_plots_leave_pyplot_and_the_backend_alone(tmp_path: Path) -> None:
    """A notebook that plots after `write_plots` must still get its inline
    figures: the report draws on bare Figures and never imports pyplot."""
    payload = json.dumps(nash_results())
    code = (
        "import json, sys, matplotlib\n"
        "matplotlib.use('svg')\n"
        "from autokeras_nas.report import write_plots\n"
        f"written = write_plots(json.loads({payload!r}), {str(tmp_path)!r})\n"
        "print(len(written), 'matplotlib.pyplot' in sys.modules, matplotlib.get_backend())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["2", "False", "svg"]
    assert is_png(tmp_path / "lineage.png")


# -- leaderboard records ------------------------------------------------------------
def test_leaderboard_records_rank_like_the_table_and_drop_reserved_keys() -> None:
    records = leaderboard_records(nash_results())
    assert [r["trial_id"] for r in records][:2] == ["6", "4"]
    assert [r["rank"] for r in records] == [1, 2, 3, 4, 5, 6, None]
    failed = records[-1]
    assert failed["trial_id"] == "3" and failed["val_accuracy"] is None
    assert failed["message"] == "ValueError: boom"
    assert records[0]["hyperparameters"] == {"units": 32}
    assert records[0]["parent_id"] == "4" and records[0]["train_time_s"] == 1.0
    assert len(leaderboard_records(nash_results(), limit=2)) == 2


def test_leaderboard_csv_has_a_column_per_hyperparameter() -> None:
    res = results([trial("0", 0.5, values={"a": 1}), trial("1", 0.6, values={"b": "x"})])
    rows = list(csv.DictReader(io.StringIO(leaderboard_csv(leaderboard_records(res)))))
    assert [r["trial_id"] for r in rows] == ["1", "0"]
    assert rows[0]["hp.b"] == "x" and rows[0]["hp.a"] == ""
    assert rows[1]["hp.a"] == "1" and rows[1]["val_accuracy"] == "0.5"
    assert rows[0]["latency_ms"] == ""  # missing metric: empty cell


# -- the report command ---------------------------------------------------------------
def write_search(directory: Path, res: dict[str, Any], *, summary: dict | None = None) -> Path:
    """A search directory as `autokeras-nas search` leaves it (weights are
    placeholders: the light checks only look for the files)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "results.json").write_text(json.dumps(res))
    (directory / "oracle.json").write_text("{}")
    for t in res["trials"]:
        trial_dir = directory / f"trial_{t['trial_id']}"
        trial_dir.mkdir(exist_ok=True)
        (trial_dir / "trial.json").write_text("{}")
        if t["status"] == "completed":
            (trial_dir / "checkpoint.weights.h5").write_bytes(b"")
    if summary is not None:
        (directory / "summary.json").write_text(json.dumps(summary))
    return directory


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()}


def test_report_prints_the_table_writes_plots_and_changes_nothing_else(tmp_path: Path) -> None:
    search = write_search(tmp_path / "nash", nash_results())
    before = snapshot(search)
    result = CliRunner().invoke(main, ["report", str(search)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:4] == ["rank", "trial", "status", "val_accuracy"]
    assert lines[2].split()[:2] == ["1", "6"]
    assert f"plot: {search / 'progress.png'}" in lines
    assert f"plot: {search / 'lineage.png'}" in lines
    assert f"results: {search.resolve() / 'results.json'} (every trial: values, metrics, " \
        f"curves); trials' weights in {search.resolve()}/trial_*/" in lines
    after = snapshot(search)
    assert {k: v for k, v in after.items() if not k.endswith(".png")} == before
    assert sorted(k for k in after if k.endswith(".png")) == ["lineage.png", "progress.png"]


def test_report_json_on_stdout_is_the_only_output(tmp_path: Path) -> None:
    search = write_search(tmp_path / "s", popnas_results())
    result = CliRunner().invoke(main, ["report", str(search), "--json", "-", "--top", "3",
                                       "--plots-dir", str(tmp_path / "plots")])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["best_trial_id"] == "07" and document["strategy"] == "popnas"
    assert [t["trial_id"] for t in document["trials"]] == ["07", "06", "05"]
    assert [Path(p).name for p in document["plots"]] == ["progress.png", "pareto.png",
                                                         "predictions.png"]
    assert "plot: " in result.stderr and "Spearman" in result.stderr
    assert not list(search.glob("*.png"))  # --plots-dir elsewhere


def test_report_csv_file_and_no_plots(tmp_path: Path) -> None:
    search = write_search(tmp_path / "s", nash_results())
    target = tmp_path / "out" / "board.csv"
    result = CliRunner().invoke(main, ["report", str(search), "--csv", str(target), "--no-plots"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(target.open()))
    assert len(rows) == 7 and rows[0]["trial_id"] == "6" and rows[0]["rank"] == "1"
    assert not list(search.glob("*.png"))


def failed_search(directory: Path) -> Path:
    return write_search(directory, results([
        trial("0", None, status="failed", message="ValueError: the kernel is larger than the input"),
        trial("1", None, status="failed", message="ValueError: again")], best=[]))


def bad_directories(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """name -> (directory, expected part of the one-line error)."""
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    corrupted = write_search(tmp_path / "corrupted", nash_results())
    (corrupted / "results.json").write_text('{"format": "autokeras_nas.res')
    return {
        "missing": (tmp_path / "nope", f"search directory {tmp_path / 'nope'} does not exist"),
        "a file": (tmp_path / "file", "is not a directory"),
        "not a search": (tmp_path / "empty", "is not a search directory: it has no results.json"),
        "corrupted": (corrupted, f"cannot read {corrupted / 'results.json'}: "),
        "no completed trial": (failed_search(tmp_path / "failed"),
                               "(2 failed, 0 unfinished; trial 0: ValueError: the kernel is larger"),
    }


@pytest.mark.parametrize("command", ["report", "export"])
@pytest.mark.parametrize("case", ["missing", "a file", "not a search", "corrupted",
                                  "no completed trial"])
def test_bad_directories_are_one_line_errors(tmp_path: Path, command: str, case: str) -> None:
    directory, expected = bad_directories(tmp_path)[case]
    before = snapshot(directory) if directory.is_dir() else None
    result = CliRunner().invoke(main, [command, str(directory)])
    assert result.exit_code == 2, result.output
    assert expected in one_line_error(result.output)
    if before is not None:
        assert snapshot(directory) == before


SUMMARY = {"dataset": "digits", "strategy": "nash", "seed": 0, "batch_size": 32,
           "best_trial_id": "6", "test_accuracy": 0.9}


@pytest.mark.parametrize("args, expected", [
    (["--trial", "42"], "no trial '42' in {d}; its trials are: 0, 1, 2, 3, 4, 5, 6"),
    (["--trial", "3"], "trial 3 failed: ValueError: boom; export a completed trial"),
    (["--retrain-epochs", "2"], "--retrain-epochs needs the dataset, but {d}/summary.json "
                                "is missing"),
    ([], "export needs the dataset to rebuild and evaluate the model, but "
         "{d}/summary.json is missing"),
    (["--format", "onnx"], "Invalid value for --format: onnx: choose from all, keras, "
                           "savedmodel, tflite"),
    (["--retrain-epochs", "0"], "'0' is neither a positive number of epochs nor auto"),
    (["--retrain-epochs", "soon"], "'soon' is neither a positive number of epochs nor auto"),
    (["--quantize", "int4"], "Invalid value for --quantize: 'int4': choose from int8, "
                             "float16, dynamic"),
    (["--quantize", ""], "Invalid value for --quantize: '': choose from int8, float16, dynamic"),
])
def test_export_bad_input_is_one_line(tmp_path: Path, args: list[str], expected: str) -> None:
    search = write_search(tmp_path / "s", nash_results())
    before = snapshot(search)
    result = CliRunner().invoke(main, ["export", str(search), *args])
    assert result.exit_code == 2, result.output
    lines = [ln for ln in result.output.splitlines() if ln.startswith("Error: ")]
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    assert expected.format(d=search) in lines[0]
    assert snapshot(search) == before


def test_export_refuses_a_trial_without_weights_and_a_broken_summary(tmp_path: Path) -> None:
    search = write_search(tmp_path / "s", nash_results(), summary=SUMMARY)
    (search / "trial_6" / "checkpoint.weights.h5").unlink()
    result = CliRunner().invoke(main, ["export", str(search)])
    assert result.exit_code == 2
    assert "trial 6 cannot be rebuilt: trial_6/checkpoint.weights.h5 is missing" in \
        one_line_error(result.output)
    (search / "summary.json").write_text("{oops")
    result = CliRunner().invoke(main, ["export", str(search), "--trial", "4"])
    assert result.exit_code == 2
    assert f"cannot read {search / 'summary.json'}" in one_line_error(result.output)


def test_trial_ids_also_match_as_numbers(tmp_path: Path) -> None:
    from autokeras_nas.workflow import choose_trial

    res = popnas_results()
    assert choose_trial(res, "3", tmp_path)["trial_id"] == "03"
    assert choose_trial(res, None, tmp_path)["trial_id"] == "07"


# -- no TensorFlow ----------------------------------------------------------------------
def probe(*args: str) -> tuple[dict, str]:
    report, _, stderr = probe_cli(*args)
    return report, stderr


def test_report_imports_no_tensorflow(tmp_path: Path) -> None:
    search = write_search(tmp_path / "s", popnas_results())
    report, stderr = probe("report", str(search))
    assert report == {"code": 0, "loaded": []}, stderr
    assert (search / "predictions.png").is_file()


def test_export_errors_come_before_tensorflow(tmp_path: Path) -> None:
    search = write_search(tmp_path / "s", nash_results())
    report, stderr = probe("export", str(search), "--trial", "3")
    assert report == {"code": 2, "loaded": []}
    assert "trial 3 failed" in one_line_error(stderr)
