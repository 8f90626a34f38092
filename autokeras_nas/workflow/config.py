"""The settings of a search, checked: `SearchConfig` and the parsers of its
text forms (durations, objectives, `NAME=VALUE` strategy arguments).

No TensorFlow, no plugins: the command line parses its options with these.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from autokeras_nas.core.constraints import make_constraints
from autokeras_nas.workflow.base import WorkflowError

__all__ = ["DEFAULT_FOLDS", "DEFAULT_MAX_TRIALS", "KFOLD_BELOW", "MINIMISED", "SearchConfig",
           "ValidationPlan", "parse_duration", "parse_objective", "parse_params",
           "parse_task", "parse_validation", "training_defaults", "validation_plan"]

#: Trials of a search given neither `max_trials` nor `time_budget`: a first
#: look at a dataset in minutes on a CPU.
DEFAULT_MAX_TRIALS = 10
#: Substrings of metric names that are minimised when no direction is given.
MINIMISED = ("loss", "error", "mse", "mae", "mape", "crossentropy", "hinge",
             "latency", "time", "params")
#: `validation="auto"` validates by k-fold when the training data (training
#: and validation parts together) has fewer samples than this: a 20 % split
#: of fewer than 1000 samples holds under 200, too few to rank models
#: reliably (measured: see `validation_plan`).
KFOLD_BELOW = 1000
#: Folds of `validation="auto"` below `KFOLD_BELOW` samples: each model
#: trains on 80 %, as with the default 20 % split, and every sample is validated once.
DEFAULT_FOLDS = 5
#: Epochs and batch size of a search that sets neither, by kind of data
#: (`training_defaults`): small time-series sets (a UCR problem's few dozen
#: series make 2 to 3 batches an epoch) need many short epochs to train a
#: 1-D CNN; everything else keeps a first look in minutes on a CPU.
SMALL_TIMESERIES_TRAINING = (40, 16)
DEFAULT_TRAINING = (3, 32)
#: Epochs of a search scheduled by promotions ("asha", "hyperband") that
#: sets none: the top rung, so that rungs sit at 1, 3 and 9 epochs and a
#: configuration trains 9 epochs only once it was among the best at 1 and 3.
SCHEDULED_EPOCHS = 9
#: The early stopping of a search that sets none: promotion-based ASHA,
#: the best measured on a real budget (docs/benchmarks.md, "bench real").
DEFAULT_EARLY_STOPPING = "asha"
_SCHEDULERS = ("asha", "hyperband")
_VALIDATION = re.compile(r"auto|split|kfold(?::(\d+))?")
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([hms]?)")
_UNIT_S = {"h": 3600.0, "m": 60.0, "s": 1.0, "": 1.0}


def parse_duration(text: str) -> float:
    """`90`, `90s`, `3m`, `1.5h`, `1h30m` -> seconds.

    Raises:
        WorkflowError: anything else, or a duration that is not positive.
    """
    compact = text.strip().lower().replace(" ", "")
    parts = _DURATION.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact \
            or (len(parts) > 1 and any(not u for _, u in parts)):
        raise WorkflowError(f"--time-budget {text!r} is not a duration: give seconds, "
                            "or e.g. 90s, 3m, 1h, 1h30m")
    seconds = sum(float(n) * _UNIT_S[u] for n, u in parts)
    if not seconds > 0:
        raise WorkflowError(f"--time-budget must be positive, got {text!r}")
    return seconds


def parse_objective(text: str) -> str:
    """`NAME` or `NAME:min|max` -> `NAME:direction`; a missing direction is
    `min` for names that contain one of `MINIMISED`, else `max`.

    Raises:
        WorkflowError: empty name or a direction other than min/max.
    """
    name, sep, direction = text.partition(":")
    if not name or (sep and direction not in ("min", "max")):
        raise WorkflowError(f"{text!r} is not NAME or NAME:min|max")
    if not sep:
        direction = "min" if any(word in name.lower() for word in MINIMISED) else "max"
    return f"{name}:{direction}"


def parse_params(items: Iterable[str]) -> dict[str, Any]:
    """`NAME=VALUE` texts -> strategy constructor arguments; VALUE is read as
    JSON when it parses (`12`, `0.5`, `true`, `null`, `[1, 2]`), else kept as text.

    Raises:
        WorkflowError: an item without `=` or whose NAME is not an identifier.
    """
    out: dict[str, Any] = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise WorkflowError(f"--param must be NAME=VALUE, got {item!r}")
        try:
            out[name] = json.loads(text)
        except ValueError:
            out[name] = text
    return out


def parse_task(text: str | None) -> str | None:
    """`auto` (or None) -> None (decided from the data); `classification`
    and `regression` as they are.

    Raises:
        WorkflowError: anything else.
    """
    if text is None or str(text).strip().lower() == "auto":
        return None
    from autokeras_nas.data.base import parse_task as parse  # numpy only

    try:
        return parse(str(text).strip().lower())
    except ValueError as e:
        raise WorkflowError(str(e)) from None


def parse_validation(text: str) -> str:
    """`auto`, `split`, `kfold` or `kfold:K` -> the normalised text (`kfold`
    becomes `kfold:5`).

    Raises:
        WorkflowError: anything else, or K < 2.
    """
    compact = str(text).strip().lower()
    match = _VALIDATION.fullmatch(compact)
    if match is None or (match.group(1) is not None and int(match.group(1)) < 2):
        raise WorkflowError(f"--validation must be auto, split or kfold:K with K >= 2, "
                            f"got {text!r}")
    if compact.startswith("kfold"):
        return f"kfold:{int(match.group(1) or DEFAULT_FOLDS)}"
    return compact


@dataclass(frozen=True)
class ValidationPlan:
    """How a search validates its trials (see `validation_plan`)."""

    #: Folds of stratified k-fold cross-validation (a regression target:
    #: stratified by its quantile bins); None: the validation split.
    folds: int | None
    #: Training samples validated on (the split's or all of them).
    samples: int
    #: Why: `auto: 50 training samples < 1000`, or `--validation kfold:5`.
    reason: str

    @property
    def kfold(self) -> bool:
        return self.folds is not None

    def describe(self) -> str:
        """One line for the live view: what validates the trials and why."""
        if self.folds is None:
            return f"validation split of {self.samples} samples ({self.reason})"
        return (f"{self.folds}-fold stratified cross-validation over {self.samples} "
                f"training samples ({self.reason}); the best model is retrained on all of them")

    def to_dict(self) -> dict[str, Any]:
        """The record of results.json and summary.json."""
        return {"scheme": "split" if self.folds is None else "kfold", "folds": self.folds,
                "samples": self.samples, "reason": self.reason}


def training_defaults(kind: str, n_samples: int,
                      early_stopping: str | None = None) -> tuple[int, int]:
    """`(epochs, batch_size)` for a search of `n_samples` training samples
    (training and validation parts) of `kind` that sets neither:
    `SMALL_TIMESERIES_TRAINING` for time series below `KFOLD_BELOW`
    samples (validated by k-fold, without early stopping), else
    `DEFAULT_TRAINING`, with `SCHEDULED_EPOCHS` under a promotion
    scheduler."""
    if kind == "timeseries" and n_samples < KFOLD_BELOW:
        return SMALL_TIMESERIES_TRAINING
    if early_stopping in _SCHEDULERS:
        return SCHEDULED_EPOCHS, DEFAULT_TRAINING[1]
    return DEFAULT_TRAINING


def validation_plan(validation: str, n_train: int, n_val: int) -> ValidationPlan:
    """The validation of a search of `validation` (`auto`, `split` or
    `kfold:K`) over a dataset of `n_train` training and `n_val` validation
    samples.

    `auto` is k-fold (`DEFAULT_FOLDS` folds over training and validation
    samples together) when they number fewer than `KFOLD_BELOW`, else the
    split. The threshold was measured with two scikit-learn classifiers
    (logistic regression, 3-NN) on random subsets of digits: below a few
    hundred samples the split picked the better of the two (by test
    accuracy) less often than 5-fold (at 160 samples in 67 % of the subsets
    against 92 %) and its accuracy estimate erred 1.5 to 3 times as much;
    from about 800 samples both picked the better one every time, while
    k-fold still multiplies the cost of a trial by its folds.

    Raises:
        WorkflowError: `kfold:K` with more folds than samples, or a
            validation split that is empty.
    """
    validation = parse_validation(validation)
    total = n_train + n_val
    if validation == "auto":
        if total < KFOLD_BELOW:
            return ValidationPlan(min(DEFAULT_FOLDS, total), total,
                                  f"auto: {total} training samples < {KFOLD_BELOW}")
        return ValidationPlan(None, n_val, f"auto: {total} training samples >= {KFOLD_BELOW}")
    if validation == "split":
        return ValidationPlan(None, n_val, "--validation split")
    folds = int(validation.partition(":")[2])
    if folds > total:
        raise WorkflowError(f"--validation {validation}: more folds than the {total} "
                            "training samples")
    return ValidationPlan(folds, total, f"--validation {validation}")


def _positive(name: str, value: Any, *, allow_none: bool = False, minimum: int = 1) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise WorkflowError(f"{name} must be an integer >= {minimum}, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class SearchConfig:
    """The settings of one search, normalised and checked on creation.

    Args:
        out_dir: The search directory (results.json, best_model.keras,
            summary.json); resolved to an absolute path.
        dataset: A dataset name of `autokeras_nas.data` (e.g. `digits`).
        strategy: An installed strategy plugin (`autokeras-nas strategies`).
        params: The strategy's constructor arguments (JSON values).
        space: The user's search space as `MODULE:NAME` or `FILE.py:NAME`
            (see `load_space`), or None for the default of the data and
            the strategy (`make_space`).
        seed: Seed of the data split, the strategy and Keras.
        objectives: `NAME` or `NAME:min|max` each; several make a Pareto
            search. None (or empty): the data's default, set by `for_data`:
            `val_accuracy:max`, or `val_mean_absolute_error:min` for a
            regression dataset (`autokeras_nas.workflow.scores`).
        max_trials: Most trials; None gives `DEFAULT_MAX_TRIALS`, or no
            limit when there is a `time_budget`.
        time_budget: Wall-clock budget in seconds (or a text such as `3m`);
            None: no budget.
        time_budget_scope: `run` (the default): the budget counts from this
            run's start, so a resumed search gets it whole again; `search`:
            the time earlier runs of the search spent counts too.
        epochs: Epochs per trial (a strategy may set its own budget); the
            top rung under "asha". None: by the data (`for_data`,
            `training_defaults`).
        batch_size: Batch size of training and evaluation; None: by the data.
        validation_split: Fraction of the non-test data held out for validation.
        early_stopping: `asha` (the default, `DEFAULT_EARLY_STOPPING`),
            `hyperband`, `asha-stop`, `median` or None (`none`). Off under k-fold
            validation (see `autokeras_nas.tuner.trainers.crossval`).
        extend_best: With a time budget, whether `asha` and `hyperband`
            end it on the leader, continued from its state with its learning
            rate annealed (their endgame, `autokeras_nas.core.ASHA`); False:
            the schedule runs until the budget stops it.
        validation: How trials are validated: `auto` (the default: k-fold
            below `KFOLD_BELOW` training samples, else the split), `split`
            (the `validation_split`) or `kfold:K` (stratified K-fold over
            the training and validation samples together; the best model is
            then retrained on all of them).
        overwrite: Start afresh instead of resuming the search in `out_dir`.
        tensorboard: Folder for TensorBoard logs, or None.
        target: The target column of a `csv:PATH` dataset.
        task: `classification`, `regression`, or None / `auto` (the
            loader decides from the target: see `autokeras_nas.data`);
            only `csv:PATH` and `npz:PATH` make regression datasets.
        data_dir: Where `tfds:NAME` datasets are kept.
        image_size: `"H,W"` (or `"HxW"`) the images of `images:DIR` are
            resized to; None: the loader's default.
        stream: Stream `images:DIR` from disk (True), load it whole
            (False), or decide by its decoded size (None).
        distribute: `none` or `mirrored` (MirroredStrategy inside each trial).
        trial_timeout: Seconds after which a trial fails, or None.
        max_failures: Failed trials in a row that stop the search.
        constraints: Hard constraints such as `params<=200000`,
            `latency_ms<=2`, `model_kb<=500` (`autokeras_nas.core.constraints`):
            a candidate that violates one is not trained, its trial is
            infeasible.

    Raises:
        WorkflowError: a bad objective, duration, count or parameter.
    """

    out_dir: Path
    dataset: str = "digits"
    strategy: str = "random"
    params: Mapping[str, Any] = field(default_factory=dict)
    space: str | None = None
    seed: int = 0
    objectives: Sequence[str] | None = None
    max_trials: int | None = None
    time_budget: float | str | None = None
    time_budget_scope: str = "run"
    epochs: int | None = None
    batch_size: int | None = None
    validation_split: float = 0.2
    early_stopping: str | None = DEFAULT_EARLY_STOPPING
    extend_best: bool = True
    validation: str = "auto"
    overwrite: bool = False
    tensorboard: Path | None = None
    target: str | None = None
    task: str | None = None
    data_dir: str | None = None
    image_size: str | None = None
    stream: bool | None = None
    distribute: str = "none"
    trial_timeout: float | None = None
    max_failures: int = 3
    constraints: Sequence[str] = ()
    #: `time.perf_counter()` when the run started (for the wall time).
    started: float = field(default_factory=time.perf_counter, compare=False)

    def __post_init__(self) -> None:
        budget = self.time_budget
        if isinstance(budget, str):
            budget = parse_duration(budget)
        elif budget is not None and not float(budget) > 0:
            raise WorkflowError(f"--time-budget must be positive, got {budget!r}")
        max_trials = self.max_trials
        if max_trials is None and budget is None:
            max_trials = DEFAULT_MAX_TRIALS
        for name in ("epochs", "batch_size"):
            _positive(name, getattr(self, name), allow_none=True)
        _positive("max_failures", self.max_failures)
        _positive("max_trials", max_trials, allow_none=True)
        _positive("seed", self.seed, minimum=0)
        try:
            constraints = tuple(str(c) for c in make_constraints(self.constraints))
        except ValueError as e:
            raise WorkflowError(f"--constraint: {e}") from None
        if self.time_budget_scope not in ("run", "search"):
            raise WorkflowError(f"--time-budget-scope must be run or search, got "
                                f"{self.time_budget_scope!r}")
        if self.space is not None and not isinstance(self.space, str):
            raise WorkflowError("space must be MODULE:NAME or FILE.py:NAME text, which export "
                                "can load again; pass a space object to make_space instead")
        params = dict(self.params)
        try:
            json.dumps(params, allow_nan=False)
        except (TypeError, ValueError) as e:
            raise WorkflowError(f"strategy params must be JSON values: {e}") from None
        objectives = [parse_objective(o) for o in self.objectives] if self.objectives else None
        normalised = {
            "out_dir": Path(self.out_dir).expanduser().resolve(),
            "params": params,
            "objectives": objectives,
            "max_trials": max_trials,
            "time_budget": None if budget is None else float(budget),
            "constraints": constraints,
            "validation": parse_validation(self.validation),
            "task": parse_task(self.task),
            "early_stopping": None if self.early_stopping in (None, "none")
            else self.early_stopping,
            "tensorboard": None if self.tensorboard is None
            else Path(self.tensorboard).expanduser().resolve(),
            "data_dir": None if self.data_dir is None else str(Path(self.data_dir).expanduser()),
            "image_size": self.image_size if self.image_size is None
            or isinstance(self.image_size, str) else ",".join(str(v) for v in self.image_size),
        }
        for name, value in normalised.items():
            object.__setattr__(self, name, value)

    def for_data(self, dataset: Any) -> "SearchConfig":
        """This config with what it left out (None) set for `dataset`: the
        epochs and batch size (`training_defaults`), and the objectives (the
        dataset task's `scores.DEFAULT_OBJECTIVES`)."""
        from autokeras_nas.workflow.scores import DEFAULT_OBJECTIVES, task_of

        if self.epochs is not None and self.batch_size is not None and self.objectives:
            return self
        epochs, batch_size = training_defaults(
            dataset.kind, len(dataset.y_train) + len(dataset.y_val), self.early_stopping)
        return dataclasses.replace(self, epochs=self.epochs or epochs,
                                   batch_size=self.batch_size or batch_size,
                                   objectives=self.objectives
                                   or [DEFAULT_OBJECTIVES[task_of(dataset)]])

    @property
    def objective_names(self) -> list[str]:
        """The objectives' metric names, without directions (none before
        `for_data` when the config names none)."""
        return [o.partition(":")[0] for o in self.objectives or ()]
