"""Plain-text leaderboard of a search, from its `results.json` (no TensorFlow).

```python
from autokeras_nas.results import read_results
print(format_leaderboard(read_results("runs/digits"), limit=10))
```
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Sequence

#: Cost columns shown after the objectives: metric (also the header) -> format.
COST_COLUMNS = {
    "epochs": "{:.0f}",
    "params": "{:.0f}",
    "latency_ms": "{:.2f}",
    "train_time_s": "{:.1f}",
}
MISSING = "-"


def format_value(value: Any) -> str:
    """A hyperparameter value, compactly: floats with 3 significant digits."""
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def format_values(values: Mapping[str, Any]) -> str:
    """`name=value` pairs separated by spaces, reserved `nas/` keys left out."""
    from autokeras_nas.core import is_reserved  # numpy: not needed for `--help`

    return " ".join(
        f"{name}={format_value(v)}" for name, v in values.items() if not is_reserved(name)
    )


def format_metric(value: Any, fmt: str = "{:.4f}") -> str:
    """A metric with `fmt`, or `-` when missing or not finite."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return MISSING
    if not math.isfinite(value):
        return MISSING
    return fmt.format(value)


def ordered_trials(results: Mapping[str, Any]) -> list[tuple[int | None, dict[str, Any]]]:
    """Trials as `(rank, trial)`, best first in `best_trial_ids` order.

    Trials missing from `best_trial_ids` (failed, running, invalid) follow in
    file order with rank `None`.
    """
    by_id = {str(t["trial_id"]): t for t in results.get("trials", [])}
    best = [str(tid) for tid in results.get("best_trial_ids", []) if str(tid) in by_id]
    ranked = [(rank, by_id[tid]) for rank, tid in enumerate(best, start=1)]
    chosen = set(best)
    rest = [(None, t) for tid, t in by_id.items() if tid not in chosen]
    return ranked + rest


def _trial_row(rank: int | None, trial: Mapping[str, Any], objectives: Sequence[str]) -> list[str]:
    metrics = dict(trial.get("metrics") or {})
    if trial.get("epochs") is not None:
        metrics.setdefault("epochs", trial["epochs"])
    rank_text = MISSING if rank is None else str(rank)
    row = [rank_text, str(trial["trial_id"]), str(trial.get("status", ""))]
    row += [format_metric(metrics.get(name)) for name in objectives]
    row += [format_metric(metrics.get(key), COST_COLUMNS[key]) for key in _costs(objectives)]
    row.append(format_values(trial.get("values") or {}))
    return row


def _costs(objectives: Iterable[str]) -> list[str]:
    """Cost columns not already shown as objectives."""
    shown = set(objectives)
    return [key for key in COST_COLUMNS if key not in shown]


def _align(rows: list[list[str]]) -> list[str]:
    """Left-aligned columns; the last column (hyperparameters) is not padded."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
    return lines


def format_leaderboard(results: Mapping[str, Any], limit: int | None = None) -> str:
    """The leaderboard table of a `results.json` document.

    Columns: rank, trial, status, one per objective, epochs, params,
    latency_ms, train_time_s, and the hyperparameter values.

    Args:
        results: The parsed `results.json` (see `autokeras_nas.results`).
        limit: Show at most this many rows (`None`: all).

    Returns:
        The table, lines joined with newlines (no trailing newline); a short
        note when there are no trials.
    """
    objectives = [o["name"] for o in results.get("objectives", [])]
    trials = ordered_trials(results)
    if limit is not None:
        trials = trials[: max(0, limit)]
    if not trials:
        return "no trials yet"
    header = ["rank", "trial", "status", *objectives, *_costs(objectives),
              "hyperparameters"]
    rows = [header] + [_trial_row(rank, trial, objectives) for rank, trial in trials]
    lines = _align(rows)
    lines.insert(1, "-" * len(lines[0]))
    return "\n".join(lines)
