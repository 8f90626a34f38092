"""Shared steps of the file loaders (`npz:`, `images:`, `csv:`, `tfds:`), numpy only.

- `encode_labels`: class labels (integers, integral floats, booleans or
  strings) to ids `0..K-1`, in sorted order of the labels (numbers
  numerically), with each id's original label as its class name. Labels that
  already are `0..K-1` keep their ids.
- `infer_task` / `regression_targets`: whether a target is class labels or
  numbers to predict (regression), and a regression target as float32.
- `infer_kind`: a sample's shape to the `Dataset.kind` and input shape.
- `split_indices` / `make_dataset`: the train/validation/test split every
  loader uses: with a given test set, a seeded stratified `validation_split`
  of the training data; without one, first a stratified `TEST_FRACTION` of
  everything as test (as `digits` does), then the validation part. A
  regression target is stratified by its quantile bins (`split.strata`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from autokeras_nas.data.base import Dataset
from autokeras_nas.data.split import train_val_test_indices, validation_indices

#: Fraction of the samples held out as the test split when a file has no test set.
TEST_FRACTION = 0.2
#: Numbers of a CSV target (text, no dtype) with more distinct values than
#: this, all integers, are a quantity to predict (regression), not class
#: ids: a table's class column rarely has more, a count or a price often.
MAX_INTEGER_CLASSES = 20
#: The kinds `infer_kind` can return or accept.
KINDS = ("image", "timeseries", "tabular")
# Sample ranks each kind accepts, the kind guessed from a rank, and the shapes in words.
_SAMPLE_NDIMS = {"image": (2, 3), "timeseries": (1, 2), "tabular": (1,)}
_GUESSED = {1: "tabular", 2: "image", 3: "image"}
_EXPECTED = {"image": "(H, W) or (H, W, C)", "timeseries": "(steps,) or (steps, channels)",
             "tabular": "(features,)"}


def _label_text(value: object) -> str:
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _as_label_array(y: np.ndarray, what: str) -> np.ndarray:
    """`y` as a 1-D array of integers, booleans or strings."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"{what} must be a 1-D array of class labels, got shape {y.shape}")
    if y.dtype.kind in "biuUS":
        return y.astype(str) if y.dtype.kind == "S" else y
    if y.dtype.kind == "f":
        bad = y[~np.isfinite(y) | (np.round(y) != y)] if len(y) else y[:0]
        if len(bad):
            raise ValueError(f"{what} must hold class labels (integers or strings), "
                             f"got the number {float(bad[0])!r}")
        return y.astype(np.int64)
    if y.dtype.kind == "O" and all(isinstance(v, str) for v in y):
        return y.astype(str)
    raise ValueError(f"{what} must hold class labels (integers or strings), got dtype {y.dtype}")


def encode_labels(
    parts: Sequence[np.ndarray], *, what: str = "labels"
) -> tuple[list[np.ndarray], tuple[str, ...]]:
    """Maps class labels to ids `0..K-1` over all `parts` together.

    Args:
        parts: Label arrays (e.g. train and test), each of shape `(n,)` or
            `(n, 1)`: integers, booleans, integral floats or strings.
        what: How the labels are named in errors (e.g. `"y_train"`).

    Returns:
        The int64 ids of each part, and the class names (the original label
        of each id, as text).

    Raises:
        ValueError: Labels that are not class labels (other numbers, NaN, 2-D
            arrays such as one-hot), strings mixed with numbers, or fewer
            than two classes.
    """
    arrays = [_as_label_array(y, what) for y in parts]
    kinds = {"U" if a.dtype.kind == "U" else "n" for a in arrays if len(a)}
    if len(kinds) > 1:
        raise ValueError(f"{what} mixes strings and numbers")
    classes = np.unique(np.concatenate(arrays)) if arrays else np.array([])
    if len(classes) < 2:
        found = f"only {_label_text(classes[0])!r}" if len(classes) else "no labels"
        raise ValueError(f"{what} has {found}; a classifier needs at least 2 classes")
    ids = [np.searchsorted(classes, a).astype(np.int64) for a in arrays]
    return ids, tuple(_label_text(c) for c in classes.tolist())


def infer_task(y: np.ndarray, *, max_integer_classes: int | None = None) -> str:
    """`"regression"` or `"classification"` for a target `y` (shape `(n,)` or
    `(n, 1)`), decided from its values.

    Strings, booleans and integer dtypes are class labels. Floats are a
    regression target when one of them is not an integer (or not finite),
    or, with `max_integer_classes`, when they take more distinct values than
    that (a CSV's numbers, which have no dtype); else class labels.
    """
    y = np.asarray(y)
    if y.dtype.kind != "f" or not y.size:
        return "classification"
    values = y.reshape(-1)
    if not np.all(np.isfinite(values)) or np.any(np.round(values) != values):
        return "regression"
    if max_integer_classes is not None and len(np.unique(values)) > max_integer_classes:
        return "regression"
    return "classification"


def regression_targets(parts: Sequence[np.ndarray], *, what: str = "y") -> list[np.ndarray]:
    """Each part (shape `(n,)` or `(n, 1)`) as a float32 target of shape `(n,)`.

    Raises:
        ValueError: A target that is not numbers (strings), not 1-D,
            non-finite, or the same number everywhere.
    """
    out = []
    for y in parts:
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.ndim != 1:
            raise ValueError(f"{what} must be a 1-D array of numbers for regression, "
                             f"got shape {y.shape}")
        if y.dtype.kind not in "biuf":
            raise ValueError(f"{what} must hold numbers for regression, got "
                             f"{_label_text(y[0]) if len(y) else y.dtype}; "
                             "use --task classification for class labels")
        y = y.astype(np.float64)
        if not np.all(np.isfinite(y)):
            raise ValueError(f"{what} has missing or non-finite values (NaN or inf)")
        out.append(y.astype(np.float32))
    values = np.concatenate(out) if out else np.zeros(0)
    if len(np.unique(values)) < 2:
        raise ValueError(f"{what} holds one value only; a regressor needs at least 2")
    return out


def infer_kind(
    sample_shape: Sequence[int], declared: str | None = None, *, what: str = "x"
) -> tuple[str, tuple[int, ...]]:
    """The `Dataset.kind` and input shape of samples of `sample_shape`.

    Without `declared`: `(features,)` is `"tabular"`; `(H, W)` is a grey
    `"image"` (a channel axis is added); `(H, W, C)` is an `"image"`. A
    `(steps, channels)` time series looks like `(H, W)`: declare
    `"timeseries"` for it (a `(steps,)` sample then gets one channel).

    Raises:
        ValueError: A shape that fits no kind, or an unknown `declared` kind.
    """
    shape = tuple(int(d) for d in sample_shape)
    if declared is not None and declared not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, got {declared!r}")
    kind = declared or _GUESSED.get(len(shape))
    if kind is None or len(shape) not in _SAMPLE_NDIMS[kind] or 0 in shape:
        expected = _EXPECTED[kind] if kind else "(features,), (H, W) or (H, W, C)"
        raise ValueError(f"{what}: samples of shape {shape} fit no {kind or 'kind'}; "
                         f"expected {expected}")
    if len(shape) == min(_SAMPLE_NDIMS[kind]) and kind != "tabular":
        shape = (*shape, 1)  # (H, W) -> (H, W, 1); (steps,) -> (steps, 1)
    return kind, shape


def as_inputs(x: np.ndarray, input_shape: Sequence[int], *, what: str = "x") -> np.ndarray:
    """`x` as float32 of shape `(n, *input_shape)`; uint8 is scaled to [0, 1].

    Raises:
        ValueError: Non-numeric or non-finite values.
    """
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise ValueError(f"{what} must be numeric, got dtype {x.dtype}")
    out = x.astype(np.float32)
    if x.dtype == np.uint8:
        out /= np.float32(255.0)
    if out.size and not np.all(np.isfinite(out)):
        raise ValueError(f"{what} has missing or non-finite values (NaN or inf)")
    return out.reshape((len(x), *input_shape))


def split_indices(
    y: np.ndarray, *, seed: int, validation_split: float, has_test: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """`(train, val, test)` indices into `y`; `test` is `None` when `has_test`.

    With a separate test set, `validation_split` of `y` (stratified, seeded)
    is the validation part; without one, `TEST_FRACTION` of `y` is first
    held out as the test part, as `digits` does.
    """
    if has_test:
        train, val = validation_indices(y, validation_split, np.random.default_rng(seed))
        return train, val, None
    return train_val_test_indices(
        y, seed=seed, test_fraction=TEST_FRACTION, validation_split=validation_split
    )


def make_dataset(
    *,
    name: str,
    kind: str,
    x: np.ndarray,
    y: np.ndarray,
    seed: int,
    validation_split: float,
    class_names: Sequence[str],
    source: str,
    x_test: np.ndarray | None = None,
    y_test: np.ndarray | None = None,
    task: str = "classification",
) -> Dataset:
    """Splits `x, y` as `split_indices` does and returns the `Dataset`.

    `x_test, y_test` (both or neither) are the given test set. A
    `"regression"` task has float32 targets, no class names and
    `num_classes` 0.
    """
    has_test = x_test is not None and y_test is not None
    train, val, test = split_indices(y, seed=seed, validation_split=validation_split,
                                     has_test=has_test)
    if test is not None:
        x_test, y_test = x[test], y[test]
    return Dataset(
        name=name, kind=kind,
        x_train=x[train], y_train=y[train],
        x_val=x[val], y_val=y[val],
        x_test=x_test, y_test=y_test,
        num_classes=0 if task == "regression" else len(class_names),
        input_shape=tuple(x.shape[1:]),
        source=source,
        class_names=tuple(class_names),
        task=task,
    )
