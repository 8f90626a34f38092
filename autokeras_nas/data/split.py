"""Seeded stratified splitting, numpy only."""

from __future__ import annotations

import numpy as np


def _class_counts(y: np.ndarray, fraction: float) -> dict[int, int]:
    """Per-class held-out counts summing to `round(len(y) * fraction)`.

    Each class gets the floor of its share; the remainder goes to the classes
    with the largest fractional parts (ties to the smaller class id).
    """
    classes, sizes = np.unique(y, return_counts=True)
    shares = sizes * fraction
    counts = np.floor(shares).astype(int)
    remainder = int(round(len(y) * fraction)) - int(counts.sum())
    order = np.lexsort((classes, -(shares - counts)))
    counts[order[:remainder]] += 1
    return {int(c): int(n) for c, n in zip(classes, counts)}


def stratified_split(
    y: np.ndarray, fraction: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Splits sample indices into (kept, held out), preserving class ratios.

    Args:
        y: Integer labels, shape `(n,)`.
        fraction: Fraction of the samples to hold out, in `[0, 1)`.
        rng: Generator that decides which samples of each class are held out.

    Returns:
        Two index arrays into `y`, each in a seeded random order; the held-out
        one has `round(n * fraction)` entries.
    """
    kept, held = [], []
    for label, count in _class_counts(y, fraction).items():
        idx = rng.permutation(np.flatnonzero(y == label))
        held.append(idx[:count])
        kept.append(idx[count:])
    return rng.permutation(np.concatenate(kept)), rng.permutation(np.concatenate(held))


def train_val_test_indices(
    y: np.ndarray, *, seed: int, test_fraction: float, validation_split: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratified train/validation/test indices.

    First `test_fraction` of all samples becomes the test split, then
    `validation_split` of the rest becomes the validation split.

    Returns:
        `(train, val, test)` index arrays.
    """
    rng = np.random.default_rng(seed)
    rest, test = stratified_split(y, test_fraction, rng)
    train_pos, val_pos = stratified_split(y[rest], validation_split, rng)
    return rest[train_pos], rest[val_pos], test
