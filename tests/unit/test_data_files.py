"""The file loaders `npz:`, `images:`, `csv:`, the loader options and `autokeras-nas datasets`.

No TensorFlow: the files are small ones written here (the CSV is scikit-learn's
real iris and wine data written out as tables).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from autokeras_nas.cli import main
from autokeras_nas.data import (
    Dataset,
    dataset_summaries,
    list_datasets,
    load_dataset,
    register,
    unregister,
)
from autokeras_nas.data import fashion_mnist as fm
from autokeras_nas.data.arrays import encode_labels, infer_kind


def error(name: str, **options) -> str:
    """The one-line ValueError `load_dataset(name, **options)` raises."""
    with pytest.raises(ValueError) as info:
        load_dataset(name, **options)
    message = str(info.value)
    assert "\n" not in message
    return message


def _sizes(ds: Dataset) -> tuple[int, int, int]:
    return len(ds.y_train), len(ds.y_val), len(ds.y_test)


def _check_arrays(ds: Dataset) -> None:
    for x, y in [(ds.x_train, ds.y_train), (ds.x_val, ds.y_val), (ds.x_test, ds.y_test)]:
        assert x.dtype == np.float32 and x.shape[1:] == ds.input_shape and len(x) == len(y)
        assert y.dtype == np.int64 and y.min() >= 0 and y.max() < ds.num_classes


# -- options of load_dataset ----------------------------------------------------------------
def test_options_a_dataset_does_not_take_are_refused() -> None:
    assert error("digits", target="species") == (
        "--target is only used by csv:PATH, not by dataset 'digits'")
    assert error("digits", data_dir="/tmp") == (
        "--data-dir is only used by tfds:NAME[:SPLIT], not by dataset 'digits'")
    assert load_dataset("digits", target=None, data_dir=None).name == "digits"


def test_options_reach_only_loaders_that_declare_them(tmp_path: Path) -> None:
    calls = []

    @register("plain", prefix=True)
    def load_plain(argument: str, *, seed: int, validation_split: float) -> Dataset:
        calls.append(("plain", argument))
        return load_dataset("digits")

    @register("opt", prefix=True, options=("data_dir",))
    def load_opt(argument: str, *, seed: int, validation_split: float, **options) -> Dataset:
        calls.append(("opt", options))
        return load_dataset("digits")

    try:
        load_dataset("plain:x")
        load_dataset("opt:x")
        load_dataset("opt:x", data_dir=str(tmp_path))
        assert calls == [("plain", "x"), ("opt", {}), ("opt", {"data_dir": str(tmp_path)})]
        assert "opt:ARG" in error("plain:x", data_dir="d")
    finally:
        unregister("plain", prefix=True)
        unregister("opt", prefix=True)
    with pytest.raises(ValueError, match="unknown loader options"):
        register("bad", options=("colour",))


def test_new_loaders_are_listed() -> None:
    names = list_datasets()
    for usage in ("npz:PATH", "images:DIR", "csv:PATH", "tfds:NAME[:SPLIT]"):
        assert usage in names


# -- labels and kinds -------------------------------------------------------------------------
def test_encode_labels_sorted_with_class_names() -> None:
    (a, b), names = encode_labels([np.array(["dog", "cat"]), np.array(["emu", "cat"])])
    assert names == ("cat", "dog", "emu")
    assert a.tolist() == [1, 0] and b.tolist() == [2, 0]
    (ids,), names = encode_labels([np.array([10, 2, 2, 10.0])])
    assert names == ("2", "10") and ids.tolist() == [1, 0, 0, 1]
    (ids,), names = encode_labels([np.array([[0], [1], [2]])])
    assert names == ("0", "1", "2") and ids.tolist() == [0, 1, 2]


@pytest.mark.parametrize("labels, message", [
    (np.zeros(4), "y has only '0'; a classifier needs at least 2 classes"),
    (np.eye(3), "y must be a 1-D array of class labels, got shape (3, 3)"),
    (np.array([0.5, 1.0]), "y must hold class labels (integers or strings), got the number 0.5"),
    (np.array([0.0, np.nan]), "y must hold class labels (integers or strings), got the number nan"),
])
def test_bad_labels(labels: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError) as info:
        encode_labels([labels], what="y")
    assert str(info.value) == message


def test_infer_kind() -> None:
    assert infer_kind((7,)) == ("tabular", (7,))
    assert infer_kind((8, 6)) == ("image", (8, 6, 1))
    assert infer_kind((8, 6, 3)) == ("image", (8, 6, 3))
    assert infer_kind((50, 2), "timeseries") == ("timeseries", (50, 2))
    assert infer_kind((50,), "timeseries") == ("timeseries", (50, 1))
    with pytest.raises(ValueError, match=r"fit no kind; expected \(features,\), \(H, W\)"):
        infer_kind((2, 3, 4, 5))
    with pytest.raises(ValueError, match="kind must be one of image, timeseries, tabular"):
        infer_kind((3,), "video")


# -- npz: -----------------------------------------------------------------------------------
def test_npz_grey_images_with_string_labels(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (50, 6, 5), dtype=np.uint8)
    x[0, 0, 0] = 255
    y = np.array(["cat", "dog"] * 25)
    np.savez(tmp_path / "a.npz", x_train=x, y_train=y)
    ds = load_dataset(f"npz:{tmp_path / 'a.npz'}", seed=0)
    _check_arrays(ds)
    assert ds.kind == "image" and ds.input_shape == (6, 5, 1)
    assert ds.class_names == ("cat", "dog") and ds.num_classes == 2
    assert _sizes(ds) == (32, 8, 10)  # 20 % test, then 20 % of the rest
    assert ds.x_train.max() == 1.0 and ds.x_train.min() >= 0.0
    assert np.bincount(ds.y_test).tolist() == [5, 5]  # stratified
    # every sample kept exactly once, pixels scaled by 1/255
    together = np.concatenate([ds.x_train, ds.x_val, ds.x_test])[..., 0]
    assert sorted(map(bytes, (together * 255).round().astype(np.uint8))) == sorted(map(bytes, x))
    again = load_dataset(f"npz:{tmp_path / 'a.npz'}", seed=0)
    assert np.array_equal(again.y_train, ds.y_train) and np.array_equal(again.x_val, ds.x_val)


def test_npz_tabular_with_given_test_set(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    x, xt = rng.normal(size=(40, 7)), rng.normal(size=(10, 7))
    np.savez(tmp_path / "b.npz", x_train=x, y_train=np.arange(40) % 3 + 1,
             x_test=xt, y_test=np.arange(10) % 3 + 1)
    ds = load_dataset(f"npz:{tmp_path / 'b.npz'}", validation_split=0.25)
    _check_arrays(ds)
    assert ds.kind == "tabular" and ds.input_shape == (7,)
    assert ds.class_names == ("1", "2", "3")  # labels 1..3 become ids 0..2
    assert _sizes(ds) == (30, 10, 10)
    assert np.allclose(ds.x_test, xt.astype(np.float32))  # values used as given
    assert ds.y_test.tolist() == (np.arange(10) % 3).tolist()


def test_npz_rgb_images_and_declared_timeseries(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    np.savez(tmp_path / "rgb.npz", x_train=rng.random((30, 4, 4, 3)), y_train=np.arange(30) % 2)
    assert load_dataset(f"npz:{tmp_path / 'rgb.npz'}").input_shape == (4, 4, 3)
    np.savez(tmp_path / "ts.npz", x_train=rng.normal(size=(30, 20, 2)),
             y_train=np.arange(30) % 2, kind="timeseries")
    ds = load_dataset(f"npz:{tmp_path / 'ts.npz'}")
    assert ds.kind == "timeseries" and ds.input_shape == (20, 2)


def _npz(tmp_path: Path, **arrays) -> str:
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    return f"npz:{path}"


def test_npz_bad_input(tmp_path: Path) -> None:
    x, y = np.zeros((10, 3)), np.arange(10) % 2
    p = tmp_path / "bad.npz"
    assert error("npz:") == "npz needs a file, e.g. npz:data.npz"
    assert error(f"npz:{tmp_path / 'no.npz'}") == f"npz: no such file: {tmp_path / 'no.npz'}"
    (tmp_path / "text.npz").write_text("hello")
    assert error(f"npz:{tmp_path / 'text.npz'}") == (
        f"npz: {tmp_path / 'text.npz'} is not a .npz archive (numpy.savez writes one)")
    np.save(tmp_path / "a.npy", x)
    assert error(f"npz:{tmp_path / 'a.npy'}") == (
        f"npz: {tmp_path / 'a.npy'} is a .npy array, not a .npz archive of named arrays")
    assert error(_npz(tmp_path, x_train=np.array([{}, {}], dtype=object), y_train=y[:2])) == (
        f"npz: {p} holds object (pickled) arrays; save numeric or string arrays")
    assert error(_npz(tmp_path, x_train=x)) == f"npz: {p} has no array 'y_train' (arrays: x_train)"
    assert error(_npz(tmp_path, x_train=x, y_train=y, x_test=x)) == (
        f"npz: {p} has only one of x_test and y_test; give both or neither")
    assert error(_npz(tmp_path, x_train=x, y_train=y[:9])) == (
        f"npz: {p}: x_train has 10 samples but y_train has 9")
    assert error(_npz(tmp_path, x_train=y, y_train=y)) == (
        f"npz: {p}: x_train must have a sample axis and at least one more, got shape (10,)")
    assert error(_npz(tmp_path, x_train=x, y_train=y, x_test=x[:, :2], y_test=y)) == (
        f"npz: {p}: x_test samples have shape (2,), x_train samples (3,)")
    assert error(_npz(tmp_path, x_train=x, y_train=np.ones(10))) == (
        f"npz: {p}: y has only '1'; a classifier needs at least 2 classes")
    assert error(_npz(tmp_path, x_train=x, y_train=np.eye(10))) == (
        f"npz: {p}: y must be a 1-D array of class labels, got shape (10, 10)")
    assert error(_npz(tmp_path, x_train=x, y_train=y, x_test=x, y_test=y.astype(str))) == (
        f"npz: {p}: y mixes strings and numbers")
    nan = x.copy()
    nan[3, 1] = np.nan
    assert error(_npz(tmp_path, x_train=nan, y_train=y)) == (
        f"npz: {p}: x_train has missing or non-finite values (NaN or inf)")
    assert error(_npz(tmp_path, x_train=x, y_train=y, kind="video")) == (
        "kind must be one of image, timeseries, tabular, got 'video'")
    assert error(_npz(tmp_path, x_train=x, y_train=y, kind=np.array(["a", "b"]))) == (
        f"npz: {p}: 'kind' must be one string, e.g. np.array('timeseries')")
    assert error(_npz(tmp_path, x_train=np.zeros((10, 2, 3, 4, 5)), y_train=y)) == (
        f"npz: {p}: x_train: samples of shape (2, 3, 4, 5) fit no kind; "
        "expected (features,), (H, W) or (H, W, C)")


# -- images: ----------------------------------------------------------------------------------
def _write_images(root: Path, per_class: int = 5, size=(10, 12), mode: str = "L") -> None:
    """Classes `cat` (PNG), `dog` (JPEG) and `emu` (PNG in a nested folder)."""
    rng = np.random.default_rng(0)
    channels = () if mode == "L" else (3,)
    for name, suffix in (("cat", ".png"), ("dog", ".jpg"), ("emu/sub", ".png")):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (size[1], size[0], *channels), dtype=np.uint8)
            Image.fromarray(pixels, mode).save(folder / f"{i:02d}{suffix}")
    (root / "cat" / "notes.txt").write_text("not an image")
    (root / "cat" / ".hidden.png").write_bytes(b"not an image either")


def test_images_grey_folder(tmp_path: Path) -> None:
    _write_images(tmp_path)
    pixels = np.zeros((12, 10), np.uint8)
    pixels[0, 0], pixels[5, 5] = 255, 51
    Image.fromarray(pixels, "L").save(tmp_path / "cat" / "00.png")  # first image, lossless
    ds = load_dataset(f"images:{tmp_path}", seed=0)
    _check_arrays(ds)
    assert ds.kind == "image" and ds.input_shape == (12, 10, 1)  # (H, W) of the first image
    assert ds.class_names == ("cat", "dog", "emu") and ds.num_classes == 3
    assert sum(_sizes(ds)) == 15 and len(ds.y_test) == 3
    assert np.bincount(ds.y_test).tolist() == [1, 1, 1]
    everything = np.concatenate([ds.x_train, ds.x_val, ds.x_test])
    assert everything.min() >= 0.0 and everything.max() <= 1.0
    first = [x for x in everything if x[0, 0, 0] == 1.0 and abs(x[5, 5, 0] - 0.2) < 1e-6]
    assert len(first) == 1 and first[0].sum() == pytest.approx(1.2)


def test_images_rgb_keep_their_most_common_size(tmp_path: Path) -> None:
    _write_images(tmp_path, per_class=2, size=(128, 96), mode="RGB")
    Image.fromarray(np.zeros((20, 30), np.uint8), "L").save(tmp_path / "dog" / "zz.png")
    ds = load_dataset(f"images:{tmp_path}")
    assert ds.input_shape == (96, 128, 3)  # the 6 images' 128x96, no 64-pixel cap; RGB
    assert sum(_sizes(ds)) == 7 and not ds.streamed
    from autokeras_nas.data.images import load_images

    assert load_images(str(tmp_path), image_size=(8, 16)).input_shape == (8, 16, 3)
    with pytest.raises(ValueError) as info:
        load_images(str(tmp_path), image_size=(8,))
    assert str(info.value) == ("image size must be HEIGHT,WIDTH in pixels (e.g. 96,80 or 96x80), "
                               "got (8,)")


def test_images_bad_input(tmp_path: Path) -> None:
    assert error("images:") == "images needs a directory, e.g. images:photos/"
    assert error(f"images:{tmp_path / 'no'}") == f"images: no such directory: {tmp_path / 'no'}"
    (tmp_path / "only").mkdir()
    assert error(f"images:{tmp_path}") == (
        f"images: {tmp_path} needs one sub-folder of images per class, at least 2, found 1")
    (tmp_path / "other").mkdir()
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "only" / "a.png")
    assert error(f"images:{tmp_path}") == (
        f"images: class folder {tmp_path / 'other'} has no image files "
        "(.png, .jpg, .jpeg, .bmp, .gif)")
    (tmp_path / "other" / "b.png").write_bytes(b"\x89PNG broken")
    message = error(f"images:{tmp_path}")
    assert message.startswith(f"images: cannot read image {tmp_path / 'other' / 'b.png'}: ")


# -- csv: -------------------------------------------------------------------------------------
@pytest.fixture
def iris_csv(tmp_path: Path) -> Path:
    """scikit-learn's iris as a table: 4 numeric columns, a text column, the species names."""
    from sklearn.datasets import load_iris

    iris = load_iris()
    path = tmp_path / "iris.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*iris.feature_names, "petals", "species"])
        for i, (row, target) in enumerate(zip(iris.data, iris.target)):
            petals = "" if i == 7 else ("long" if row[2] > 4.5 else "short")  # one missing cell
            writer.writerow([*row, petals, iris.target_names[target]])
    return path


def test_csv_iris(iris_csv: Path) -> None:
    ds = load_dataset(f"csv:{iris_csv}", target="species", seed=0)
    _check_arrays(ds)
    assert ds.kind == "tabular" and ds.input_shape == (6,)  # 4 numeric + one-hot long/short
    assert ds.class_names == ("setosa", "versicolor", "virginica")
    assert _sizes(ds) == (96, 24, 30)
    assert np.bincount(ds.y_test).tolist() == [10, 10, 10]
    # standardised with the training part's statistics only
    assert np.allclose(ds.x_train[:, :4].mean(axis=0), 0, atol=1e-5)
    assert np.allclose(ds.x_train[:, :4].std(axis=0), 1, atol=1e-5)
    assert not np.allclose(ds.x_test[:, :4].mean(axis=0), 0, atol=1e-3)
    one_hot = np.concatenate([ds.x_train, ds.x_val, ds.x_test])[:, 4:]
    assert set(one_hot.sum(axis=1).tolist()) == {0.0, 1.0} and one_hot.sum() == 149
    assert "4 numeric columns standardised, 1 text columns one-hot encoded" in ds.source


def test_csv_integer_target_semicolons(tmp_path: Path) -> None:
    """scikit-learn's wine data, classes 1..3 as integers, `;`-separated."""
    from sklearn.datasets import load_wine

    wine = load_wine()
    path = tmp_path / "wine.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow(["cultivar", *wine.feature_names])
        for row, target in zip(wine.data, wine.target):
            writer.writerow([target + 1, *row])
    ds = load_dataset(f"csv:{path}", target="cultivar", seed=1)
    assert ds.input_shape == (13,) and ds.class_names == ("1", "2", "3")
    assert np.bincount(np.concatenate([ds.y_train, ds.y_val, ds.y_test])).tolist() == [59, 71, 48]


def test_csv_bad_input(tmp_path: Path, iris_csv: Path) -> None:
    p = tmp_path / "t.csv"
    assert error("csv:", target="y") == "csv needs a file, e.g. csv:data.csv --target label"
    assert error(f"csv:{iris_csv}") == f"csv:{iris_csv} needs a target column: pass --target NAME"
    assert error(f"csv:{tmp_path / 'no.csv'}", target="y") == (
        f"csv: no such file: {tmp_path / 'no.csv'}")
    p.write_text("\n\n")
    assert error(f"csv:{p}", target="y") == f"csv: {p} is empty"
    p.write_text("a,y\n")
    assert error(f"csv:{p}", target="y") == f"csv: {p} has a header but no data rows"
    p.write_text("a,y\n1,x\n2,x,3\n")
    assert error(f"csv:{p}", target="y") == f"csv: {p} line 3 has 3 fields, the header has 2"
    p.write_text("a,b\n1,x\n2,z\n")
    assert error(f"csv:{p}", target="y") == f"csv: {p} has no column named 'y' (columns: a, b)"
    p.write_text("a,y\n1,x\n2,x\n3,x\n")
    assert error(f"csv:{p}", target="y") == (
        f"csv: {p}: target 'y' has only 'x'; a classifier needs at least 2 classes")
    p.write_text("a,y\n1,x\n2,NA\n3,z\n")
    assert error(f"csv:{p}", target="y") == (
        f"csv: {p}: target 'y' is missing in data row 2; drop or fill those rows")
    p.write_text("a,y\n1,5.1\n2,6\n")  # a regression target unless told otherwise
    assert error(f"csv:{p}", target="y", task="classification") == (
        f"csv: {p}: target 'y' must hold class labels (integers or strings), got the number 5.1")
    p.write_text("y\nx\nz\n")
    assert error(f"csv:{p}", target="y") == (
        f"csv: {p} has no feature column besides the target 'y'")
    p.write_bytes(b"a,y\n\xff\xfe,1\n")
    assert error(f"csv:{p}", target="y").startswith(f"csv: cannot read {p}: ")


# -- fashion_mnist and `autokeras-nas datasets` -------------------------------------------------
def test_fashion_mnist_missing_message_names_package_and_env(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fm.ENV_VAR, str(tmp_path))
    message = error("fashion_mnist")
    assert "apt-get install dataset-fashion-mnist" in message
    assert "AUTOKERAS_NAS_FASHION_MNIST_DIR" in message
    summary = dict(dataset_summaries())["fashion_mnist"]
    assert summary.endswith(f"MISSING from {tmp_path}: apt-get install dataset-fashion-mnist "
                            "or set AUTOKERAS_NAS_FASHION_MNIST_DIR")


def test_datasets_command_lists_every_dataset(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    for name in fm.FILES["train"] + fm.FILES["test"]:
        (tmp_path / f"{name}.gz").write_bytes(b"")
    monkeypatch.setenv(fm.ENV_VAR, str(tmp_path))
    result = CliRunner().invoke(main, ["datasets"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.output.splitlines()}
    assert set(rows) == set(list_datasets())
    assert "1,797 8x8 grey images" in rows["digits"]
    assert f"present in {tmp_path}" in rows["fashion_mnist"]
    assert "x_train, y_train[, x_test, y_test]" in rows["npz:PATH"]
    assert "--target" in rows["csv:PATH"] and "--data-dir" in rows["tfds:NAME[:SPLIT]"]


def test_datasets_command_imports_no_tensorflow_nor_pillow() -> None:
    code = (
        "import json, sys\n"
        "from autokeras_nas.cli import main\n"
        "try:\n    main(['datasets'])\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "print(json.dumps([m for m in ('tensorflow', 'keras', 'tensorflow_datasets', 'PIL',"
        " 'sktime') if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert json.loads(lines[-1]) == []
    assert any(line.startswith("digits ") for line in lines)
