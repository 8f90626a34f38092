"""Unit tests of autokeras_nas.core.pareto (no TensorFlow)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from autokeras_nas.core.pareto import (
    crowding_distance,
    hypervolume,
    non_dominated_sort,
    pareto_order,
)


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(a >= b) and np.any(a > b))


def brute_force_fronts(points: np.ndarray) -> list[list[int]]:
    """Peel off the non-dominated set repeatedly, O(n^2) per front."""
    remaining = list(range(len(points)))
    fronts = []
    while remaining:
        front = [i for i in remaining
                 if not any(dominates(points[j], points[i]) for j in remaining)]
        fronts.append(front)
        remaining = [i for i in remaining if i not in front]
    return fronts


def grid_hypervolume(points: np.ndarray, reference: np.ndarray) -> float:
    """Exact volume for integer points: count the covered unit cells."""
    gains = points - reference
    gains = gains[(gains > 0).all(axis=1)]
    if len(gains) == 0:
        return 0.0
    top = gains.max(axis=0).astype(int)
    cells = np.array(list(itertools.product(*(range(t) for t in top))), dtype=float)
    covered = ((cells[:, None, :] + 1) <= gains[None, :, :]).all(axis=2).any(axis=1)
    return float(covered.sum())


def monte_carlo_hypervolume(points, reference, rng, n=200_000) -> float:
    gains = points - reference
    gains = gains[(gains > 0).all(axis=1)]
    top = gains.max(axis=0)
    samples = rng.random((n, points.shape[1])) * top
    covered = np.zeros(n, dtype=bool)
    for g in gains:
        covered |= (samples <= g).all(axis=1)
    return float(covered.mean() * np.prod(top))


# -- non-dominated sort ------------------------------------------------------
def test_fronts_hand_example():
    points = [[1, 5], [2, 4], [3, 3], [2, 2], [1, 1], [3, 3], [0, 6], [1, 4]]
    assert non_dominated_sort(points) == [[0, 1, 2, 5, 6], [3, 7], [4]]


def test_fronts_edge_cases():
    assert non_dominated_sort([]) == []
    assert non_dominated_sort(np.zeros((0, 3))) == []
    assert non_dominated_sort([[1.0, 2.0]]) == [[0]]
    assert non_dominated_sort([[1, 1], [1, 1]]) == [[0, 1]]  # equal points: one front
    assert non_dominated_sort([[3], [1], [2], [3]]) == [[0, 3], [2], [1]]
    with pytest.raises(ValueError):
        non_dominated_sort([1, 2, 3])
    with pytest.raises(ValueError):
        non_dominated_sort([[np.nan, 1.0]])


@pytest.mark.parametrize("k", [2, 3, 4])
def test_fronts_random_vs_brute_force(k):
    rng = np.random.default_rng(k)
    for _ in range(20):
        n = int(rng.integers(1, 60))
        points = rng.integers(0, 6, size=(n, k)).astype(float)  # many ties
        assert non_dominated_sort(points) == brute_force_fronts(points)


def test_fronts_large_inputs_use_blocks():
    rng = np.random.default_rng(0)
    points = rng.random((2500, 2))
    fronts = non_dominated_sort(points)
    assert sorted(i for f in fronts for i in f) == list(range(2500))
    first = set(fronts[0])
    for i in range(0, 2500, 97):
        is_dominated = bool(np.any(np.all(points >= points[i], axis=1) & np.any(points > points[i], axis=1)))
        assert (i in first) == (not is_dominated)


# -- crowding ------------------------------------------------------------------
def test_crowding_hand_example():
    d = crowding_distance([[0, 4], [1, 3], [2, 2], [4, 0]])
    assert d[0] == np.inf and d[3] == np.inf
    assert d[1] == pytest.approx(2 / 4 + 2 / 4)
    assert d[2] == pytest.approx(3 / 4 + 3 / 4)


def test_crowding_small_sets_and_degenerate_objective():
    assert crowding_distance(np.zeros((0, 2))).shape == (0,)
    assert np.all(crowding_distance([[1, 2], [2, 1]]) == np.inf)
    d = crowding_distance([[0, 1], [1, 1], [3, 1]])  # second objective constant
    assert d[1] == pytest.approx(3 / 3)


def test_pareto_order():
    points = [[0, 4], [1, 3], [2, 2], [4, 0], [0, 0], [1, 1], [3, 2.5]]
    # front 1: 0, 1, 3, 6 (2 is dominated by 6); front 2: 2, 5; front 3: 4
    order = pareto_order(points)
    assert sorted(order) == list(range(7))
    assert set(order[:4]) == {0, 1, 3, 6} and set(order[4:6]) == {2, 5} and order[6] == 4
    d = crowding_distance([points[i] for i in (0, 1, 3, 6)])
    assert d[0] == d[2] == np.inf and d[3] > d[1]  # boundaries first, then 6 before 1
    assert order[:4] == [0, 3, 6, 1]
    assert pareto_order([]) == []
    # equal points: stable sort makes 0 and 2 the boundaries (inf), 1 interior (0)
    assert pareto_order([[1, 1], [1, 1], [1, 1]]) == [0, 2, 1]


# -- hypervolume -------------------------------------------------------------------
def test_hypervolume_hand_cases():
    assert hypervolume([[1, 3], [2, 2], [3, 1]], [0, 0]) == pytest.approx(6.0)
    assert hypervolume([[1, 3], [2, 2], [3, 1], [1, 1]], [0, 0]) == pytest.approx(6.0)
    assert hypervolume([[2, 2]], [1, 1]) == pytest.approx(1.0)
    assert hypervolume([[1, 1, 1], [2, 0.5, 0.5]], [0, 0, 0]) == pytest.approx(1.25)
    # two unit-ish boxes overlapping in a 1x1x1 cube
    assert hypervolume([[2, 1, 1], [1, 2, 1], [1, 1, 2]], [0, 0, 0]) == pytest.approx(4.0)
    assert hypervolume([[5]], [1]) == pytest.approx(4.0)
    assert hypervolume(np.zeros((0, 2)), [0, 0]) == 0.0


def test_hypervolume_ignores_points_not_better_than_reference():
    assert hypervolume([[1, 0], [0, 5], [-1, 3]], [0, 0]) == 0.0
    assert hypervolume([[1, 0], [2, 2]], [0, 0]) == pytest.approx(4.0)
    # negative (minimised, flipped) objectives work as well
    assert hypervolume([[-1, -1]], [-3, -2]) == pytest.approx(2.0)


def test_hypervolume_validates():
    with pytest.raises(ValueError):
        hypervolume([[1, 2]], [0, 0, 0])
    with pytest.raises(ValueError):
        hypervolume([[1, 2]], [0, np.inf])


@pytest.mark.parametrize("k", [2, 3, 4])
def test_hypervolume_integer_points_vs_grid(k):
    rng = np.random.default_rng(10 + k)
    for _ in range(15):
        n = int(rng.integers(1, 12))
        points = rng.integers(-1, 6, size=(n, k)).astype(float)
        ref = np.zeros(k)
        assert hypervolume(points, ref) == pytest.approx(grid_hypervolume(points, ref))


@pytest.mark.parametrize("k", [2, 3])
def test_hypervolume_random_points_vs_monte_carlo(k):
    rng = np.random.default_rng(k)
    points = rng.random((25, k))
    if k == 2:
        points = np.column_stack([points[:, 0], 1 - points[:, 0] ** 2 * points[:, 1]])
    exact = hypervolume(points, np.zeros(k))
    estimate = monte_carlo_hypervolume(points, np.zeros(k), rng)
    assert exact == pytest.approx(estimate, rel=0.02)


def test_hypervolume_invariances_and_monotonicity():
    rng = np.random.default_rng(4)
    points = rng.random((40, 3))
    ref = np.full(3, -0.1)
    hv = hypervolume(points, ref)
    assert hypervolume(points[rng.permutation(40)], ref) == pytest.approx(hv)
    assert hypervolume(np.vstack([points, points * 0.5]), ref) == pytest.approx(hv)
    assert hypervolume(np.vstack([points, [[1.5, 1.5, 1.5]]]), ref) > hv
    assert hypervolume(points + 1, ref + 1) == pytest.approx(hv)


def test_hypervolume_few_hundred_points_3d():
    rng = np.random.default_rng(0)
    x = rng.random((300, 3))
    points = x / np.linalg.norm(x, axis=1, keepdims=True)  # all non-dominated-ish
    hv = hypervolume(points, np.zeros(3))
    assert 0.4 < hv < np.pi / 6 + 1e-9  # below the octant of the unit ball
