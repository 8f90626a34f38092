"""The light half of `autokeras_nas.workflow` (no TensorFlow): settings,
`NAME=VALUE` strategy arguments, strategies by name and by space kind, the
search directory checks, and reading a search back for report and export."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from autokeras_nas import workflow
from autokeras_nas.core import SpaceKind
from autokeras_nas.testing.cli import HEAVY_MODULES
from autokeras_nas.workflow import SearchConfig, WorkflowError


# -- --param NAME=VALUE ------------------------------------------------------------------
def test_parse_params_reads_json_values_and_keeps_text() -> None:
    params = workflow.parse_params(["population_size=6", "rate=0.5", "flag=true", "none=null",
                                    "sizes=[1, 2]", "mutations=large", "empty="])
    assert params == {"population_size": 6, "rate": 0.5, "flag": True, "none": None,
                      "sizes": [1, 2], "mutations": "large", "empty": ""}


@pytest.mark.parametrize("item", ["population_size", "=3", "1x=3", "a b=1"])
def test_parse_params_refuses_what_is_not_name_equals_value(item: str) -> None:
    with pytest.raises(WorkflowError, match="--param must be NAME=VALUE"):
        workflow.parse_params([item])


def test_make_strategy_passes_params_and_the_seed() -> None:
    strategy = workflow.make_strategy("aging-evolution", seed=3,
                                      params={"population_size": 6, "sample_size": 2})
    assert (strategy.population_size, strategy.sample_size, strategy.seed) == (6, 2, 3)


@pytest.mark.parametrize("name, params, message", [
    ("nope", {}, "unknown strategy 'nope'; installed strategies: "),
    ("aging-evolution", {"no_such": 1},
     "cannot create strategy 'aging-evolution': it takes no argument 'no_such' (its arguments: "
     "population_size, sample_size, "),
    ("pnas", {"no_such": 1}, "it takes no argument 'no_such' (its arguments: "),
    ("aging-evolution", {"population_size": 0},
     "cannot create strategy 'aging-evolution' with population_size=0: population_size must "
     "be an int >= 1"),
    ("aging-evolution", {"seed": 1}, "pass the seed as --seed"),
])
def test_make_strategy_errors_are_one_line(name: str, params: dict, message: str) -> None:
    with pytest.raises(WorkflowError) as info:
        workflow.make_strategy(name, params=params)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_a_strategy_that_plans_with_time_gets_the_time_budget_unless_a_param_sets_it() -> None:
    assert workflow.make_strategy("nash", time_budget=90.0).time_budget_s == 90.0
    assert workflow.make_strategy("nash", time_budget=90.0,
                                  params={"time_budget_s": 30}).time_budget_s == 30
    assert workflow.make_strategy("random", time_budget=90.0).name == "random"


def test_strategies_are_found_by_the_space_kinds_they_declare() -> None:
    assert workflow.strategies_searching(SpaceKind.CELLS) == ["pnas", "popnas"]
    assert workflow.strategies_searching("network") == ["nash"]
    assert {"random", "aging-evolution", "nash", "popnas"} <= set(
        workflow.strategies_searching(SpaceKind.HYPERPARAMETERS))
    assert workflow.strategies_searching(SpaceKind.SUPERNET) == [
        "darts", "enas", "freedarts", "gdas", "oneshot", "proxyless", "random-ws", "smash", "snas",
        "spos", "zero-cost"]
    nash = workflow.make_strategy("nash")
    assert workflow.declared_kinds(nash) == (SpaceKind.NETWORK, SpaceKind.HYPERPARAMETERS)


# -- SearchConfig -----------------------------------------------------------------------
def test_search_config_normalises_its_settings(tmp_path: Path) -> None:
    config = SearchConfig(out_dir=tmp_path / "a" / ".." / "s", objectives=["val_loss", "params"],
                          time_budget="1m30s", early_stopping="none",
                          params={"population_size": 6})
    assert config.out_dir == tmp_path / "s"
    assert config.objectives == ["val_loss:min", "params:min"]
    assert config.objective_names == ["val_loss", "params"]
    assert config.time_budget == 90.0 and config.max_trials is None
    assert config.early_stopping is None and config.params == {"population_size": 6}
    # no objective named: the data's default, set with the epochs by for_data
    default = SearchConfig(out_dir=tmp_path)
    assert default.objectives is None and default.objective_names == []
    classes = SimpleNamespace(kind="image", y_train=[0] * 10, y_val=[], task="classification")
    numbers = SimpleNamespace(kind="tabular", y_train=[0.5] * 10, y_val=[], task="regression")
    assert default.for_data(classes).objectives == ["val_accuracy:max"]
    assert default.for_data(numbers).objectives == ["val_mean_absolute_error:min"]
    assert default.for_data(SimpleNamespace(kind="image", y_train=[0], y_val=[])
                            ).objectives == ["val_accuracy:max"]  # no task: classification
    assert config.for_data(numbers).objectives == ["val_loss:min", "params:min"]


@pytest.mark.parametrize("over, message", [
    ({"epochs": 0}, "epochs must be an integer >= 1"),
    ({"max_trials": 0}, "max_trials must be an integer >= 1"),
    ({"seed": -1}, "seed must be an integer >= 0"),
    ({"time_budget": 0}, "--time-budget must be positive"),
    ({"objectives": ["acc:up"]}, "'acc:up' is not NAME or NAME:min|max"),
    ({"params": {"f": object()}}, "strategy params must be JSON values"),
])
def test_search_config_refuses_bad_settings(tmp_path: Path, over: dict, message: str) -> None:
    with pytest.raises(WorkflowError) as info:
        SearchConfig(out_dir=tmp_path, **over)
    assert message in str(info.value)


# -- validation: split or k-fold ----------------------------------------------------------
def test_auto_validation_is_kfold_below_the_threshold_and_the_split_above() -> None:
    below = workflow.KFOLD_BELOW - 1
    small = workflow.validation_plan("auto", below - 10, 10)
    assert small.kfold and small.folds == workflow.DEFAULT_FOLDS and small.samples == below
    assert small.to_dict() == {"scheme": "kfold", "folds": 5, "samples": below,
                               "reason": f"auto: {below} training samples < 1000"}
    assert "5-fold stratified cross-validation" in small.describe()
    large = workflow.validation_plan("auto", workflow.KFOLD_BELOW - 200, 200)
    assert not large.kfold and large.samples == 200
    assert large.to_dict()["scheme"] == "split"
    # the user's choice wins either way
    assert not workflow.validation_plan("split", 40, 10).kfold
    assert workflow.validation_plan("kfold:3", 8000, 2000).folds == 3
    # fewer samples than the default folds: one sample a fold
    assert workflow.validation_plan("auto", 3, 1).folds == 4


@pytest.mark.parametrize("text, normalised", [
    ("auto", "auto"), ("Split", "split"), ("kfold", "kfold:5"), (" kfold:10 ", "kfold:10")])
def test_validation_texts_are_normalised(tmp_path: Path, text: str, normalised: str) -> None:
    assert SearchConfig(out_dir=tmp_path, validation=text).validation == normalised


@pytest.mark.parametrize("text", ["kfold:1", "kfold:", "kfold:x", "split:2", "cv", ""])
def test_bad_validation_values_give_a_one_line_error(tmp_path: Path, text: str) -> None:
    with pytest.raises(WorkflowError) as info:
        SearchConfig(out_dir=tmp_path, validation=text)
    assert str(info.value) == (f"--validation must be auto, split or kfold:K with K >= 2, "
                               f"got {text!r}")


def test_more_folds_than_samples_is_refused() -> None:
    with pytest.raises(WorkflowError, match="more folds than the 9 training samples"):
        workflow.validation_plan("kfold:10", 7, 2)


def test_small_time_series_train_longer_in_smaller_batches() -> None:
    assert workflow.training_defaults("timeseries", 50) == (40, 16)
    assert workflow.training_defaults("timeseries", 5000) == (3, 32)
    assert workflow.training_defaults("image", 50) == (3, 32)


def test_retrain_epochs_add_up_the_selected_epochs_of_the_lineage() -> None:
    from autokeras_nas.results import retrain_epochs

    trials = [{"trial_id": "0", "parent_id": None, "epochs": 9,
               "outputs": {"selected_epochs": 4}},
              {"trial_id": "1", "parent_id": "0", "epochs": 9,
               "outputs": {"selected_epochs": 2}},
              {"trial_id": "2", "parent_id": None, "epochs": 6, "outputs": {}}]
    results = {"trials": trials}
    assert retrain_epochs(results, trials[0], 3) == 4
    assert retrain_epochs(results, trials[1], 3) == 6
    assert retrain_epochs(results, trials[2], 3) == 6


def test_retrain_epochs_come_from_the_curve_and_a_promotion_adds_nothing() -> None:
    from autokeras_nas.results import retrain_epochs

    def curve(first: int, values: list[float]) -> list[dict]:
        return [{"epoch": first + i, "val_loss": v} for i, v in enumerate(values)]

    trials = [
        {"trial_id": "0", "parent_id": None, "curve": curve(1, [0.9])},
        # Promoted: continued trial 0 from epoch 1 to 3; best at epoch 2.
        {"trial_id": "1", "parent_id": "0", "notes": {"origin": "promotion"},
         "curve": curve(2, [0.5, 0.6])},
        # A child started from trial 1's best weights (2 epochs), best at its 3rd.
        {"trial_id": "2", "parent_id": "1", "notes": {"origin": "morphism"},
         "curve": curve(1, [0.7, 0.6, 0.4, 0.4])},
        {"trial_id": "3", "parent_id": None, "epochs": 5},
    ]
    results = {"objectives": [{"name": "val_loss", "direction": "min"}], "trials": trials}
    assert retrain_epochs(results, trials[1], 9) == 2
    assert retrain_epochs(results, trials[2], 9) == 3 + 2
    assert retrain_epochs(results, trials[3], 9) == 5
    maximised = {"objectives": [{"name": "val_loss", "direction": "max"}], "trials": trials}
    assert retrain_epochs(maximised, trials[2], 9) == 1 + 3  # best at its 1st and at 1's 3rd


def test_check_out_dir_resumes_only_the_same_search(tmp_path: Path) -> None:
    config = SearchConfig(out_dir=tmp_path / "s", strategy="aging-evolution",
                          params={"population_size": 6})
    assert workflow.check_out_dir(config) is False  # nothing there yet
    config.out_dir.mkdir()
    (config.out_dir / "results.json").write_text(json.dumps({"strategy": "aging-evolution"}))
    (config.out_dir / "summary.json").write_text(json.dumps(
        {"dataset": "digits", "space": None, "params": {"population_size": 6}}))
    assert workflow.check_out_dir(config) is True
    other = SearchConfig(out_dir=config.out_dir, strategy="aging-evolution",
                         params={"population_size": 8})
    with pytest.raises(WorkflowError, match="holds a search with params "
                                            r"\{'population_size': 6\}, not"):
        workflow.check_out_dir(other)
    replaced = SearchConfig(out_dir=config.out_dir, strategy="random", overwrite=True)
    assert workflow.check_out_dir(replaced) is False
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(WorkflowError, match="holds no search"):
        workflow.check_out_dir(SearchConfig(out_dir=tmp_path / "other", overwrite=True))


# -- a search read back -----------------------------------------------------------------
def _search_dir(tmp_path: Path, status: str = "completed", summary: dict | None = None) -> Path:
    directory = tmp_path / "s"
    (directory / "trial_0").mkdir(parents=True)
    (directory / "trial_0" / "trial.json").write_text("{}")
    results = {"format": "autokeras_nas.results", "version": 1, "strategy": "random",
               "objectives": [{"name": "val_accuracy", "direction": "max"}],
               "best_trial_ids": ["0"] if status == "completed" else [],
               "trials": [{"trial_id": "0", "status": status, "values": {},
                           "metrics": {"val_accuracy": 0.5}, "message": "boom"}]}
    (directory / "results.json").write_text(json.dumps(results))
    if summary is not None:
        (directory / "summary.json").write_text(json.dumps(summary))
    return directory


def test_load_search_reads_results_and_summary(tmp_path: Path) -> None:
    directory = _search_dir(tmp_path, summary={"dataset": "digits", "params": {}})
    found = workflow.load_search(directory)
    assert found.directory == directory and found.results["strategy"] == "random"
    assert found.summary == {"dataset": "digits", "params": {}}
    (directory / "summary.json").write_text("{oops")
    assert workflow.load_search(directory).summary is None
    for missing, message in ((tmp_path / "none", "does not exist"),
                             (directory / "results.json", "is not a directory"),
                             (directory / "trial_0", "it has no results.json")):
        with pytest.raises(WorkflowError, match=message):
            workflow.load_search(missing)


def test_plan_export_checks_everything_before_tensorflow(tmp_path: Path) -> None:
    directory = _search_dir(tmp_path, summary={"dataset": "digits", "seed": 0})
    with pytest.raises(WorkflowError, match="trial 0 cannot be rebuilt: "
                                            "trial_0/checkpoint.weights.h5 is missing"):
        workflow.plan_export(directory)
    job = workflow.plan_export(directory, retrain_epochs=1, formats=["keras,tflite"])
    assert (job.trial_id, job.formats, job.out) == ("0", ["keras", "tflite"],
                                                     directory / "export")
    with pytest.raises(WorkflowError, match="nope: choose from all, keras, savedmodel, tflite"):
        workflow.plan_export(directory, retrain_epochs=1, formats=["nope"])
    with pytest.raises(WorkflowError, match="no trial '7'"):
        workflow.plan_export(directory, trial_id="7", retrain_epochs=1)
    assert job.quantize is None
    assert workflow.plan_export(directory, retrain_epochs=1, quantize="INT8").quantize == "int8"
    with pytest.raises(WorkflowError, match="'int4': choose from int8, float16, dynamic"):
        workflow.plan_export(directory, retrain_epochs=1, quantize="int4")
    failed = _search_dir(tmp_path / "f", status="failed")
    with pytest.raises(WorkflowError, match=r"no completed trial in .* \(1 failed, 0 "
                                            "unfinished; trial 0: boom\\)"):
        workflow.plan_export(failed)


def _quantized_model(kib: float, median: float, value: float, name: str) -> dict:
    return {"file": f"/x/{name}", "kib": kib,
            "test": {"accuracy": value, "mean_absolute_error": value},
            "latency": {"median_ms": median, "p25_ms": median * 0.9, "p75_ms": median * 1.2}}


def test_quantization_table_shows_size_latency_score_and_drop() -> None:
    record = {"mode": "int8", "metric": "accuracy", "drop_points": 0.56,
              "models": {"float": _quantized_model(130.56, 0.0417, 0.855, "model.tflite"),
                         "int8": _quantized_model(38.45, 0.1083, 0.8494, "model_int8.tflite")}}
    lines = workflow.quantization_table(record)
    assert lines[0].split() == ["model", "size", "KiB", "latency", "ms", "(median,", "IQR)",
                                "test", "accuracy"]
    assert set(lines[1]) == {"-"}
    assert lines[2].split() == ["float", "(model.tflite)", "130.6", "0.0417",
                                "(0.0375-0.0500)", "0.8550"]
    assert lines[3].split()[:3] == ["int8", "(model_int8.tflite)", "38.5"]
    record["models"]["int8"]["bytes"] = 39368  # 38.445 KiB: rounded once, from the bytes
    assert workflow.quantization_table(record)[3].split()[2] == "38.4"
    assert lines[3].split()[-1] == "0.8494"
    assert lines[-1] == "accuracy drop: +0.56 points (float - int8)"
    record.update(metric="mean_absolute_error", change=-0.25)
    del record["drop_points"]
    lines = workflow.quantization_table(record)
    assert "test MAE" in lines[0]
    assert lines[-1].startswith("MAE change: -0.2500 (quantized - float")


def test_the_light_workflow_imports_no_tensorflow(tmp_path: Path) -> None:
    import subprocess
    import sys

    directory = _search_dir(tmp_path, summary={"dataset": "digits"})
    code = f"""
import json, sys
from autokeras_nas import workflow
workflow.SearchConfig(out_dir={str(tmp_path / 'new')!r}, params=workflow.parse_params(["a=1"]))
workflow.make_strategy("aging-evolution", params={{"population_size": 6}})
workflow.strategies_searching("cells")
workflow.load_search({str(directory)!r})
try:
    workflow.export({str(directory)!r})
except workflow.WorkflowError as e:
    assert "checkpoint.weights.h5 is missing" in str(e)
print(json.dumps([m for m in {list(HEAVY_MODULES)!r} if m in sys.modules]))
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
