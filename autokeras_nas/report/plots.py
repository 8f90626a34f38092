"""PNG plots of a search from its `results.json` (matplotlib figures drawn
without pyplot, so a notebook's backend is left alone; no TensorFlow): the
search trajectory (best objective so far against trial number and against
cumulative training time) and, for strategies that make
predictions (`popnas`, `pnas`), predicted against actual values.

`write_plots` chooses the plots a search calls for and writes them into a
folder; `autokeras-nas report` calls it.

```python
from autokeras_nas.results import read_results
from autokeras_nas.report import write_plots
write_plots(read_results("runs/digits"), "runs/digits")   # -> [Path(...), ...]
```
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from autokeras_nas.report.figures import subplots
from autokeras_nas.report.lineage import has_lineage, lineage_plot
from autokeras_nas.report.oneshot import (
    is_oneshot,
    oneshot_plot,
    probabilities_plot,
    probability_history,
)
from autokeras_nas.report.pareto import PREDICTIONS, pareto_plot, predictor_correlations

#: Trial statuses whose metrics are measured results (early-stopped included).
RESULT_STATUSES = ("completed", "stopped")
#: File names written by `write_plots`.
PROGRESS_PNG = "progress.png"
PARETO_PNG = "pareto.png"
LINEAGE_PNG = "lineage.png"
PREDICTIONS_PNG = "predictions.png"
ONESHOT_PNG = "oneshot.png"
PROBABILITIES_PNG = "probabilities.png"


def finite(value: Any) -> bool:
    """Whether `value` is a real, finite number (not a bool, not None)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def best_so_far(values: Sequence[float], direction: str) -> np.ndarray:
    """Running best of `values` (NaN = no result) for a "min" or "max" objective.

    Entries before the first finite value stay NaN.
    """
    if direction not in ("min", "max"):
        raise ValueError(f"direction must be 'min' or 'max', got {direction!r}")
    sign = 1.0 if direction == "max" else -1.0
    out = np.full(len(values), math.nan)
    best = -math.inf
    for i, value in enumerate(values):
        if finite(value) and sign * value > best:
            best = sign * value
        if best > -math.inf:
            out[i] = sign * best
    return out


def trajectory(results: Mapping[str, Any], objective: str) -> dict[str, np.ndarray]:
    """The search's trajectory for one objective, trials in file (creation) order.

    Returns:
        `number` (1-based trial number), `value` (the trial's objective, NaN
        for failed or unfinished trials), `cumulative_time` (sum of
        `train_time_s` up to and including each trial).
    """
    trials = results.get("trials", [])
    values, times = [], []
    for t in trials:
        metrics = t.get("metrics") or {}
        value = metrics.get(objective)
        ok = t.get("status") in RESULT_STATUSES and finite(value)
        values.append(float(value) if ok else math.nan)
        spent = metrics.get("train_time_s")
        times.append(float(spent) if finite(spent) else 0.0)
    return {"number": np.arange(1, len(trials) + 1, dtype=float),
            "value": np.array(values, dtype=float),
            "cumulative_time": np.cumsum(np.array(times, dtype=float))}


def progress_plot(results: Mapping[str, Any], path: str | Path) -> dict[str, float]:
    """Writes a PNG of each objective's best value so far (a row per objective)
    against the trial number (left) and against the cumulative training
    time in seconds (right); every trial's own value is a grey dot.

    Returns:
        The final best value of each objective (NaN when none was measured).
    """
    from matplotlib.ticker import MaxNLocator

    objectives = list(results.get("objectives") or [])[:3]
    fig, axes = subplots(len(objectives), 2, figsize=(10, 3.4 * len(objectives)),
                         dpi=110, squeeze=False)
    finals: dict[str, float] = {}
    for row, objective in zip(axes, objectives):
        name, direction = objective["name"], objective.get("direction", "max")
        data = trajectory(results, name)
        best = best_so_far(data["value"], direction)
        finals[name] = float(best[-1]) if len(best) else math.nan
        for ax, x, label in ((row[0], data["number"], "trial number"),
                             (row[1], data["cumulative_time"], "cumulative training time (s)")):
            ax.scatter(x, data["value"], s=14, c="0.6", label="trial", zorder=2)
            ax.step(x, best, where="post", c="C0", lw=2, label=f"best so far ({direction})",
                    zorder=3)
            ax.set_xlabel(label)
            ax.set_ylabel(name)
            ax.grid(alpha=0.3)
            ax.legend(loc="best", fontsize=8)
        row[0].xaxis.set_major_locator(MaxNLocator(integer=True))
        row[0].set_title(f"{results.get('strategy', '')}: best {name} so far "
                         f"({finals[name]:.4g})")
    fig.tight_layout()
    fig.savefig(path)
    return finals


def prediction_points(results: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Per predicted quantity (as in `predictor_correlations`), the trials with
    a result whose notes hold the prediction: `{"trial_id", "predicted",
    "actual", "blocks"}` each. A trial missing what its actual value is read
    from is left out."""
    objectives = results.get("objectives") or []
    if not objectives:
        return {}
    objective = objectives[0]["name"]
    out: dict[str, list[dict[str, Any]]] = {}
    for note, label, actual in PREDICTIONS:
        points = []
        for t in results.get("trials", []):
            notes = t.get("notes") or {}
            if t.get("status") not in RESULT_STATUSES or not finite(notes.get(note)):
                continue
            try:
                value = actual(t, objective)
            except (KeyError, TypeError):
                continue
            if finite(value):
                points.append({"trial_id": str(t.get("trial_id")), "predicted": float(notes[note]),
                               "actual": float(value), "blocks": notes.get("blocks")})
        if points:
            out[label] = points
    return out


def prediction_pairs(results: Mapping[str, Any]) -> dict[str, list[tuple[float, float, Any]]]:
    """(predicted, actual, blocks) per predicted quantity (`prediction_points`)."""
    return {label: [(p["predicted"], p["actual"], p["blocks"]) for p in points]
            for label, points in prediction_points(results).items()}


def predictions_plot(results: Mapping[str, Any], path: str | Path) -> int:
    """Writes a PNG of predicted against actual values (accuracy; time per
    epoch when predicted), coloured by the cell's number of blocks, with the
    identity line and Spearman's rho in the title. Returns the number of
    points plotted."""
    pairs = prediction_pairs(results)
    rhos = predictor_correlations(results)
    fig, axes = subplots(1, max(1, len(pairs)), figsize=(5.2 * max(1, len(pairs)), 4.6),
                         dpi=110, squeeze=False)
    for ax, (label, points) in zip(axes[0], pairs.items()):
        blocks = sorted({p[2] for p in points}, key=lambda b: (b is None, b))
        for i, b in enumerate(blocks):
            sub = np.array([(p[0], p[1]) for p in points if p[2] == b])
            ax.scatter(sub[:, 0], sub[:, 1], s=22, c=f"C{i}",
                       label="trials" if b is None else f"{b} block{'s' * (b != 1)}")
        xy = np.array([(p[0], p[1]) for p in points])
        low, high = float(xy.min()), float(xy.max())
        pad = 0.05 * (high - low or 1.0)
        ax.plot([low - pad, high + pad], [low - pad, high + pad], "--", c="0.5", lw=1,
                label="predicted = actual")
        rho = rhos.get(label, {}).get("all", math.nan)
        rho_text = "n/a" if not finite(rho) else f"{rho:.2f}"
        ax.set_title(f"{label}: Spearman rho {rho_text} (n={len(points)})")
        ax.set_xlabel(f"predicted {label}")
        ax.set_ylabel(f"actual {label}")
        ax.grid(alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    fig.suptitle(f"{results.get('strategy', '')}: predictors against measured results")
    fig.tight_layout()
    fig.savefig(path)
    return sum(len(p) for p in pairs.values())


def pareto_axes(results: Mapping[str, Any]) -> dict[str, Any] | None:
    """Keyword arguments of `pareto_plot` for the search, or None when it has
    no front: its first two objectives (the first up the y axis) for a
    multi-objective search, else objective against training time for
    `popnas`/`pnas`."""
    objectives = list(results.get("objectives") or [])
    if len(objectives) > 1:
        (y, x) = objectives[:2]
        return {"x": x["name"], "y": y["name"], "x_direction": x.get("direction", "min"),
                "y_direction": y.get("direction", "max")}
    if results.get("strategy") in ("popnas", "pnas"):
        return {"x": "train_time_s", "y": objectives[0]["name"], "x_direction": "min",
                "y_direction": objectives[0].get("direction", "max")}
    return None


def write_plots(results: Mapping[str, Any], directory: str | Path) -> list[Path]:
    """Writes the plots a search calls for into `directory` (created if needed).

    Always `progress.png` (best so far); `pareto.png` for a multi-objective
    search (first objective up the y axis, second along x) and for
    `popnas`/`pnas` (objective against training time); `lineage.png` when
    trials have parents (e.g. `nash`); `predictions.png` when the notes
    hold predictions (`popnas`, `pnas`); `oneshot.png` for a one-shot
    search (the supernet's curve, estimated against retrained);
    `probabilities.png` when its supernet recorded operation probabilities
    by epoch (`enas` and the differentiable searches).

    Returns:
        The paths written, in that order.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    progress_plot(results, directory / PROGRESS_PNG)
    written.append(directory / PROGRESS_PNG)
    axes = pareto_axes(results)
    if axes is not None:
        pareto_plot(results, directory / PARETO_PNG, **axes)
        written.append(directory / PARETO_PNG)
    if has_lineage(results):
        lineage_plot(results, directory / LINEAGE_PNG)
        written.append(directory / LINEAGE_PNG)
    if prediction_pairs(results):
        predictions_plot(results, directory / PREDICTIONS_PNG)
        written.append(directory / PREDICTIONS_PNG)
    if is_oneshot(results):
        oneshot_plot(results, directory / ONESHOT_PNG)
        written.append(directory / ONESHOT_PNG)
    if probability_history(results) is not None:
        probabilities_plot(results, directory / PROBABILITIES_PNG)
        written.append(directory / PROBABILITIES_PNG)
    return written
