"""The ucr:NAME loader (UCR/UEA datasets bundled with sktime; numpy, no TensorFlow).

sktime is in the `test` extra. Tests that read the bundled files are skipped
when it is missing, with the reason, and on CI (CI=true) a skip fails the run
(tests/conftest.py); the rest write small `.ts` files and point
`AUTOKERAS_NAS_UCR_DIR` at them.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from autokeras_nas.data import Dataset, list_datasets, load_dataset, ucr

HAVE_SKTIME = importlib.util.find_spec("sktime") is not None
needs_sktime = pytest.mark.skipif(not HAVE_SKTIME, reason=f"sktime missing ({ucr.INSTALL_HINT})")

# name: (train, test, steps, channels, classes), from the UCR/UEA archive's descriptions.
BUNDLED = {
    "GunPoint": (50, 150, 150, 1, 2),
    "ItalyPowerDemand": (67, 1029, 24, 1, 2),
    "BasicMotions": (40, 40, 100, 6, 4),
}


@pytest.fixture(autouse=True)
def _bundled_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ucr.ENV_VAR, raising=False)


def _write_ts(directory: Path, name: str, train: list[str], test: list[str], *,
              labels: str, univariate: bool = True, missing: bool = False) -> None:
    folder = directory / name
    folder.mkdir(parents=True)
    header = [
        "# a comment line", f"@problemName {name}", "@timeStamps false",
        f"@missing {str(missing).lower()}", f"@univariate {str(univariate).lower()}",
        "@equalLength false", f"@classLabel true {labels}", "@data",
    ]
    for split, rows in (("TRAIN", train), ("TEST", test)):
        (folder / f"{name}_{split}.ts").write_text("\n".join(header + rows) + "\n")


# --- registry and names -----------------------------------------------------------------------


def test_listed_as_ucr_name() -> None:
    assert "ucr:NAME" in list_datasets()


@needs_sktime
def test_bundled_names() -> None:
    names = ucr.available_datasets()
    assert set(BUNDLED) <= set(names)
    assert list(names) == sorted(names, key=str.lower)
    assert "Tecator" not in names  # a bundled regression problem


@needs_sktime
@pytest.mark.parametrize("name", ["ucr:NoSuchSet", "ucr:GunPoint2", "ucr:"])
def test_unknown_name_is_one_line_listing_the_bundled_ones(name: str) -> None:
    with pytest.raises(ValueError) as info:
        load_dataset(name)
    message = str(info.value)
    assert "\n" not in message
    if name != "ucr:":
        assert name.partition(":")[2] in message
        for known in BUNDLED:
            assert known in message
    else:
        assert "ucr:GunPoint" in message


def test_missing_sktime_says_how_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "sktime", None)  # find_spec -> None, import fails
    with pytest.raises(ValueError, match=r'pip install "autokeras-nas\[timeseries\]"'):
        load_dataset("ucr:GunPoint")
    _write_ts(tmp_path, "Tiny", ["1,2,3:a", "3,2,1:b"], ["1,2,3:a"], labels="a b")
    monkeypatch.setenv(ucr.ENV_VAR, str(tmp_path))
    with pytest.raises(ValueError, match=r'pip install "autokeras-nas\[timeseries\]"'):
        load_dataset("ucr:Tiny")


def test_importing_data_does_not_import_sktime() -> None:
    code = (
        "import json, sys, autokeras_nas.data; "
        "print(json.dumps([m for m in ('sktime', 'pandas', 'tensorflow') if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


# --- the bundled datasets -----------------------------------------------------------------


@needs_sktime
@pytest.mark.parametrize("name", list(BUNDLED))
def test_bundled_shapes_labels_and_splits(name: str) -> None:
    n_train, n_test, steps, channels, classes = BUNDLED[name]
    ds = load_dataset(f"ucr:{name}", seed=0, validation_split=0.2)
    assert isinstance(ds, Dataset)
    assert ds.name == f"ucr:{name}"
    assert ds.kind == "timeseries"
    assert ds.num_classes == classes
    assert ds.input_shape == (steps, channels)
    n_val = round(n_train * 0.2)
    assert ds.x_train.shape == (n_train - n_val, steps, channels)
    assert ds.x_val.shape == (n_val, steps, channels)
    assert ds.x_test.shape == (n_test, steps, channels)
    for x, y in ((ds.x_train, ds.y_train), (ds.x_val, ds.y_val), (ds.x_test, ds.y_test)):
        assert x.dtype == np.float32
        assert np.issubdtype(y.dtype, np.integer) and y.shape == (len(x),)
        assert np.all(np.isfinite(x))
    assert set(np.unique(ds.y_test)) == set(range(classes))
    assert set(np.unique(np.concatenate([ds.y_train, ds.y_val]))) == set(range(classes))
    assert len(ucr.read_ucr(name).class_names) == classes


@needs_sktime
@pytest.mark.parametrize("name", list(BUNDLED))
def test_each_series_and_channel_is_z_normalised(name: str) -> None:
    ds = load_dataset(f"ucr:{name}", seed=0)
    for x in (ds.x_train, ds.x_val, ds.x_test):
        np.testing.assert_allclose(x.mean(axis=1), 0.0, atol=1e-5)
        np.testing.assert_allclose(x.std(axis=1), 1.0, atol=1e-4)


@needs_sktime
def test_validation_is_seeded_stratified_part_of_the_official_train_set() -> None:
    official = ucr.read_ucr("GunPoint")
    a = load_dataset("ucr:GunPoint", seed=3, validation_split=0.2)
    b = load_dataset("ucr:GunPoint", seed=3, validation_split=0.2)
    c = load_dataset("ucr:GunPoint", seed=4, validation_split=0.2)
    for field in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        assert np.array_equal(getattr(a, field), getattr(b, field))
    assert not np.array_equal(a.x_val, c.x_val)
    # Train + validation is exactly the official training file; the test set is the official one.
    pooled = np.concatenate([a.x_train, a.x_val]).reshape(50, -1)
    assert np.array_equal(np.unique(pooled, axis=0), np.unique(official.x_train.reshape(50, -1), axis=0))
    assert np.array_equal(a.x_test, official.x_test) and np.array_equal(a.y_test, official.y_test)
    # Stratified: the validation class counts follow the training file's.
    expected = np.bincount(official.y_train) * 0.2
    assert np.all(np.abs(np.bincount(a.y_val, minlength=2) - expected) <= 1)

    none = load_dataset("ucr:GunPoint", seed=0, validation_split=0.0)
    assert none.x_val.shape == (0, 150, 1) and len(none.y_train) == 50
    half = load_dataset("ucr:ItalyPowerDemand", seed=0, validation_split=0.5)
    assert len(half.y_val) == round(67 * 0.5) and len(half.y_train) == 67 - round(67 * 0.5)


@needs_sktime
def test_name_case_and_class_names() -> None:
    ds = load_dataset("ucr:basicmotions")
    assert ds.name == "ucr:BasicMotions"
    names = ucr.read_ucr("BasicMotions").class_names
    assert names == ("Badminton", "Running", "Standing", "Walking")
    assert "0=Badminton" in ds.source
    assert ucr.read_ucr("GunPoint").class_names == ("1", "2")


# --- small files of our own ----------------------------------------------------------------


@needs_sktime
def test_unequal_lengths_are_normalised_then_zero_padded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _write_ts(
        tmp_path, "Tiny",
        ["1,2,3:zeta", "5,5,5,5,5:10", "0,4:2"],
        ["1,2,3,4,5,6:zeta", "7,8,9:2", "2,1:10"],
        labels="2 10 zeta",
    )
    monkeypatch.setenv(ucr.ENV_VAR, str(tmp_path))
    assert ucr.available_datasets() == ("Tiny",)
    data = ucr.read_ucr("Tiny")
    # Not all labels are numbers: sorted as text.
    assert data.class_names == ("10", "2", "zeta")
    assert data.y_train.tolist() == [2, 0, 1] and data.y_test.tolist() == [2, 1, 0]
    assert data.x_train.shape == (3, 6, 1) and data.x_test.shape == (3, 6, 1)
    assert data.lengths_train.tolist() == [3, 5, 2] and data.lengths_test.tolist() == [6, 3, 2]
    assert not data.equal_length
    z3 = np.array([-1.0, 0.0, 1.0]) / np.std([1.0, 2.0, 3.0])
    np.testing.assert_allclose(data.x_train[0, :, 0], [*z3, 0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(data.x_train[1, :, 0], 0.0)  # constant series: shifted only
    np.testing.assert_allclose(data.x_train[2, :, 0], [-1, 1, 0, 0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(data.x_test[1, :, 0], [*z3, 0, 0, 0], atol=1e-6)

    ds = load_dataset("ucr:tiny", seed=0, validation_split=0.0)
    assert ds.name == "ucr:Tiny" and ds.input_shape == (6, 1) and "zero-padded" in ds.source


@needs_sktime
def test_numeric_labels_sort_as_numbers_and_multivariate(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _write_ts(
        tmp_path, "Multi",
        ["1,2,3:4,4,4:10", "3,2,1:0,1,2:2", "1,3,2:2,0,1:2"],
        ["1,1,2:2,3,3:10"],
        labels="2 10", univariate=False,
    )
    monkeypatch.setenv(ucr.ENV_VAR, str(tmp_path))
    data = ucr.read_ucr("Multi")
    assert data.class_names == ("2", "10")
    assert data.y_train.tolist() == [1, 0, 0]
    assert data.x_train.shape == (3, 3, 2) and data.equal_length
    np.testing.assert_allclose(data.x_train[0, :, 1], 0.0)
    np.testing.assert_allclose(data.x_train.mean(axis=1), 0.0, atol=1e-6)


@needs_sktime
def test_missing_values_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _write_ts(tmp_path, "Holes", ["1,?,3:a", "1,2,3:b"], ["1,2,3:a"], labels="a b", missing=True)
    monkeypatch.setenv(ucr.ENV_VAR, str(tmp_path))
    with pytest.raises(ValueError, match="missing"):
        load_dataset("ucr:Holes")


def test_z_normalise_guards_constant_series() -> None:
    out = ucr.z_normalise(np.array([[2.0, 2.0, 2.0], [0.0, 1.0, 2.0]]))
    np.testing.assert_allclose(out[0], 0.0)
    np.testing.assert_allclose(out[1], np.array([-1.0, 0.0, 1.0]) / np.sqrt(2.0 / 3.0))
