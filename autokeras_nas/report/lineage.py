"""The lineage of a search's trials (parent chains from `parent_id`) and its
plot: a tree of every trial, coloured by the first objective, with the
winner's chain of ancestors highlighted and, beside it, what each step of
that chain did (for `nash` the morphisms, from the trials' notes).

No TensorFlow; matplotlib only when plotting.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any, Mapping

#: Statuses whose metrics are measured results.
_RESULTS = ("completed", "stopped")


def parents(results: Mapping[str, Any]) -> dict[str, str | None]:
    """Trial id -> parent trial id, for every trial (None for a root or a
    parent missing from the file)."""
    ids = {str(t["trial_id"]) for t in results.get("trials", [])}
    out: dict[str, str | None] = {}
    for t in results.get("trials", []):
        parent = t.get("parent_id")
        out[str(t["trial_id"])] = str(parent) if parent is not None and str(parent) in ids else None
    return out


def has_lineage(results: Mapping[str, Any]) -> bool:
    """Whether any trial names a parent found in the results."""
    return any(p is not None for p in parents(results).values())


def chain(results: Mapping[str, Any], trial_id: str) -> list[str]:
    """Ids from the root ancestor down to `trial_id` (just `[trial_id]` without
    parents). A cycle in corrupted data is cut where it closes."""
    up = parents(results)
    path, seen = [str(trial_id)], {str(trial_id)}
    while (parent := up.get(path[-1])) is not None and parent not in seen:
        path.append(parent)
        seen.add(parent)
    return path[::-1]


def tree_layout(up: Mapping[str, str | None]) -> dict[str, tuple[float, float]]:
    """Positions of a forest: x is the depth (generations from the root), y
    a leaf slot in depth-first order (children in file order), a parent
    centred on its children."""
    children: dict[str | None, list[str]] = {}
    for tid, parent in up.items():
        children.setdefault(parent, []).append(tid)
    pos: dict[str, tuple[float, float]] = {}
    entered: set[str] = set()
    next_leaf = [0.0]

    def place(root: str) -> None:
        # Iterative post-order: (node, depth, children placed yet?); each
        # node is entered once, so a cycle in corrupted data ends.
        stack: list[tuple[str, int, bool]] = [(root, 0, False)]
        entered.add(root)
        while stack:
            node, depth, done = stack.pop()
            if not done:
                kids = [k for k in children.get(node, []) if k not in entered]
                entered.update(kids)
                stack.append((node, depth, True))
                stack.extend((k, depth + 1, False) for k in reversed(kids))
                continue
            placed = [pos[k][1] for k in children.get(node, []) if k in pos]
            if placed:
                y = (min(placed) + max(placed)) / 2
            else:
                y, next_leaf[0] = next_leaf[0], next_leaf[0] + 1
            pos[node] = (float(depth), y)

    for root in children.get(None, []):
        place(root)
    for tid in up:  # nodes only reachable through a cycle
        if tid not in entered:
            place(tid)
    return pos


def step_label(trial: Mapping[str, Any]) -> str:
    """What made this trial from its parent, in words (from its notes)."""
    notes = trial.get("notes") or {}
    origin = notes.get("origin")
    morphisms = notes.get("morphisms")
    if origin == "final":
        return "final training"
    if morphisms:
        return "; ".join(str(m) for m in morphisms)
    if morphisms == [] and trial.get("parent_id") is not None:
        return "trained further"
    return str(origin or ("child" if trial.get("parent_id") is not None else "root"))


def _value(trial: Mapping[str, Any], objective: str) -> float:
    value = (trial.get("metrics") or {}).get(objective)
    ok = trial.get("status") in _RESULTS and isinstance(value, (int, float)) and math.isfinite(value)
    return float(value) if ok else math.nan


def _path_text(trials: Mapping[str, Mapping[str, Any]], path: list[str], objective: str) -> str:
    lines = []
    for i, tid in enumerate(path):
        value = _value(trials[tid], objective)
        head = f"trial {tid}" if i == 0 else f"-> trial {tid}"
        lines.append(f"{head}  {objective} {value:.4f}")
        what = "start" if i == 0 else step_label(trials[tid])
        lines.extend("     " + w for w in textwrap.wrap(what, 44) or [""])
    return "\n".join(lines)


def lineage_plot(results: Mapping[str, Any], path: str | Path, *,
                 trial_id: str | None = None) -> list[str]:
    """Writes a PNG of the trials' family tree (x: generation), nodes coloured
    by the first objective (failed ones grey crosses), the chain of the
    winner (`trial_id`, default the best trial) drawn in red and described,
    step by step, in a panel on the right.

    Returns:
        The highlighted chain of trial ids, root first (empty without trials).
    """
    from matplotlib.ticker import MaxNLocator

    from autokeras_nas.report.figures import subplots

    trials = {str(t["trial_id"]): t for t in results.get("trials", [])}
    objective = results["objectives"][0]
    name = objective["name"]
    best = [str(b) for b in results.get("best_trial_ids", []) if str(b) in trials]
    winner = str(trial_id) if trial_id is not None else (best[0] if best else None)
    highlight = chain(results, winner) if winner in trials else []
    up = parents(results)
    pos = tree_layout(up)
    leaves = max([y for _, y in pos.values()] + [0.0]) + 1
    fig, (ax, side) = subplots(1, 2, figsize=(11, max(4.0, 0.32 * leaves + 1.5)), dpi=110,
                               gridspec_kw={"width_ratios": [2.2, 1.3]})
    for tid, parent in up.items():
        if parent is not None:
            on_path = tid in highlight and parent in highlight
            (x0, y0), (x1, y1) = pos[parent], pos[tid]
            ax.plot([x0, x1], [y0, y1], c="C3" if on_path else "0.75", lw=2.5 if on_path else 1,
                    zorder=1)
    ids = list(trials)
    values = [_value(trials[t], name) for t in ids]
    good = [i for i, v in enumerate(values) if not math.isnan(v)]
    cmap = "viridis" if objective.get("direction", "max") == "max" else "viridis_r"
    if good:
        points = ax.scatter([pos[ids[i]][0] for i in good], [pos[ids[i]][1] for i in good],
                            c=[values[i] for i in good], cmap=cmap, s=70, zorder=2,
                            edgecolors=["C3" if ids[i] in highlight else "k" for i in good],
                            linewidths=[2.0 if ids[i] in highlight else 0.5 for i in good])
        fig.colorbar(points, ax=ax, label=name, fraction=0.05)
    bad = [i for i, v in enumerate(values) if math.isnan(v)]
    if bad:
        ax.scatter([pos[ids[i]][0] for i in bad], [pos[ids[i]][1] for i in bad], marker="x",
                   c="0.5", s=40, zorder=2, label="failed / no result")
        ax.legend(loc="best", fontsize=8)
    if len(ids) <= 80:
        for tid in ids:
            ax.annotate(tid, pos[tid], textcoords="offset points", xytext=(6, 4), fontsize=7)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("generation (ancestors)")
    ax.set_yticks([])
    ax.invert_yaxis()
    ax.grid(alpha=0.3, axis="x")
    ax.set_title(f"{results.get('strategy', '')}: lineage of trial {winner} (red)")
    side.axis("off")
    if highlight:
        side.text(0, 1, _path_text(trials, highlight, name), va="top", ha="left",
                  family="monospace", fontsize=7, transform=side.transAxes)
    fig.tight_layout()
    fig.savefig(path)
    return highlight
