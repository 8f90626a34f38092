"""Pareto tools: non-dominated sorting, crowding distance, hypervolume.

Every function takes points as an array-like of shape (n, k) oriented
LARGER-IS-BETTER in every column; callers flip minimised objectives (see
`Objective.signed`). Point `a` dominates `b` when it is at least as good in
every column and strictly better in one, so equal points do not dominate each
other.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Dominance is computed in row blocks of this many points (memory bound).
_BLOCK = 1024


def _as_points(points: Any) -> np.ndarray:
    """Validates and converts `points` to a float array of shape (n, k)."""
    arr = np.asarray(points, dtype=float)
    if arr.size == 0:
        return arr.reshape(0, arr.shape[-1] if arr.ndim == 2 else 0)
    if arr.ndim != 2:
        raise ValueError(f"points must have shape (n, k), got shape {arr.shape}")
    if np.isnan(arr).any():
        raise ValueError("points must not contain NaN")
    return arr


def _dominance(points: np.ndarray) -> np.ndarray:
    """Boolean matrix `d` with `d[i, j]` = point i dominates point j."""
    n = len(points)
    dom = np.zeros((n, n), dtype=bool)
    for lo in range(0, n, _BLOCK):
        block = points[lo:lo + _BLOCK, None, :]
        ge = (block >= points[None, :, :]).all(axis=2)
        gt = (block > points[None, :, :]).any(axis=2)
        dom[lo:lo + _BLOCK] = ge & gt
    return dom


def non_dominated_sort(points: Any) -> list[list[int]]:
    """Fast non-dominated sort (Deb et al. 2002).

    Args:
        points: Array-like (n, k), larger is better.

    Returns:
        Fronts of point indices (each ascending); the first front holds the
        non-dominated points. Empty for n = 0.
    """
    pts = _as_points(points)
    if len(pts) == 0:
        return []
    dom = _dominance(pts)
    counts = dom.sum(axis=0)  # how many points dominate each point
    fronts: list[list[int]] = []
    current = np.flatnonzero(counts == 0)
    while current.size:
        fronts.append([int(i) for i in current])
        counts = counts - dom[current].sum(axis=0)
        counts[current] = -1  # removed
        current = np.flatnonzero(counts == 0)
    return fronts


def crowding_distance(points: Any) -> np.ndarray:
    """NSGA-II crowding distance of each point within the given set.

    For every objective the points are sorted (stably); the two boundary
    points get `inf`, an interior point adds the gap between its neighbours
    divided by the objective's range. Objectives with zero range add nothing
    to interior points.

    Args:
        points: Array-like (n, k), usually one front.

    Returns:
        Array of shape (n,); all `inf` when n <= 2.
    """
    pts = _as_points(points)
    n = len(pts)
    distance = np.zeros(n)
    if n <= 2:
        return np.full(n, np.inf)
    for column in pts.T:
        order = np.argsort(column, kind="stable")
        ordered = column[order]
        distance[order[0]] = distance[order[-1]] = np.inf
        span = ordered[-1] - ordered[0]
        if span > 0 and np.isfinite(span):
            distance[order[1:-1]] += (ordered[2:] - ordered[:-2]) / span
    return distance


def pareto_order(points: Any) -> list[int]:
    """All indices, front by front; within a front by crowding distance
    (descending), then index (ascending)."""
    pts = _as_points(points)
    order: list[int] = []
    for front in non_dominated_sort(pts):
        crowd = crowding_distance(pts[front])
        order.extend(i for _, i in sorted(zip(-crowd, front)))
    return order


def hypervolume(points: Any, reference: Any) -> float:
    """Exact hypervolume dominated by `points` with respect to `reference`.

    Only points strictly better than `reference` in every coordinate
    contribute. Two objectives use an O(n log n) sweep; more use exact
    recursive slicing along the last objective (fine for a few hundred
    points).

    Args:
        points: Array-like (n, k), larger is better.
        reference: Array-like (k,), a point worse than the points of interest.

    Returns:
        The volume of the union of the boxes `[reference, point]`.
    """
    pts = _as_points(points)
    ref = np.asarray(reference, dtype=float).reshape(-1)
    if len(pts) == 0:
        return 0.0
    if pts.shape[1] != ref.shape[0]:
        raise ValueError(f"reference has {ref.shape[0]} coordinates, points have {pts.shape[1]}")
    if not np.isfinite(ref).all():
        raise ValueError(f"reference must be finite, got {ref}")
    gains = pts - ref
    gains = gains[(gains > 0).all(axis=1)]
    if len(gains) == 0:
        return 0.0
    if not np.isfinite(gains).all():
        return float("inf")
    if gains.shape[1] == 2:
        return _hv2(gains)  # the sweep copes with dominated points itself
    return float(_hv(_first_front(gains)))


def _first_front(gains: np.ndarray) -> np.ndarray:
    """The non-dominated points, duplicates removed (they add no volume)."""
    unique = np.unique(gains, axis=0)
    if len(unique) <= 1:
        return unique
    dominated = _dominance(unique).any(axis=0)
    return unique[~dominated]


def _hv(gains: np.ndarray) -> float:
    """Volume of the union of boxes [0, g] for positive rows g."""
    k = gains.shape[1]
    if k == 1:
        return float(gains[:, 0].max())
    if k == 2:
        return _hv2(gains)
    order = np.argsort(-gains[:, -1], kind="stable")
    ordered = gains[order]
    heights = np.append(ordered[:, -1], 0.0)
    volume = 0.0
    for i in range(len(ordered)):
        thickness = heights[i] - heights[i + 1]
        if thickness > 0:
            prefix = ordered[:i + 1, :-1]
            # the 2-D sweep copes with dominated points; higher ones are pruned
            volume += thickness * (_hv2(prefix) if k == 3 else _hv(_first_front(prefix)))
    return volume


def _hv2(gains: np.ndarray) -> float:
    """2-D sweep: sort by x descending and add the new strip of height."""
    order = np.lexsort((-gains[:, 1], -gains[:, 0]))
    x, y = gains[order, 0], gains[order, 1]
    previous = np.concatenate(([0.0], np.maximum.accumulate(y)[:-1]))
    return float(np.sum(x * np.clip(y - previous, 0.0, None)))
