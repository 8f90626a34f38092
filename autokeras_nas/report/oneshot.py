"""The one-shot view of a search (`spos`, `random-ws`, `oneshot`, `enas`,
the differentiable ones, `freedarts`): how its supernet trained, and how far
its estimates can be trusted; for `freedarts` (a supernet scored at
initialization, task "saliency"), what it derived and how that trained.

Read from results.json alone (no TensorFlow; matplotlib only to plot): the
trials' phases (`notes["phase"]`: "supernet", "search", "retrain"), the
supernet trial's per-epoch curve, and each retrained trial's notes, which
name the estimate it retrains (`estimate_trial`) and the estimated
objective (`estimate`). Estimates score an architecture with the
supernet's shared weights, so they sit below what the architecture reaches
trained alone; what matters is whether they rank architectures as
training does, hence Kendall's tau and Spearman's rho between estimated
and retrained values (from `MIN_CORRELATED` retrained architectures).

```python
from autokeras_nas.results import read_results
from autokeras_nas.report import format_oneshot, oneshot_summary
print(format_oneshot(oneshot_summary(read_results("runs/spos"))))
```
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from autokeras_nas.report.figures import subplots

__all__ = ["MIN_CORRELATED", "format_oneshot", "is_oneshot", "oneshot_plot",
           "oneshot_summary", "rank_correlations"]

#: Retrained architectures needed for a rank correlation: with two, any
#: correlation is +1 or -1 and says nothing.
MIN_CORRELATED = 3
#: Rows of the supernet's curve in the text report; a longer curve is shown
#: at evenly spaced epochs (the last always).
CURVE_ROWS = 12
_RESULTS = ("completed", "stopped")
_PHASE_SUPERNET, _PHASE_SEARCH, _PHASE_RETRAIN = "supernet", "search", "retrain"


def _finite(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _phase(trial: Mapping[str, Any]) -> str | None:
    return (trial.get("notes") or {}).get("phase")


def is_oneshot(results: Mapping[str, Any]) -> bool:
    """Whether the search has a supernet phase (a one-shot strategy ran it)."""
    return any(_phase(t) == _PHASE_SUPERNET for t in results.get("trials", []))


def rank_correlations(estimated: Any, actual: Any) -> dict[str, float]:
    """Kendall's tau (tau-b, ties counted) and Spearman's rho of two
    equally long sequences; NaN with fewer than `MIN_CORRELATED` pairs or
    when either side is constant."""
    a, b = np.asarray(estimated, dtype=float), np.asarray(actual, dtype=float)
    if len(a) != len(b):
        raise ValueError(f"estimated and actual differ in length ({len(a)} and {len(b)})")
    if len(a) < MIN_CORRELATED or np.ptp(a) == 0 or np.ptp(b) == 0:
        return {"kendall_tau": math.nan, "spearman": math.nan}
    from scipy.stats import kendalltau, spearmanr

    return {"kendall_tau": float(kendalltau(a, b).statistic),
            "spearman": float(spearmanr(a, b).statistic)}


def _supernet(trial: Mapping[str, Any]) -> dict[str, Any]:
    outputs = trial.get("outputs") or {}
    metrics = trial.get("metrics") or {}
    return {"trial_id": str(trial["trial_id"]), "task": trial.get("task"),
            "status": trial.get("status"), "mode": outputs.get("mode"),
            "conditional": outputs.get("conditional"),
            "epochs": int(metrics.get("epochs") or len(trial.get("curve") or [])),
            "train_time_s": metrics.get("train_time_s"), "seconds": trial.get("seconds"),
            "curve": [dict(point) for point in trial.get("curve") or []],
            "message": trial.get("message") or ""}


def _retrained(trials: list[Mapping[str, Any]], objective: str) -> list[dict[str, Any]]:
    """Each retrained trial with a result: its estimate and its own value."""
    by_id = {str(t["trial_id"]): t for t in trials}
    rows = []
    for trial in trials:
        notes = trial.get("notes") or {}
        if _phase(trial) != _PHASE_RETRAIN or trial.get("status") not in _RESULTS:
            continue
        value = (trial.get("metrics") or {}).get(objective)
        source = notes.get("estimate_trial")
        estimate = (notes.get("estimate") or {}).get(objective)
        if not _finite(estimate) and source is not None and str(source) in by_id:
            estimate = (by_id[str(source)].get("metrics") or {}).get(objective)
        if _finite(value) and _finite(estimate):
            rows.append({"trial_id": str(trial["trial_id"]),
                         "estimate_trial": None if source is None else str(source),
                         "estimated": float(estimate), "retrained": float(value),
                         "values": dict(trial.get("values") or {})})
    return rows


def _saliency(trial: Mapping[str, Any]) -> dict[str, Any] | None:
    """What a "saliency" trial (FreeDARTS) found; None for other tasks."""
    if trial.get("task") != "saliency":
        return None
    outputs, metrics = trial.get("outputs") or {}, trial.get("metrics") or {}
    archs = outputs.get("architectures")
    derived = archs[0] if isinstance(archs, list) and archs and isinstance(archs[0], Mapping) \
        else {}
    share = outputs.get("parameter_free_share")
    return {"seconds": metrics.get("saliency_time_s"), "rounds": outputs.get("rounds"),
            "derived": dict(derived), "parameter_free_share": share if _finite(share) else None}


def _derived_retrains(trials: list[Mapping[str, Any]], objective: str) -> list[dict[str, Any]]:
    """The retrains of architectures a supernet trial derived (no estimate)."""
    rows = []
    for trial in trials:
        notes = trial.get("notes") or {}
        value = (trial.get("metrics") or {}).get(objective)
        if (_phase(trial) == _PHASE_RETRAIN and "derived_by" in notes
                and trial.get("status") in _RESULTS and _finite(value)):
            rows.append({"trial_id": str(trial["trial_id"]), "rank": notes.get("rank"),
                         "retrained": float(value), "values": dict(trial.get("values") or {})})
    return rows


def _format_saliency(summary: Mapping[str, Any]) -> str:
    supernet, saliency, objective = summary["supernet"], summary["saliency"], \
        summary["objective"]
    rounds = saliency["rounds"]
    lines = [f"saliency: trial {supernet['trial_id']}, {supernet['status']}: every operation "
             f"scored at initialization, no training ({_number(saliency['seconds'], 2)} s"
             + (f", {rounds} rounds of pruning)" if isinstance(rounds, int) else ")")]
    if supernet["message"]:
        lines.append(f"  {supernet['message']}")
    if saliency["derived"]:
        share = saliency["parameter_free_share"]
        lines.append(f"  derived: {_architecture(saliency['derived'])}"
                     + ("" if share is None else f" ({share:.0%} parameter-free)"))
    rows = summary["derived_retrains"]
    if not rows:
        lines.append("retrain: no retrained architecture has a result")
        return "\n".join(lines)
    lines.append(f"retrain: {objective} of the derived architectures trained from scratch")
    lines.append("  trial   rank  " + objective.ljust(10) + "  architecture")
    for row in rows:
        lines.append(f"  {row['trial_id'].ljust(6)}  {str(row['rank']).ljust(4)}  "
                     f"{_number(row['retrained']).ljust(10)}  {_architecture(row['values'])}")
    return "\n".join(lines)


def oneshot_summary(results: Mapping[str, Any]) -> dict[str, Any] | None:
    """The one-shot view of a search, or None when it has no supernet phase.

    Returns:
        `objective` (the first objective's name), `supernet` (the supernet
        trial: `trial_id`, `task`, `status`, `mode`, `conditional`,
        `epochs`, `train_time_s`, `seconds`, `curve`, `message`),
        `estimates` (number of estimate trials with a result) and their
        `estimate_range` (lowest, highest objective; None without any),
        `estimate_seconds`, `retrained` (rows: `trial_id`,
        `estimate_trial`, `estimated`, `retrained`, `values`), and
        `kendall_tau`, `spearman` over the retrained rows (NaN below
        `MIN_CORRELATED`); `saliency` (a "saliency" supernet trial:
        `seconds`, `rounds`, `derived`, `parameter_free_share`; else None)
        and `derived_retrains` (the retrains of architectures the supernet
        trial derived: `trial_id`, `rank`, `retrained`, `values`).
    """
    trials = list(results.get("trials", []))
    supernets = [t for t in trials if _phase(t) == _PHASE_SUPERNET]
    if not supernets:
        return None
    objective = results["objectives"][0]["name"]
    estimates = [t for t in trials if _phase(t) == _PHASE_SEARCH]
    scored = [float(t["metrics"][objective]) for t in estimates
              if t.get("status") in _RESULTS and _finite((t.get("metrics") or {}).get(objective))]
    rows = _retrained(trials, objective)
    correlations = rank_correlations([r["estimated"] for r in rows],
                                     [r["retrained"] for r in rows])
    return {"objective": objective, "supernet": _supernet(supernets[-1]),
            "saliency": _saliency(supernets[-1]),
            "derived_retrains": _derived_retrains(trials, objective),
            "estimates": len(scored),
            "estimate_range": (min(scored), max(scored)) if scored else None,
            "estimate_seconds": float(sum(float(t.get("seconds") or 0.0) for t in estimates)),
            "retrained": rows, **correlations}


def _number(value: Any, digits: int = 4) -> str:
    return f"{value:.{digits}f}" if _finite(value) else "-"


def _curve_lines(curve: list[Mapping[str, Any]]) -> list[str]:
    if not curve:
        return ["  (no epoch finished)"]
    names = [n for n in ("loss", "accuracy", "val_loss", "val_accuracy",
                         "controller_reward", "controller_entropy")
             if any(n in point for point in curve)]
    step = max(1, math.ceil(len(curve) / CURVE_ROWS))
    shown = [p for i, p in enumerate(curve) if i % step == 0 or i == len(curve) - 1]
    widths = [max(len(n), 8) for n in names]
    lines = ["  epoch  " + "  ".join(n.ljust(w) for n, w in zip(names, widths))]
    for point in shown:
        cells = [_number(point.get(n)).ljust(w) for n, w in zip(names, widths)]
        lines.append(f"  {int(point.get('epoch', 0)):<5}  " + "  ".join(cells).rstrip())
    return lines


def _architecture(values: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in values.items() if not str(k).startswith("nas/"))


def format_oneshot(summary: Mapping[str, Any] | None) -> str:
    """The one-shot view as text (empty for None): the supernet's training
    curve, the estimates, and estimated against retrained values with the
    rank correlations."""
    if summary is None:
        return ""
    if summary.get("saliency") is not None:
        return _format_saliency(summary)
    supernet, objective = summary["supernet"], summary["objective"]
    mode = {"single": "one path per batch", "all": "all paths, path dropout"}.get(
        supernet["mode"], supernet["mode"] or "mode not recorded")
    if supernet.get("conditional"):
        mode += ", conditional weights"
    lines = [f"supernet: trial {supernet['trial_id']} ({supernet['task']}, {mode}), "
             f"{supernet['status']}, {supernet['epochs']} epochs in "
             f"{_number(supernet['train_time_s'], 1)} s of training"]
    if supernet["message"]:
        lines.append(f"  {supernet['message']}")
    lines += _curve_lines(supernet["curve"])
    low_high = summary["estimate_range"]
    span = "" if low_high is None else \
        f", {objective} {_number(low_high[0])} to {_number(low_high[1])}"
    lines.append(f"search: {summary['estimates']} architectures estimated with the "
                 f"supernet's weights{span} ({_number(summary['estimate_seconds'], 1)} s)")
    rows = summary["retrained"]
    if not rows:
        lines.append("retrain: no retrained architecture has a result")
        return "\n".join(lines)
    lines.append(f"retrain: estimated against retrained {objective}")
    header = ("trial", "estimate", "estimated", "retrained", "architecture")
    lines.append("  " + "  ".join(h.ljust(w) for h, w in zip(header, (6, 9, 10, 10, 0))).rstrip())
    for row in rows:
        lines.append("  " + "  ".join([
            row["trial_id"].ljust(6), str(row["estimate_trial"] or "-").ljust(9),
            _number(row["estimated"]).ljust(10), _number(row["retrained"]).ljust(10),
            _architecture(row["values"])]).rstrip())
    if len(rows) < MIN_CORRELATED:
        lines.append(f"rank correlation: needs at least {MIN_CORRELATED} retrained "
                     f"architectures ({len(rows)} here)")
    else:
        lines.append(f"rank correlation over {len(rows)} retrained architectures: Kendall tau "
                     f"{_number(summary['kendall_tau'], 2)}, Spearman "
                     f"{_number(summary['spearman'], 2)}")
    return "\n".join(lines)


def oneshot_plot(results: Mapping[str, Any], path: str | Path) -> int:
    """Writes a PNG of the one-shot view: the supernet's per-epoch training
    and validation objective (left), estimated against retrained objective
    of the retrained architectures with Kendall's tau and Spearman's rho
    (right). Returns the number of retrained architectures plotted.

    Raises:
        ValueError: the search has no supernet phase.
    """
    summary = oneshot_summary(results)
    if summary is None:
        raise ValueError("not a one-shot search: no trial of the supernet phase")
    objective, supernet = summary["objective"], summary["supernet"]
    fig, (left, right) = subplots(1, 2, figsize=(11, 4.2), dpi=110)
    curve = supernet["curve"]
    train_name = objective[4:] if objective.startswith("val_") else objective
    for name in dict.fromkeys((train_name, objective)):
        points = [(p["epoch"], p[name]) for p in curve if _finite(p.get(name))]
        if points:
            xy = np.array(points, dtype=float)
            left.plot(xy[:, 0], xy[:, 1], "-o", ms=3, label=name)
    from matplotlib.ticker import MaxNLocator

    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_xlabel("supernet epoch")
    left.set_ylabel(objective)
    left.set_title(f"supernet (trial {supernet['trial_id']}, {supernet['mode'] or '?'})")
    left.grid(alpha=0.3)
    if left.get_legend_handles_labels()[0]:
        left.legend(loc="best", fontsize=8)
    rows = summary["retrained"]
    if rows:
        xy = np.array([(r["estimated"], r["retrained"]) for r in rows], dtype=float)
        right.scatter(xy[:, 0], xy[:, 1], s=28, c="C3", zorder=3)
        for row, (x, y) in zip(rows, xy):
            right.annotate(row["trial_id"], (x, y), textcoords="offset points", xytext=(4, 4),
                           fontsize=7)
    tau, rho = summary["kendall_tau"], summary["spearman"]
    stats = (f"tau {_number(tau, 2)}, rho {_number(rho, 2)}" if _finite(tau)
             else f"n={len(rows)} < {MIN_CORRELATED}: no rank correlation")
    right.set_title(f"estimated vs retrained ({stats})")
    right.set_xlabel(f"estimated {objective} (supernet weights)")
    right.set_ylabel(f"retrained {objective}")
    right.grid(alpha=0.3)
    fig.suptitle(f"{results.get('strategy', '')}: one-shot search")
    fig.tight_layout()
    fig.savefig(path)
    return len(rows)


def probability_history(results: Mapping[str, Any]) -> dict[str, Any] | None:
    """The operation probabilities a supernet trial recorded after each
    epoch (ENAS's controller, a differentiable search's architecture
    parameters: `outputs["probabilities_by_epoch"]`) and the architecture it
    derived (`outputs["architectures"][0]`), or None when no supernet
    trial holds them.

    Returns:
        `{"trial_id", "epochs": [1, 2, ...], "choices": {choice: {candidate:
        [p after each epoch]}}, "derived": {choice: candidate} or {},
        "parameter_free_share": float or None}`.
    """
    for trial in results.get("trials", []):
        outputs = trial.get("outputs") or {}
        steps = outputs.get("probabilities_by_epoch")
        if _phase(trial) != "supernet" or not isinstance(steps, list) or not steps:
            continue
        epochs = [int(step.get("epoch", i + 1)) for i, step in enumerate(steps)]
        choices: dict[str, dict[str, list[float]]] = {}
        for step in steps:
            for choice, dist in (step.get("probabilities") or {}).items():
                for candidate in dist:
                    choices.setdefault(str(choice), {}).setdefault(str(candidate), [])
        for step in steps:
            for choice, dist in choices.items():
                given = (step.get("probabilities") or {}).get(choice) or {}
                for candidate, values in dist.items():
                    p = given.get(candidate)
                    values.append(float(p) if _finite(p) else float("nan"))
        archs = outputs.get("architectures")
        derived = archs[0] if isinstance(archs, list) and archs and isinstance(
            archs[0], Mapping) else {}
        share = outputs.get("parameter_free_share")
        return {"trial_id": str(trial["trial_id"]), "epochs": epochs, "choices": choices,
                "derived": dict(derived), "parameter_free_share":
                    float(share) if _finite(share) else None}
    return None


def probabilities_plot(results: Mapping[str, Any], path: str | Path) -> int:
    """Writes a PNG of `probability_history`: one panel per choice (edge),
    one line per operation, its probability after each supernet epoch; the
    derived operation's line is drawn thick and named in the panel's title.
    Returns the number of choices drawn.

    Raises:
        ValueError: no supernet trial recorded probabilities.
    """
    history = probability_history(results)
    if history is None:
        raise ValueError("no supernet trial recorded operation probabilities by epoch")
    names = list(history["choices"])
    cols = min(3, len(names))
    rows = math.ceil(len(names) / cols)
    fig, axes = subplots(rows, cols, figsize=(4.2 * cols, 2.9 * rows), dpi=110, squeeze=False)
    derived = history["derived"]
    for ax, name in zip(axes.flat, names):
        for candidate, values in history["choices"][name].items():
            chosen = derived.get(name) == candidate
            ax.plot(history["epochs"], values, "-o", ms=2, lw=2.6 if chosen else 1.2,
                    label=candidate + (" (derived)" if chosen else ""))
        ax.set_title(name + (f" -> {derived[name]}" if name in derived else ""), fontsize=9)
        ax.set_ylim(0, 1)
        ax.set_xlabel("supernet epoch", fontsize=8)
        ax.set_ylabel("probability", fontsize=8)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="best")
    for ax in list(axes.flat)[len(names):]:
        ax.set_visible(False)
    share = history["parameter_free_share"]
    extra = "" if share is None else f"; derived cell {share:.0%} parameter-free"
    fig.suptitle(f"{results.get('strategy', '')}: operation probabilities "
                 f"(trial {history['trial_id']}){extra}")
    fig.tight_layout()
    fig.savefig(path)
    return len(names)
