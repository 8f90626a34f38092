"""A search from settings to the best model: check the search directory, run
the tuner, then keep the best model, its test scores and summary.json.

The scores are the dataset task's (`autokeras_nas.workflow.scores`): test
accuracy for classification; test MAE and RMSE, in the target's units, for
regression.

    config = SearchConfig(out_dir="runs/digits", dataset="digits", strategy="random")
    outcome = search(config)        # load, make, run, finish: the CLI's `search`

or step by step (what `autokeras-nas search` does, printing in between):
`load_dataset`, `make_strategy`, `check_out_dir`, `make_space`, `run_search`,
`finish_search`. Resuming is KerasTuner's default (`overwrite=False`).
TensorFlow is imported when the tuner starts (`autokeras_nas.workflow.training`).

Validation (`SearchConfig.validation`, see `plan_validation`): on small data
every trial is validated by stratified k-fold cross-validation over the
training and validation samples together (`autokeras_nas.tuner.trainers.
crossval`), with early stopping off (a promotion would continue one model of
several, and a per-epoch rule sees the fold-mean curve only once every fold
has trained, too late to save time); the best configuration is then
retrained from scratch on all those samples (as many times as there were
folds, their predictions averaged), for the epochs it was selected
with (`autokeras_nas.results.retrain_epochs`: its `selected_epochs`, plus
its ancestors' when it started from a parent's weights), and that model is saved and scored on the test set.
results.json and summary.json record the scheme under `validation`, and
summary.json the retraining under `retrained`.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from autokeras_nas import results as results_module
from autokeras_nas.workflow.base import (
    MODEL_FILENAME,
    SEARCH_MARKERS,
    SUMMARY_FILENAME,
    SearchFailedError,
    WorkflowError,
    read_json,
    write_json,
)
from autokeras_nas.workflow.config import SearchConfig, ValidationPlan, validation_plan
from autokeras_nas.workflow.scores import PRIMARY, task_of

__all__ = ["SearchOutcome", "check_out_dir", "finish_search", "plan_validation", "run_search",
           "search", "write_summary"]


def plan_validation(config: SearchConfig, dataset: Any, strategy: Any = None
                    ) -> ValidationPlan:
    """How the search of `config` validates its trials on `dataset`: k-fold
    or the split (see `autokeras_nas.workflow.config.validation_plan`).

    A one-shot `strategy` (`autokeras_nas.core.OneShotStrategy`) trains one
    supernet and ranks architectures with it on held-out data, and its
    time budget covers its retrains, which are its answer: it validates on
    the split, whatever the number of samples (k-fold would need a
    supernet per fold, and a final retraining on all the samples outside
    the budget).

    A streamed dataset (`Dataset.streamed`, e.g. a large `images:DIR`)
    validates on the split too: k-fold would decode every image once per
    fold and hold no fold in memory.

    Raises:
        WorkflowError: more folds than samples, or k-fold asked for a
            one-shot strategy or a streamed dataset.
    """
    from autokeras_nas.core import OneShotStrategy

    n_train, n_val = len(dataset.y_train), len(dataset.y_val)
    if getattr(dataset, "streamed", False):
        if config.validation.startswith("kfold"):
            raise WorkflowError(f"--validation {config.validation}: images streamed from disk "
                                "are validated on the split; use --validation split or auto, "
                                "or --no-stream")
        plan = validation_plan("split", n_train, n_val)
        return dataclasses.replace(plan, reason=f"{config.validation}: streamed from disk")
    if not isinstance(strategy, OneShotStrategy):
        return validation_plan(config.validation, n_train, n_val)
    if config.validation.startswith("kfold"):
        raise WorkflowError(f"--validation {config.validation}: a one-shot strategy "
                            f"({config.strategy}) trains one supernet and validates on the "
                            "split; use --validation split or auto")
    plan = validation_plan("split", n_train, n_val)
    reason = "a one-shot search trains one supernet"
    return dataclasses.replace(plan, reason=f"{config.validation}: {reason}")


def check_out_dir(config: SearchConfig) -> bool:
    """Whether the search in `config.out_dir` is resumed (False for a new or
    empty directory, or with `overwrite`).

    Raises:
        WorkflowError: the directory holds something that is not a search, or
            (without `overwrite`) a search of another strategy, dataset,
            space, strategy parameters or (given explicitly) task.
    """
    out = config.out_dir
    if not out.is_dir() or not any(out.iterdir()):
        return False
    if not any((out / marker).exists() for marker in SEARCH_MARKERS):
        raise WorkflowError(f"--out {out} is a non-empty directory that holds no search; "
                            "choose another --out")
    if config.overwrite:
        return False
    for filename, key, wanted in (("results.json", "strategy", config.strategy),
                                  (SUMMARY_FILENAME, "dataset", config.dataset),
                                  (SUMMARY_FILENAME, "space", config.space),
                                  (SUMMARY_FILENAME, "image_size", config.image_size),
                                  (SUMMARY_FILENAME, "params", dict(config.params)),
                                  (SUMMARY_FILENAME, "task", config.task)):
        found = read_json(out / filename)
        found = found if isinstance(found, dict) else {}
        if key == "task" and wanted is None:
            continue  # auto: the same data gives the same task
        if key in found and found[key] != wanted:
            raise WorkflowError(f"--out {out} holds a search with {key} {found[key]!r}, not "
                                f"{wanted!r}; pass --overwrite to replace it or choose "
                                "another --out")
    return True


def run_search(dataset: Any, strategy: Any, hypermodel: Any, config: SearchConfig, *,
               progress: Callable[[dict], None] | None = None,
               tuner_kwargs: Mapping[str, Any] | None = None,
               plan: ValidationPlan | None = None) -> Any:
    """Runs the search with `NasTuner` in exactly `config.out_dir`.

    Args:
        dataset: The `Dataset` (see `load_dataset`).
        strategy: The strategy (see `make_strategy`), bound to the space.
        hypermodel: The space (`make_space(...).hypermodel`).
        config: The search's settings.
        progress: Called with the tuner's progress events (see `NasTuner`).
        tuner_kwargs: More `NasTuner` arguments.
        plan: The validation (default `plan_validation(config, dataset)`).

    Returns:
        The `NasTuner`, its search done.

    Raises:
        WorkflowError: the directory cannot be resumed (a file missing or
            corrupted).
        SearchFailedError: the search stopped: too many failed trials in a
            row, or KerasTuner's fatal error (its first and last lines).
    """
    from autokeras_nas.results import SearchDirectoryError
    from autokeras_nas.workflow import training

    config = config.for_data(dataset)
    plan = plan or plan_validation(config, dataset, strategy)
    try:
        return training.run_tuner(dataset, strategy, hypermodel, config, progress,
                                  dict(tuner_kwargs or {}), plan)
    except SearchDirectoryError as e:
        raise WorkflowError(str(e)) from None
    except RuntimeError as e:  # KerasTuner: too many consecutive failed trials
        lines = [line.strip() for line in str(e).splitlines() if line.strip()] or [repr(e)]
        raise SearchFailedError(" ".join(dict.fromkeys([lines[0], lines[-1]]))) from None


@dataclass(frozen=True)
class SearchOutcome:
    """What a finished search kept."""

    #: The parsed results.json.
    results: dict[str, Any]
    #: The best trial's record in `results`.
    best: dict[str, Any]
    #: The best model's top-1 accuracy on the test split (None for regression).
    test_accuracy: float | None
    model_path: Path
    summary_path: Path
    #: `(pareto.png, trials plotted)` for a multi-objective or POPNAS search.
    pareto: tuple[Path, int] | None
    #: How well the strategy's predictors ranked: quantity -> Spearman row.
    correlations: dict[str, dict[str, float]]
    #: Seconds after which the time budget stopped the search, or None.
    budget_elapsed: float | None
    #: How the trials were validated.
    validation: ValidationPlan | None = None
    #: The final retraining on all training samples (k-fold): `epochs`,
    #: `samples`, `seconds`; None when the best trial's model was kept.
    retrained: dict[str, Any] | None = None
    #: `"classification"` or `"regression"` (the dataset's).
    task: str = "classification"
    #: The best model's scores on the test split (`scores.score`):
    #: `accuracy`, or `mean_absolute_error` and `root_mean_squared_error`.
    test_scores: dict[str, float] = dataclasses.field(default_factory=dict)

    @property
    def val_metric(self) -> str:
        """The best trial's metric reported first: `val_accuracy`, or
        `val_mean_absolute_error` for regression."""
        return f"val_{PRIMARY.get(self.task, 'accuracy')}"


def _best_trial(results: Mapping[str, Any]) -> dict[str, Any]:
    ids = results.get("best_trial_ids") or []
    phases = [(t.get("notes") or {}).get("phase") for t in results.get("trials", [])]
    if not ids and phases and phases[-1] in ("supernet", "search"):
        raise SearchFailedError(
            f"no model was retrained: the one-shot search ended in its {phases[-1]} phase "
            "(see results.json); give it a larger --time-budget or --max-trials")
    if not ids:
        raise SearchFailedError("no trial completed; see results.json for the failures")
    return next(t for t in results["trials"] if str(t["trial_id"]) == str(ids[0]))


def _pareto(results: Mapping[str, Any], out_dir: Path) -> tuple[Path, int] | None:
    from autokeras_nas.report import pareto_axes, pareto_plot

    axes = pareto_axes(results)
    if axes is None:
        return None
    path = out_dir / "pareto.png"
    return path, pareto_plot(results, path, **axes)


def write_summary(config: SearchConfig, best: Mapping[str, Any],
                  test_scores: Mapping[str, float], *, task: str = "classification",
                  validation: ValidationPlan | None = None,
                  retrained: Mapping[str, Any] | None = None) -> Path:
    """Writes `summary.json`: the settings that rebuild the search's data and
    space (read by `export`), its `task`, the best trial and its scores
    (`val_accuracy` and `test_accuracy`; for regression
    `val_mean_absolute_error`, `test_mean_absolute_error` and
    `test_root_mean_squared_error`), how trials were validated and, under
    k-fold, the final retraining."""
    primary = PRIMARY.get(task, "accuracy")
    summary = {
        "dataset": config.dataset,
        "strategy": config.strategy,
        "params": dict(config.params),
        "seed": config.seed,
        "objectives": list(config.objectives),
        "max_trials": config.max_trials,
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "validation_split": config.validation_split,
        "early_stopping": None if validation is not None and validation.kfold
        else config.early_stopping,
        "extend_best": config.extend_best,
        "validation": None if validation is None else validation.to_dict(),
        "retrained": None if retrained is None else dict(retrained),
        "space": config.space,
        "time_budget_s": config.time_budget,
        "constraints": list(config.constraints),
        "target": config.target,
        "task": task,
        "data_dir": config.data_dir,
        "image_size": config.image_size,
        "stream": config.stream,
        "best_trial_id": str(best["trial_id"]),
        "best_values": best.get("values", {}),
        f"val_{primary}": (best.get("metrics") or {}).get(f"val_{primary}"),
        **{f"test_{name}": value for name, value in test_scores.items()},
        "wall_time_s": round(time.perf_counter() - config.started, 3),
        "model": MODEL_FILENAME,
    }
    return write_json(config.out_dir / SUMMARY_FILENAME, summary)


def _keep_best_model(tuner: Any, dataset: Any, config: SearchConfig, plan: ValidationPlan,
                     results: Mapping[str, Any], best: Mapping[str, Any]
                     ) -> tuple[dict[str, float], dict[str, Any] | None]:
    """Saves best_model.keras (under k-fold: retrained on all the training
    samples); returns its test scores and the retraining's record."""
    from autokeras_nas.workflow import training

    if not plan.kfold:
        return training.save_best_model(tuner, dataset, config.out_dir,
                                        config.batch_size), None
    epochs = results_module.retrain_epochs(results, best, config.epochs)
    model, seconds = training.retrain_on_all(tuner, str(best["trial_id"]), dataset, config,
                                             epochs, members=plan.folds)
    test_scores = training.save_model(model, tuner, dataset, config.out_dir,
                                      config.batch_size)
    return test_scores, {"trial_id": str(best["trial_id"]), "epochs": epochs,
                           "members": plan.folds,
                           "samples": len(dataset.y_train) + len(dataset.y_val),
                           "seconds": round(seconds, 3)}


def _record_validation(config: SearchConfig, results: dict[str, Any],
                       plan: ValidationPlan) -> None:
    """Adds the `validation` record to results.json (the oracle rewrites the
    file after every trial, so it is added once the search is over)."""
    from autokeras_nas.results import write_results

    results["validation"] = plan.to_dict()
    write_results(str(config.out_dir), results)


def finish_search(tuner: Any, dataset: Any, config: SearchConfig,
                  plan: ValidationPlan | None = None) -> SearchOutcome:
    """After `run_search`: the Pareto-front plot (multi-objective or POPNAS
    searches), the predictors' rank correlations, the best model saved as
    `best_model.keras` (retrained on all the training samples under k-fold
    validation) with its test scores, and `summary.json`.

    Raises:
        SearchFailedError: results.json is unreadable, or no trial completed.
    """
    from autokeras_nas.report import predictor_correlations
    from autokeras_nas.results import ResultsError, read_results

    config = config.for_data(dataset)
    plan = plan or plan_validation(config, dataset, getattr(tuner.oracle, "strategy", None))
    try:
        results = read_results(str(config.out_dir))
    except ResultsError as e:
        raise SearchFailedError(str(e)) from None
    _record_validation(config, results, plan)
    pareto = _pareto(results, config.out_dir)
    best = _best_trial(results)
    try:
        test_scores, retrained = _keep_best_model(tuner, dataset, config, plan, results, best)
    except RuntimeError as e:
        raise SearchFailedError(str(e)) from None
    elapsed = None
    if config.time_budget is not None and tuner.budget.exhausted:
        elapsed = tuner.budget.elapsed
    task = task_of(dataset)
    summary = write_summary(config, best, test_scores, task=task, validation=plan,
                            retrained=retrained)
    return SearchOutcome(
        results=results, best=best, test_accuracy=test_scores.get("accuracy"),
        model_path=config.out_dir / MODEL_FILENAME, summary_path=summary, pareto=pareto,
        correlations=predictor_correlations(results), budget_elapsed=elapsed,
        validation=plan, retrained=retrained, task=task, test_scores=dict(test_scores),
    )


def search(config: SearchConfig, *, progress: Callable[[dict], None] | None = None
           ) -> SearchOutcome:
    """The whole search of `config`: dataset, strategy, space, tuner, best model.

    Raises:
        WorkflowError: bad settings (dataset, strategy, space, directory).
        SearchFailedError: the search ran and kept nothing.
    """
    from autokeras_nas.workflow.datasets import load_dataset
    from autokeras_nas.workflow.spaces import make_space
    from autokeras_nas.workflow.strategies import make_strategy

    dataset = load_dataset(config.dataset, seed=config.seed,
                           validation_split=config.validation_split, target=config.target,
                           data_dir=config.data_dir, task=config.task,
                           image_size=config.image_size, stream=config.stream)
    config = config.for_data(dataset)
    strategy = make_strategy(config.strategy, seed=config.seed, params=config.params,
                             time_budget=config.time_budget, epochs=config.epochs)
    plan = plan_validation(config, dataset, strategy)
    check_out_dir(config)
    space = make_space(dataset, strategy, config.space)
    tuner = run_search(dataset, strategy, space.hypermodel, config, progress=progress, plan=plan)
    return finish_search(tuner, dataset, config, plan)
