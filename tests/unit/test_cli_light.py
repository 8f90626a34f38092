"""The CLI's light parts: help, listing, argument errors, leaderboard (no TensorFlow)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from autokeras_nas.cli import main
from autokeras_nas.testing.ci import on_ci
from autokeras_nas.testing.cli import (
    HEAVY_MODULES,
    cli_command,
    console_script,
    one_line_error,
    probe_cli,
)
from autokeras_nas.cli.leaderboard import format_leaderboard, format_values, ordered_trials
from autokeras_nas.cli.progress import ProgressPrinter
from autokeras_nas.workflow import parse_objective

HEAVY = HEAVY_MODULES

# The dashboard's web server (the `dashboard` extra) is imported only when it serves.
WATCH = HEAVY + ("autokeras_nas_plugins.random_search", "starlette", "uvicorn")


def probe(*args: str, cwd: Path | None = None) -> tuple[dict, str, str]:
    """Runs `autokeras-nas ARGS` in a subprocess; returns (probe report, stdout, stderr)."""
    return probe_cli(*args, cwd=cwd, watch=WATCH)


# -- help and listing -----------------------------------------------------------
@pytest.mark.parametrize("args", [["--help"], ["search", "--help"], ["strategies", "--help"]])
def test_help(args: list[str]) -> None:
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_group_help_lists_commands() -> None:
    output = CliRunner().invoke(main, ["--help"]).output
    assert "search" in output and "strategies" in output


def test_strategies_lists_a_line_about_each_and_with_paths_the_targets() -> None:
    result = CliRunner().invoke(main, ["strategies"])
    assert result.exit_code == 0
    lines = {line.split()[0]: line.split(None, 1)[1] for line in result.output.splitlines()}
    assert lines["random"] == "Samples each trial independently and uniformly from the space"
    assert lines["spos"].startswith("Single-path one-shot (Guo et al. 2019): the supernet")
    assert all(len(text) <= 100 and ":" not in text.split()[0] for text in lines.values())
    result = CliRunner().invoke(main, ["strategies", "--paths"])
    assert any(line.split() == ["random", "autokeras_nas_plugins.random_search:RandomStrategy"]
               for line in result.output.splitlines())


def test_help_lists_the_research_benchmarks_apart() -> None:
    output = CliRunner().invoke(main, ["--help"]).output
    commands, benchmarks = output.split("Research benchmarks:")
    assert "bench " not in commands.split("Commands:")[1]
    assert all(f"  {name} " in commands
               for name in ("search", "report", "dashboard", "export", "datasets"))
    assert benchmarks.split()[0] == "bench"


@pytest.mark.parametrize("args", [["--help"], ["search", "--help"], ["strategies"],
                                  ["dashboard", "--help"]])
def test_light_commands_import_no_tensorflow_nor_plugins(args: list[str]) -> None:
    report, stdout, stderr = probe(*args)
    assert report["code"] == 0, stderr
    assert report["loaded"] == []
    assert stdout.strip()


def test_console_script_and_module_entry_points() -> None:
    module = subprocess.run([sys.executable, "-m", "autokeras_nas.cli", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert module.returncode == 0 and "strategies" in module.stdout
    script = console_script()
    if not script.exists() and not on_ci():  # on CI, .ci/run's pip install puts it there
        pytest.skip(f"console script not installed next to this interpreter ({script})")
    assert script.exists(), f"CI=true and no console script {script}"
    assert cli_command() == [str(script)]
    result = subprocess.run([str(script), "strategies"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "random" in result.stdout



def test_missing_console_script_falls_back_to_python_m_except_on_ci(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from autokeras_nas.testing import cli as testing_cli

    monkeypatch.setattr(testing_cli, "console_script", lambda: tmp_path / "autokeras-nas")
    monkeypatch.delenv("CI", raising=False)
    assert cli_command() == [sys.executable, "-m", "autokeras_nas.cli"]
    monkeypatch.setenv("CI", "true")
    with pytest.raises(RuntimeError, match="CI=true: the console script .* is not installed"):
        cli_command()

# -- bad input: exit code 2, one line, no traceback ---------------------------------
def test_unknown_dataset(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["search", "--dataset", "nope", "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    line = one_line_error(result.output)
    assert "nope" in line and "digits" in line


def test_unknown_strategy(tmp_path: Path) -> None:
    args = ["search", "--strategy", "nope", "--out", str(tmp_path / "o")]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    line = one_line_error(result.output)
    assert "nope" in line and "random" in line


@pytest.mark.parametrize("args", [
    ["--dataset", "nope"],
    ["--strategy", "nope"],
])
def test_bad_names_in_a_subprocess_fail_before_tensorflow(tmp_path: Path, args: list[str]) -> None:
    report, stdout, stderr = probe("search", *args, "--out", str(tmp_path / "o"))
    assert report["code"] == 2
    one_line_error(stderr)
    assert not [m for m in report["loaded"] if m in HEAVY]
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("args", [
    ["--max-trials", "0"],
    ["--max-trials", "many"],
    ["--epochs", "0"],
    ["--batch-size", "-1"],
    ["--seed", "-3"],
    ["--validation-split", "1.0"],
    ["--early-stopping", "sometimes"],
    ["--objective", "val_accuracy:up"],
    ["--objective", ":max"],
    [],  # --out is required
])
def test_bad_numbers_and_options(tmp_path: Path, args: list[str]) -> None:
    out = [] if not args else ["--out", str(tmp_path / "o")]
    result = CliRunner().invoke(main, ["search", *args, *out])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert sum(line.startswith("Error:") for line in result.output.splitlines()) == 1


def test_refuses_a_non_search_directory(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    result = CliRunner().invoke(main, ["search", "--out", str(tmp_path), "--overwrite"])
    assert result.exit_code == 2
    assert "holds no search" in one_line_error(result.output)
    assert (tmp_path / "precious.txt").exists()


def test_refuses_to_resume_another_strategy(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(json.dumps({"strategy": "aging-evolution"}))
    result = CliRunner().invoke(main, ["search", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "--overwrite" in one_line_error(result.output)


# -- objectives and progress --------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("val_accuracy", "val_accuracy:max"),
    ("val_loss", "val_loss:min"),
    ("latency_ms", "latency_ms:min"),
    ("params", "params:min"),
    ("val_auc", "val_auc:max"),
    ("val_loss:max", "val_loss:max"),
])
def test_parse_objective(text: str, expected: str) -> None:
    assert parse_objective(text) == expected


def test_progress_prints_one_line_per_trial_begin_and_end(capsys: pytest.CaptureFixture) -> None:
    printer = ProgressPrinter(["val_accuracy"])
    printer({"event": "trial_begin", "trial_id": "0",
             "values": {"conv_blocks": 2, "learning_rate": 0.00123456, "nas/epochs": 3}})
    printer({"event": "epoch_end", "trial_id": "0", "epoch": 0, "logs": {"loss": 1.0}})
    printer({"event": "trial_end", "trial_id": "0", "status": "COMPLETED",
             "metrics": {"val_accuracy": 0.91234}, "message": ""})
    printer({"event": "trial_end", "trial_id": "1", "status": "FAILED", "metrics": {},
             "message": "Traceback ...\nValueError: boom"})
    printer({"event": "something_new"})
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "trial 0: start  conv_blocks=2 learning_rate=0.00123"
    assert lines[1].startswith("trial 0: completed  val_accuracy=0.9123")
    assert lines[2] == "trial 1: failed  val_accuracy=-  ValueError: boom"
    assert len(lines) == 3


def test_verbose_progress_prints_epochs(capsys: pytest.CaptureFixture) -> None:
    ProgressPrinter(["val_accuracy"], verbose=True)(
        {"event": "epoch_end", "trial_id": "2", "epoch": 1, "logs": {"val_accuracy": 0.5}})
    assert capsys.readouterr().out == "trial 2: epoch 1  val_accuracy=0.5000\n"


# -- leaderboard ------------------------------------------------------------------
def _trial(tid: str, status: str, acc: float | None, **values: object) -> dict:
    metrics = {} if acc is None else {"val_accuracy": acc, "train_time_s": 1.25,
                                      "params": 1234.0, "latency_ms": 0.456, "epochs": 2.0}
    return {"trial_id": tid, "strategy": "random", "status": status, "values": values,
            "metrics": metrics, "parent_id": None, "epochs": 2 if acc else 0,
            "stopped_early": False, "notes": {}, "message": "", "curve": []}


RESULTS = {
    "format": "autokeras_nas.results", "version": 1, "strategy": "random",
    "objectives": [{"name": "val_accuracy", "direction": "max"}], "max_trials": 4,
    "best_trial_ids": ["2", "0", "1"],
    "trials": [_trial("0", "completed", 0.8, conv_blocks=1, learning_rate=0.001),
               _trial("1", "stopped", 0.5, conv_blocks=2, learning_rate=0.02),
               _trial("2", "completed", 0.95, conv_blocks=3, learning_rate=0.0003),
               _trial("3", "failed", None, conv_blocks=3, learning_rate=0.01)],
}


def test_leaderboard_best_first_then_unranked() -> None:
    lines = format_leaderboard(RESULTS).splitlines()
    header = lines[0].split()
    assert header == ["rank", "trial", "status", "val_accuracy", "epochs", "params",
                      "latency_ms", "train_time_s", "hyperparameters"]
    assert set(lines[1]) == {"-"}
    rows = [line.split() for line in lines[2:]]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("1", "2", "completed"), ("2", "0", "completed"), ("3", "1", "stopped"),
        ("-", "3", "failed")]
    assert rows[0][3:8] == ["0.9500", "2", "1234", "0.46", "1.2"]
    assert rows[0][8:] == ["conv_blocks=3", "learning_rate=0.0003"]
    assert rows[3][3:8] == ["-", "0", "-", "-", "-"]


def test_leaderboard_limit_and_empty() -> None:
    assert len(format_leaderboard(RESULTS, limit=2).splitlines()) == 4
    assert format_leaderboard({**RESULTS, "trials": [], "best_trial_ids": []}) == "no trials yet"


def test_leaderboard_multi_objective_columns_not_repeated() -> None:
    results = {**RESULTS, "objectives": [{"name": "val_accuracy", "direction": "max"},
                                         {"name": "latency_ms", "direction": "min"}]}
    header = format_leaderboard(results).splitlines()[0].split()
    assert header[3:5] == ["val_accuracy", "latency_ms"]
    assert header.count("latency_ms") == 1


def test_ordered_trials_ignores_unknown_best_ids() -> None:
    ranked = ordered_trials({**RESULTS, "best_trial_ids": ["9", "2"]})
    assert [(rank, t["trial_id"]) for rank, t in ranked] == [
        (1, "2"), (None, "0"), (None, "1"), (None, "3")]


def test_format_values_drops_reserved_keys() -> None:
    assert format_values({"a": 1, "nas/parent": "3", "b": True, "c": "x"}) == "a=1 b=True c=x"


def test_a_strategy_summary_is_read_from_source_without_importing(tmp_path, monkeypatch) -> None:
    import sys

    from autokeras_nas import plugins

    package = tmp_path / "thirdparty"
    package.mkdir()
    (package / "__init__.py").write_text("raise RuntimeError('imported')\n"
                                         "from thirdparty.impl import Mine as Exported\n")
    (package / "impl.py").write_text('class Mine:\n    """Does e.g. this. And more."""\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    assert plugins.summary("thirdparty:Exported") == "Does e.g. this"
    assert plugins.summary("thirdparty.impl:Missing") == ""
    assert plugins.summary("no_such_package.mod:X") == ""
    assert "thirdparty" not in sys.modules
