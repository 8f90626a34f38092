"""Regression datasets: a numeric target decided from the data (`csv:`, `npz:`),
`task` overriding it, and splits stratified by the target's quantiles.

No TensorFlow: scikit-learn's bundled diabetes data written out as a table,
and small arrays written here.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from autokeras_nas.data import load_dataset
from autokeras_nas.data.arrays import infer_task
from autokeras_nas.data.split import stratified_folds, stratified_split, strata
from autokeras_nas.workflow import SearchConfig, WorkflowError
from autokeras_nas.workflow.datasets import search_dataset
from autokeras_nas.workflow.scores import score


def error(name: str, **options) -> str:
    """The one-line ValueError `load_dataset(name, **options)` raises."""
    with pytest.raises(ValueError) as info:
        load_dataset(name, **options)
    assert "\n" not in str(info.value)
    return str(info.value)


@pytest.fixture
def diabetes_csv(tmp_path: Path) -> Path:
    """scikit-learn's diabetes (442 rows, 10 features, an integer-valued
    disease progression of 214 distinct values), as a CSV."""
    from sklearn.datasets import load_diabetes

    data = load_diabetes(scaled=False)
    path = tmp_path / "diabetes.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([*data.feature_names, "target"])
        for row, target in zip(data.data, data.target):
            writer.writerow([*row, int(target)])
    return path


def _table(path: Path, targets: list) -> str:
    rows = ["a,y"] + [f"{i},{t}" for i, t in enumerate(targets)]
    path.write_text("\n".join(rows) + "\n")
    return f"csv:{path}"


def test_csv_numeric_target_is_a_regression_in_its_own_units(diabetes_csv: Path) -> None:
    from sklearn.datasets import load_diabetes

    ds = load_dataset(f"csv:{diabetes_csv}", target="target", seed=0)
    assert ds.task == "regression" and ds.kind == "tabular" and ds.input_shape == (10,)
    assert ds.num_classes == 0 and ds.class_names == ()
    assert (len(ds.y_train), len(ds.y_val), len(ds.y_test)) == (283, 71, 88)
    parts = (ds.y_train, ds.y_val, ds.y_test)
    assert all(y.dtype == np.float32 and y.ndim == 1 for y in parts)
    everything = np.sort(np.concatenate(parts))
    assert np.array_equal(everything, np.sort(load_diabetes().target.astype(np.float32)))
    # stratified by quantiles: every part spans the range with about the same mean
    for y in parts:
        assert abs(float(y.mean()) - float(everything.mean())) < 6
        assert y.min() < 60 and y.max() > 280
    assert "regression" in ds.describe() and "classes" not in ds.describe()
    assert "regression target 'target'" in ds.source and "quantiles" in ds.source
    again = load_dataset(f"csv:{diabetes_csv}", target="target", seed=0)
    assert np.array_equal(again.y_test, ds.y_test)  # same seed, same split


@pytest.mark.parametrize("targets, task", [
    ([i % 3 + 1 for i in range(40)], "classification"),         # 3 integer classes
    ([i % 20 for i in range(40)], "classification"),            # 20 integers: classes
    ([i % 21 for i in range(42)], "regression"),                # 21 integers: a quantity
    ([0.5 * (i % 4) for i in range(40)], "regression"),         # a non-integer value
    (["cat", "dog"] * 20, "classification"),
])
def test_csv_task_is_decided_from_the_target(tmp_path: Path, targets: list, task: str) -> None:
    ds = load_dataset(_table(tmp_path / "t.csv", targets), target="y")
    assert ds.task == task
    assert ds.y_train.dtype == (np.float32 if task == "regression" else np.int64)


def test_task_overrides_the_choice(tmp_path: Path) -> None:
    classes = _table(tmp_path / "c.csv", [i % 3 + 1 for i in range(40)])
    ds = load_dataset(classes, target="y", task="regression")
    assert ds.task == "regression" and ds.num_classes == 0
    assert set(np.concatenate([ds.y_train, ds.y_val, ds.y_test]).tolist()) == {1.0, 2.0, 3.0}
    many = _table(tmp_path / "m.csv", [i % 21 for i in range(42)])
    ds = load_dataset(many, target="y", task="classification")
    assert ds.task == "classification" and ds.num_classes == 21
    assert load_dataset(many, target="y", task="auto").task == "regression"


def test_task_errors_are_one_line(tmp_path: Path) -> None:
    p = tmp_path / "s.csv"
    assert error(_table(p, ["cat", "dog"] * 5), target="y", task="regression") == (
        f"csv: {p}: target 'y' must hold numbers for regression, got cat; "
        "use --task classification for class labels")
    assert error(_table(p, [0.5 * (i % 4) for i in range(8)]), target="y",
                 task="classification") == (
        f"csv: {p}: target 'y' must hold class labels (integers or strings), got the number 0.5")
    assert error(_table(p, [7] * 8), target="y", task="regression") == (
        f"csv: {p}: target 'y' holds one value only; a regressor needs at least 2")
    assert error("digits", task="maybe") == (
        "--task must be auto, classification or regression, got 'maybe'")
    assert error("digits", task="regression") == (
        "--task regression is only used by csv:PATH and npz:PATH, not by dataset 'digits'")
    # every loader makes classification datasets: saying so is accepted
    assert load_dataset("digits", task="classification").task == "classification"
    with pytest.raises(WorkflowError, match="^--task must be auto, classification or "
                                            "regression, got 'maybe'$"):
        SearchConfig(out_dir=tmp_path, task="maybe")
    assert SearchConfig(out_dir=tmp_path, task="auto").task is None
    assert SearchConfig(out_dir=tmp_path, task="Regression").task == "regression"


def test_npz_float_labels_that_are_not_integers_are_a_regression(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 5))
    y = x @ np.arange(1.0, 6.0) + 0.1 * rng.normal(size=60)
    np.savez(tmp_path / "r.npz", x_train=x, y_train=y)
    ds = load_dataset(f"npz:{tmp_path / 'r.npz'}", seed=0)
    assert ds.task == "regression" and ds.num_classes == 0 and ds.y_train.dtype == np.float32
    assert np.allclose(np.sort(np.concatenate([ds.y_train, ds.y_val, ds.y_test])),
                       np.sort(y.astype(np.float32)))
    np.savez(tmp_path / "t.npz", x_train=x[:40], y_train=y[:40, None], x_test=x[40:],
             y_test=y[40:])  # (n, 1) labels and a given test set
    ds = load_dataset(f"npz:{tmp_path / 't.npz'}")
    assert ds.task == "regression" and np.allclose(ds.y_test, y[40:].astype(np.float32))
    # integral floats and integers stay class labels, unless told otherwise
    np.savez(tmp_path / "c.npz", x_train=x, y_train=(np.arange(60) % 3).astype(float))
    assert load_dataset(f"npz:{tmp_path / 'c.npz'}").task == "classification"
    ds = load_dataset(f"npz:{tmp_path / 'c.npz'}", task="regression")
    assert ds.task == "regression" and ds.y_train.dtype == np.float32
    p = tmp_path / "bad.npz"
    np.savez(p, x_train=x, y_train=np.where(np.arange(60) == 3, np.nan, y))
    assert error(f"npz:{p}") == f"npz: {p}: y has missing or non-finite values (NaN or inf)"


def test_infer_task() -> None:
    assert infer_task(np.array([0.5, 1.0])) == "regression"
    assert infer_task(np.array([1.0, 2.0] * 20)) == "classification"
    assert infer_task(np.arange(100)) == "classification"  # an integer dtype: labels
    assert infer_task(np.arange(100.0)) == "classification"  # npz: integral floats are labels
    assert infer_task(np.arange(100.0), max_integer_classes=20) == "regression"  # csv
    assert infer_task(np.array(["a", "b"])) == "classification"


def test_float_targets_are_stratified_by_quantiles() -> None:
    rng = np.random.default_rng(0)
    y = rng.exponential(size=500).astype(np.float32)
    bins = strata(y)
    assert np.bincount(bins).tolist() == [50] * 10
    assert strata(np.array([2, 0, 1])).tolist() == [2, 0, 1]  # class ids unchanged
    kept, held = stratified_split(y, 0.2, np.random.default_rng(1))
    assert len(held) == 100 and sorted(np.concatenate([kept, held]).tolist()) == list(range(500))
    assert np.bincount(bins[held]).tolist() == [10] * 10  # each decile gives its fifth
    folds = stratified_folds(y, 5, np.random.default_rng(1))
    for k in range(5):
        assert np.bincount(bins[folds == k]).tolist() == [10] * 10


def test_scores_by_task() -> None:
    assert score(np.array([[0.9, 0.1], [0.2, 0.8]]), np.array([0, 0]), "classification") == {
        "accuracy": 0.5}
    scores = score(np.array([[1.0], [5.0]]), np.array([2.0, 2.0], dtype=np.float32),
                   "regression")
    assert scores == {"mean_absolute_error": 2.0, "root_mean_squared_error": pytest.approx(
        np.sqrt(5.0))}


def test_a_finished_search_reloads_its_task(tmp_path: Path, diabetes_csv: Path) -> None:
    summary = {"dataset": f"csv:{diabetes_csv}", "target": "target", "seed": 0,
               "validation_split": 0.2}
    assert search_dataset({**summary, "task": "regression"}).task == "regression"
    # summaries written before regression came are classifications'
    assert search_dataset(summary).task == "classification"
    assert search_dataset({"dataset": "digits"}).task == "classification"


def test_regression_on_images_has_no_default_space(tmp_path: Path) -> None:
    from autokeras_nas import workflow

    rng = np.random.default_rng(0)
    np.savez(tmp_path / "img.npz", x_train=rng.random((30, 6, 6)), y_train=rng.normal(size=30))
    ds = load_dataset(f"npz:{tmp_path / 'img.npz'}")
    assert ds.kind == "image" and ds.task == "regression"
    strategy = workflow.make_strategy("random", seed=0)
    with pytest.raises(workflow.SpaceError) as info:
        workflow.make_space(ds, strategy)
    assert str(info.value) == (
        "no default search space for regression on image data (the default regressor is the "
        "tabular MLP); pass --space with a model compiled for regression, or --task "
        "classification")


def test_resuming_with_another_task_is_refused(tmp_path: Path) -> None:
    from autokeras_nas import workflow

    (tmp_path / "results.json").write_text('{"strategy": "random"}')
    (tmp_path / "summary.json").write_text(
        '{"dataset": "csv:t.csv", "space": null, "params": {}, "task": "regression"}')
    same = dict(out_dir=tmp_path, dataset="csv:t.csv", target="y")
    assert workflow.check_out_dir(SearchConfig(**same)) is True  # auto: the data decides
    assert workflow.check_out_dir(SearchConfig(**same, task="regression")) is True
    with pytest.raises(WorkflowError, match="holds a search with task 'regression', not "
                                            "'classification'; pass --overwrite"):
        workflow.check_out_dir(SearchConfig(**same, task="classification"))
