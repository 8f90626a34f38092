"""Leaderboard of a search, from its `results.json` (no TensorFlow): a plain
text table, and the same rows as records for JSON and CSV.

```python
from autokeras_nas.results import read_results
print(format_leaderboard(read_results("runs/digits"), limit=10))
leaderboard_records(read_results("runs/digits"))  # [{"rank": 1, "trial_id": "3", ...}, ...]
```
"""

from __future__ import annotations

import csv
import io
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
#: Cost columns that hold counts (integers in JSON and CSV).
INTEGER_COLUMNS = ("epochs", "params")


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
    phase = (trial.get("notes") or {}).get("phase")  # a one-shot search's phases
    trial_text = str(trial["trial_id"]) + (f" {phase}" if isinstance(phase, str) else "")
    row = [rank_text, trial_text, str(trial.get("status", ""))]
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

    Columns: rank, trial (with its phase in a one-shot search: supernet,
    search, retrain), status, one per objective, epochs, params,
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


def _number(value: Any) -> float | int | None:
    """A metric as a JSON number, or None when missing or not finite."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) else None


def leaderboard_records(results: Mapping[str, Any], limit: int | None = None
                        ) -> list[dict[str, Any]]:
    """The leaderboard's rows as plain records, best first (as the table).

    Each record: `rank` (None for unranked trials), `trial_id`, `status`,
    one key per objective, `epochs`, `params`, `latency_ms`,
    `train_time_s` (numbers, None when missing), `parent_id`, `message`
    (why a trial failed) and `hyperparameters` (reserved `nas/` keys left
    out).
    """
    from autokeras_nas.core import is_reserved

    objectives = [o["name"] for o in results.get("objectives", [])]
    trials = ordered_trials(results)
    if limit is not None:
        trials = trials[: max(0, limit)]
    records = []
    for rank, trial in trials:
        metrics = dict(trial.get("metrics") or {})
        if trial.get("epochs") is not None:
            metrics.setdefault("epochs", trial["epochs"])
        record: dict[str, Any] = {"rank": rank, "trial_id": str(trial["trial_id"]),
                                  "status": str(trial.get("status", ""))}
        for name in (*objectives, *_costs(objectives)):
            value = _number(metrics.get(name))
            if name in INTEGER_COLUMNS and isinstance(value, float) and value.is_integer():
                value = int(value)
            record[name] = value
        parent = trial.get("parent_id")
        record["parent_id"] = None if parent is None else str(parent)
        record["message"] = str(trial.get("message") or "")
        record["hyperparameters"] = {k: v for k, v in (trial.get("values") or {}).items()
                                     if not is_reserved(k)}
        records.append(record)
    return records


def leaderboard_csv(records: Sequence[Mapping[str, Any]]) -> str:
    """Records of `leaderboard_records` as CSV text: one column per field,
    hyperparameters as `hp.NAME` columns (the union over the rows; empty
    where a trial has none of that name)."""
    fixed = [k for k in (records[0] if records else {"rank": 0, "trial_id": 0, "status": 0})
             if k != "hyperparameters"]
    names: dict[str, None] = {}
    for record in records:
        names.update(dict.fromkeys(record.get("hyperparameters") or {}))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(fixed + [f"hp.{name}" for name in names])
    for record in records:
        hps = record.get("hyperparameters") or {}
        row = ["" if record.get(k) is None else record[k] for k in fixed]
        writer.writerow(row + ["" if hps.get(n) is None else hps[n] for n in names])
    return out.getvalue()
