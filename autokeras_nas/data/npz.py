"""`npz:PATH`: arrays saved with `numpy.savez` (or `savez_compressed`).

The archive holds `x_train` and `y_train`, optionally `x_test` and `y_test`
(both or neither), and optionally a `kind` (a string array: `"image"`,
`"timeseries"` or `"tabular"`):

```python
np.savez("mine.npz", x_train=x, y_train=y)                   # 20 % becomes the test set
np.savez("mine.npz", x_train=x, y_train=y, x_test=xt, y_test=yt)
np.savez("series.npz", x_train=x, y_train=y, kind="timeseries")
```

- Kind, from the shape of one sample unless `kind` says otherwise:
  `(features,)` is tabular; `(H, W)` is a grey image (a channel axis is
  added, giving `(H, W, 1)`); `(H, W, C)` is an image. A time series
  `(steps, channels)` has the shape of a grey image, so 3-D `x_train` arrays
  are read as images unless the file says `kind="timeseries"`.
- Values: cast to float32; `uint8` arrays (e.g. raw pixels) are divided by
  255, every other dtype is used as given. NaN/inf are refused.
- Labels: integers, booleans, integral floats or strings, of shape `(n,)`
  or `(n, 1)` (not one-hot); mapped to ids `0..K-1` in sorted label order
  (so integer labels `0..K-1` keep their ids) and `Dataset.class_names`
  holds each id's original label.
- Regression: float labels of which one is not an integer are a target to
  predict (`Dataset.task == "regression"`, float32, as given). `task`
  (`--task classification|regression`) overrides that choice (e.g.
  regression on integral floats or integers).
- Splits: without a test set, a seeded stratified 20 % of the samples is
  the test split; then `validation_split` of the rest (or of the given
  training set) is the validation split. A regression target is stratified
  by its quantile bins.

Object (pickled) arrays are refused: the file is read with
`allow_pickle=False`.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from autokeras_nas.data.arrays import (
    as_inputs,
    encode_labels,
    infer_kind,
    infer_task,
    make_dataset,
    regression_targets,
)
from autokeras_nas.data.base import Dataset, register

SUMMARY = ("arrays x_train, y_train[, x_test, y_test] from a .npz file; "
           "kind from the sample shape (image, tabular) or a 'kind' array; "
           "non-integer float labels: regression (--task overrides)")


def _read(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise ValueError(f"npz: no such file: {path}")
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
        if magic.startswith(b"\x93NUMPY"):
            raise ValueError(f"npz: {path} is a .npy array, not a .npz archive of named arrays")
        if not magic.startswith(b"PK"):
            raise ValueError(f"npz: {path} is not a .npz archive (numpy.savez writes one)")
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except ValueError as e:
        if str(e).startswith("npz: "):
            raise
        if "allow_pickle" in str(e):
            raise ValueError(f"npz: {path} holds object (pickled) arrays; "
                             "save numeric or string arrays") from None
        raise ValueError(f"npz: cannot read {path}: {e}") from None
    except (OSError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"npz: cannot read {path} as a .npz archive: {e}") from None


def _kind(arrays: dict[str, np.ndarray], path: Path) -> str | None:
    if "kind" not in arrays:
        return None
    kind = arrays["kind"]
    if kind.ndim != 0 or kind.dtype.kind not in "US":
        raise ValueError(f"npz: {path}: 'kind' must be one string, e.g. np.array('timeseries')")
    return str(kind.astype(str))


def _check_pair(arrays: dict[str, np.ndarray], x_key: str, y_key: str, path: Path) -> None:
    x, y = arrays[x_key], arrays[y_key]
    if x.ndim < 2:
        raise ValueError(f"npz: {path}: {x_key} must have a sample axis and at least one "
                         f"more, got shape {x.shape}")
    if len(x) != len(y):
        raise ValueError(f"npz: {path}: {x_key} has {len(x)} samples but {y_key} has {len(y)}")


def _arrays(path: Path) -> dict[str, np.ndarray]:
    arrays = _read(path)
    for key in ("x_train", "y_train"):
        if key not in arrays:
            found = ", ".join(sorted(arrays)) or "none"
            raise ValueError(f"npz: {path} has no array {key!r} (arrays: {found})")
    if ("x_test" in arrays) != ("y_test" in arrays):
        raise ValueError(f"npz: {path} has only one of x_test and y_test; give both or neither")
    _check_pair(arrays, "x_train", "y_train", path)
    if "x_test" in arrays:
        _check_pair(arrays, "x_test", "y_test", path)
        if arrays["x_test"].shape[1:] != arrays["x_train"].shape[1:]:
            raise ValueError(f"npz: {path}: x_test samples have shape {arrays['x_test'].shape[1:]}"
                             f", x_train samples {arrays['x_train'].shape[1:]}")
    return arrays


@register("npz", prefix=True, usage="npz:PATH", summary=SUMMARY, options=("task",))
def load_npz(argument: str, *, seed: int = 0, validation_split: float = 0.2,
             task: str | None = None) -> Dataset:
    """Loads `npz:PATH` (see the module docstring for the layout).

    Args:
        argument: The PATH of `npz:PATH` (`~` is expanded).
        seed: Seed of the stratified test and validation splits.
        validation_split: Fraction of the non-test data for validation.
        task: `"classification"` or `"regression"` (`--task`); None: from
            the labels (non-integer floats: regression).

    Returns:
        The `Dataset` named `npz:PATH`.

    Raises:
        ValueError: A missing or unreadable file, missing arrays, mismatched
            lengths or shapes, labels that are not class labels or of one
            class, non-finite inputs (all one line).
    """
    if not argument:
        raise ValueError("npz needs a file, e.g. npz:data.npz")
    path = Path(argument).expanduser()
    arrays = _arrays(path)
    kind, input_shape = infer_kind(arrays["x_train"].shape[1:], _kind(arrays, path),
                                   what=f"npz: {path}: x_train")
    has_test = "x_test" in arrays
    label_keys = ("y_train", "y_test") if has_test else ("y_train",)
    labels = [arrays[k] for k in label_keys]
    if task is None:
        task = "regression" if any(infer_task(y) == "regression" for y in labels) \
            else "classification"
    if task == "regression":
        ids, class_names = regression_targets(labels, what=f"npz: {path}: y"), ()
    else:
        ids, class_names = encode_labels(labels, what=f"npz: {path}: y")
    x = as_inputs(arrays["x_train"], input_shape, what=f"npz: {path}: x_train")
    x_test = as_inputs(arrays["x_test"], input_shape, what=f"npz: {path}: x_test") if has_test \
        else None
    test_note = "given test set" if has_test else "stratified 20 % test split"
    return make_dataset(
        name=f"npz:{argument}", kind=kind, x=x, y=ids[0],
        x_test=x_test, y_test=ids[1] if has_test else None,
        seed=seed, validation_split=validation_split, class_names=class_names,
        source=f"arrays from {path} ({kind} {task}, {test_note})", task=task,
    )
