"""scikit-learn's bundled 8x8 handwritten digits (1,797 images, 10 classes)."""

from __future__ import annotations

import numpy as np

from autokeras_nas.data.base import Dataset, register
from autokeras_nas.data.split import train_val_test_indices

#: Fraction of the samples held out as the test split.
TEST_FRACTION = 0.2


@register("digits", summary="1,797 8x8 grey images of handwritten digits, 10 classes; "
                             "bundled with scikit-learn")
def load_digits(argument: str, *, seed: int, validation_split: float) -> Dataset:
    """Loads the digits as (8, 8, 1) float32 images in [0, 1] with int labels.

    The split is stratified and seeded: 20 % test, then `validation_split` of
    the rest as validation. No network is needed; the data ships with
    scikit-learn.
    """
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    x = (bunch.images / 16.0).astype(np.float32)[..., np.newaxis]
    y = bunch.target.astype(np.int64)
    train, val, test = train_val_test_indices(
        y, seed=seed, test_fraction=TEST_FRACTION, validation_split=validation_split
    )
    return Dataset(
        name="digits",
        kind="image",
        x_train=x[train], y_train=y[train],
        x_val=x[val], y_val=y[val],
        x_test=x[test], y_test=y[test],
        num_classes=10,
        input_shape=x.shape[1:],
        source="scikit-learn load_digits (bundled with scikit-learn)",
    )
