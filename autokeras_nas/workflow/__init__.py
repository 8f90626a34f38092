"""The workflow of a search, as a Python API: dataset -> space -> tuner ->
best model -> export. `autokeras-nas search`, `report` and `export` are thin
commands over it; scripts, notebooks and dashboards use the same functions.

    from autokeras_nas import workflow

    config = workflow.SearchConfig(out_dir="runs/digits", dataset="digits",
                                   strategy="aging-evolution",
                                   params={"population_size": 6}, max_trials=8)
    outcome = workflow.search(config)          # the whole search
    outcome.best["trial_id"], outcome.test_accuracy

    found = workflow.load_search("runs/digits")    # results.json + summary.json
    exported = workflow.export("runs/digits", formats=["keras"])
    exported.manifest["test_accuracy"]

Step by step, as the command line does it:

* `load_dataset(name, seed=, validation_split=, target=, data_dir=, task=,
  image_size=, stream=)`: a `autokeras_nas.data.Dataset`, for classification
  or (`csv:`, `npz:`) regression; a regression search defaults to the
  objective `val_mean_absolute_error` and reports test MAE and RMSE
  (`outcome.test_scores`; see `autokeras_nas.workflow.scores`).
* `make_strategy(name, seed=, params=, time_budget=, epochs=)`: an installed strategy
  plugin with its constructor arguments (`parse_params` reads `NAME=VALUE`).
* `make_space(dataset, strategy, space=None)`: the search space bound to the
  strategy: the default for the data, of the first kind the strategy
  declares (`space_kinds`), or the user's (`MODULE:NAME` or an object).
* `check_out_dir(config)`, `run_search(dataset, strategy, hypermodel,
  config, progress=)`, `finish_search(tuner, dataset, config)`: the tuner in
  `config.out_dir`, then best_model.keras and summary.json.
* `load_search(directory)`, `plan_export(...)`, `export(...)`: a finished
  search read back, and a trial's model rebuilt, written as .keras,
  SavedModel and TFLite, and evaluated.

Bad input raises `WorkflowError` (a `ValueError`) with a one-line message;
`SearchFailedError` when a search ran and kept nothing. Importing this
package imports no TensorFlow; the functions that build or train models
import it when called (after their arguments are checked).
"""

from __future__ import annotations

import importlib
from typing import Any

_MODULES = {
    "base": ("MODEL_FILENAME", "SUMMARY_FILENAME", "SearchFailedError", "WorkflowError"),
    "config": ("DEFAULT_FOLDS", "DEFAULT_MAX_TRIALS", "KFOLD_BELOW", "SearchConfig",
               "ValidationPlan", "parse_duration", "parse_objective", "parse_params",
               "parse_task", "parse_validation", "training_defaults", "validation_plan"),
    "datasets": ("load_dataset", "search_dataset"),
    "strategies": ("declared_kinds", "make_strategy", "strategies_searching"),
    "userspace": ("SpaceError", "load_space"),
    "spaces": ("BoundSpace", "default_space", "make_space"),
    "searching": ("SearchOutcome", "check_out_dir", "finish_search", "plan_validation",
                  "run_search", "search"),
    "searchdir": ("Search", "choose_trial", "load_search", "require_completed"),
    "exportplan": ("FORMATS", "QUANTIZATIONS", "Comparison", "ExportJob", "ExportResult",
                   "parse_formats", "parse_quantize", "plan_export", "quantization_table"),
    "exports": ("export",),
    "scores": ("DEFAULT_OBJECTIVES", "PRIMARY", "score"),
    "training": ("accuracy", "test_scores"),  # imports TensorFlow
}
_LAZY = {name: f"{__name__}.{module}" for module, names in _MODULES.items() for name in names}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
