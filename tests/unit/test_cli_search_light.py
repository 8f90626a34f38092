"""`search`'s new options without TensorFlow: --space loading, --time-budget,
--target, the live display, and the one-line errors that come before training."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from autokeras_nas.cli import main
from autokeras_nas.testing.cli import HEAVY_MODULES, one_line_error, probe_cli_runs, run_cli
from autokeras_nas.cli.progress import (
    LiveDisplay,
    ProgressPrinter,
    choose_mode,
    format_duration,
    make_progress,
    trial_end_line,
)
from autokeras_nas.workflow import SearchConfig, WorkflowError, parse_duration
from autokeras_nas.workflow.userspace import SpaceError, factory_arguments, load_space, parse_space

HEAVY = HEAVY_MODULES


# -- --time-budget -------------------------------------------------------------------
@pytest.mark.parametrize("text, seconds", [
    ("90", 90.0), ("90s", 90.0), ("3m", 180.0), ("1h", 3600.0), ("1.5h", 5400.0),
    ("1h30m", 5400.0), ("2m30s", 150.0), (" 45S ", 45.0), ("0.5", 0.5),
])
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "3x", "m", "1h 30", "1h30", "-5", "0", "0s", "3mm", "1e3"])
def test_parse_duration_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="--time-budget"):
        parse_duration(text)


def _config(**over: object) -> SearchConfig:
    return SearchConfig(**{"out_dir": Path("runs/x"), "epochs": 2, **over})


def test_max_trials_default_depends_on_the_time_budget() -> None:
    assert _config().max_trials == 10
    unlimited = _config(time_budget="3m")
    assert unlimited.max_trials is None and unlimited.time_budget == 180.0
    both = _config(time_budget="90s", max_trials=4)
    assert both.max_trials == 4 and both.time_budget == 90.0


def test_a_bad_time_budget_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(WorkflowError, match="'soon' is not a duration"):
        _config(time_budget="soon")
    result = CliRunner().invoke(main, ["search", "--time-budget", "soon",
                                       "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "'soon' is not a duration" in one_line_error(result.output)


# -- --space loading ---------------------------------------------------------------
SPACE_MODULE = """
CONSTANT = 3

def build_model(hp):
    return "a model"

def factory(input_shape, num_classes, *, width=2):
    return build_model

class Holder:
    @staticmethod
    def build_model(hp):
        return None
"""


@pytest.fixture
def space_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory with the user's modules, as the current directory."""
    (tmp_path / "user_space_mod.py").write_text(SPACE_MODULE)
    (tmp_path / "raises_on_import.py").write_text("raise RuntimeError('no GPU here')\n")
    (tmp_path / "imports_missing.py").write_text("import surely_not_installed_pkg\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "in_file.py").write_text(SPACE_MODULE)
    (tmp_path / "broken.py").write_text("def build_model(hp:\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for name in ("user_space_mod", "raises_on_import", "imports_missing", "in_file"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    return tmp_path


def test_parse_space() -> None:
    assert parse_space("pkg.mod:build_model") == ("pkg.mod", "build_model")
    assert parse_space("dir/file.py:Class.method") == ("dir/file.py", "Class.method")
    for bad in ("build_model", ":f", "mod:", "mod:1x", "mod:a-b"):
        with pytest.raises(SpaceError, match="MODULE:NAME or FILE.py:NAME"):
            parse_space(bad)


def test_load_space_from_a_module_in_the_current_directory(space_dir: Path) -> None:
    assert load_space("user_space_mod:build_model")(None) == "a model"
    assert load_space("user_space_mod:Holder.build_model")(None) is None


def test_load_space_from_a_file(space_dir: Path) -> None:
    assert load_space("sub/in_file.py:build_model")(None) == "a model"
    assert load_space(str(space_dir / "sub" / "in_file.py") + ":factory") is not None


@pytest.mark.parametrize("spec, message", [
    ("no_such_module_xyz:build_model", "no module named 'no_such_module_xyz'"),
    ("user_space_mod:nothing", "has no attribute 'nothing'; it defines Holder, build_model, factory"),
    ("user_space_mod:CONSTANT", "CONSTANT is of type int, not a build_model(hp) function"),
    ("raises_on_import:f", "importing raises_on_import failed: RuntimeError: no GPU here"),
    ("imports_missing:f", "No module named 'surely_not_installed_pkg'"),
    ("missing.py:f", "no such file missing.py"),
    ("broken.py:build_model", "loading broken.py failed: SyntaxError"),
])
def test_load_space_errors_are_one_line(space_dir: Path, spec: str, message: str) -> None:
    with pytest.raises(SpaceError) as info:
        load_space(spec)
    text = str(info.value)
    assert "\n" not in text and text.startswith(f"--space {spec}")
    assert message in text


def test_factory_arguments() -> None:
    def build_model(hp):
        return hp

    def factory(input_shape, num_classes):
        return build_model

    def shape_only(input_shape, *, seed=0):
        return build_model

    class Space:
        def __init__(self, num_classes=10):
            self.num_classes = num_classes

    assert factory_arguments(build_model) is None
    assert factory_arguments(factory) == ["input_shape", "num_classes"]
    assert factory_arguments(shape_only) == ["input_shape"]
    assert factory_arguments(Space) == ["num_classes"]


# -- the CLI: one-line errors before TensorFlow ------------------------------------
BAD_INPUT = [
    (["--dataset", "nope"], "unknown dataset 'nope'"),
    (["--strategy", "nope"], "nope"),
    (["--time-budget", "3x"], "--time-budget '3x' is not a duration"),
    (["--time-budget", "0"], "--time-budget must be positive"),
    (["--target", "label"], "--target is only used by csv:PATH, not by dataset 'digits'"),
    (["--data-dir", "tfds_data"], "--data-dir is only used by"),
    (["--image-size", "8,8"], "--image-size is only used by images:DIR, not by dataset 'digits'"),
    (["--no-stream"], "--stream/--no-stream is only used by images:DIR, not by dataset 'digits'"),
    (["--task", "maybe"], "--task must be auto, classification or regression, got 'maybe'"),
    (["--task", "regression"],
     "--task regression is only used by csv:PATH and npz:PATH, not by dataset 'digits'"),
    (["--space", "build_model"], "--space must be MODULE:NAME or FILE.py:NAME"),
    (["--space", "no_such_module_xyz:build_model"], "no module named 'no_such_module_xyz'"),
    (["--space", "light_space.py:nothing"], "has no attribute 'nothing'; it defines build_model"),
    (["--space", "light_space.py:VALUE"], "VALUE is of type int"),
    (["--constraint", "flops<=3"], "--constraint: cannot constrain 'flops'; constraints bound "
                                   "params, model_kb, latency_ms"),
    (["--constraint", "params>5"], "--constraint: constraint 'params>5' is not METRIC<=NUMBER"),
    (["--strategy", "aging-evolution", "--param", "no_such=1"],
     "cannot create strategy 'aging-evolution': it takes no argument 'no_such'"),
]


@pytest.fixture(scope="module")
def bad_input_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict]]:
    """Every BAD_INPUT case run in one fresh interpreter (one start-up for all),
    case i writing to --out out{i}."""
    cwd = tmp_path_factory.mktemp("bad_input")
    (cwd / "light_space.py").write_text("VALUE = 1\n\ndef build_model(hp):\n    pass\n")
    runs = [["search", *args, "--out", f"out{i}"] for i, (args, _) in enumerate(BAD_INPUT)]
    return cwd, probe_cli_runs(*runs, cwd=cwd, watch=HEAVY)


@pytest.mark.parametrize("case", range(len(BAD_INPUT)),
                         ids=[" ".join(args) for args, _ in BAD_INPUT])
def test_bad_input_fails_in_one_line_before_tensorflow(bad_input_runs, case: int) -> None:
    cwd, runs = bad_input_runs
    run, expected = runs[case], BAD_INPUT[case][1]
    assert run["code"] == 2 and run["exception"] is None, run
    assert expected in one_line_error(run["stderr"]) and run["stdout"] == ""
    assert not [m for m in run["loaded"] if m in HEAVY]
    assert not (cwd / f"out{case}").exists()


def test_the_console_script_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    """What a user sees: the installed `autokeras-nas`, not click's test runner."""
    proc = run_cli("search", "--dataset", "nope", "--out", "out", cwd=tmp_path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "unknown dataset 'nope'" in one_line_error(proc.stderr) and proc.stdout == ""
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("param, expected", [
    ("no_such=1", "cannot create strategy 'aging-evolution': it takes no argument 'no_such' "
                  "(its arguments: population_size, sample_size, mutations, inherit_weights)"),
    ("population_size", "--param must be NAME=VALUE, got 'population_size'"),
    ("population_size=0", "cannot create strategy 'aging-evolution' with population_size=0: "
                          "population_size must be an int >= 1, got 0"),
    ("sample_size=many", "sample_size must be an int >= 1, got 'many'"),
    ("seed=3", "pass the seed as --seed"),
])
def test_a_bad_param_is_one_line_with_exit_code_2(tmp_path: Path, param: str, expected: str
                                                  ) -> None:
    result = CliRunner().invoke(main, ["search", "--strategy", "aging-evolution",
                                       "--param", "population_size=6", "--param", param,
                                       "--out", str(tmp_path / "o")])
    assert result.exit_code == 2
    assert expected in one_line_error(result.output)
    assert not (tmp_path / "o").exists()


def test_resuming_with_other_params_is_refused(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(json.dumps({"strategy": "aging-evolution"}))
    (tmp_path / "summary.json").write_text(json.dumps(
        {"dataset": "digits", "space": None, "params": {"population_size": 6}}))
    result = CliRunner().invoke(main, ["search", "--strategy", "aging-evolution", "--param",
                                       "population_size=8", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "holds a search with params {'population_size': 6}, not {'population_size': 8}" in \
        one_line_error(result.output)


def test_a_bad_objective_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["search", "--objective", "val_accuracy:best",
                                       "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "is not NAME or NAME:min|max" in result.output


def test_a_bad_space_leaves_an_existing_search_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    files = {"results.json": json.dumps({"strategy": "random"}), "oracle.json": "{}"}
    for name, text in files.items():
        (out / name).write_text(text)
    result = CliRunner().invoke(main, ["search", "--space", "nowhere_xyz:f", "--out", str(out)])
    assert result.exit_code == 2
    assert "no module named 'nowhere_xyz'" in one_line_error(result.output)
    assert {p.name: p.read_text() for p in out.iterdir()} == files


def test_resuming_with_another_space_is_refused(tmp_path: Path) -> None:
    (tmp_path / "results.json").write_text(json.dumps({"strategy": "random"}))
    (tmp_path / "summary.json").write_text(json.dumps({"dataset": "digits", "space": None}))
    result = CliRunner().invoke(main, ["search", "--space", "mine:build_model",
                                       "--out", str(tmp_path)])
    assert result.exit_code == 2
    line = one_line_error(result.output)
    assert "holds a search with space None, not 'mine:build_model'" in line


def test_help_lists_the_new_options() -> None:
    output = CliRunner().invoke(main, ["search", "--help"]).output
    for option in ("--space", "--target", "--data-dir", "--time-budget", "--tensorboard",
                   "--progress", "--param", "--task", "--no-extend-best"):
        assert option in output


# -- progress: plain lines and the live view ------------------------------------------
class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


def test_choose_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    assert choose_mode("auto", _Stream(tty=False)) == "plain"
    assert choose_mode("auto", _Stream(tty=True)) == "live"
    assert choose_mode("plain", _Stream(tty=True)) == "plain"
    assert choose_mode("live", _Stream(tty=False)) == "live"
    monkeypatch.setenv("TERM", "dumb")
    assert choose_mode("auto", _Stream(tty=True)) == "plain"


def test_plain_progress_off_a_terminal(tmp_path: Path) -> None:
    # pytest captures stdout: not a terminal, so `auto` gives the plain printer.
    progress = make_progress("auto", objectives=["val_accuracy"], verbose=False,
                             out_dir=tmp_path, max_trials=3, epochs=1, budget_s=None)
    assert isinstance(progress, ProgressPrinter)


def test_format_duration_and_budget_line() -> None:
    assert [format_duration(s) for s in (0, 59.6, 75, 3725)] == ["0:00", "1:00", "1:15", "1:02:05"]
    line = trial_end_line({"trial_id": "4", "status": "stopped",
                           "metrics": {"val_accuracy": 0.5, "stopped_by_budget": 1.0}},
                          ["val_accuracy"], 2.0)
    assert line == "trial 4: stopped  val_accuracy=0.5000  2.0s  stopped by the time budget"


def _results(tmp_path: Path) -> None:
    def trial(tid: str, acc: float, status: str = "completed") -> dict:
        return {"trial_id": tid, "status": status, "values": {"units": int(tid) * 16},
                "metrics": {"val_accuracy": acc, "train_time_s": 1.25}}

    results = {"format": "autokeras_nas.results", "version": 1,
               "objectives": [{"name": "val_accuracy", "direction": "max"}],
               "best_trial_ids": ["1", "0"], "trials": [trial("0", 0.8), trial("1", 0.9)]}
    (tmp_path / "results.json").write_text(json.dumps(results))


def test_live_display_shows_progress_budget_and_top_trials(tmp_path: Path) -> None:
    from rich.console import Console

    _results(tmp_path)
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100, color_system=None)
    display = LiveDisplay(["val_accuracy"], tmp_path, max_trials=5, epochs=3, budget_s=120,
                          console=console)
    display({"event": "trial_begin", "trial_id": "1", "values": {"units": 16}})
    display({"event": "epoch_end", "trial_id": "1", "epoch": 1, "logs": {"val_accuracy": 0.7}})
    display({"event": "trial_end", "trial_id": "1", "status": "completed",
             "metrics": {"val_accuracy": 0.9}, "message": ""})
    display({"event": "trial_begin", "trial_id": "2",
             "values": {"units": 32, "nas/epochs": 4, "nas/initial_epoch": 2}})
    display({"event": "epoch_end", "trial_id": "2", "epoch": 1, "logs": {"val_accuracy": 0.6}})
    console.print(display.render())
    text = out.getvalue()
    assert text.startswith("trial 1: completed  val_accuracy=0.9000")
    assert "trials 1/5   elapsed 0:00 / 2:00   (1 completed)" in text
    assert f"\nfiles: {tmp_path} (results.json, trial_*/)" in display._header().plain
    assert "epoch 1/2  val_accuracy=0.6000" in text  # nas/epochs 4 from epoch 2
    assert "units=32" in text
    rows = [line for line in text.splitlines() if "units=" in line and "│" in line]
    assert [row.split("│")[2].strip() for row in rows] == ["1", "0"]  # best first
    assert "0.9000" in rows[0] and "1.2" in rows[0]


def test_live_display_context_starts_and_stops(tmp_path: Path) -> None:
    from rich.console import Console

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80, color_system=None)
    with LiveDisplay(["val_loss"], tmp_path, max_trials=None, epochs=1, console=console) as live:
        live({"event": "trial_begin", "trial_id": "0", "values": {}})
        live({"event": "trial_end", "trial_id": "0", "status": "failed", "metrics": {},
              "message": "Traceback...\nValueError: bad"})
    assert "trial 0: failed  val_loss=-" in out.getvalue()
    assert "ValueError: bad" in out.getvalue()
    assert "trials 1/no limit" in out.getvalue()


def test_search_sets_tensorflows_defaults_but_keeps_the_users(monkeypatch, tmp_path) -> None:
    """oneDNN off (its CPU kernels abort on some 1-D cells), quiet C++ logs;
    set before anything imports TensorFlow, never over the user's value."""
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "1")
    result = CliRunner().invoke(main, ["search", "--dataset", "no-such-dataset", "--out",
                                         str(tmp_path / "out")])
    assert result.exit_code != 0 and "no-such-dataset" in result.output
    import os

    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "1"


def test_parallel_children_get_the_options_given_and_not_an_unset_flag_pair() -> None:
    import importlib

    from autokeras_nas.cli.search import search

    search_module = importlib.import_module("autokeras_nas.cli.search")  # not the command
    from autokeras_nas.cli.workers import child_args

    ctx = search.make_context("search", ["--out", "x", "--workers", "2", "--constraint",
                                         "params<=10", "--overwrite"])
    args = child_args(ctx)
    assert "--stream" not in args and "--no-stream" not in args  # decided by the data
    assert args[args.index("--constraint") + 1] == "params<=10"
    assert "--workers" not in args and "--overwrite" not in args  # the parent's alone
    ctx = search.make_context("search", ["--out", "x", "--no-stream", "--no-extend-best"])
    assert "--no-stream" in child_args(ctx) and "--no-extend-best" in child_args(ctx)
    assert search_module._config(ctx.params).extend_best is False


@pytest.mark.parametrize("gpus, cores, expected", [
    ([], 1, 0),            # one core: one process
    ([], 2, 2),            # a worker per core, each with one TensorFlow thread
    ([], 6, 6),
    ([], 64, 8),           # at most MAX_AUTO_WORKERS processes
    (["0"], 16, 0),        # one GPU: one process has it
    (["0", "1", "2"], 2, 3),  # a worker per GPU, whatever the cores
])
def test_workers_auto_is_one_per_gpu_else_one_per_core(gpus, cores, expected) -> None:
    from autokeras_nas.launch import MAX_AUTO_WORKERS, auto_workers

    assert MAX_AUTO_WORKERS == 8
    assert auto_workers(gpus=gpus, cores=cores) == expected


def test_workers_auto_counts_the_cores_this_process_may_use(monkeypatch) -> None:
    import os

    from autokeras_nas import launch
    from autokeras_nas.cli.workers import resolve_workers

    monkeypatch.setenv(launch.GPUS_ENV, "")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert launch.available_cores() == 1 and resolve_workers("auto") == 0
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3, 5})
    assert resolve_workers("auto") == 3 and resolve_workers(2) == 2
    monkeypatch.setenv(launch.GPUS_ENV, "0,1")
    assert resolve_workers("auto") == 2


@pytest.mark.parametrize("value, expected", [("auto", "auto"), ("AUTO", "auto"), ("0", 0),
                                             ("3", 3)])
def test_workers_option_takes_a_count_or_auto(value, expected) -> None:
    from autokeras_nas.cli.search import search

    ctx = search.make_context("search", ["--out", "x", "--workers", value])
    assert ctx.params["workers"] == expected


@pytest.mark.parametrize("value, message", [("-1", "negative"), ("many", "neither")])
def test_a_bad_workers_option_is_one_line(tmp_path, value, message) -> None:
    result = CliRunner().invoke(main, ["search", "--workers", value, "--out",
                                       str(tmp_path / "out")])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output
