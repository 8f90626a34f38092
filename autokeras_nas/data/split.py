"""Seeded stratified splitting, numpy only.

Class labels (integers, strings) are stratified by class. A float target
(a regression dataset's) is stratified by its quantile bins (`strata`): every
split and fold gets a share of the low, middle and high values.
"""

from __future__ import annotations

import numpy as np

#: Equal-count bins of a float (regression) target that splits are stratified by.
TARGET_STRATA = 10


def strata(y: np.ndarray) -> np.ndarray:
    """What `y` is stratified by: `y` itself unless it is of a float dtype;
    a float target's quantile bin ids (`TARGET_STRATA` bins of equal count by
    rank, ties in sample order; at most one per two samples)."""
    y = np.asarray(y)
    if y.dtype.kind != "f" or len(y) == 0:
        return y
    bins = max(1, min(TARGET_STRATA, len(y) // 2))
    ranks = np.empty(len(y), dtype=np.int64)
    ranks[np.argsort(y, kind="stable")] = np.arange(len(y))
    return ranks * bins // len(y)


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
    """Splits sample indices into (kept, held out), preserving class ratios
    (a float target's: those of its quantile bins, see `strata`).

    Args:
        y: Integer labels (or a float target), shape `(n,)`.
        fraction: Fraction of the samples to hold out, in `[0, 1)`.
        rng: Generator that decides which samples of each class are held out.

    Returns:
        Two index arrays into `y`, each in a seeded random order; the held-out
        one has `round(n * fraction)` entries.
    """
    y = strata(y)
    kept, held = [], []
    for label, count in _class_counts(y, fraction).items():
        idx = rng.permutation(np.flatnonzero(y == label))
        held.append(idx[:count])
        kept.append(idx[count:])
    return rng.permutation(np.concatenate(kept)), rng.permutation(np.concatenate(held))


#: How `validation_indices` picks the validation samples.
VALIDATION_MODES = ("stratified", "tail")


def validation_indices(
    y: np.ndarray,
    validation_split: float,
    rng: np.random.Generator,
    *,
    validation: str = "stratified",
) -> tuple[np.ndarray, np.ndarray]:
    """Splits sample indices into (train, validation).

    Args:
        y: Integer labels, shape `(n,)`, in the data's order.
        validation_split: Fraction of the samples for validation, in `[0, 1)`;
            the validation part has `round(n * validation_split)` entries.
        rng: Generator for the `"stratified"` mode (unused by `"tail"`).
        validation: `"stratified"`: a seeded stratified random sample (see
            `stratified_split`). `"tail"`: the last samples in the given
            order, like Keras' `fit(validation_split=...)`; both parts then
            keep that order.

    Returns:
        `(train, val)` index arrays into `y`.

    Raises:
        ValueError: Unknown `validation` mode.
    """
    if validation == "stratified":
        return stratified_split(y, validation_split, rng)
    if validation == "tail":
        n = len(y)
        n_val = int(round(n * validation_split))
        return np.arange(n - n_val), np.arange(n - n_val, n)
    raise ValueError(
        f"validation must be one of {', '.join(VALIDATION_MODES)}, got {validation!r}"
    )


def train_val_test_indices(
    y: np.ndarray,
    *,
    seed: int,
    test_fraction: float,
    validation_split: float,
    validation: str = "stratified",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stratified train/validation/test indices.

    First `test_fraction` of all samples becomes the test split, then
    `validation_split` of the rest becomes the validation split, chosen as
    `validation_indices` does (`"tail"`: the rest's samples with the highest
    indices).

    Returns:
        `(train, val, test)` index arrays.
    """
    rng = np.random.default_rng(seed)
    rest, test = stratified_split(y, test_fraction, rng)
    if validation == "tail":
        rest = np.sort(rest)
    train_pos, val_pos = validation_indices(
        y[rest], validation_split, rng, validation=validation
    )
    return rest[train_pos], rest[val_pos], test


def stratified_folds(y: np.ndarray, folds: int, rng: np.random.Generator) -> np.ndarray:
    """Assigns every sample to one of `folds` folds, preserving class ratios
    (a float target's: those of its quantile bins, see `strata`).

    Each class's samples are shuffled and dealt to the folds in turn, the
    deal of each class starting where the previous class's ended, so fold
    sizes differ by at most one and every class is spread as evenly as
    its count allows.

    Args:
        y: Integer labels, shape `(n,)`.
        folds: Number of folds, `2 <= folds <= n`.
        rng: Generator that decides the deal.

    Returns:
        The fold id (`0 .. folds - 1`) of each sample, shape `(n,)`.

    Raises:
        ValueError: `folds` is not an integer in `[2, n]`.
    """
    y = strata(y)
    if isinstance(folds, bool) or not isinstance(folds, (int, np.integer)) \
            or not 2 <= folds <= len(y):
        raise ValueError(f"folds must be an integer from 2 to the {len(y)} samples, "
                         f"got {folds!r}")
    assignment = np.empty(len(y), dtype=np.int64)
    start = 0
    for label in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == label))
        assignment[idx] = (start + np.arange(len(idx))) % folds
        start = (start + len(idx)) % folds
    return assignment
