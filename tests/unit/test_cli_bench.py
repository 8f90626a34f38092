"""`autokeras-nas bench nb201` and `autokeras-nas bench overhead`, run as subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from autokeras_nas.testing.cli import HEAVY_MODULES, one_line_error, probe_cli, probe_cli_runs

CLI = [sys.executable, "-m", "autokeras_nas.cli"]

#: Modules `bench nb201` and `bench nash` must not import.
WATCH = HEAVY_MODULES + ("optuna",)


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "bench", *args], check=False, capture_output=True, text=True,
                          timeout=120)


def row(stdout: str, label: str) -> list[str]:
    """The table row of a searcher, split on two or more spaces."""
    for line in stdout.splitlines():
        if line.startswith(label + "  "):
            return [cell for cell in line.split("  ") if cell.strip()]
    raise AssertionError(f"no row {label!r} in:\n{stdout}")


SMALL = ("--runs", "3", "--evaluations", "10,20")


# -- nb201 ------------------------------------------------------------------------------
def test_nb201_prints_a_regret_table() -> None:
    proc = bench("nb201", "--strategy", "aging-evolution", "--peers", "random", *SMALL)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("NAS-Bench-201 cifar10:") and "regret" in lines[0]
    header = next(line for line in lines if line.startswith("searcher"))
    assert "N=10" in header and "N=20" in header
    for label in ("aging-evolution", "random (peer)"):
        cells = row(proc.stdout, label)
        assert cells[1].strip() == "3"
        assert sum("±" in c for c in cells) == 2
    assert not [l for l in lines if l.startswith("random  ")]  # only the asked strategy


def test_nb201_imports_no_tensorflow() -> None:
    report, stdout, stderr = probe_cli("bench", "nb201", "--strategy", "aging-evolution",
                                       "--peers", "random", *SMALL, watch=WATCH)
    assert report == {"code": 0, "loaded": []}, stderr
    assert "random (peer)" in stdout


def test_nb201_two_objectives_prints_hypervolume() -> None:
    proc = bench("nb201", "--strategy", "random", "--objectives", "val_acc,latency",
                 "--peers", "random,optuna-nsga2", "--runs", "2", "--evaluations", "20")
    assert proc.returncode == 0, proc.stderr
    assert "hypervolume" in proc.stdout.splitlines()[0]
    for label in ("random", "random (peer)", "optuna-nsga2 (peer)"):
        ratio = float(row(proc.stdout, label)[2].split("±")[0])
        assert 0.0 < ratio <= 1.0


@pytest.fixture(scope="module")
def tables() -> dict:
    return {}


@pytest.mark.parametrize("dataset", ["cifar10", "cifar100", "imagenet"])
@pytest.mark.parametrize("cost", ["latency", "train_time", "model_size"])
def test_nb201_two_objectives_on_every_table(dataset: str, cost: str, tables: dict,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    # In-process (click's runner), each table loaded once for the module.
    from click.testing import CliRunner

    import autokeras_nas.bench as bench_module
    from autokeras_nas.cli import main

    real = bench_module.NB201Table
    monkeypatch.setattr(bench_module, "NB201Table",
                        lambda name: tables.setdefault(name, real(name)))
    result = CliRunner().invoke(main, ["bench", "nb201", "--dataset", dataset,
                                       "--objectives", f"val_acc,{cost}", "--strategy", "random",
                                       "--peers", "none", "--runs", "1", "--evaluations", "20"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert result.output.startswith(f"NAS-Bench-201 {dataset}: hypervolume ratio")
    ratio = float(row(result.output, "random")[2].split("±")[0])
    assert 0.0 < ratio <= 1.0


def test_nb201_writes_json(tmp_path: Path) -> None:
    path = tmp_path / "nb201.json"
    proc = bench("nb201", "--strategy", "random", "--peers", "random", *SMALL,
                 "--json", str(path))
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(path.read_text())
    assert payload["budgets"] == [10, 20]
    assert [r["searcher"] for r in payload["results"]] == ["random", "random (peer)"]
    for r in payload["results"]:
        assert r["runs"] == 3
        assert set(r["scores"]) == {"10", "20"}
        assert all(set(s) == {"mean", "se"} for s in r["scores"].values())



def _strict_constant(name: str) -> None:
    raise ValueError(f"not JSON: {name}")


def test_nb201_json_with_one_run_is_standard_json(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    proc = bench("nb201", "--strategy", "random", "--peers", "none", "--runs", "1",
                 "--evaluations", "5", "--json", str(path))
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(path.read_text(), parse_constant=_strict_constant)
    assert payload["results"][0]["runs"] == 1

def test_warmup_runs_each_strategy_again_warm_started_from_the_shipped_scores(tmp_path: Path
                                                                           ) -> None:
    out = tmp_path / "w.json"
    proc = bench("nb201", "--strategy", "random", "--peers", "none", "--warmup", "synflow:200:4",
                 "--json", str(out), *SMALL)
    assert proc.returncode == 0, proc.stderr
    labels = [r["searcher"] for r in json.loads(out.read_text())["results"]]
    assert labels == ["random", "random warmup=synflow:200:4"]
    assert row(proc.stdout, "random warmup=synflow:200:4")


@pytest.mark.parametrize("args, message", [
    (["--warmup", "synflow"], "PROXIES:POOL or PROXIES:POOL:KEEP"),
    (["--warmup", "naswot:100"], "no NAS-Bench-201 scores of 'naswot'"),
    (["--warmup", "synflow:100", "--dataset", "cifar100"], "--warmup needs --dataset cifar10"),
])
def test_a_bad_warmup_is_one_line(args: list[str], message: str) -> None:
    proc = bench("nb201", "--strategy", "random", *args, *SMALL)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in one_line_error(proc.stderr)


# -- overhead ---------------------------------------------------------------------------
def test_overhead_prints_one_row_per_space_and_count() -> None:
    proc = bench("overhead", "--strategy", "random", "--trials", "100", "--space", "float8")
    assert proc.returncode == 0, proc.stderr
    cells = row(proc.stdout, "random")
    assert [c.strip() for c in cells[1:3]] == ["float8", "100"]
    assert float(cells[3]) > 0 and float(cells[4]) > 0
    assert sum(line.startswith("random ") for line in proc.stdout.splitlines()) == 1


# -- bad input: exit code 2, one line, no traceback -----------------------------------------
@pytest.mark.parametrize("args, word", [
    (["--strategy", "nope"], "nope"),
    (["--peers", "nope"], "nope"),
    (["--evaluations", "abc"], "abc"),
    (["--evaluations", "0"], "--evaluations"),
    (["--objectives", "latency"], "val_acc"),
    (["--objectives", "val_acc,foo"], "foo"),
    (["--peers", "kt-random", "--objectives", "val_acc,latency"], "kt-random"),
])
def test_nb201_bad_input(args: list[str], word: str) -> None:
    proc = bench("nb201", "--strategy", "random", "--runs", "1", "--evaluations", "5", *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert word in one_line_error(proc.stderr)
    assert "NAS-Bench-201" not in proc.stdout


def test_kt_random_with_two_objectives_fails_before_keras_tuner() -> None:
    report, _, stderr = probe_cli("bench", "nb201", "--strategy", "random", "--peers",
                                  "kt-random", "--objectives", "val_acc,latency", watch=WATCH)
    assert report == {"code": 2, "loaded": []}
    one_line_error(stderr)


def test_param_passes_constructor_arguments_to_the_strategy(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = bench("nb201", "--strategy", "aging-evolution", "--param", "population_size=4",
                 "--param", "sample_size=2", "--peers", "none", "--json", str(out), *SMALL)
    assert proc.returncode == 0, proc.stderr
    label = "aging-evolution population_size=4 sample_size=2"
    assert row(proc.stdout, label)
    assert [r["searcher"] for r in json.loads(out.read_text())["results"]] == [label]


@pytest.mark.parametrize("param, message", [
    ("population_size", "NAME=VALUE"),
    ("colour=1", "cannot create strategy"),
    ("population_size=0", "population_size must be an int >= 1"),
])
def test_bad_param_is_one_line(param: str, message: str) -> None:
    proc = bench("nb201", "--strategy", "aging-evolution", "--param", param, *SMALL)
    assert proc.returncode == 2
    assert message in one_line_error(proc.stderr)


@pytest.mark.parametrize("args, message", [
    (("--budget", "ten minutes"), "duration"),
    (("--budget", "0"), "positive"),
    (("--dataset", "nope"), "nope"),
])
def test_bench_nash_bad_input_is_one_line_before_tensorflow(args, message) -> None:
    probe, _, stderr = probe_cli("bench", "nash", *args, watch=WATCH)
    assert probe["code"] == 2 and probe["loaded"] == []
    assert message in one_line_error(stderr)



# -- workers ----------------------------------------------------------------------------
@pytest.mark.parametrize("args, message", [
    (("--dataset", "nope"), "unknown dataset 'nope'"),
    (("--threads", "many"), "--threads must be among auto, tf-default"),
    (("--workers", "0"), "--workers"),
])
def test_bench_workers_bad_input_is_one_line_before_any_process(args, message) -> None:
    probe, _, stderr = probe_cli("bench", "workers", *args, watch=WATCH)
    assert probe["code"] == 2 and probe["loaded"] == []
    assert message in one_line_error(stderr)


def test_bench_workers_runs_the_search_of_its_dataset_and_epochs(tmp_path) -> None:
    from autokeras_nas.bench.throughput import _search_command

    command = _search_command(tmp_path, 8, 2, 3, "fashion_mnist:10000")
    assert command[command.index("--dataset") + 1] == "fashion_mnist:10000"
    assert command[command.index("--epochs") + 1] == "2"
    assert command[command.index("--max-trials") + 1] == "8"
    assert command[command.index("--seed") + 1] == "3" and command[-1] == "--resume"


# -- predictors -------------------------------------------------------------------------
def test_predictors_prints_a_spearman_table_and_writes_json(tmp_path) -> None:
    out = tmp_path / "ranking.json"
    proc = bench("predictors", "--sizes", "30,60", "--repeats", "2", "--test-size", "300",
                 "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    rows = [line.split() for line in proc.stdout.splitlines()[2:6]]
    assert [(r[0], r[1]) for r in rows] == [("forest", "30"), ("gaussian-process", "30"),
                                            ("forest", "60"), ("gaussian-process", "60")]
    payload = json.loads(out.read_text())
    assert payload["floor_quantile"] == 0.5
    for r in payload["results"]:
        assert len(r["spearman"]) == 2 and all(0.2 < rho <= 1 for rho in r["spearman"])
        assert all(t > 0 for t in r["fit_seconds"])


def test_predictors_takes_any_predictor_factory_and_refuses_bad_ones() -> None:
    ridge = "ridge=autokeras_nas_plugins.popnas.predictors:RidgePredictor"
    proc = bench("predictors", "--predictor", ridge, "--sizes", "40", "--repeats", "1",
                 "--test-size", "200", "--floor-quantile", "0")
    assert proc.returncode == 0, proc.stderr
    assert "no floor" in proc.stdout and proc.stdout.splitlines()[2].split()[0] == "ridge"
    for bad, message in (("nolabel", "LABEL=MODULE:ATTR"), ("x=nomodule", "module:attribute"),
                         ("x=autokeras_nas:NoSuchThing", "cannot load predictor")):
        proc = bench("predictors", "--predictor", bad)
        assert proc.returncode != 0 and message in one_line_error(proc.stderr), proc.stderr


# -- real -------------------------------------------------------------------------------
REAL_BAD_INPUT = [
    (["--searchers", "foo"], "unknown searcher 'foo'"),
    (["--searchers", "kt-hyperband:epochs=3"], "takes no settings"),
    (["--searchers", "dtw-1nn"], "dtw-1nn classifies ucr:NAME"),
    (["--searchers", "random:epochz=3"], "unknown setting 'epochz'"),
    (["--searchers", "random:epochs=0"], "epochs must be an integer >= 1"),
    (["--searchers", "epochs=3,random"], "before any searcher"),
    (["--searchers", "random:epochs"], "KEY=VALUE"),
    (["--searchers", "random,random"], "listed twice"),
    (["--searchers", " , "], "no searcher"),
    (["--budget", "0"], "positive"),
    (["--budget", "ten"], "duration"),
    (["--dataset", "nope"], "unknown dataset 'nope'"),
]


def test_bench_real_bad_input_is_one_line_before_tensorflow() -> None:
    runs = probe_cli_runs(*(["bench", "real", "--dataset", "digits", *args]
                            for args, _ in REAL_BAD_INPUT), watch=WATCH)
    for run, (args, message) in zip(runs, REAL_BAD_INPUT):
        assert run["code"] == 2, (args, run)
        assert message in one_line_error(run["stderr"] or run["stdout"]), (args, run)
        assert "one after another" not in run["stdout"]
    assert runs[-1]["loaded"] == []


def test_bench_real_refuses_image_peers_on_time_series() -> None:
    proc = bench("real", "--dataset", "ucr:ItalyPowerDemand", "--searchers", "kt-bayes")
    assert proc.returncode == 2
    assert "kt-bayes searches the image CNN space" in one_line_error(proc.stderr)


def test_parse_searchers_reads_settings_as_json_else_text() -> None:
    from autokeras_nas.bench.real import parse_searchers

    specs = parse_searchers("random:early_stopping=asha-stop,epochs=9, kt-hyperband,"
                            "aging-evolution:max_trials=null", ["random", "aging-evolution"])
    assert [(s.name, dict(s.settings), s.label, s.is_peer) for s in specs] == [
        ("random", {"early_stopping": "asha-stop", "epochs": 9},
         "random:early_stopping=asha-stop,epochs=9", False),
        ("kt-hyperband", {}, "kt-hyperband", True),
        ("aging-evolution", {"max_trials": None}, "aging-evolution:max_trials=null", False),
    ]


def _run(searcher: str, seed: int, best: float | None, curve: list) -> dict:
    name = searcher.partition(":")[0]
    return {"searcher": searcher, "name": name, "seed": seed, "status": "ok",
            "best_val_accuracy": best, "curve": curve}


def test_derive_times_to_within_half_a_point_and_to_hyperbands_best() -> None:
    from autokeras_nas.bench.real_report import derive

    runs = [
        _run("random", 0, 0.90, [[5, 0.80], [9, 0.896], [20, 0.90]]),
        _run("kt-hyperband", 0, 0.85, [[3, 0.70], [7, 0.85]]),
        _run("kt-hyperband", 1, 0.95, [[4, 0.95]]),
        _run("random", 1, 0.90, [[6, 0.90]]),
        _run("dtw-1nn", 0, None, []),
    ]
    derive(runs)
    assert [r["time_to_within_s"] for r in runs] == [9, 7, 4, 6, None]
    # Each seed's own Hyperband run is the target; seed 1's random never reaches 0.95.
    assert [r["time_to_hyperband_s"] for r in runs] == [9, 7, 4, None, None]


def test_derive_skips_a_failed_hyperband_run_and_the_table_counts_it() -> None:
    from autokeras_nas.bench.real_report import derive, format_real

    failed = {**_run("kt-hyperband", 0, None, []), "status": "failed", "error": "boom"}
    runs = [failed, _run("random", 0, 0.9, [[2, 0.9]]), _run("kt-hyperband", 1, 0.5, [[1, 0.5]])]
    derive(runs)
    assert runs[1]["time_to_hyperband_s"] is None  # seed 0's Hyperband run failed
    assert runs[2]["time_to_hyperband_s"] == 1
    table = format_real({"dataset": "digits", "dataset_loaded": "digits", "budget_s": 10,
                         "seeds": [0], "runs": runs})
    assert "failed: kt-hyperband seed 0: boom" in table
    assert row(table, "kt-hyperband")[1] == "1/2"
