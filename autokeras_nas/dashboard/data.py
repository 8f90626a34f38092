"""The dashboard's data: the search directories it shows and the JSON
payloads of its views, built from each directory's `results.json` (no web
server, no TensorFlow: testable alone).

`discover(paths)` turns the command's DIR arguments into `Search`es (a DIR
without `results.json` adds its subdirectories that have one). A `Search`
re-reads its file only when its modification time or size changed (that
pair is the search's `version`, which the page polls), retries a read that
meets a half-written file, and keeps serving the last good parse when the
file stays unreadable. Payloads are computed on demand, one view at a time,
and cached, serialized, until the version changes.

The analyses come from `autokeras_nas.report.analysis`, the steering edits
from `autokeras_nas.steering`.
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from typing import Any, Callable, Iterable, Mapping

from autokeras_nas.results import FILENAME, FORMAT, VERSION

from autokeras_nas import steering
from autokeras_nas.report import analysis

#: Trial statuses whose metrics are measured results.
RESULT_STATUSES = ("completed", "stopped")
#: Metrics shown after the objectives in the leaderboard, when present.
COST_METRICS = ("params", "latency_ms", "train_time_s", "epochs")
#: Most metric columns of the leaderboard.
MAX_METRIC_COLUMNS = 10
#: Reads of a results file that fails to parse before keeping the last good one.
READ_ATTEMPTS = 3
READ_RETRY_SECONDS = 0.05
#: Views computed by `Search.view` (name -> builder).
VIEWS = ("pareto", "hyperparameters", "space", "oneshot", "lineage", "edits")
#: Most distinct values of a hyperparameter offered for an edit when the
#: search recorded no space.
MAX_OFFERED_VALUES = 64


class DashboardError(ValueError):
    """A directory the dashboard cannot show (one-line message)."""


class NotFound(LookupError):
    """A search, trial or view that does not exist."""


# -- JSON -----------------------------------------------------------------------
def json_safe(value: Any) -> Any:
    """`value` with NaN and infinities as None (strict JSON for the browser)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def dumps(value: Any) -> bytes:
    """Compact strict JSON bytes of `value`."""
    return json.dumps(json_safe(value), separators=(",", ":"), allow_nan=False).encode()


def _finite(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


# -- search directories -----------------------------------------------------------
def discover(paths: Iterable[str | os.PathLike]) -> list["Search"]:
    """The searches of the command's DIR arguments: a DIR holding
    `results.json`, else its subdirectories (sorted) that hold one.

    Raises:
        DashboardError: a DIR is missing, or neither it nor a subdirectory
            holds a results.json.
    """
    found: list[tuple[str, str]] = []  # (directory, name shown)
    for path in paths:
        directory = os.path.abspath(os.path.expanduser(os.fspath(path)))
        if not os.path.isdir(directory):
            raise DashboardError(f"no search directory {path}")
        base = os.path.basename(directory.rstrip(os.sep)) or directory
        if os.path.isfile(os.path.join(directory, FILENAME)):
            found.append((directory, base))
            continue
        subdirs = sorted(d for d in os.listdir(directory)
                         if os.path.isfile(os.path.join(directory, d, FILENAME)))
        if not subdirs:
            raise DashboardError(f"no {FILENAME} in {path} nor in its subdirectories")
        found.extend((os.path.join(directory, d), f"{base}/{d}") for d in subdirs)
    searches: list[Search] = []
    seen: set[str] = set()
    used: set[str] = set()
    for directory, name in found:
        real = os.path.realpath(directory)
        if real in seen:
            continue
        seen.add(real)
        slug = _slug(name) or "search"
        sid, n = slug, 2
        while sid in used:
            sid, n = f"{slug}-{n}", n + 1
        used.add(sid)
        searches.append(Search(sid, directory, name))
    return searches


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name).strip(".-")


def _check(data: Any, path: str) -> dict[str, Any]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"{path} is not an autokeras_nas results file")
    if data.get("version") != VERSION or not isinstance(data.get("trials"), list):
        raise ValueError(f"{path} has an unsupported results version {data.get('version')!r}")
    return data


class Search:
    """One search directory: its results, re-read when the file changes."""

    def __init__(self, sid: str, directory: str, name: str | None = None) -> None:
        self.id = sid
        self.directory = directory
        self.path = os.path.join(directory, FILENAME)
        self.name = name or os.path.basename(directory.rstrip(os.sep)) or directory
        self._lock = threading.Lock()
        self._results: dict[str, Any] | None = None
        self._version = ""
        self._seen: tuple[int, int, int] | None = None
        self._error: str | None = None
        self._failed_at = 0.0
        self._cache: dict[Any, bytes] = {}
        self._summary: tuple[str, dict[str, Any]] | None = None

    # -- reading ----------------------------------------------------------------
    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def refresh(self) -> None:
        """Re-reads results.json if it changed since the last read (a stat
        when it did not). A file that does not parse is read again
        `READ_ATTEMPTS` times; then the last good results stay, `error`
        says why."""
        with self._lock:
            key = self._stat()
            if key == self._seen and (self._error is None
                                      or time.monotonic() - self._failed_at < 0.5):
                return
            error = None
            for attempt in range(READ_ATTEMPTS):
                if attempt:
                    time.sleep(READ_RETRY_SECONDS)
                    key = self._stat()
                try:
                    with open(self.path, "rb") as f:
                        data = _check(json.loads(f.read()), self.path)
                except FileNotFoundError:
                    error = f"{self.path} is missing"
                except (OSError, ValueError) as e:
                    error = f"cannot read {self.path}: {e}"
                else:
                    self._results, self._error, self._seen = data, None, key
                    self._version = "%x-%x" % (key[0], key[1]) if key else "0"
                    self._cache.clear()
                    return
            self._seen, self._error, self._failed_at = key, error, time.monotonic()

    @property
    def results(self) -> dict[str, Any]:
        """The last good results (empty ones before any good read)."""
        self.refresh()
        return self._results if self._results is not None else {
            "format": FORMAT, "version": VERSION, "strategy": None, "objectives": [],
            "best_trial_ids": [], "trials": []}

    @property
    def version(self) -> str:
        """Changes whenever new results were read ("" before any)."""
        self.refresh()
        return self._version

    @property
    def error(self) -> str | None:
        """Why the file could not be read last time (None: the last read was good)."""
        return self._error

    def cached(self, key: Any, build: Callable[[dict[str, Any]], Any]) -> bytes:
        """`build(results)` serialized, computed once per version of the file."""
        results = self.results
        with self._lock:
            version = self._version
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        body = dumps(build(results))
        with self._lock:
            if self._version == version:
                self._cache[key] = body
        return body

    # -- payloads ---------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """The search in a few fields (polled every 2 s: computed once per version)."""
        results = self.results
        version = self._version
        if self._summary is not None and self._summary[0] == version:
            return dict(self._summary[1], error=self._error)
        summary = self._summarize(results)
        self._summary = (version, summary)
        return dict(summary, error=self._error)

    def _summarize(self, results: dict[str, Any]) -> dict[str, Any]:
        objectives = results.get("objectives") or []
        best = None  # the best value of the first objective (not the first of a Pareto order)
        if objectives:
            name, sign = objectives[0]["name"], -1 if objectives[0].get("direction") == "min" else 1
            values = [(t.get("metrics") or {}).get(name) for t in results["trials"]
                      if t.get("status") in RESULT_STATUSES]
            values = [v for v in values if _finite(v)]
            best = max(values, key=lambda v: sign * v) if values else None
        return {"id": self.id, "name": self.name, "directory": self.directory,
                "version": self._version, "error": self._error,
                "strategy": results.get("strategy"), "objectives": objectives,
                "trials": len(results.get("trials", [])), "max_trials": results.get("max_trials"),
                "search_seconds": results.get("search_seconds"), "best": best}

    def leaderboard(self) -> bytes:
        return self.cached("leaderboard", leaderboard)

    def trial(self, trial_id: str) -> bytes:
        return self.cached(("trial", trial_id), lambda r: trial_page(r, trial_id))

    def progress(self) -> bytes:
        return self.cached("progress", lambda r: progress(r, self.edits_list(r)))

    def view(self, name: str, params: Mapping[str, str]) -> bytes:
        if name == "pareto":
            x, y = params.get("x") or None, params.get("y") or None
            return self.cached(("pareto", x, y), lambda r: pareto_view(r, x, y))
        if name == "hyperparameters":
            return self.cached("hyperparameters", hyperparameters_view)
        if name == "space":
            return self.cached("space", space_view)
        if name == "oneshot":
            return self.cached("oneshot", oneshot_view)
        if name == "lineage":
            return self.cached("lineage", lineage_view)
        if name == "edits":
            # steering.json changes without results.json: not cached.
            results = self.results
            return dumps({"edits": self.edits_list(results), "space": space_values(results)})
        raise NotFound(f"no view {name!r}")

    def edits_list(self, results: Mapping[str, Any]) -> list[dict[str, Any]]:
        """The edits the search has taken in (results.json `edits`, with the
        trial each first applied to) and, after them, those written since
        and not taken in yet (`pending`)."""
        taken = [dict(e, pending=False) for e in results.get("edits") or []
                 if isinstance(e, dict)]
        known = {e.get("id") for e in taken}
        try:
            written = steering.read_edits(self.directory)
        except (OSError, ValueError):
            written = []
        pending = [dict(e, pending=True, first_trial_id=None) for e in written
                   if isinstance(e, dict) and e.get("id") not in known]
        return taken + pending

    def add_edit(self, action: Any, param: Any, value: Any = None) -> dict[str, Any]:
        """Writes a steering edit, checked against the space the search
        recorded when it did (`steering.SteeringError`, a ValueError with a
        one-line message, on bad input)."""
        return steering.add_edit(self.directory, action=action, param=param, value=value,
                                 source="dashboard")


# -- view payloads (pure functions of the results) ---------------------------------
def _objectives(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [{"name": o["name"], "direction": o.get("direction", "max")}
            for o in results.get("objectives") or [] if isinstance(o, dict) and "name" in o]


def _cell(value: Any) -> Any:
    """A hyperparameter value for a table cell: scalars as they are, others as JSON."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(value, sort_keys=True)


def leaderboard(results: Mapping[str, Any]) -> dict[str, Any]:
    """The leaderboard in columns (compact: one list per column, no curves).

    Returns:
        `objectives`, `metrics` (the metric columns: objectives first, then
        costs, then others, at most `MAX_METRIC_COLUMNS`), `params`
        (hyperparameter names), and per trial in file order: `trial_id`,
        `rank` (1 = best, None unranked), `status`, `task`, `phase`,
        `edits_seen`, `metric` (name -> values), `param` (name -> values).
    """
    trials = results.get("trials", [])
    objectives = _objectives(results)
    seen_metrics: dict[str, None] = {}
    seen_params: dict[str, None] = {}
    for t in trials:
        for k, v in (t.get("metrics") or {}).items():
            if _finite(v):
                seen_metrics.setdefault(k)
        for k in t.get("values") or {}:
            seen_params.setdefault(k)
    names = [o["name"] for o in objectives]
    names += [m for m in COST_METRICS if m in seen_metrics and m not in names]
    names += [m for m in seen_metrics if m not in names and m != "stopped_early"]
    names = names[:max(MAX_METRIC_COLUMNS, len(objectives))]
    rank = {str(tid): i for i, tid in enumerate(results.get("best_trial_ids") or [], start=1)}
    params = list(seen_params)
    metrics_cols: dict[str, list[Any]] = {m: [] for m in names}
    params_cols: dict[str, list[Any]] = {p: [] for p in params}
    ids, ranks, status, task, phase, seen = [], [], [], [], [], []
    for t in trials:
        tid = str(t.get("trial_id"))
        ids.append(tid)
        ranks.append(rank.get(tid))
        status.append(t.get("status"))
        task.append(t.get("task"))
        p = (t.get("notes") or {}).get("phase")
        phase.append(p if isinstance(p, str) else None)
        seen.append(t.get("edits_seen"))
        m = t.get("metrics") or {}
        for name in names:
            v = m.get(name)
            if name == "epochs" and v is None:
                v = t.get("epochs")
            metrics_cols[name].append(v if _finite(v) else None)
        values = t.get("values") or {}
        for name in params:
            params_cols[name].append(_cell(values.get(name)))
    return {"objectives": objectives, "metrics": names, "params": params,
            "trial_id": ids, "rank": ranks, "status": status, "task": task,
            "phase": phase, "edits_seen": seen, "metric": metrics_cols, "param": params_cols}


def layered_layout(graph: Mapping[str, Any]) -> dict[str, Any]:
    """`graph` (nodes, edges) with `x` (layer: longest path from a source)
    and `y` (slot in the layer, centred) on each node."""
    nodes = [dict(n) for n in graph.get("nodes") or []]
    ids = [str(n["id"]) for n in nodes]
    incoming: dict[str, list[str]] = {i: [] for i in ids}
    for e in graph.get("edges") or []:
        s, t = str(e["source"]), str(e["target"])
        if s in incoming and t in incoming and s != t:
            incoming[t].append(s)
    depth: dict[str, int] = {}

    def layer(node: str, stack: frozenset[str]) -> int:
        if node in depth:
            return depth[node]
        if node in stack:  # a cycle: cut it here
            return 0
        d = max((layer(s, stack | {node}) + 1 for s in incoming[node]), default=0)
        depth[node] = d
        return d

    for i in ids:
        layer(i, frozenset())
    by_layer: dict[int, list[str]] = {}
    for i in ids:
        by_layer.setdefault(depth[i], []).append(i)
    pos = {}
    for d, members in by_layer.items():
        for k, i in enumerate(members):
            pos[i] = (float(d), k - (len(members) - 1) / 2)
    for n in nodes:
        n["x"], n["y"] = pos[str(n["id"])]
    return {**{k: v for k, v in graph.items() if k not in ("nodes", "edges")},
            "nodes": nodes, "edges": [dict(e) for e in graph.get("edges") or []]}


def _predictions(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Predicted against actual quantities of the trials whose notes hold a
    prediction (POPNAS, PNAS), with each point's trial id."""
    from autokeras_nas.report.plots import prediction_points

    return [{"quantity": label,
             "points": [{k: p[k] for k in ("trial_id", "predicted", "actual")} for p in points]}
            for label, points in prediction_points(results).items()]


def trial_page(results: Mapping[str, Any], trial_id: str) -> dict[str, Any]:
    """One trial in full (curve, values, notes, outputs, message), its
    architecture graph laid out (None when it has none), its rank, and the
    search's predicted-against-actual points when it has any."""
    by_id = {str(t.get("trial_id")): t for t in results.get("trials", [])}
    trial = by_id.get(str(trial_id))
    if trial is None:
        raise NotFound(f"no trial {trial_id!r}")
    graph = analysis.architecture_graph(trial)
    ids = [str(t) for t in results.get("best_trial_ids") or []]
    return {"trial": trial, "objectives": _objectives(results),
            "rank": ids.index(str(trial_id)) + 1 if str(trial_id) in ids else None,
            "graph": layered_layout(graph) if graph else None,
            "predictions": _predictions(results)}


def progress(results: Mapping[str, Any], edits: list[Mapping[str, Any]]) -> dict[str, Any]:
    """Best so far of the first objective against trials and time (in
    columns), with the edits placed where they first applied."""
    objectives = _objectives(results)
    if not objectives:
        return {"objective": None, "trials": {}, "edits": []}
    rows = analysis.best_so_far(results, objectives[0]["name"])["trials"]
    columns = {k: [r.get(k) for r in rows] for k in ("trial_id", "index", "seconds", "value",
                                                       "best")}
    where = {tid: i for i, tid in enumerate(columns["trial_id"])}
    placed = []
    for e in edits:
        i = where.get(str(e.get("first_trial_id"))) if e.get("first_trial_id") is not None else None
        # On the time axis an edit sits where its first trial started: the
        # training time of the trials before it.
        placed.append({"id": e.get("id"), "label": edit_label(e), "pending": e.get("pending"),
                       "index": columns["index"][i] if i is not None else None,
                       "seconds": (columns["seconds"][i - 1] if i else 0.0)
                       if i is not None else None})
    return {"objective": objectives[0], "trials": columns, "edits": placed}


def edit_label(edit: Mapping[str, Any]) -> str:
    """`exclude edge_0_1=nor_conv_3x3`, `clear *`."""
    value = edit.get("value")
    target = str(edit.get("param")) + ("" if value is None else f"={value}")
    return f"#{edit.get('id')} {edit.get('action')} {target}"


def pareto_view(results: Mapping[str, Any], x: str | None, y: str | None) -> dict[str, Any]:
    """Two metrics (the first two objectives, else the first objective
    against `params` or training time) with the Pareto front marked."""
    names = analysis.metric_names(results)
    objectives = [o["name"] for o in _objectives(results)]
    defaults = [n for n in objectives if n in names]
    defaults += [n for n in ("params", "train_time_s", "latency_ms") + tuple(names)
                 if n in names and n not in defaults]
    if x not in names:
        x = defaults[1] if len(defaults) > 1 else None
    if y not in names:
        y = defaults[0] if defaults else None
    if x is None or y is None:
        return {"metrics": names, "x": x, "y": y, "points": None,
                "reason": "this search has fewer than two metrics with values"}
    out = analysis.pareto(results, x, y)
    points = out["points"]
    return {"metrics": names, "x": x, "y": y, "x_direction": out.get("x_direction"),
            "y_direction": out.get("y_direction"),
            "points": {k: [p[k] for p in points] for k in ("trial_id", "x", "y", "front")},
            "reason": None if points else "no trial has both metrics"}


def hyperparameters_view(results: Mapping[str, Any]) -> dict[str, Any]:
    """Parallel coordinates of the hyperparameters against the objective,
    and each hyperparameter's importance."""
    parallel = analysis.parallel_coordinates(results)
    has_parallel = bool(parallel and parallel.get("dimensions")
                        and parallel.get("objective", {}).get("values"))
    importance = analysis.importance(results)
    return {"parallel": parallel if has_parallel else None,
            "parallel_reason": None if has_parallel else
            "no finished trial with hyperparameters yet",
            "importance": importance or None,
            "importance_reason": None if importance else
            "too few finished trials to rank the hyperparameters"}


def space_view(results: Mapping[str, Any]) -> dict[str, Any]:
    """The 2-D embedding of the architectures and the per-operation summary."""
    points = analysis.embedding(results)
    ops = analysis.operation_summary(results)
    cols = {k: [p.get(k) for p in points] for k in ("trial_id", "x", "y", "value", "cost")}
    return {"embedding": cols if points else None,
            "embedding_reason": None if points else "no trial with hyperparameters yet",
            "operations": ops or None,
            "operations_reason": None if ops else
            "no categorical hyperparameter (operation) with finished trials"}


def oneshot_view(results: Mapping[str, Any]) -> dict[str, Any]:
    view = analysis.oneshot_view(results)
    return {"oneshot": view, "reason": None if view is not None else
            "not a one-shot search (no supernet phase)"}


def lineage_view(results: Mapping[str, Any]) -> dict[str, Any]:
    view = analysis.lineage(results)
    return {"lineage": view, "reason": None if view is not None else
            "no trial has a parent (a nash search has a lineage)"}


def _space_entry(entry: Mapping[str, Any]) -> tuple[str, list[Any]] | None:
    config = entry.get("config") or {}
    name, kind = config.get("name"), entry.get("class_name")
    if not isinstance(name, str):
        return None
    if kind == "Choice":
        return name, list(config.get("values") or [])
    if kind == "Boolean":
        return name, [True, False]
    if kind == "Fixed":
        return name, [config.get("value")]
    if kind == "Int":
        low, high = config.get("min_value"), config.get("max_value")
        step = config.get("step") or 1
        if isinstance(low, int) and isinstance(high, int) and config.get("sampling", "linear") \
                in ("linear", None) and (high - low) // step < MAX_OFFERED_VALUES:
            return name, list(range(low, high + 1, step))
    return name, []


def space_values(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each hyperparameter the page offers for an edit, with its possible
    values (from the search's recorded `space`; for a hyperparameter it
    does not declare, the values the trials took), and `*` first: the
    string values (operations) shared by several hyperparameters, to edit
    all of them at once."""
    entries: dict[str, list[Any]] = {}
    for entry in _space_entries(results):
        if (got := _space_entry(entry)) is not None:
            entries[got[0]] = got[1]
    declared = set(entries)
    for t in results.get("trials", []):
        for k, v in (t.get("values") or {}).items():
            if k in declared:
                continue
            values = entries.setdefault(k, [])
            if isinstance(v, (str, int, bool)) and v not in values \
                    and len(values) < MAX_OFFERED_VALUES:
                values.append(v)
    out = [{"param": k, "values": v} for k, v in entries.items()]
    shared: dict[str, int] = {}
    for v in entries.values():
        for x in {x for x in v if isinstance(x, str)}:
            shared[x] = shared.get(x, 0) + 1
    every = sorted(x for x, n in shared.items() if n > 1)
    if every:
        out.insert(0, {"param": "*", "values": every})
    return out


def _space_entries(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The hyperparameters the search recorded (`space`, KerasTuner's config
    entries; also accepted inside {"space": [...]})."""
    space = results.get("space")
    if isinstance(space, dict):
        space = space.get("space")
    return [e for e in space if isinstance(e, dict)] if isinstance(space, list) else []

