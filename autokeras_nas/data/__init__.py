"""Datasets for searches: loaded by name, split reproducibly, numpy only
(a streamed image folder builds its `tf.data` pipelines when trained on).

```python
from autokeras_nas.data import load_dataset
ds = load_dataset("digits", seed=0)
ds.x_train.shape   # (1150, 8, 8, 1)
ds = load_dataset("csv:penguins.csv", target="species")
ds = load_dataset("tfds:mnist", data_dir="~/tensorflow_datasets")
```

Datasets
--------
`autokeras-nas datasets` lists them with their size and source.

- `digits`: scikit-learn's bundled 8x8 digits (1,797 grey images, 10 classes).
- `fashion_mnist` / `fashion_mnist:MAX_TRAIN`: Zalando's 28x28 Fashion-MNIST
  from the Debian package `dataset-fashion-mnist` (or
  `$AUTOKERAS_NAS_FASHION_MNIST_DIR`); see `data.fashion_mnist`.
- `ucr:NAME`: UCR/UEA time-series classification problems bundled with
  sktime, e.g. `ucr:GunPoint`, z-normalised `(steps, channels)` series
  (needs the `timeseries` extra); see `data.ucr`.
- `npz:PATH`: arrays `x_train`, `y_train` (and optionally `x_test`,
  `y_test`) of a `.npz` file; the kind comes from the sample shape (3-D
  arrays are grey images unless the file holds `kind="timeseries"`); see
  `data.npz`.
- `images:DIR` with optional `image_size` (`--image-size H,W`) and `stream`
  (`--stream/--no-stream`): one sub-folder of PNG/JPEG images per class,
  resized to one size (default: the most common) and scaled to [0, 1];
  loaded into arrays, or streamed from disk through `tf.data` when large
  (`Dataset.streamed`); see `data.images`.
- `csv:PATH` with `target` (`--target`): a table whose target column holds
  the classes or (regression) numbers; numeric columns standardised with
  training statistics, text columns one-hot encoded; see `data.table`.
- `tfds:NAME[:SPLIT]` with an optional `data_dir` (`--data-dir`): a
  TensorFlow Datasets dataset, downloaded only where a network exists; see
  `data.tfds`.

Labels always become ids `0..K-1`; `Dataset.class_names` keeps the original
labels where the loader knows them. `csv:` and `npz:` also make regression
datasets (`Dataset.task == "regression"`, float32 targets in their own
units) when the target is numbers (see `data.table`, `data.npz`); `task`
(`--task classification|regression`) overrides that choice. Without a test
set in the source, a seeded stratified 20 % becomes the test split (a
regression target is stratified by its quantile bins); `validation_split` of
the rest is the validation split. Every bad input is a one-line `ValueError`.

New loaders are one function each, registered with `register` (see
`autokeras_nas.data.base`). Importing this package imports numpy only; a
loader imports what it needs (Pillow, sktime, TensorFlow) when called.
"""

from autokeras_nas.data import digits as _digits  # noqa: F401  (registers "digits")
from autokeras_nas.data import fashion_mnist as _fashion  # noqa: F401  (registers "fashion_mnist")
from autokeras_nas.data import images as _images  # noqa: F401  (registers "images")
from autokeras_nas.data import npz as _npz  # noqa: F401  (registers "npz")
from autokeras_nas.data import table as _table  # noqa: F401  (registers "csv")
from autokeras_nas.data import tfds as _tfds  # noqa: F401  (registers "tfds")
from autokeras_nas.data import ucr as _ucr  # noqa: F401  (registers "ucr")
from autokeras_nas.data.base import (
    Dataset,
    Loader,
    dataset_summaries,
    list_datasets,
    load_dataset,
    register,
    unregister,
)
from autokeras_nas.data.split import (
    stratified_split,
    train_val_test_indices,
    validation_indices,
)

__all__ = [
    "Dataset", "Loader", "dataset_summaries", "list_datasets", "load_dataset", "register",
    "stratified_split", "train_val_test_indices", "unregister", "validation_indices",
]
