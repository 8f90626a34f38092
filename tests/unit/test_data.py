"""Dataset loading and splitting (numpy only, no TensorFlow)."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from autokeras_nas.data import (
    Dataset,
    list_datasets,
    load_dataset,
    register,
    stratified_split,
    train_val_test_indices,
    unregister,
)

N_DIGITS = 1797


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset("digits", seed=0)


def test_digits_split_sizes(digits: Dataset) -> None:
    assert len(digits.y_test) == round(N_DIGITS * 0.2) == 359
    assert len(digits.y_val) == round((N_DIGITS - 359) * 0.2) == 288
    assert len(digits.y_train) == N_DIGITS - 359 - 288
    for x, y in [(digits.x_train, digits.y_train), (digits.x_val, digits.y_val),
                 (digits.x_test, digits.y_test)]:
        assert len(x) == len(y)


def test_validation_split_changes_only_the_validation_share() -> None:
    ds = load_dataset("digits", seed=0, validation_split=0.5)
    assert len(ds.y_test) == 359
    assert len(ds.y_val) == 719
    assert len(ds.y_train) == N_DIGITS - 359 - 719


def test_digits_split_is_a_stratified_partition() -> None:
    from sklearn.datasets import load_digits

    y = load_digits().target
    train, val, test = train_val_test_indices(y, seed=3, test_fraction=0.2, validation_split=0.2)
    assert np.array_equal(np.sort(np.concatenate([train, val, test])), np.arange(len(y)))
    class_sizes = np.bincount(y)
    assert np.all(np.abs(np.bincount(y[test], minlength=10) - 0.2 * class_sizes) <= 1)
    rest_sizes = class_sizes - np.bincount(y[test], minlength=10)
    assert np.all(np.abs(np.bincount(y[val], minlength=10) - 0.2 * rest_sizes) <= 1)


def test_digits_stratified_in_every_split(digits: Dataset) -> None:
    for y in (digits.y_train, digits.y_val, digits.y_test):
        share = np.bincount(y, minlength=10) / len(y)
        assert np.all(np.abs(share - 0.1) < 0.02)


def test_digits_dtype_shape_range(digits: Dataset) -> None:
    assert digits.name == "digits"
    assert digits.kind == "image"
    assert digits.input_shape == (8, 8, 1)
    assert digits.num_classes == 10
    assert digits.source
    for x in (digits.x_train, digits.x_val, digits.x_test):
        assert x.dtype == np.float32
        assert x.shape[1:] == (8, 8, 1)
        assert x.min() >= 0.0 and x.max() <= 1.0
    assert digits.x_train.max() == 1.0
    for y in (digits.y_train, digits.y_val, digits.y_test):
        assert np.issubdtype(y.dtype, np.integer)
        assert y.min() >= 0 and y.max() < 10


def test_same_seed_same_split_other_seed_other_split(digits: Dataset) -> None:
    again = load_dataset("digits", seed=0)
    for field in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        assert np.array_equal(getattr(digits, field), getattr(again, field))
    other = load_dataset("digits", seed=1)
    assert not np.array_equal(digits.y_test, other.y_test)


def test_dataset_is_frozen(digits: Dataset) -> None:
    with pytest.raises(AttributeError):
        digits.name = "other"  # type: ignore[misc]


def test_describe_is_one_line(digits: Dataset) -> None:
    text = digits.describe()
    assert "\n" not in text and "1150 train" in text and "(8, 8, 1)" in text


def test_unknown_name_is_a_one_line_value_error() -> None:
    with pytest.raises(ValueError) as info:
        load_dataset("no-such-dataset")
    message = str(info.value)
    assert "\n" not in message
    assert "no-such-dataset" in message and "digits" in message


@pytest.mark.parametrize("split", [-0.1, 1.0, 1.5])
def test_bad_validation_split(split: float) -> None:
    with pytest.raises(ValueError, match="validation_split"):
        load_dataset("digits", validation_split=split)


def test_list_datasets() -> None:
    assert "digits" in list_datasets()


def test_prefixed_loader_gets_its_argument(digits: Dataset) -> None:
    calls = []

    @register("fake", prefix=True, usage="fake:NAME")
    def load_fake(argument: str, *, seed: int, validation_split: float) -> Dataset:
        calls.append((argument, seed, validation_split))
        return digits

    try:
        assert "fake:NAME" in list_datasets()
        assert load_dataset("fake:a:b", seed=7, validation_split=0.3) is digits
        assert calls == [("a:b", 7, 0.3)]
        with pytest.raises(ValueError, match="fake:NAME"):
            load_dataset("fak:x")
    finally:
        unregister("fake", prefix=True)
    assert "fake:NAME" not in list_datasets()


def test_registering_a_name_twice_fails() -> None:
    with pytest.raises(ValueError, match="already registered"):
        register("digits")(lambda argument, *, seed, validation_split: None)  # type: ignore


def test_stratified_split_exact_count() -> None:
    y = np.array([0] * 7 + [1] * 5 + [2] * 3)
    kept, held = stratified_split(y, 0.4, np.random.default_rng(0))
    assert len(held) == round(len(y) * 0.4) == 6
    assert np.array_equal(np.sort(np.concatenate([kept, held])), np.arange(len(y)))
    assert sorted(np.bincount(y[held], minlength=3)) == [1, 2, 3]


def test_importing_data_is_light() -> None:
    code = (
        "import json, sys, autokeras_nas.data; "
        "print(json.dumps([m for m in ('tensorflow', 'keras', 'keras_tuner', 'sklearn') "
        "if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
