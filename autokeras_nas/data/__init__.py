"""Datasets for searches: loaded by name, split reproducibly, numpy only.

```python
from autokeras_nas.data import load_dataset
ds = load_dataset("digits", seed=0)
ds.x_train.shape   # (1150, 8, 8, 1)
```

Available now: `digits` (scikit-learn's bundled 8x8 digits),
`fashion_mnist` / `fashion_mnist:MAX_TRAIN` (Zalando's 28x28 Fashion-MNIST, from
the Debian package `dataset-fashion-mnist`) and `ucr:NAME` (UCR/UEA time-series
classification problems bundled with sktime, e.g. `ucr:GunPoint`, as
z-normalised `(steps, channels)` series; needs the `timeseries` extra). New loaders are
one function each, registered with `register` (see `autokeras_nas.data.base`).
Importing this package imports numpy only; a loader imports what it needs
when called.
"""

from autokeras_nas.data import digits as _digits  # noqa: F401  (registers "digits")
from autokeras_nas.data import fashion_mnist as _fashion  # noqa: F401  (registers "fashion_mnist")
from autokeras_nas.data import ucr as _ucr  # noqa: F401  (registers "ucr")
from autokeras_nas.data.base import (
    Dataset,
    Loader,
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
    "Dataset", "Loader", "list_datasets", "load_dataset", "register",
    "stratified_split", "train_val_test_indices", "unregister", "validation_indices",
]
