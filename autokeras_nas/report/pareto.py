"""Pareto front of a search, and how well a strategy's predictors ranked."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from autokeras_nas.core import non_dominated_sort

#: (note with the prediction, metric it predicts, how to read the metric).
PREDICTIONS = (
    ("predicted_accuracy", "accuracy", lambda t, objective: t["metrics"].get(objective)),
    ("predicted_time_per_epoch", "time per epoch (s)",
     lambda t, objective: (t["metrics"].get("train_time_s") or math.nan) / max(1, t.get("epochs") or 1)),
)


def _finite(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    return float(spearmanr(a, b).correlation)


def predictor_correlations(results: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Spearman correlation of predicted against actual values, per quantity
    and per number of blocks ("all" too), over completed trials whose notes
    hold a prediction."""
    objective = results["objectives"][0]["name"]
    out: dict[str, dict[str, float]] = {}
    trials = [t for t in results["trials"] if t["status"] in ("completed", "stopped")]
    for note, label, actual in PREDICTIONS:
        pairs = [(t["notes"][note], actual(t, objective), t["notes"].get("blocks"))
                 for t in trials if note in t["notes"]]
        pairs = [p for p in pairs if p[1] is not None and math.isfinite(p[1])]
        if not pairs:
            continue
        row = {"all": _spearman(np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])),
               "n": float(len(pairs))}
        for blocks in sorted({p[2] for p in pairs if p[2] is not None}):
            sub = [p for p in pairs if p[2] == blocks]
            row[f"blocks={blocks}"] = _spearman(np.array([p[0] for p in sub]),
                                                 np.array([p[1] for p in sub]))
        out[label] = row
    return out


def pareto_plot(results: Mapping[str, Any], path: str | Path, *, x: str = "train_time_s",
                y: str | None = None, x_direction: str = "min",
                y_direction: str = "max") -> int:
    """Writes a PNG of every completed trial's (x, y) with the Pareto front
    highlighted (by default x minimised, y maximised); returns the number of
    trials on the front."""
    from autokeras_nas.report.figures import subplots

    y = y or results["objectives"][0]["name"]
    for direction in (x_direction, y_direction):
        if direction not in ("min", "max"):
            raise ValueError(f"direction must be 'min' or 'max', got {direction!r}")
    points = [(t["metrics"][x], t["metrics"][y], t["trial_id"]) for t in results["trials"]
              if t["status"] == "completed" and _finite(t["metrics"].get(x))
              and _finite(t["metrics"].get(y))]
    fig, ax = subplots(figsize=(6, 4.5), dpi=120)
    front: list[int] = []
    if points:
        xy = np.array([(p[0], p[1]) for p in points], dtype=float)
        signs = np.array([1.0 if d == "max" else -1.0 for d in (x_direction, y_direction)])
        front = sorted(non_dominated_sort(xy * signs)[0], key=lambda i: xy[i, 0])
        ax.scatter(xy[:, 0], xy[:, 1], s=14, c="0.6", label="trials")
        ax.plot(xy[front, 0], xy[front, 1], "o-", c="C3", label=f"Pareto front ({len(front)})")
        for i in front:
            ax.annotate(points[i][2], xy[i], textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set_xlabel(f"{x} ({x_direction}imised)")
    ax.set_ylabel(f"{y} ({y_direction}imised)")
    ax.set_title(f"{results.get('strategy', '')}: {y} against {x}")
    ax.grid(alpha=0.3)
    ax.legend(loc="best")
    fig.tight_layout()
    fig.savefig(path)
    return len(front)
