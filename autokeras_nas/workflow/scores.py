"""What a search is scored by, by the dataset's task (`Dataset.task`):
classification by accuracy, regression by the mean absolute error in the
target's units. numpy only (no TensorFlow).

* `DEFAULT_OBJECTIVES`: the objective of a search that names none
  (`SearchConfig.for_data`): `val_accuracy:max`, or
  `val_mean_absolute_error:min` (the default regressor's Keras metric).
* `PRIMARY`: the metric summary.json and the command line report first,
  as `val_NAME` (the best trial's) and `test_NAME` (the kept model's).
* `score(predictions, y, task)`: a model's test scores from its
  predictions: `accuracy` (top-1), or `mean_absolute_error` and
  `root_mean_squared_error`.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

__all__ = ["DEFAULT_OBJECTIVES", "METRICS", "PRIMARY", "describe_scores", "score", "task_of"]

#: The objective of a search that names none, by task.
DEFAULT_OBJECTIVES = {"classification": "val_accuracy:max",
                      "regression": "val_mean_absolute_error:min"}
#: The metric reported first, by task (its name in Keras' logs, `val_` prefixed).
PRIMARY = {"classification": "accuracy", "regression": "mean_absolute_error"}
#: The Keras metrics a model of the default spaces is compiled with, by task.
METRICS = {"classification": ["accuracy"], "regression": ["mean_absolute_error"]}
#: How printed lines name the scores.
SHORT_NAMES = {"accuracy": "accuracy", "mean_absolute_error": "MAE",
               "root_mean_squared_error": "RMSE"}


def task_of(dataset: Any) -> str:
    """The dataset's task; `"classification"` for objects without one."""
    return getattr(dataset, "task", None) or "classification"


def score(predictions: Any, y: Any, task: str) -> dict[str, float]:
    """Test scores of `predictions` (a model's outputs, one row per sample)
    against the targets `y`: `{"accuracy"}` for classification (top-1
    against class ids); `{"mean_absolute_error", "root_mean_squared_error"}`
    for regression (one output per sample, in the target's units)."""
    predictions, y = np.asarray(predictions), np.asarray(y)
    if task == "regression":
        error = predictions.reshape(len(y)).astype(np.float64) - y.astype(np.float64)
        return {"mean_absolute_error": float(np.mean(np.abs(error))),
                "root_mean_squared_error": float(np.sqrt(np.mean(error ** 2)))}
    return {"accuracy": float(np.mean(np.argmax(predictions, axis=-1) == y))}


def describe_scores(scores: Mapping[str, float]) -> str:
    """`accuracy 0.9123`, or `MAE 43.2100, RMSE 54.3200`."""
    return ", ".join(f"{SHORT_NAMES.get(name, name)} {value:.4f}"
                     for name, value in scores.items())
