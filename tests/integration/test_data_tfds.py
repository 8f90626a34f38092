"""`tfds:NAME[:SPLIT]` through tensorflow-datasets, with tfds' own `mock_data` (no network)."""

from __future__ import annotations

import socket
from pathlib import Path

import numpy as np
import pytest
import tensorflow_datasets as tfds

from autokeras_nas.data import Dataset, load_dataset
from autokeras_nas.data.tfds import parse

pytestmark = pytest.mark.tf

N = 40  # mock examples per split


@pytest.fixture(scope="module")
def mnist() -> Dataset:
    with tfds.testing.mock_data(num_examples=N):
        return load_dataset("tfds:mnist", seed=0, validation_split=0.25)


def test_official_splits_images_in_unit_range(mnist: Dataset) -> None:
    assert mnist.name == "tfds:mnist" and mnist.kind == "image"
    assert mnist.input_shape == (28, 28, 1)
    assert (len(mnist.y_train), len(mnist.y_val), len(mnist.y_test)) == (30, 10, N)
    assert mnist.num_classes == 10
    assert mnist.class_names == tuple(str(i) for i in range(10))
    for x, y in [(mnist.x_train, mnist.y_train), (mnist.x_val, mnist.y_val),
                 (mnist.x_test, mnist.y_test)]:
        assert x.dtype == np.float32 and x.shape[1:] == (28, 28, 1)
        assert 0.0 <= x.min() and x.max() <= 1.0
        assert y.dtype == np.int64 and 0 <= y.min() and y.max() < 10
    assert mnist.x_train.max() > 0.5  # scaled from uint8, not left at 0..255 nor all zero
    assert "official train/test splits" in mnist.source


def test_one_split_is_split_three_ways_and_data_dir_is_passed(tmp_path: Path) -> None:
    with tfds.testing.mock_data(num_examples=N):
        ds = load_dataset("tfds:mnist:train[:50%]", seed=1, data_dir=str(tmp_path))
    assert ds.name == "tfds:mnist:train[:50%]"
    assert len(ds.y_test) == round(N * 0.2)  # the mock ignores the slice: 40 examples
    assert len(ds.y_train) + len(ds.y_val) + len(ds.y_test) == N
    assert str(tmp_path) in ds.source and "split train[:50%]" in ds.source


def test_parse_names_versions_and_splits() -> None:
    assert parse("mnist") == ("mnist", None)
    assert parse("mnist:train[:1000]") == ("mnist", "train[:1000]")
    assert parse("mnist:3.0.1") == ("mnist:3.0.1", None)
    assert parse("mnist:3.*.*:test") == ("mnist:3.*.*", "test")
    assert parse("imagenette/160px:train+validation") == ("imagenette/160px", "train+validation")


def _error(name: str, **options) -> str:
    with pytest.raises(ValueError) as info:
        load_dataset(name, **options)
    message = str(info.value)
    assert "\n" not in message
    return message


def test_unsupported_inputs_are_one_line_errors() -> None:
    with tfds.testing.mock_data(num_examples=4):
        assert _error("tfds:imdb_reviews") == (
            "tfds:imdb_reviews: inputs are strings (text); only images and numeric features "
            "are supported")
        assert _error("tfds:cats_vs_dogs") == (
            "tfds:cats_vs_dogs: inputs have varying shape (None, None, 3); only datasets whose "
            "samples share one shape are supported")


def test_bad_names_and_directories(tmp_path: Path) -> None:
    assert _error("tfds:") == "tfds needs a dataset name, e.g. tfds:mnist"
    assert _error("tfds:no_such_dataset_xyz") == (
        "tfds: unknown dataset 'no_such_dataset_xyz' (tfds.list_builders() lists the known ones)")
    missing = tmp_path / "nowhere"
    assert _error("tfds:mnist", data_dir=str(missing)) == f"--data-dir {missing} is not a directory"


def test_data_missing_and_no_network_names_data_dir(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Not in data_dir, and every connection refused: a one-line error naming --data-dir."""

    def no_network(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    # tfds retries a refused connection 10 times with exponential back-off
    # (about 200 s in all); once is enough to see the error.
    from tensorflow_datasets.core.download import downloader

    monkeypatch.setattr(downloader, "MAX_RETRIES", 0)
    message = _error("tfds:mnist", data_dir=str(tmp_path))
    assert message.startswith(f"tfds:mnist is not in {tmp_path} and could not be downloaded (")
    assert message.endswith(
        "); prepare it where a network exists (tfds.builder('mnist', data_dir=DIR)"
        ".download_and_prepare()) and pass --data-dir DIR")
