"""The fashion_mnist loader (numpy only, no TensorFlow).

Tests marked `real` read the Debian package `dataset-fashion-mnist`. `.ci/run`
installs it; elsewhere they are skipped when it is missing, with the reason,
and on CI (CI=true) a skip fails the run (tests/conftest.py). The others
write their own small IDX files.
"""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from autokeras_nas.data import Dataset, list_datasets, load_dataset, validation_indices
from autokeras_nas.data import fashion_mnist as fm

FILE_NAMES = [
    "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
]
HAVE_DEBIAN_FILES = all((Path(fm.DEFAULT_DIR) / name).is_file() for name in FILE_NAMES)
real = pytest.mark.skipif(
    not HAVE_DEBIAN_FILES,
    reason=f"Debian package {fm.DEBIAN_PACKAGE} not installed (no files in {fm.DEFAULT_DIR}; "
           ".ci/run installs it)",
)


# --- helpers: write IDX files like the Debian package's -----------------------------------


def _idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def _write_idx(path: Path, array: np.ndarray, *, gz: bool) -> None:
    data = _idx_bytes(array)
    if gz:
        with gzip.open(path.with_name(path.name + ".gz"), "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


def _write_fake(directory: Path, n_train: int, n_test: int, *, gz: bool = True, seed: int = 0):
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test)[::-1] % 10).astype(np.uint8),
    }
    arrays["train-images-idx3-ubyte"][0, 0, 0] = 255  # a pixel that must become exactly 1.0
    arrays["train-images-idx3-ubyte"][0, 0, 1] = 0
    directory.mkdir(parents=True, exist_ok=True)
    for stem, array in arrays.items():
        _write_idx(directory / stem, array, gz=gz)
    return arrays


@pytest.fixture
def fake_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "fashion-mnist"
    monkeypatch.setenv(fm.ENV_VAR, str(directory))
    return directory


# --- without the Debian package ------------------------------------------------------------


def test_registered() -> None:
    names = list_datasets()
    assert "fashion_mnist" in names and "fashion_mnist:MAX_TRAIN" in names
    assert "digits" in names


@pytest.mark.parametrize("gz", [True, False])
def test_small_idx_files_load_via_env_var(fake_dir: Path, gz: bool) -> None:
    arrays = _write_fake(fake_dir, n_train=20, n_test=7, gz=gz)
    ds = load_dataset("fashion_mnist", seed=0, validation_split=0.25)
    assert ds.name == "fashion_mnist" and ds.kind == "image"
    assert ds.input_shape == (28, 28, 1) and ds.num_classes == 10
    assert str(fake_dir) in ds.source
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (15, 5, 7)
    images = arrays["train-images-idx3-ubyte"].astype(np.float32)[..., None] / 255
    labels = arrays["train-labels-idx1-ubyte"]
    # Validation is the END of the official training set; both parts keep file order.
    np.testing.assert_allclose(ds.x_train, images[:15], rtol=0, atol=1e-7)
    np.testing.assert_allclose(ds.x_val, images[15:], rtol=0, atol=1e-7)
    assert np.array_equal(ds.y_train, labels[:15]) and np.array_equal(ds.y_val, labels[15:])
    assert np.array_equal(ds.y_test, arrays["t10k-labels-idx1-ubyte"])
    np.testing.assert_allclose(
        ds.x_test[..., 0], arrays["t10k-images-idx3-ubyte"] / 255, rtol=0, atol=1e-7
    )
    assert ds.x_train[0, 0, 0, 0] == 1.0 and ds.x_train[0, 0, 1, 0] == 0.0
    for x in (ds.x_train, ds.x_val, ds.x_test):
        assert x.dtype == np.float32 and x.shape[1:] == (28, 28, 1)
    for y in (ds.y_train, ds.y_val, ds.y_test):
        assert y.dtype == np.int64


def test_zero_validation_split(fake_dir: Path) -> None:
    _write_fake(fake_dir, n_train=12, n_test=3)
    ds = load_dataset("fashion_mnist", validation_split=0.0)
    assert (len(ds.y_train), len(ds.y_val)) == (12, 0)
    assert ds.x_val.shape == (0, 28, 28, 1)


def test_subsample_is_stratified_seeded_and_in_file_order(fake_dir: Path) -> None:
    arrays = _write_fake(fake_dir, n_train=200, n_test=10)
    ds = load_dataset("fashion_mnist:50", seed=3, validation_split=0.2)
    assert ds.name == "fashion_mnist:50"
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (40, 10, 10)
    assert np.array_equal(np.bincount(np.concatenate([ds.y_train, ds.y_val])), [5] * 10)
    # The subsample keeps the file order, so the validation part is its tail.
    images = arrays["train-images-idx3-ubyte"].reshape(200, -1)
    pool = np.concatenate([ds.x_train, ds.x_val]).reshape(50, -1)
    rows = [int(np.flatnonzero((images == np.round(r * 255)).all(axis=1))[0]) for r in pool]
    assert rows == sorted(rows)
    again = fm.load_fashion_mnist("", seed=3, validation_split=0.2, max_train=50)
    assert np.array_equal(again.x_train, ds.x_train) and np.array_equal(again.y_val, ds.y_val)
    other = load_dataset("fashion_mnist:50", seed=4, validation_split=0.2)
    assert not np.array_equal(other.x_train, ds.x_train)
    # At least the whole training set: everything, as without a size.
    full = load_dataset("fashion_mnist:500", validation_split=0.2)
    assert len(full.y_train) + len(full.y_val) == 200


@pytest.mark.parametrize("name", ["fashion_mnist:0", "fashion_mnist:-3", "fashion_mnist:abc",
                                  "fashion_mnist:1.5"])
def test_bad_size_is_a_one_line_value_error(fake_dir: Path, name: str) -> None:
    _write_fake(fake_dir, n_train=10, n_test=2)
    with pytest.raises(ValueError, match="fashion_mnist:N") as info:
        load_dataset(name)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("max_train", [0, -1, 2.5, True])
def test_bad_max_train_keyword(fake_dir: Path, max_train: object) -> None:
    _write_fake(fake_dir, n_train=10, n_test=2)
    with pytest.raises(ValueError, match="max_train"):
        fm.load_fashion_mnist(seed=0, validation_split=0.2, max_train=max_train)  # type: ignore


def _assert_names_package(message: str, directory: Path) -> None:
    assert "\n" not in message
    assert message == (
        "fashion_mnist needs the Debian package dataset-fashion-mnist "
        f"(apt-get install dataset-fashion-mnist), files expected in {directory} "
        "(set AUTOKERAS_NAS_FASHION_MNIST_DIR to read them from another directory)"
    )


def test_missing_directory_names_the_debian_package(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "nowhere"
    monkeypatch.setenv(fm.ENV_VAR, str(missing))
    with pytest.raises(ValueError) as info:
        load_dataset("fashion_mnist", seed=0)
    _assert_names_package(str(info.value), missing)


def test_missing_file_names_the_debian_package(fake_dir: Path) -> None:
    _write_fake(fake_dir, n_train=10, n_test=2)
    (fake_dir / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(ValueError) as info:
        load_dataset("fashion_mnist:5", seed=0)
    _assert_names_package(str(info.value), fake_dir)


def test_default_directory_without_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(fm.ENV_VAR, raising=False)
    assert fm.data_dir() == Path("/usr/share/datasets/fashion-mnist")


def test_corrupt_files_are_value_errors(fake_dir: Path) -> None:
    _write_fake(fake_dir, n_train=10, n_test=2)
    images = fake_dir / "train-images-idx3-ubyte.gz"
    images.write_bytes(b"not gzip")
    with pytest.raises(ValueError, match="train-images"):
        load_dataset("fashion_mnist")
    images.unlink()
    _write_idx(images.with_suffix(""), np.zeros((10, 28, 27), np.uint8), gz=False)
    with pytest.raises(ValueError, match=r"\(n, 28, 28\)"):
        load_dataset("fashion_mnist")
    (fake_dir / "train-images-idx3-ubyte").write_bytes(_idx_bytes(np.zeros((10, 28, 28)))[:-1])
    with pytest.raises(ValueError, match="IDX header says"):
        load_dataset("fashion_mnist")
    (fake_dir / "train-images-idx3-ubyte").write_bytes(b"\x01\x02\x08\x03")
    with pytest.raises(ValueError, match="magic"):
        load_dataset("fashion_mnist")


def test_labels_must_match_images(fake_dir: Path) -> None:
    _write_fake(fake_dir, n_train=10, n_test=2)
    _write_idx(fake_dir / "train-labels-idx1-ubyte", np.zeros(9, np.uint8), gz=True)
    with pytest.raises(ValueError, match="expected 10 labels"):
        load_dataset("fashion_mnist")
    _write_idx(fake_dir / "train-labels-idx1-ubyte", np.full(10, 10, np.uint8), gz=True)
    with pytest.raises(ValueError, match="outside"):
        load_dataset("fashion_mnist")


def test_validation_indices_tail_and_unknown_mode() -> None:
    y = np.arange(10) % 3
    train, val = validation_indices(y, 0.3, np.random.default_rng(0), validation="tail")
    assert train.tolist() == list(range(7)) and val.tolist() == [7, 8, 9]
    with pytest.raises(ValueError, match="validation must be one of"):
        validation_indices(y, 0.3, np.random.default_rng(0), validation="head")


# --- with the Debian package ---------------------------------------------------------------


@pytest.fixture(scope="module")
def fashion() -> Dataset:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(fm.ENV_VAR, raising=False)
        return load_dataset("fashion_mnist", seed=0, validation_split=0.2)


@real
def test_real_sizes_shapes_range(fashion: Dataset) -> None:
    assert (len(fashion.y_train), len(fashion.y_val), len(fashion.y_test)) == (48000, 12000, 10000)
    assert fashion.input_shape == (28, 28, 1) and fashion.num_classes == 10
    for x, y in [(fashion.x_train, fashion.y_train), (fashion.x_val, fashion.y_val),
                 (fashion.x_test, fashion.y_test)]:
        assert x.dtype == np.float32 and x.shape == (len(y), 28, 28, 1)
        assert x.min() == 0.0 and x.max() == 1.0
        assert np.issubdtype(y.dtype, np.integer)
        assert set(np.unique(y).tolist()) == set(range(10))
    # The official files: 6,000 training and 1,000 test images per class.
    pool = np.concatenate([fashion.y_train, fashion.y_val])
    assert np.array_equal(np.bincount(pool), [6000] * 10)
    assert np.array_equal(np.bincount(fashion.y_test), [1000] * 10)


@real
def test_real_validation_is_the_tail(fashion: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(fm.ENV_VAR, raising=False)
    raw = fm.read_idx(Path(fm.DEFAULT_DIR) / "train-labels-idx1-ubyte.gz")
    assert raw.shape == (60000,)
    assert np.array_equal(fashion.y_train, raw[:48000])
    assert np.array_equal(fashion.y_val, raw[48000:])
    images = fm.read_idx(Path(fm.DEFAULT_DIR) / "train-images-idx3-ubyte.gz")
    assert np.array_equal(fashion.x_val[-1, ..., 0], images[-1] / np.float32(255))


@real
def test_real_deterministic(fashion: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(fm.ENV_VAR, raising=False)
    again = load_dataset("fashion_mnist", seed=0, validation_split=0.2)
    for field in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        assert np.array_equal(getattr(fashion, field), getattr(again, field))


@real
def test_real_subsample(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(fm.ENV_VAR, raising=False)
    ds = load_dataset("fashion_mnist:1000", seed=0, validation_split=0.1)
    assert ds.name == "fashion_mnist:1000"
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (900, 100, 10000)
    assert np.array_equal(np.bincount(np.concatenate([ds.y_train, ds.y_val])), [100] * 10)
    again = load_dataset("fashion_mnist:1000", seed=0, validation_split=0.1)
    assert np.array_equal(ds.x_train, again.x_train) and np.array_equal(ds.y_val, again.y_val)
    other = load_dataset("fashion_mnist:1000", seed=1, validation_split=0.1)
    assert not np.array_equal(ds.y_train, other.y_train)
    kw = fm.load_fashion_mnist(seed=0, validation_split=0.1, max_train=1000)
    assert np.array_equal(kw.x_val, ds.x_val)
