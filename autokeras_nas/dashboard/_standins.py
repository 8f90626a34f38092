"""Minimal stand-ins for `autokeras_nas.report.analysis` until it lands:
same names and return shapes, simple computations. `data` imports the real
module when it exists."""

from __future__ import annotations

import json
import math
import random
from typing import Any, Mapping

_RESULTS = ("completed", "stopped")


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _objective(results: Mapping[str, Any], objective: str | None) -> tuple[str, str]:
    objs = results.get("objectives") or [{"name": "score", "direction": "max"}]
    for o in objs:
        if objective is None or o["name"] == objective:
            return o["name"], o.get("direction", "max")
    return objective or objs[0]["name"], "max"


def _done(results: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    return [t for t in results.get("trials", []) if t.get("status") in _RESULTS
            and _finite((t.get("metrics") or {}).get(name))]


def _params(trials: list[Mapping[str, Any]]) -> list[str]:
    names: dict[str, None] = {}
    for t in trials:
        for k in t.get("values") or {}:
            names.setdefault(k)
    return list(names)


def _code(values: list[Any]) -> tuple[list[float], list[Any]]:
    numeric = all(_finite(v) for v in values if v is not None)
    if numeric:
        return [float(v) if v is not None else math.nan for v in values], []
    cats = sorted({json.dumps(v) for v in values})
    return [float(cats.index(json.dumps(v))) for v in values], [json.loads(c) for c in cats]


def importance(results, objective=None, *, seed=0, max_rows=2000):
    name, _ = _objective(results, objective)
    trials = _done(results, name)[:max_rows]
    y = [t["metrics"][name] for t in trials]
    out = []
    for p in _params(trials):
        x, _ = _code([(t.get("values") or {}).get(p) for t in trials])
        pairs = [(a, b) for a, b in zip(x, y) if math.isfinite(a)]
        if len(pairs) < 3:
            continue
        mx = sum(a for a, _ in pairs) / len(pairs)
        my = sum(b for _, b in pairs) / len(pairs)
        sxy = sum((a - mx) * (b - my) for a, b in pairs)
        sxx = sum((a - mx) ** 2 for a, _ in pairs)
        syy = sum((b - my) ** 2 for _, b in pairs)
        out.append({"param": p, "importance": abs(sxy) / math.sqrt(sxx * syy) if sxx and syy else 0.0})
    total = sum(r["importance"] for r in out) or 1.0
    return sorted(({"param": r["param"], "importance": r["importance"] / total} for r in out),
                  key=lambda r: -r["importance"])


def embedding(results, *, seed=0):
    name, _ = _objective(results, None)
    trials = [t for t in results.get("trials", []) if t.get("values")]
    params = _params(trials)
    rng = random.Random(seed)
    w = {p: (rng.gauss(0, 1), rng.gauss(0, 1)) for p in params}
    codes = {p: _code([(t.get("values") or {}).get(p) for t in trials])[0] for p in params}
    out = []
    for i, t in enumerate(trials):
        x = y = 0.0
        for p in params:
            c = codes[p][i]
            c = 0.0 if not math.isfinite(c) else c
            x += w[p][0] * c
            y += w[p][1] * c
        m = t.get("metrics") or {}
        out.append({"trial_id": str(t["trial_id"]), "x": x, "y": y,
                    "value": m.get(name) if _finite(m.get(name)) else None,
                    "cost": m.get("params") if _finite(m.get("params")) else None})
    return out


def operation_summary(results, objective=None):
    name, direction = _objective(results, objective)
    pick = max if direction == "max" else min
    groups: dict[tuple[str, str], list[float]] = {}
    for t in _done(results, name):
        for p, v in (t.get("values") or {}).items():
            if isinstance(v, str):
                groups.setdefault((p, v), []).append(t["metrics"][name])
                groups.setdefault(("*", v), []).append(t["metrics"][name])
    return [{"param": p, "value": v, "count": len(xs), "mean": sum(xs) / len(xs), "best": pick(xs)}
            for (p, v), xs in sorted(groups.items())]


def parallel_coordinates(results, objective=None):
    name, _ = _objective(results, objective)
    trials = _done(results, name)
    dims = []
    for p in _params(trials):
        vals, cats = _code([(t.get("values") or {}).get(p) for t in trials])
        dim = {"label": p, "values": [v if math.isfinite(v) else None for v in vals]}
        if cats:
            dim["tickvals"] = list(range(len(cats)))
            dim["ticktext"] = [str(c) for c in cats]
        dims.append(dim)
    return {"dimensions": dims,
            "objective": {"label": name, "values": [t["metrics"][name] for t in trials]}}


def metric_names(results):
    names: dict[str, None] = {}
    for t in results.get("trials", []):
        for k, v in (t.get("metrics") or {}).items():
            if _finite(v):
                names.setdefault(k)
    return list(names)


def pareto(results, x, y):
    dirs = {o["name"]: o.get("direction", "max") for o in results.get("objectives") or []}
    sx = -1.0 if dirs.get(x, "min" if x != "val_accuracy" else "max") == "min" else 1.0
    sy = -1.0 if dirs.get(y, "max" if "acc" in y else "min") == "min" else 1.0
    pts = [(str(t["trial_id"]), float(t["metrics"][x]), float(t["metrics"][y]))
           for t in results.get("trials", []) if t.get("status") in _RESULTS
           and _finite((t.get("metrics") or {}).get(x)) and _finite((t.get("metrics") or {}).get(y))]
    order = sorted(pts, key=lambda p: (-sx * p[1], -sy * p[2]))
    front, best = set(), -math.inf
    for tid, a, b in order:
        if sy * b > best:
            front.add(tid)
            best = sy * b
    return {"x": x, "y": y, "points": [{"trial_id": tid, "x": a, "y": b, "front": tid in front}
                                       for tid, a, b in pts]}


def best_so_far(results, objective=None):
    name, direction = _objective(results, objective)
    sign = 1.0 if direction == "max" else -1.0
    best, seconds, out = None, 0.0, []
    for i, t in enumerate(results.get("trials", [])):
        m = t.get("metrics") or {}
        seconds += m.get("train_time_s") if _finite(m.get("train_time_s")) else 0.0
        v = m.get(name) if t.get("status") in _RESULTS and _finite(m.get(name)) else None
        if v is not None and (best is None or sign * v > sign * best):
            best = v
        out.append({"trial_id": str(t["trial_id"]), "index": i + 1, "seconds": seconds,
                    "value": v, "best": best})
    return {"trials": out}


def architecture_graph(trial):
    values = trial.get("values") or {}
    edges = [(k, v) for k, v in values.items() if k.startswith("edge_") and k.count("_") == 2]
    if not edges:
        return None
    nodes = sorted({int(n) for k, _ in edges for n in k.split("_")[1:]})
    return {"nodes": [{"id": str(n), "label": f"node {n}"} for n in nodes],
            "edges": [{"source": k.split("_")[1], "target": k.split("_")[2], "label": str(v)}
                      for k, v in edges if v != "none"]}


def oneshot_view(results):
    from autokeras_nas.report.oneshot import oneshot_summary

    summary = oneshot_summary(results)
    if summary is None:
        return None
    rows = summary.get("retrained") or []
    return {"estimates": [{"trial_id": r["trial_id"], "estimated": r["estimated"],
                           "retrained": r["retrained"]} for r in rows],
            "correlations": {"kendall_tau": summary.get("kendall_tau"),
                             "spearman": summary.get("spearman")},
            "probabilities": []}


def lineage(results):
    from autokeras_nas.report.lineage import has_lineage, parents, tree_layout

    if not has_lineage(results):
        return None
    up = parents(results)
    pos = tree_layout(up)
    name, _ = _objective(results, None)
    by_id = {str(t["trial_id"]): t for t in results.get("trials", [])}
    nodes = []
    for tid, (x, y) in pos.items():
        v = (by_id[tid].get("metrics") or {}).get(name)
        nodes.append({"trial_id": tid, "x": x, "y": y, "value": v if _finite(v) else None,
                      "label": str((by_id[tid].get("notes") or {}).get("morphism", ""))})
    return {"nodes": nodes, "edges": [{"source": p, "target": c} for c, p in up.items() if p]}
