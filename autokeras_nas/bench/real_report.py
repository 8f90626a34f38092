"""The times `bench real` derives from its runs' curves, and its table (numpy only).

A run's curve holds `(seconds since its search started, best validation
accuracy so far)` at the end of each of its trials.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

__all__ = ["HYPERBAND", "WITHIN", "derive", "format_real", "time_to"]

#: Accuracy within which a run counts as having reached its final best (0.5 points).
WITHIN = 0.005
#: The peer whose final best validation accuracy each run is timed against.
HYPERBAND = "kt-hyperband"


def time_to(curve: Sequence[Sequence[float]], target: float) -> float | None:
    """The first time the curve's best reaches `target`; None if it never does."""
    return next((float(t) for t, best in curve if best >= target - 1e-12), None)


def _hyperband_best(runs: Sequence[Mapping[str, Any]]) -> dict[int, float]:
    """Seed -> final best validation of the first Hyperband searcher's run."""
    labels = [r["searcher"] for r in runs if r["name"] == HYPERBAND]
    out = {}
    for run in runs:
        if labels and run["searcher"] == labels[0] and run["status"] == "ok" \
                and run.get("best_val_accuracy") is not None:
            out[int(run["seed"])] = float(run["best_val_accuracy"])
    return out


def derive(runs: list[dict[str, Any]]) -> None:
    """Sets `time_to_within_s` (to within `WITHIN` of the run's own final best
    validation) and `time_to_hyperband_s` (to the same seed's Hyperband final
    best) on every run, None where it does not apply or is never reached."""
    hyperband = _hyperband_best(runs)
    for run in runs:
        curve, best = run.get("curve") or [], run.get("best_val_accuracy")
        run["time_to_within_s"] = None if best is None else time_to(curve, best - WITHIN)
        target = hyperband.get(int(run["seed"]))
        run["time_to_hyperband_s"] = None if target is None else time_to(curve, target)


def _stats(values: Sequence[float | None], digits: int) -> str:
    known = [float(v) for v in values if v is not None]
    if not known:
        return "-"
    mean = sum(known) / len(known)
    spread = math.sqrt(sum((v - mean) ** 2 for v in known) / len(known))
    text = f"{mean:.{digits}f}±{spread:.{digits}f}"
    return text if len(known) == len(values) else f"{text} ({len(known)}/{len(values)})"


_COLUMNS = ("searcher", "runs", "trials", "best val", "test", "wall s", "t 0.5pt s",
            "t hyperband s")


def _row(label: str, runs: Sequence[Mapping[str, Any]]) -> list[str]:
    ok = [r for r in runs if r["status"] == "ok"]
    return [label, f"{len(ok)}/{len(runs)}",
            _stats([r.get("trials") for r in ok], 1),
            _stats([r.get("best_val_accuracy") for r in ok], 4),
            _stats([r.get("test_accuracy") for r in ok], 4),
            _stats([r.get("wall_s") for r in ok], 0),
            _stats([r.get("time_to_within_s") for r in ok], 0),
            _stats([r.get("time_to_hyperband_s") for r in ok], 0)]


def format_real(payload: Mapping[str, Any]) -> str:
    """The table: per searcher, mean±spread (population std) over its runs
    that finished; `(k/n)` where only k runs have the value."""
    runs = payload["runs"]
    labels = list(dict.fromkeys(r["searcher"] for r in runs))
    rows = [list(_COLUMNS)] + [_row(lb, [r for r in runs if r["searcher"] == lb])
                               for lb in labels]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS))]
    lines = [f"bench real: {payload['dataset']} ({payload['dataset_loaded']}), budget "
             f"{payload['budget_s']:.0f} s, seeds {', '.join(map(str, payload['seeds']))}"]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines += [f"failed: {r['searcher']} seed {r['seed']}: {r['error']}"
              for r in runs if r["status"] != "ok"]
    return "\n".join(lines)
