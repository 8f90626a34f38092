"""Zalando's Fashion-MNIST (70,000 28x28 grayscale clothing images, 10 classes).

The files come from the Debian package `dataset-fashion-mnist`, which installs
the four original IDX files (gzipped) in `/usr/share/datasets/fashion-mnist`:

    train-images-idx3-ubyte.gz  train-labels-idx1-ubyte.gz   (60,000 images)
    t10k-images-idx3-ubyte.gz   t10k-labels-idx1-ubyte.gz    (10,000 images)

Set `AUTOKERAS_NAS_FASHION_MNIST_DIR` to read them from another directory
(plain or `.gz` files, same names). Parsed with numpy only; no network.

Names for `load_dataset`:

- `fashion_mnist`: all 60,000 official training images (train + validation)
  and the 10,000 official test images.
- `fashion_mnist:N`: the same with at most `N` training images (a seeded,
  stratified subsample; the test set stays the official 10,000), to keep
  searches on a CPU small, e.g. `--dataset fashion_mnist:5000`.

The validation split is the END of the training set (Keras'
`fit(validation_split=...)` convention, `validation="tail"` of
`autokeras_nas.data.split.validation_indices`); the seed only picks the
subsample, so without one the split does not depend on the seed.
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import numpy as np

from autokeras_nas.data.base import Dataset, register
from autokeras_nas.data.split import stratified_split, validation_indices

#: Environment variable overriding `DEFAULT_DIR`.
ENV_VAR = "AUTOKERAS_NAS_FASHION_MNIST_DIR"
#: Where the Debian package `dataset-fashion-mnist` installs the files.
DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
#: Debian package that provides the files.
DEBIAN_PACKAGE = "dataset-fashion-mnist"
#: File stems (each read as `STEM` or `STEM.gz`) of the official splits.
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
#: The class names, by label.
CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
NUM_CLASSES = 10
IMAGE_SHAPE = (28, 28)

# IDX type codes (third byte of the magic number) -> big-endian numpy dtypes.
_IDX_DTYPES = {
    0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8"),
}


def data_dir() -> Path:
    """The directory read: `$AUTOKERAS_NAS_FASHION_MNIST_DIR` or `DEFAULT_DIR`."""
    return Path(os.environ.get(ENV_VAR) or DEFAULT_DIR)


def _missing(directory: Path) -> ValueError:
    return ValueError(
        f"fashion_mnist needs the Debian package {DEBIAN_PACKAGE} "
        f"(apt-get install {DEBIAN_PACKAGE}), files expected in {directory} "
        f"(set {ENV_VAR} to read them from another directory)"
    )


def _files_present(directory: Path) -> bool:
    stems = [stem for pair in FILES.values() for stem in pair]
    return all((directory / s).is_file() or (directory / f"{s}.gz").is_file() for s in stems)


def summary() -> str:
    """One line for `autokeras-nas datasets`: size, source and whether the files are there."""
    directory = data_dir()
    state = (f"present in {directory}" if _files_present(directory) else
             f"MISSING from {directory}: apt-get install {DEBIAN_PACKAGE} or set {ENV_VAR}")
    return (f"70,000 28x28 grey clothing images, 10 classes; "
            f"Debian package {DEBIAN_PACKAGE}, {state}")


def _subset_summary() -> str:
    return "fashion_mnist with at most MAX_TRAIN training images (seeded stratified subsample)"


def _find(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (directory / name).is_file():
            return directory / name
    raise _missing(directory)


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Reads an IDX file (gzipped if its name ends in `.gz`) into an array.

    IDX layout: two zero bytes, a type code (0x08 = unsigned byte), the number
    of dimensions, then each dimension as a big-endian uint32, then the data
    in C order.

    Raises:
        ValueError: Not a valid IDX file.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
        raise ValueError(f"cannot read IDX file {path}: {e}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number)")
    dtype, ndim = _IDX_DTYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path} is truncated (IDX header)")
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) - header != count * dtype.itemsize:
        raise ValueError(
            f"{path}: IDX header says {shape} ({count * dtype.itemsize} bytes of data), "
            f"file has {len(raw) - header}"
        )
    return np.frombuffer(raw, dtype=dtype, count=count, offset=header).reshape(shape)


def _read_split(directory: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images as (n, 28, 28, 1) float32 in [0, 1] and labels as int64."""
    images_stem, labels_stem = FILES[split]
    images = read_idx(_find(directory, images_stem))
    labels = read_idx(_find(directory, labels_stem))
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE or images.dtype != np.uint8:
        raise ValueError(
            f"{images_stem} in {directory}: expected uint8 images of shape (n, 28, 28), "
            f"got {images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(
            f"{labels_stem} in {directory}: expected {len(images)} labels, got shape {labels.shape}"
        )
    y = labels.astype(np.int64)
    if len(y) and (y.min() < 0 or y.max() >= NUM_CLASSES):
        raise ValueError(f"{labels_stem} in {directory}: labels outside [0, {NUM_CLASSES})")
    x = images.astype(np.float32)
    x /= np.float32(255.0)
    return x[..., np.newaxis], y


def _parse_max_train(argument: str) -> int | None:
    if argument == "":
        return None
    try:
        value = int(argument)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(
            f"fashion_mnist:N needs a positive integer N (training images), got {argument!r}"
        )
    return value


@register("fashion_mnist", prefix=True, usage="fashion_mnist:MAX_TRAIN",
          summary=_subset_summary)
@register("fashion_mnist", summary=summary)
def load_fashion_mnist(
    argument: str = "",
    *,
    seed: int = 0,
    validation_split: float = 0.2,
    max_train: int | None = None,
) -> Dataset:
    """Loads Fashion-MNIST as (28, 28, 1) float32 images in [0, 1] with int labels.

    Args:
        argument: `""`, or the `N` of `fashion_mnist:N` (same as `max_train=N`).
        seed: Seed of the subsample (unused when all images are used).
        validation_split: Fraction of the (subsampled) official training set
            held out for validation, taken from its END, in `[0, 1)`.
        max_train: At most this many of the 60,000 official training images
            (train + validation together) are used: a seeded stratified
            subsample kept in file order. `None` (default): all of them. The
            test set is always the official 10,000 images.

    Returns:
        The `Dataset` (name `fashion_mnist`, or `fashion_mnist:N`).

    Raises:
        ValueError: The files are missing (the message names the Debian
            package), unreadable or malformed, or `max_train`/`N` is invalid.
    """
    if argument:
        if max_train is not None:
            raise ValueError("give the training-set size either as fashion_mnist:N or max_train")
        max_train = _parse_max_train(argument)
    elif max_train is not None and (
        isinstance(max_train, bool) or not isinstance(max_train, (int, np.integer)) or max_train < 1
    ):
        raise ValueError(f"max_train must be a positive integer or None, got {max_train!r}")
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")

    directory = data_dir()
    if not directory.is_dir():
        raise _missing(directory)
    x_pool, y_pool = _read_split(directory, "train")
    x_test, y_test = _read_split(directory, "test")

    if max_train is not None and max_train < len(y_pool):
        _, keep = stratified_split(y_pool, max_train / len(y_pool), np.random.default_rng(seed))
        keep = np.sort(keep)
        x_pool, y_pool = x_pool[keep], y_pool[keep]
    train, val = validation_indices(
        y_pool, validation_split, np.random.default_rng(seed), validation="tail"
    )
    return Dataset(
        name="fashion_mnist" if max_train is None else f"fashion_mnist:{int(max_train)}",
        kind="image",
        x_train=x_pool[train], y_train=y_pool[train],
        x_val=x_pool[val], y_val=y_pool[val],
        x_test=x_test, y_test=y_test,
        num_classes=NUM_CLASSES,
        input_shape=x_test.shape[1:],
        source=f"Zalando Fashion-MNIST, Debian package {DEBIAN_PACKAGE} ({directory})",
        class_names=CLASS_NAMES,
    )
