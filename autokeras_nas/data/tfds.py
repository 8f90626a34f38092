"""`tfds:NAME[:SPLIT]`: a dataset of TensorFlow Datasets (tensorflow-datasets).

```bash
autokeras-nas search --dataset tfds:mnist --data-dir ~/tensorflow_datasets ...
autokeras-nas search --dataset "tfds:cifar10:train[:5000]" ...
```

Loaded with `tfds.load(NAME, split=..., data_dir=..., as_supervised=True)`,
so NAME is anything tfds accepts, with a config and version if wanted
(`tfds:mnist:3.0.1`, `tfds:imagenette/160px`):

- Data: read from `data_dir` (`--data-dir`; default tfds' own,
  `$TFDS_DATA_DIR` or `~/tensorflow_datasets`). When the data is not there,
  tfds downloads and prepares it, which needs a network; without one the
  loader stops with a one-line `ValueError` saying to prepare the data where
  a network exists and pass `--data-dir`.
- Splits: `tfds:NAME` uses the official `train` split for training and
  validation (a seeded stratified `validation_split` of it) and the official
  `test` split as the test set; a dataset without a `test` split gets a
  stratified 20 % of `train` as test. `tfds:NAME:SPLIT` uses only SPLIT (a
  tfds split expression, e.g. `train[:2000]` or `train+test`) and splits it
  20 % test, then validation, like `npz:`.
- Inputs: the dataset's supervised input feature, every sample of one
  shape; uint8 images are scaled to [0, 1]; the kind comes from the shape
  as for `npz:` (`(H, W, C)` image, `(features,)` tabular). Text and inputs
  of varying shape are refused.
- Labels: the supervised label feature, which must be a `ClassLabel`: its
  ids are kept, `num_classes` and `Dataset.class_names` come from it.

TensorFlow and tensorflow-datasets are imported only when a dataset is
loaded. Tests use tfds' own `tfds.testing.mock_data`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import numpy as np

from autokeras_nas.data.arrays import as_inputs, infer_kind, make_dataset
from autokeras_nas.data.base import Dataset, register

SUMMARY = ("TensorFlow Datasets by name (e.g. tfds:mnist, tfds:cifar10:train[:5000]); "
           "read from --data-dir DIR, downloaded only where a network exists")
#: Samples per batch when converting to numpy.
BATCH = 1024

_VERSION = re.compile(r"\d+\.(\d+|\*)\.(\d+|\*)")


def parse(argument: str) -> tuple[str, str | None]:
    """`NAME[:VERSION][:SPLIT]` -> (`NAME[:VERSION]`, SPLIT or `None`)."""
    name, _, rest = argument.partition(":")
    version, sep, split = rest.partition(":")
    if _VERSION.fullmatch(version):
        return f"{name}:{version}", split if sep else None
    return name, rest if rest else None


def _one_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return f"{type(error).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def _import_tfds() -> Any:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise ValueError(f"tfds datasets need tensorflow-datasets ({e}): "
                         "pip install tensorflow-datasets") from None
    tfds.disable_progress_bar()
    return tfds


def _builder(tfds: Any, name: str, data_dir: str | None) -> Any:
    from tensorflow_datasets.core.registered import DatasetNotFoundError

    try:
        return tfds.builder(name, data_dir=data_dir)
    except DatasetNotFoundError:
        raise ValueError(f"tfds: unknown dataset {name!r} "
                         "(tfds.list_builders() lists the known ones)") from None
    except Exception as e:  # a bad config or version, ...
        raise ValueError(f"tfds: cannot make a builder for {name!r}: {_one_line(e)}") from None


def _not_available(name: str, data_dir: str | None, error: BaseException) -> ValueError:
    where = data_dir or "tfds' default data directory"
    bare = name.partition(":")[0]
    return ValueError(
        f"tfds:{name} is not in {where} and could not be downloaded ({_one_line(error)}); "
        f"prepare it where a network exists (tfds.builder({bare!r}, data_dir=DIR)"
        f".download_and_prepare()) and pass --data-dir DIR"
    )


def _load(
    tfds: Any, name: str, split: str, data_dir: str | None, *, optional: bool = False
) -> Any:
    """`tfds.load(..., as_supervised=True)`; downloads only when the data is missing.

    With `optional`, an unknown split gives `None` instead of an error.
    """
    kwargs = dict(split=split, data_dir=data_dir, as_supervised=True)
    try:
        return tfds.load(name, download=False, **kwargs)
    except AssertionError:  # tfds: "could not find data in DATA_DIR"
        pass
    except ValueError as e:  # unknown split and the like
        if optional and "split" in str(e).lower():
            return None
        raise ValueError(f"tfds:{name}: cannot load split {split!r}: {_one_line(e)}") from None
    try:
        return tfds.load(name, download=True, **kwargs)
    except Exception as e:  # no network, download refused, missing modules, ...
        raise _not_available(name, data_dir, e) from None


def _to_numpy(tfds: Any, ds: Any, name: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    x_spec, _ = ds.element_spec
    if x_spec.dtype.name == "string":
        raise ValueError(f"tfds:{name}: inputs are strings (text); only images and numeric "
                         "features are supported")
    if not x_spec.shape.is_fully_defined():
        raise ValueError(f"tfds:{name}: inputs have varying shape {tuple(x_spec.shape)}; "
                         "only datasets whose samples share one shape are supported")
    xs, ys = [], []
    for x, y in tfds.as_numpy(ds.batch(BATCH)):
        xs.append(x)
        ys.append(y)
    if not xs:
        raise ValueError(f"tfds:{name}: split {split!r} is empty")
    return np.concatenate(xs), np.concatenate(ys).astype(np.int64).reshape(-1)


def _class_names(builder: Any, name: str) -> tuple[str, ...]:
    keys = builder.info.supervised_keys
    if not keys or len(keys) != 2 or not isinstance(keys[1], str):
        raise ValueError(f"tfds:{name} has no (input, label) supervised keys; "
                         "only supervised classification datasets are supported")
    feature = builder.info.features[keys[1]]
    names = getattr(feature, "names", None)
    if not names:
        raise ValueError(f"tfds:{name}: the label {keys[1]!r} is not a class label")
    return tuple(str(n) for n in names)


def _has_test_split(builder: Any) -> bool:
    splits = builder.info.splits
    return not splits or "test" in splits  # empty when unknown (e.g. under mock_data)


def _check_data_dir(data_dir: str | None) -> str | None:
    if data_dir is None:
        return None
    path = Path(data_dir).expanduser()
    if not path.is_dir():
        raise ValueError(f"--data-dir {data_dir} is not a directory")
    return str(path)


@register("tfds", prefix=True, usage="tfds:NAME[:SPLIT]", summary=SUMMARY, options=("data_dir",))
def load_tfds(
    argument: str, *, seed: int = 0, validation_split: float = 0.2, data_dir: str | None = None
) -> Dataset:
    """Loads `tfds:NAME[:SPLIT]` (see the module docstring).

    Args:
        argument: `NAME[:VERSION][:SPLIT]`, e.g. `"mnist"` or `"mnist:train[:1000]"`.
        seed: Seed of the stratified validation (and test) splits.
        validation_split: Fraction of the non-test data for validation.
        data_dir: tfds' data directory (`--data-dir`); default tfds' own.

    Returns:
        The `Dataset` named `tfds:ARGUMENT`.

    Raises:
        ValueError: An unknown name or split, data neither in `data_dir` nor
            downloadable, a non-classification dataset, or unsupported
            inputs (all one line).
    """
    name, split = parse(argument)
    if not name:
        raise ValueError("tfds needs a dataset name, e.g. tfds:mnist")
    data_dir = _check_data_dir(data_dir)
    tfds = _import_tfds()
    builder = _builder(tfds, name, data_dir)
    class_names = _class_names(builder, name)
    x, y = _to_numpy(tfds, _load(tfds, name, split or "train", data_dir), name, split or "train")
    test_ds = None
    if split is None and _has_test_split(builder):
        test_ds = _load(tfds, name, "test", data_dir, optional=True)
    test = None if test_ds is None else _to_numpy(tfds, test_ds, name, "test")
    if len(y) and (y.min() < 0 or y.max() >= len(class_names)):
        raise ValueError(f"tfds:{name}: labels outside [0, {len(class_names)})")
    kind, input_shape = infer_kind(x.shape[1:], what=f"tfds:{name}")
    parts = "official train/test splits" if test is not None else f"split {split or 'train'}"
    return make_dataset(
        name=f"tfds:{argument}", kind=kind,
        x=as_inputs(x, input_shape, what=f"tfds:{name}"), y=y,
        x_test=None if test is None else as_inputs(test[0], input_shape, what=f"tfds:{name}"),
        y_test=None if test is None else test[1],
        seed=seed, validation_split=validation_split, class_names=class_names,
        source=f"TensorFlow Datasets {name} ({parts}) from {data_dir or 'the default data_dir'}",
    )
