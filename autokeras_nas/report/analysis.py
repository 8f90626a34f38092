"""The data behind the dashboard's views, from a search's `results.json`
(no TensorFlow, no Keras; numpy, and scikit-learn inside `importance`).

Every function takes the parsed results (`autokeras_nas.results.read_results`)
and returns plain JSON: lists and dicts of str, float, int, bool and None
(never NaN). A search is read as it is on disk, so the views can be computed
while it runs.

* `rankable`: the trials with a measured objective (completed or stopped).
* `importance`: which hyperparameters the objective depends on (a random
  forest's impurity importance).
* `embedding`: every evaluated architecture as a point of a 2-D PCA of its
  encoding.
* `operation_summary`: mean and best objective of the trials that used each
  value of each discrete hyperparameter, and of each operation over all the
  places it can sit (NAS-Bench-201 edges, the blocks of a cell).
* `parallel_coordinates`: the rankable trials' hyperparameters and objective.
* `pareto`, `metric_names`, `direction`: two metrics against each other,
  Pareto front flagged; the metrics there are; whether one is minimised.
* `best_so_far`: the trajectory of the objective.
* `architecture_graph`: a trial's architecture as nodes and edges
  (NAS-Bench-201 cells, PNAS/POPNAS cells, NASH's morphable networks).
* `oneshot_view`: supernet estimates against retrained values, and ENAS's
  operation probabilities epoch by epoch.
* `lineage`: NASH's family tree of trials.

Hyperparameters come from the trials' `values`; when the results carry the
search space (`"space"`, KerasTuner's `HyperParameters.get_config()` format)
it gives each hyperparameter's possible values, else they are inferred from
the values seen. Numbers are read on a log scale when the space samples
them so or its range spans over a decade, or, inferred, when they span over
a decade and crowd its low end (their median in the bottom quarter of the
range, as log-uniform learning rates; uniform values' median sits
mid-range). Trials with a structured architecture (`arch`) add features
of it, named `arch:...`: for a cell its number of blocks (`arch:blocks`) and
how often each operator occurs (`arch:op:<operator>`), for a morphable network
its weighted layers (`arch:layers`), total conv filters (`arch:filters`) and
how often each kind of layer occurs (`arch:op:conv3`, `arch:op:add`, ...).

```python
from autokeras_nas.results import read_results
from autokeras_nas.report import analysis
results = read_results("runs/digits")
analysis.importance(results)        # [{"param": "learning_rate", "importance": 0.61}, ...]
```
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from autokeras_nas.core.constraints import CONSTRAINT_METRICS
from autokeras_nas.report import lineage as _lineage
from autokeras_nas.report import oneshot as _oneshot
from autokeras_nas.report import plots as _plots

__all__ = [
    "architecture_graph", "best_so_far", "direction", "embedding", "importance", "lineage",
    "metric_names", "oneshot_view", "operation_summary", "parallel_coordinates", "pareto",
    "rankable",
]

#: Trials `importance` needs: fewer cannot separate a hyperparameter's effect
#: from noise.
MIN_IMPORTANCE_TRIALS = 5
#: The random forest of `importance`: its ranking of a handful of
#: hyperparameters is stable from a few dozen trees; shallow trees on half
#: the rows each (bagging) fit 2,000 rows in about 0.1 s on one core and
#: give noise columns less room than fully grown ones.
#: Below this many trials the forest fits every trial with leaves of one
#: (the subsampling and leaf size of `FOREST` would leave nothing to split).
SMALL_FOREST_ROWS = 40
FOREST = {"n_estimators": 32, "max_depth": 10, "min_samples_leaf": 3, "max_samples": 0.5}
#: Rows the PCA of `embedding` is fitted on (seeded subsample); all are projected.
PCA_ROWS = 5000
#: Most distinct values of a numeric hyperparameter still summarised value by
#: value (`operation_summary`) and drawn with a tick per value.
MAX_LEVELS = 16
#: Substrings of a metric's name that make it minimised when no objective
#: says otherwise (as `autokeras_nas.workflow.config.MINIMISED`, plus sizes).
MINIMISED = ("loss", "error", "mse", "mae", "mape", "crossentropy", "hinge",
             "latency", "time", "params", "_kb", "flops", "macs")
#: Metrics that are bookkeeping, not results: left out of `metric_names`.
BOOKKEEPING = ("stopped_early", "stopped_by_budget")
_RESULTS = _plots.RESULT_STATUSES
_EDGE = re.compile(r"edge_(\d+)_(\d+)")
#: `arch:` features summarised value by value (`operation_summary`).
_LEVELLED_ARCH = ("arch:blocks", "arch:layers")
_SUPERNET = "supernet"


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------
def _finite(value: Any) -> bool:
    return _plots.finite(value)


def _num(value: Any) -> float | None:
    """A finite float, else None (JSON has no NaN)."""
    return float(value) if _finite(value) else None


def _objective(results: Mapping[str, Any], objective: str | None) -> tuple[str, str]:
    """(name, direction) of `objective` (default: the first objective)."""
    objectives = list(results.get("objectives") or [])
    if objective is None:
        if not objectives:
            raise ValueError("the results name no objective")
        objective = objectives[0]["name"]
    return objective, direction(results, objective)


def direction(results: Mapping[str, Any], metric: str) -> str:
    """"min" or "max": the direction of `metric` as an objective of the
    search, else "min" for costs (`params`, `latency_ms`, `model_kb`,
    `train_time_s`, losses and errors: the names of `MINIMISED` and of the
    constraint metrics), else "max"."""
    for o in results.get("objectives") or []:
        if o.get("name") == metric:
            return o.get("direction", "max")
    low = metric.lower()
    if metric in CONSTRAINT_METRICS or any(word in low for word in MINIMISED):
        return "min"
    return "max"


def _is_supernet(trial: Mapping[str, Any]) -> bool:
    """A one-shot search's supernet trial: its values are a default path and
    its metrics those of the whole supernet, not of one architecture."""
    return (trial.get("notes") or {}).get("phase") == _SUPERNET


def _measured(trial: Mapping[str, Any], metric: str) -> float | None:
    """The trial's value of `metric` when it is a result of an architecture
    (completed or stopped, finite, not a supernet), else None."""
    value = (trial.get("metrics") or {}).get(metric)
    if trial.get("status") in _RESULTS and _finite(value) and not _is_supernet(trial):
        return float(value)
    return None


def _rows(results: Mapping[str, Any], metric: str) -> list[tuple[dict[str, Any], float]]:
    return [(t, v) for t in results.get("trials", [])
            if (v := _measured(t, metric)) is not None]


def rankable(results: Mapping[str, Any], objective: str | None = None) -> list[dict[str, Any]]:
    """The trials usable for ranking, in file order: completed or stopped
    (early-stopped, or by the time budget) with a finite value of the
    objective (default: the first). A one-shot search's supernet trial
    (`notes["phase"] == "supernet"`) is not an architecture's result and
    never counts; its estimates and retrained trials do."""
    name, _ = _objective(results, objective)
    return [t for t, _ in _rows(results, name)]


def _key(value: Any) -> tuple[str, Any]:
    """Identity of a hyperparameter value: 16 and 16.0 are one value,
    True and 1 are not."""
    kind = type(value)
    if kind is str:
        return ("s", value)
    if kind is int or kind is float:
        return ("n", float(value))
    if isinstance(value, (bool, np.bool_)):
        return ("b", bool(value))
    if isinstance(value, (int, float, np.integer, np.floating)):
        return ("n", float(value))
    if isinstance(value, str):
        return ("s", value)
    return ("r", json.dumps(value, sort_keys=True, default=str))


def _scalar(value: Any) -> Any:
    """A JSON scalar for a value (non-scalars as their JSON text)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    return json.dumps(value, sort_keys=True, default=str)


def _best(values: Sequence[float], direction_: str) -> float:
    return max(values) if direction_ == "max" else min(values)


# ---------------------------------------------------------------------------
# architectures: parsing and features
# ---------------------------------------------------------------------------
def _arch(trial: Mapping[str, Any]) -> dict[str, Any] | None:
    arch = trial.get("arch")
    if isinstance(arch, str):
        try:
            arch = json.loads(arch)
        except ValueError:
            return None
    return arch if isinstance(arch, dict) else None


def _cell(arch: Mapping[str, Any] | None) -> list[list[Any]] | None:
    """The blocks `[in1, op1, in2, op2]` of a cell architecture (PNAS/POPNAS)."""
    cell = (arch or {}).get("cell")
    if isinstance(cell, list) and all(isinstance(b, (list, tuple)) and len(b) == 4
                                      for b in cell):
        return [list(b) for b in cell]
    return None


def _net_nodes(arch: Mapping[str, Any] | None) -> list[dict[str, Any]] | None:
    """The nodes of a morphable network (NASH's `arch["net"]`)."""
    net = (arch or {}).get("net")
    nodes = net.get("nodes") if isinstance(net, dict) else None
    if isinstance(nodes, list) and all(isinstance(n, dict) and "id" in n for n in nodes):
        return nodes
    return None


def _layer_token(node: Mapping[str, Any]) -> str:
    op = str(node.get("op"))
    return f"conv{node['kernel']}" if op == "conv" and "kernel" in node else op


def _arch_features(trial: Mapping[str, Any]) -> tuple[dict[str, float], list[str]]:
    """Numeric features of the trial's structured architecture (names
    `arch:...`, see the module docstring) and its operations (a cell's
    operators, a network's layer kinds), repeats included."""
    arch = _arch(trial)
    cell = _cell(arch)
    if cell is not None:
        ops = [str(op) for b in cell for op in (b[1], b[3])]
        features = {"arch:blocks": float(len(cell))}
    else:
        nodes = _net_nodes(arch)
        if nodes is None:
            return {}, []
        inner = [n for n in nodes if n.get("op") not in ("input", "output")]
        ops = [_layer_token(n) for n in inner]
        weighted = [n for n in inner if n.get("op") in ("conv", "dense")]
        features = {"arch:layers": float(len(weighted)),
                    "arch:filters": float(sum(int(n.get("filters") or 0) for n in inner
                                              if n.get("op") == "conv"))}
    for op in ops:
        features[f"arch:op:{op}"] = features.get(f"arch:op:{op}", 0.0) + 1.0
    return features, ops


# ---------------------------------------------------------------------------
# the hyperparameter table
# ---------------------------------------------------------------------------
@dataclass
class _Param:
    """One column group: a hyperparameter (or an `arch:` feature)."""

    name: str
    kind: str                      # "categorical" or "numeric"
    levels: list[Any] = field(default_factory=list)   # finite values, in order
    low: float = 0.0
    high: float = 0.0
    log: bool = False

    def width(self) -> int:
        return len(self.levels) if self.kind == "categorical" else 1

    def scale(self, value: float) -> float:
        """A numeric value mapped to [0, 1] (log scale when `log`)."""
        lo, hi, v = self.low, self.high, float(value)
        if self.log and lo > 0 and v > 0:
            lo, hi, v = math.log10(lo), math.log10(hi), math.log10(v)
        return 0.5 if hi == lo else min(1.0, max(0.0, (v - lo) / (hi - lo)))


def _spans_decades(low: float, high: float) -> bool:
    return low > 0 and high / low > 10


def _supernet_choices(results: Mapping[str, Any]) -> dict[str, _Param]:
    """The choices of a one-shot search's supernet (its trial's output
    `choices`: name -> candidates), as categorical hyperparameters."""
    out: dict[str, _Param] = {}
    for t in results.get("trials", []):
        choices = (t.get("outputs") or {}).get("choices") if _is_supernet(t) else None
        if isinstance(choices, Mapping):
            for name, candidates in choices.items():
                if isinstance(candidates, list) and candidates:
                    out.setdefault(str(name), _Param(str(name), "categorical",
                                                     [_scalar(c) for c in candidates]))
    return out


def _space_params(results: Mapping[str, Any]) -> dict[str, _Param]:
    """The hyperparameters of `results["space"]` (else of a one-shot
    supernet's choices; empty without either, or when the space cannot be
    read), by name; a name defined under several conditions merges its
    values."""
    config = results.get("space")
    if isinstance(config, list):  # the list of parameters alone
        config = {"space": config}
    if not isinstance(config, Mapping):
        return _supernet_choices(results)
    from autokeras_nas.core.space import Boolean, Choice, Fixed, Float, HyperSpace, Int

    try:
        space = HyperSpace.from_keras_tuner_config(config)
    except (ValueError, TypeError, KeyError):
        return _supernet_choices(results)
    out: dict[str, _Param] = {}
    for p in space.params:
        if isinstance(p, Fixed):
            continue
        if isinstance(p, Boolean):
            new = _Param(p.name, "categorical", [False, True])
        elif isinstance(p, Choice) and isinstance(p.values[0], (str, bool)):
            new = _Param(p.name, "categorical", list(p.values))
        elif isinstance(p, Choice):
            values = sorted(float(v) for v in p.values)
            new = _Param(p.name, "numeric", sorted(p.values), values[0], values[-1],
                         _spans_decades(values[0], values[-1]))
        elif isinstance(p, (Int, Float)):
            levels = list(p.domain()) if p.cardinality() <= MAX_LEVELS else []
            new = _Param(p.name, "numeric", sorted(levels), float(p.min_value),
                         float(p.max_value), p.sampling != "linear"
                         or _spans_decades(float(p.min_value), float(p.max_value)))
        else:  # pragma: no cover - every parameter class is handled above
            continue
        old = out.get(p.name)
        if old is None:
            out[p.name] = new
        elif old.kind == new.kind:
            known = {_key(v) for v in old.levels}
            old.levels += [v for v in new.levels if _key(v) not in known]
            old.low, old.high = min(old.low, new.low), max(old.high, new.high)
            old.log = old.log or new.log
    return out


def _inferred(name: str, seen: list[Any]) -> _Param:
    """A hyperparameter described by the values seen of it."""
    if all(isinstance(v, (bool, np.bool_)) for v in seen):
        return _Param(name, "categorical", [False, True])
    if all(_finite(v) for v in seen):
        distinct = sorted({float(v) for v in seen})
        integral = all(isinstance(v, (int, np.integer)) or float(v).is_integer() for v in seen)
        small = len(distinct) <= MAX_LEVELS and (integral or 2 * len(distinct) <= len(seen))
        levels = [int(v) if integral else v for v in distinct] if small else []
        low, high = distinct[0], distinct[-1]
        # log scale for values over a decade that crowd the low end (sampled
        # log-uniformly, as learning rates): their median sits in the
        # bottom quarter of the range (uniform values' sits mid-range)
        crowded = float(np.median([float(v) for v in seen])) < low + (high - low) / 4
        return _Param(name, "numeric", levels, low, high, _spans_decades(low, high) and crowded)
    levels: dict[tuple[str, Any], Any] = {}
    for v in seen:
        levels.setdefault(_key(v), _scalar(v))
    return _Param(name, "categorical", [levels[k] for k in sorted(levels, key=str)])


class _Table:
    """The hyperparameters and `arch:` features of a list of trials."""

    def __init__(self, results: Mapping[str, Any], trials: Sequence[Mapping[str, Any]]):
        self.trials = list(trials)
        self.rows: list[dict[str, Any]] = []
        self.ops: list[list[str]] = []
        arch_ops: dict[str, None] = {}
        for t in self.trials:
            row = {k: v for k, v in (t.get("values") or {}).items()
                   if not str(k).startswith("nas/") and v is not None
                   and not (isinstance(v, float) and not math.isfinite(v))}
            features, ops = _arch_features(t)
            row.update(features)
            self.rows.append(row)
            self.ops.append(ops)
            arch_ops.update((f"arch:op:{op}", None) for op in ops)
        seen: dict[str, list[Any]] = {}
        for row, ops in zip(self.rows, self.ops):
            if ops:  # a cell or network without an operation counts it 0, not missing
                for k in arch_ops:
                    row.setdefault(k, 0.0)
            for k, v in row.items():
                seen.setdefault(k, []).append(v)
        declared = _space_params(results)
        self.params: list[_Param] = []
        for name in list(declared) + [n for n in seen if n not in declared]:
            if name not in seen:
                continue
            p = declared.get(name)
            if p is None or not self._fits(p, seen[name]):
                p = _inferred(name, seen[name])
            if name.startswith("arch:") and name not in _LEVELLED_ARCH:
                p.levels = []  # operator counts, filters: amounts, not choices
            self.params.append(p)

    @staticmethod
    def _fits(p: _Param, seen: list[Any]) -> bool:
        """Whether the declared parameter covers the values seen (widened to
        them when numeric)."""
        if p.kind == "categorical":
            known = {_key(v) for v in p.levels}
            return all(_key(v) in known for v in seen)
        if not all(_finite(v) for v in seen):
            return False
        p.low = min([p.low] + [float(v) for v in seen])
        p.high = max([p.high] + [float(v) for v in seen])
        if p.levels:
            known = {_key(v) for v in p.levels}
            p.levels += sorted({float(v) for v in seen if _key(v) not in known})
        return True

    def column(self, p: _Param) -> list[Any]:
        return [row.get(p.name) for row in self.rows]

    def encode(self, p: _Param, missing: float) -> np.ndarray:
        """The (trials, width) block of `p`: one-hot levels, or the numeric
        value scaled to [0, 1]; `missing` where the trial has no value (an
        inactive conditional hyperparameter) or one outside the levels."""
        values = self.column(p)
        if p.kind == "categorical":
            index = {_key(v): i for i, v in enumerate(p.levels)}
            block = np.zeros((len(values), len(p.levels)))
            for r, v in enumerate(values):
                i = None if v is None else index.get(_key(v))
                if i is None:
                    block[r, :] = missing
                else:
                    block[r, i] = 1.0
            return block
        return np.array([[p.scale(v)] if _finite(v) else [missing] for v in values]).reshape(
            len(values), 1)

    def matrix(self, missing: float) -> tuple[np.ndarray, list[int]]:
        """All blocks side by side, constant columns dropped, and the index
        (into `params`) of each remaining column."""
        blocks, owners = [], []
        for i, p in enumerate(self.params):
            block = self.encode(p, missing)
            keep = np.ptp(block, axis=0) > 0 if len(block) else np.zeros(block.shape[1], bool)
            blocks.append(block[:, keep])
            owners += [i] * int(keep.sum())
        if not blocks:
            return np.zeros((len(self.rows), 0)), []
        return np.hstack(blocks), owners


# ---------------------------------------------------------------------------
# views
# ---------------------------------------------------------------------------
def importance(results: Mapping[str, Any], objective: str | None = None, *, seed: int = 0,
               max_rows: int = 2000) -> list[dict[str, Any]]:
    """How much each hyperparameter explains of the objective.

    A random forest (scikit-learn's `RandomForestRegressor`, settings
    `FOREST`, seeded) regresses the objective of the rankable trials on their
    encoded hyperparameters (categoricals one-hot, numbers scaled to [0, 1],
    on a log scale where it fits (module docstring); -1 where a conditional
    hyperparameter is inactive) and `arch:` features; a hyperparameter's
    importance is the forest's *impurity* importance (mean decrease in
    variance) summed over its columns, normalised to sum 1. Impurity
    importance favours numbers with many distinct values a little over
    categoricals with few; it costs nothing beyond the fit.

    Args:
        objective: Metric to explain (default: the first objective).
        seed: Seed of the subsample and of the forest.
        max_rows: Most trials fitted: a larger search is subsampled
            (seeded), so 10,000 trials take a fraction of a second.

    Returns:
        `[{"param", "importance"}]`, most important first (ties in the
        hyperparameters' order), importances summing to 1; `[]` with fewer
        than `MIN_IMPORTANCE_TRIALS` rankable trials, when no hyperparameter
        varies among them or when the objective is constant.
    """
    name, _ = _objective(results, objective)
    rows = _rows(results, name)
    if len(rows) < MIN_IMPORTANCE_TRIALS:
        return []
    if len(rows) > max_rows:
        picked = np.sort(np.random.default_rng(seed).choice(len(rows), max_rows, replace=False))
        rows = [rows[i] for i in picked]
    table = _Table(results, [t for t, _ in rows])
    x, owners = table.matrix(missing=-1.0)
    y = np.array([v for _, v in rows])
    if x.shape[1] == 0 or np.ptp(y) == 0:
        return []
    from sklearn.ensemble import RandomForestRegressor

    settings = dict(FOREST)
    if len(rows) < SMALL_FOREST_ROWS:
        # Half-size leaves of 3 would leave a tree of a few trials nothing to split.
        settings.update(max_samples=None, min_samples_leaf=1)
    forest = RandomForestRegressor(random_state=seed, n_jobs=1, **settings)
    forest.fit(x, y)
    totals = np.zeros(len(table.params))
    np.add.at(totals, owners, forest.feature_importances_)
    if not totals.sum() > 0:
        return []
    totals = totals / totals.sum()
    used = sorted(set(owners), key=lambda i: (-totals[i], i))
    return [{"param": table.params[i].name, "importance": float(totals[i])} for i in used]


def _cost(trial: Mapping[str, Any]) -> float | None:
    metrics = trial.get("metrics") or {}
    for name in ("params", "train_time_s"):  # an estimate records 0 params: none counted
        if _finite(metrics.get(name)) and metrics[name] > 0:
            return float(metrics[name])
    return None


def embedding(results: Mapping[str, Any], *, seed: int = 0) -> list[dict[str, Any]]:
    """Every evaluated architecture as a point of a 2-D map in which similar
    architectures sit close.

    Each trial with hyperparameter values or a structured architecture
    (rankable or not) is encoded (categoricals one-hot, numbers scaled to
    [0, 1], on a log scale where it fits, 0 where inactive; `arch:`
    features: a cell's blocks and operator counts, a network's layers), and
    the encodings are projected on their first two principal components
    (PCA, fitted on at most `PCA_ROWS` trials drawn with `seed`; each
    component's sign fixed so that its largest loading is positive, so the
    map does not flip between calls). Identical encodings give identical
    points; with a single varying column `y` is 0, with none both are 0.

    Returns:
        `[{"trial_id", "x", "y", "value", "cost", "status"}]` in file order:
        `value` the first objective (None unless rankable), `cost` the
        trial's `params` metric, else its `train_time_s` (the first that
        is positive), else None. A one-shot supernet trial is left out.
    """
    name, _ = _objective(results, None)
    trials = [t for t in results.get("trials", []) if not _is_supernet(t)
              and (any(not str(k).startswith("nas/") for k in (t.get("values") or {}))
                   or _arch_features(t)[0])]
    if not trials:
        return []
    x, _ = _Table(results, trials).matrix(missing=0.0)
    coords = np.zeros((len(trials), 2))
    if x.shape[1]:
        fit = x
        if len(x) > PCA_ROWS:
            fit = x[np.sort(np.random.default_rng(seed).choice(len(x), PCA_ROWS, replace=False))]
        mean = fit.mean(axis=0)
        centred = fit - mean
        # the principal axes: eigenvectors of the (columns x columns) scatter matrix
        eigenvalues, vectors = np.linalg.eigh(centred.T @ centred)
        components = vectors[:, np.argsort(-eigenvalues, kind="stable")[:2]].T.copy()
        for c in components:
            if c[np.argmax(np.abs(c))] < 0:
                c *= -1
        projected = (x - mean) @ components.T
        coords[:, :projected.shape[1]] = projected
    coords = np.round(coords, 9) + 0.0  # -0.0 to 0.0
    return [{"trial_id": str(t["trial_id"]), "x": float(coords[i, 0]), "y": float(coords[i, 1]),
             "value": _measured(t, name), "cost": _cost(t), "status": t.get("status")}
            for i, t in enumerate(trials)]


def _summary_rows(param: str, levels: Sequence[Any], groups: Mapping[Any, list[float]],
                  direction_: str) -> list[dict[str, Any]]:
    rows = []
    for level in levels:
        values = groups.get(_key(level), [])
        rows.append({"param": param, "value": _scalar(level), "count": len(values),
                     "mean": float(np.mean(values)) if values else None,
                     "best": _best(values, direction_) if values else None})
    return rows


def operation_summary(results: Mapping[str, Any],
                      objective: str | None = None) -> list[dict[str, Any]]:
    """How good the architectures using each operation or value were.

    For every discrete hyperparameter (categorical, boolean, or numeric
    with at most `MAX_LEVELS` values; a cell's `arch:blocks`) and each of
    its values: the rankable trials that used it, their mean and best
    objective. Then rows with `"param": "*"` for every string value that
    several hyperparameters share (a NAS-Bench-201 operation over its 6
    edges) and for every operation of a structured architecture (a cell's
    operator over all blocks; a network's layer kind: `conv3`, `add`, ...):
    the trials that used it anywhere, each counted once.

    Returns:
        `[{"param", "value", "count", "mean", "best"}]`, hyperparameters in
        the space's order (then first seen) and values in their order,
        then the `"*"` rows by first appearance; `mean` and `best` are None
        when `count` is 0 (a value no rankable trial used).
    """
    name, way = _objective(results, objective)
    rows_ = _rows(results, name)
    everyone = [t for t in results.get("trials", [])]
    table = _Table(results, everyone)
    value_of = {id(t): v for t, v in rows_}
    scores = [value_of.get(id(t)) for t in everyone]
    out: list[dict[str, Any]] = []
    shared: dict[tuple[str, Any], set[str]] = {}
    for p in table.params:
        if not p.levels or p.name.startswith("arch:op:"):
            continue
        groups: dict[Any, list[float]] = {}
        for v, score in zip(table.column(p), scores):
            if v is not None and score is not None:
                groups.setdefault(_key(v), []).append(score)
        out += _summary_rows(p.name, p.levels, groups, way)
        if p.kind == "categorical":
            for level in p.levels:
                if isinstance(level, str):
                    shared.setdefault(_key(level), set()).add(p.name)
    # "*": a value over every hyperparameter sharing it, and architectures' operations
    star_levels: dict[Any, Any] = {}
    star: dict[Any, list[float]] = {}
    names = [p.name for p in table.params if p.kind == "categorical"
             and not p.name.startswith("arch:")]
    for i, t in enumerate(everyone):
        used: dict[Any, Any] = {}
        for n in names:
            v = table.rows[i].get(n)
            if isinstance(v, str) and len(shared.get(_key(v), ())) > 1:
                used.setdefault(_key(v), v)
        for op in table.ops[i]:
            used.setdefault(_key(op), op)
        for k, v in used.items():
            star_levels.setdefault(k, v)
            if scores[i] is not None:
                star.setdefault(k, []).append(scores[i])
    for k in [k for k, params in shared.items() if len(params) > 1]:
        star_levels.setdefault(k, k[1])
    out += _summary_rows("*", list(star_levels.values()), star, way)
    return out


def _ticks(p: _Param, values: list[Any]) -> dict[str, Any]:
    """A parallel-coordinates dimension of a hyperparameter."""
    inactive = any(v is None for v in values)
    if p.kind == "categorical":
        index = {_key(v): i for i, v in enumerate(p.levels)}
        text = [str(v) for v in p.levels]
        if inactive:
            text.append("inactive")
        coded = [float(len(p.levels)) if v is None else float(index.get(_key(v), len(p.levels)))
                 for v in values]
        return {"label": p.name, "values": coded, "tickvals": [float(i) for i in range(len(text))],
                "ticktext": text}
    log = p.log and p.low > 0
    label = f"log10({p.name})" if log else p.name
    raw = [None if v is None else (math.log10(float(v)) if log and float(v) > 0 else float(v))
           for v in values]
    present = [v for v in raw if v is not None]
    low, high = (min(present), max(present)) if present else (0.0, 1.0)
    tickvals: list[float] | None = None
    ticktext: list[str] | None = None
    if p.levels and len(p.levels) <= MAX_LEVELS and not log:
        tickvals = [float(v) for v in p.levels]
        ticktext = [str(_scalar(v)) for v in p.levels]
    elif log:
        decades = list(range(math.floor(low), math.ceil(high) + 1))
        tickvals = [float(d) for d in decades]
        ticktext = [f"1e{d}" for d in decades]
    if inactive:
        below = low - 0.1 * ((high - low) or 1.0)
        raw = [below if v is None else v for v in raw]
        if tickvals is None:
            tickvals, ticktext = [low, high], [f"{_unlog(low, log):.4g}", f"{_unlog(high, log):.4g}"]
        tickvals = [below] + tickvals
        ticktext = ["inactive"] + (ticktext or [])
    return {"label": label, "values": [float(v) for v in raw], "tickvals": tickvals,
            "ticktext": ticktext}


def _unlog(value: float, log: bool) -> float:
    return 10 ** value if log else value


def parallel_coordinates(results: Mapping[str, Any],
                         objective: str | None = None) -> dict[str, Any]:
    """The rankable trials' hyperparameters and objective, one line each.

    A dimension per hyperparameter that varies among them (in the space's
    order), and `arch:blocks` / `arch:layers` / `arch:filters` for
    structured architectures (operator counts are left out). Categoricals
    are coded 0..k-1 with their values as `ticktext`; numbers are as they
    are (log10 of them, labelled `log10(name)`, on a log scale (module
    docstring), ticked at the decades; a numeric hyperparameter with few values is
    ticked at each). Where a conditional hyperparameter is inactive the
    line passes through an extra tick "inactive" (after the categories, or
    below the numbers).

    Returns:
        `{"dimensions": [{"label", "values", "tickvals", "ticktext"}],
        "objective": {"label", "values", "direction"}, "trial_ids": [...]}`,
        every `values` list in the order of `trial_ids`; `tickvals` and
        `ticktext` are None for plain numeric axes.
    """
    name, way = _objective(results, objective)
    rows_ = _rows(results, name)
    table = _Table(results, [t for t, _ in rows_])
    dims = []
    for p in table.params:
        if p.name.startswith("arch:op:"):
            continue
        values = table.column(p)
        if len({None if v is None else _key(v) for v in values}) < 2:
            continue
        dims.append(_ticks(p, values))
    return {"dimensions": dims,
            "objective": {"label": name, "values": [v for _, v in rows_], "direction": way},
            "trial_ids": [str(t["trial_id"]) for t, _ in rows_]}


def metric_names(results: Mapping[str, Any]) -> list[str]:
    """Metrics with a finite number in some completed or stopped trial: the
    objectives first (in their order), then the others in order of first
    appearance (bookkeeping such as `stopped_early` left out)."""
    seen: dict[str, None] = {}
    for t in results.get("trials", []):
        if t.get("status") not in _RESULTS:
            continue
        for k, v in (t.get("metrics") or {}).items():
            if _finite(v) and k not in BOOKKEEPING:
                seen.setdefault(k, None)
    first = [o["name"] for o in results.get("objectives") or [] if o.get("name") in seen]
    return first + [k for k in seen if k not in first]


def _front_2d(points: np.ndarray) -> np.ndarray:
    """Whether each point (larger is better in both columns) is
    non-dominated: the first front of `autokeras_nas.core.non_dominated_sort`,
    by an O(n log n) sweep instead of its n x n dominance matrix."""
    n = len(points)
    front = np.zeros(n, dtype=bool)
    if n == 0:
        return front
    order = np.lexsort((-points[:, 1], -points[:, 0]))  # x descending, then y descending
    xs, ys = points[order, 0], points[order, 1]
    best_y = -math.inf  # best y among points of strictly larger x
    start = 0
    while start < n:
        end = start
        while end < n and xs[end] == xs[start]:
            end += 1
        top = ys[start]  # the group's largest y
        if top > best_y:
            same = ys[start:end] == top
            front[order[start:end][same]] = True
        best_y = max(best_y, top)
        start = end
    return front


def pareto(results: Mapping[str, Any], x: str, y: str) -> dict[str, Any]:
    """Two metrics against each other with the Pareto front flagged.

    Over completed or stopped trials with finite values of both; each
    metric is maximised or minimised as `direction` says (an objective's
    own direction; costs such as `params`, `latency_ms`, `model_kb`,
    `train_time_s` minimised). A trial is on the front when no other is at
    least as good in both and better in one (equal points are all on it).

    Returns:
        `{"x", "y", "x_direction", "y_direction", "points": [{"trial_id",
        "x", "y", "front"}]}`, points in file order.
    """
    pts, ids = [], []
    for t in results.get("trials", []):
        a, b = _measured(t, x), _measured(t, y)
        if a is not None and b is not None:
            pts.append((a, b))
            ids.append(str(t["trial_id"]))
    ways = (direction(results, x), direction(results, y))
    xy = np.array(pts, dtype=float).reshape(len(pts), 2)
    signs = np.array([1.0 if w == "max" else -1.0 for w in ways])
    front = _front_2d(xy * signs)
    return {"x": x, "y": y, "x_direction": ways[0], "y_direction": ways[1],
            "points": [{"trial_id": tid, "x": float(a), "y": float(b), "front": bool(f)}
                       for tid, (a, b), f in zip(ids, pts, front)]}


def best_so_far(results: Mapping[str, Any], objective: str | None = None) -> dict[str, Any]:
    """The search's trajectory (`autokeras_nas.report.plots.trajectory`):
    every trial in file (creation) order with its objective and the best
    so far.

    Returns:
        `{"objective", "direction", "trials": [{"trial_id", "index",
        "seconds", "value", "best"}]}`: `index` 1-based, `seconds` the
        cumulative training time (`train_time_s`) up to and including the
        trial, `value` None without a result, `best` None before the first
        result.
    """
    name, way = _objective(results, objective)
    data = _plots.trajectory(results, name)
    best = _plots.best_so_far(data["value"], way)
    trials = results.get("trials", [])
    return {"objective": name, "direction": way,
            "trials": [{"trial_id": str(t["trial_id"]), "index": int(data["number"][i]),
                        "seconds": float(data["cumulative_time"][i]),
                        "value": _num(data["value"][i]), "best": _num(best[i])}
                       for i, t in enumerate(trials)]}


# ---------------------------------------------------------------------------
# architecture graphs
# ---------------------------------------------------------------------------
def _nb201_graph(values: Mapping[str, Any]) -> dict[str, Any] | None:
    edges = []
    for k, op in values.items():
        match = _EDGE.fullmatch(str(k))
        if match and isinstance(op, str):
            edges.append((int(match.group(1)), int(match.group(2)), op))
    if not edges:
        return None
    last = max(j for _, j, _ in edges)
    nodes = [{"id": str(n), "label": "input" if n == 0 else "output" if n == last
              else f"node {n}"} for n in range(last + 1)]
    return {"nodes": nodes,
            "edges": [{"source": str(i), "target": str(j), "label": op}
                      for i, j, op in sorted(edges, key=lambda e: (e[1], e[0])) if op != "none"]}


def _cell_graph(cell: list[list[Any]]) -> dict[str, Any]:
    from autokeras_nas.spaces.cell_graph import unused_blocks

    lookback = max([2] + [-int(i) for b in cell for i in (b[0], b[2]) if int(i) < 0])
    nodes = [{"id": str(-k), "label": f"cell k-{k}"} for k in range(lookback, 0, -1)]
    edges = []
    for j, (in1, op1, in2, op2) in enumerate(cell):
        nodes.append({"id": f"b{j}", "label": f"block {j} (+)"})
        for i, op in ((in1, op1), (in2, op2)):
            source = str(int(i)) if int(i) < 0 else f"b{int(i)}"
            edges.append({"source": source, "target": f"b{j}", "label": str(op)})
    outputs = unused_blocks([tuple(b) for b in cell])
    nodes.append({"id": "out", "label": "concat" if len(outputs) > 1 else "output"})
    edges += [{"source": f"b{j}", "target": "out", "label": ""} for j in outputs]
    return {"nodes": nodes, "edges": edges}


def _node_label(node: Mapping[str, Any]) -> str:
    op = str(node.get("op"))
    if op == "conv":
        kernel = node.get("kernel")
        return f"conv {kernel}x{kernel}, {node.get('filters')}"
    if op == "proj":
        return f"proj 1x1, {node.get('filters')}"
    if op == "dense":
        return f"dense {node.get('units')}"
    return op


def _net_graph(nodes: list[dict[str, Any]]) -> dict[str, Any]:
    """Layers in order; an edge from other than the previous layer is a
    skip connection (label "skip")."""
    out_nodes = [{"id": str(n["id"]), "label": _node_label(n)} for n in nodes]
    edges = []
    for k, n in enumerate(nodes):
        previous = str(nodes[k - 1]["id"]) if k else None
        for source in n.get("inputs") or []:
            edges.append({"source": str(source), "target": str(n["id"]),
                          "label": "" if str(source) == previous else "skip"})
    return {"nodes": out_nodes, "edges": edges}


def architecture_graph(trial: Mapping[str, Any]) -> dict[str, Any] | None:
    """A trial's architecture as a graph, or None for a plain
    hyperparameter space.

    * NAS-Bench-201 (hyperparameters `edge_i_j`): nodes `"0"` (input) to
      `"3"` (output), an edge `i -> j` labelled with its operation (edges
      whose operation is `none` are left out: they connect nothing);
    * a PNAS / POPNAS cell (`arch["cell"]`): the cell's inputs `"-2"`,
      `"-1"` (the previous cells), a node `"b{j}"` per block (the sum of its
      two operators), edges from each block's inputs labelled with their
      operators, and `"out"` (the concatenation of the unused blocks);
    * a NASH morphable network (`arch["net"]`): a node per layer in
      order (labels such as `conv 3x3, 16`, `pool`, `add`), an edge per
      input, labelled "skip" when it does not come from the previous layer.

    A one-shot search's supernet trial holds every candidate: its values
    are only a default path, so it is drawn as the architecture it derived
    (`outputs["architectures"][0]`, the differentiable searches and ENAS),
    titled so, or not at all.

    Returns:
        `{"kind": "nb201" | "cell" | "network", "title", "nodes": [{"id",
        "label"}], "edges": [{"source", "target", "label"}]}` or None.
    """
    if _is_supernet(trial):
        derived = (trial.get("outputs") or {}).get("architectures") or []
        graph = _nb201_graph(derived[0]) if derived and isinstance(derived[0], Mapping) else None
        return None if graph is None else {
            "kind": "nb201", "title": "derived architecture (the supernet's most probable)",
            **graph}
    arch = _arch(trial)
    cell = _cell(arch)
    if cell is not None:
        return {"kind": "cell", "title": "architecture", **_cell_graph(cell)}
    nodes = _net_nodes(arch)
    if nodes is not None:
        return {"kind": "network", "title": "architecture", **_net_graph(nodes)}
    graph = _nb201_graph(trial.get("values") or {})
    return None if graph is None else {"kind": "nb201", "title": "architecture", **graph}


# ---------------------------------------------------------------------------
# one-shot and lineage
# ---------------------------------------------------------------------------
def _probability_rows(trials: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """ENAS's per-epoch marginal probabilities (`probabilities_by_epoch`),
    else its final `probabilities` as one step at its last epoch."""
    rows = []
    for t in trials:
        outputs = t.get("outputs") or {}
        steps = outputs.get("probabilities_by_epoch")
        if not steps and isinstance(outputs.get("probabilities"), dict):
            last = len(t.get("curve") or []) or int((t.get("metrics") or {}).get("epochs") or 0)
            steps = [{"epoch": last, "probabilities": outputs["probabilities"]}]
        for step in steps or []:
            for choice, candidates in (step.get("probabilities") or {}).items():
                for candidate, p in candidates.items():
                    if _finite(p):
                        rows.append({"step": int(step.get("epoch", 0)), "choice": str(choice),
                                     "candidate": str(candidate), "p": float(p),
                                     "trial_id": str(t["trial_id"])})
    return rows


def oneshot_view(results: Mapping[str, Any]) -> dict[str, Any] | None:
    """The one-shot view (`autokeras_nas.report.oneshot.oneshot_summary`),
    or None when the search has no supernet phase.

    Returns:
        `{"objective", "supernet_trial_id", "estimates": [{"trial_id",
        "estimate_trial", "estimated", "retrained"}], "correlations":
        {"kendall_tau", "spearman", "n"}, "probabilities": [{"step",
        "choice", "candidate", "p", "trial_id"}]}`: estimated (supernet
        weights) against retrained objective of each retrained
        architecture, their rank correlations (None below
        `MIN_CORRELATED` rows or when a side is constant), and ENAS's
        marginal operation probabilities after each supernet epoch (`step`
        the epoch; older results hold only the final ones, given as one
        step at the last epoch; `[]` for other strategies).
    """
    summary = _oneshot.oneshot_summary(results)
    if summary is None:
        return None
    supernets = [t for t in results.get("trials", [])
                 if (t.get("notes") or {}).get("phase") == "supernet"]
    return {"objective": summary["objective"],
            "supernet_trial_id": summary["supernet"]["trial_id"],
            "estimates": [{"trial_id": r["trial_id"], "estimate_trial": r["estimate_trial"],
                           "estimated": r["estimated"], "retrained": r["retrained"]}
                          for r in summary["retrained"]],
            "correlations": {"kendall_tau": _num(summary["kendall_tau"]),
                             "spearman": _num(summary["spearman"]),
                             "n": len(summary["retrained"])},
            "probabilities": _probability_rows(supernets)}


def lineage(results: Mapping[str, Any]) -> dict[str, Any] | None:
    """NASH's family tree of trials (`autokeras_nas.report.lineage`), or
    None when no trial has a parent in the results.

    Returns:
        `{"nodes": [{"trial_id", "x", "y", "value", "label", "status"}],
        "edges": [{"source", "target"}]}`: `x` the generation, `y` a leaf
        slot (`tree_layout`), `value` the first objective (None without a
        result), `label` what made the trial from its parent
        (`step_label`: the morphisms); edges parent -> child.
    """
    if not _lineage.has_lineage(results):
        return None
    name, _ = _objective(results, None)
    up = _lineage.parents(results)
    pos = _lineage.tree_layout(up)
    nodes = [{"trial_id": str(t["trial_id"]), "x": pos[str(t["trial_id"])][0],
              "y": pos[str(t["trial_id"])][1], "value": _measured(t, name),
              "label": _lineage.step_label(t), "status": t.get("status")}
             for t in results.get("trials", [])]
    edges = [{"source": parent, "target": child} for child, parent in up.items()
             if parent is not None]
    return {"nodes": nodes, "edges": edges}
