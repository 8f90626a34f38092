"""`csv:PATH` with a target column: a table as a tabular classification or
regression dataset.

```bash
autokeras-nas search --dataset csv:penguins.csv --target species ...
```

```python
load_dataset("csv:penguins.csv", target="species")
```

Read with Python's `csv` module (no pandas needed):

- Format: the first row names the columns; the delimiter is sniffed among
  `,` `;` tab and `|` (default `,`); UTF-8, with or without a BOM. Blank
  lines are skipped; a row with another number of fields than the header is
  an error naming its line.
- Missing cells: empty, `NA`, `N/A`, `NaN`, `null`, `None` or `?` (any case).
- Target: the `target` column (a missing value is an error). Classes
  (strings, or integers with at most `MAX_INTEGER_CLASSES` = 20 distinct
  values) become class ids `0..K-1` in sorted order (numbers numerically);
  `Dataset.class_names` holds the original values. Numbers with a
  non-integer value or more than 20 distinct values are a regression
  target (`Dataset.task == "regression"`, float32, in the file's units).
  `task` (`--task classification|regression`) overrides that choice.
- Features: every other column. A column whose present cells all parse as
  numbers is numeric: missing cells get the training mean, then the column
  is standardised with the mean and (population) standard deviation of the
  training part only (a constant column becomes 0). Any other column is
  categorical and one-hot encoded over the categories seen in the training
  part, in sorted order; a missing or unseen category is all zeros.
- Result: kind `"tabular"`, float32 inputs of shape `(n_features,)`: the
  numeric columns in file order, then each categorical column's one-hot
  block.
- Splits: a seeded stratified 20 % test split (a regression target:
  stratified by its quantile bins), then `validation_split` of the rest for
  validation; the statistics come from the remaining training part.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autokeras_nas.data.arrays import (
    MAX_INTEGER_CLASSES,
    encode_labels,
    infer_task,
    regression_targets,
    split_indices,
)
from autokeras_nas.data.base import Dataset, register

#: Cell values read as missing (compared stripped and in lower case).
MISSING = frozenset({"", "na", "n/a", "nan", "null", "none", "?"})
#: Delimiters the sniffer may choose.
DELIMITERS = ",;\t|"

SUMMARY = ("a table with a header row and a class or numeric target column (--target NAME; "
           "--task regression|classification); numeric columns standardised, text columns "
           "one-hot encoded")


@dataclass(frozen=True)
class Table:
    """A CSV file's header and rows (cells as stripped strings)."""

    path: Path
    header: list[str]
    rows: list[list[str]]


def _delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def read_table(path: Path) -> Table:
    """Reads a CSV file with a header row.

    Raises:
        ValueError: A missing, unreadable or empty file, no data rows, or a
            row whose field count differs from the header's.
    """
    if not path.is_file():
        raise ValueError(f"csv: no such file: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise ValueError(f"csv: cannot read {path}: {e}") from None
    if not text.strip():
        raise ValueError(f"csv: {path} is empty")
    reader = csv.reader(text.splitlines(), delimiter=_delimiter(text[:8192]))
    lines = [(n, [c.strip() for c in row]) for n, row in enumerate(reader, start=1)
             if any(c.strip() for c in row)]
    if not lines:
        raise ValueError(f"csv: {path} is empty")
    (_, header), body = lines[0], lines[1:]
    if not body:
        raise ValueError(f"csv: {path} has a header but no data rows")
    for number, row in body:
        if len(row) != len(header):
            raise ValueError(f"csv: {path} line {number} has {len(row)} fields, "
                             f"the header has {len(header)}")
    return Table(path, header, [row for _, row in body])


def _numbers(cells: list[str]) -> np.ndarray | None:
    """The column as float64 with NaN for missing cells, or `None` if not numeric."""
    values = np.full(len(cells), np.nan)
    for i, cell in enumerate(cells):
        if cell.lower() in MISSING:
            continue
        try:
            values[i] = float(cell)
        except ValueError:
            return None
    return values if np.all(np.isfinite(values[~np.isnan(values)])) else None


def _target_labels(table: Table, target: str) -> np.ndarray:
    if not target:
        raise ValueError(f"csv:{table.path} needs a target column: pass --target NAME")
    if table.header.count(target) != 1:
        problem = "no column" if target not in table.header else "several columns"
        raise ValueError(f"csv: {table.path} has {problem} named {target!r} "
                         f"(columns: {', '.join(table.header)})")
    column = table.header.index(target)
    cells = [row[column] for row in table.rows]
    for number, cell in enumerate(cells):
        if cell.lower() in MISSING:
            raise ValueError(f"csv: {table.path}: target {target!r} is missing in data row "
                             f"{number + 1}; drop or fill those rows")
    numbers = _numbers(cells)
    return np.array(cells) if numbers is None else numbers


def _standardise(values: np.ndarray, train: np.ndarray) -> np.ndarray:
    part = values[train]
    present = part[~np.isnan(part)]
    mean = float(present.mean()) if present.size else 0.0
    std = float(present.std()) if present.size else 0.0
    filled = np.where(np.isnan(values), mean, values)
    return (filled - mean) / (std if std > 0 else 1.0)


def _one_hot(cells: np.ndarray, train: np.ndarray) -> np.ndarray:
    categories = sorted({c for c in cells[train] if c.lower() not in MISSING})
    return (cells[:, None] == np.array(categories, dtype=object)[None, :]).astype(np.float64) \
        if categories else np.zeros((len(cells), 0))


def encode_features(table: Table, target: str, train: np.ndarray) -> tuple[np.ndarray, str]:
    """Every column but `target`, encoded as the module docstring says.

    Returns:
        float32 `(n_rows, n_features)` and a short description.

    Raises:
        ValueError: The table has no column besides the target.
    """
    columns = [i for i, name in enumerate(table.header) if name != target]
    if not columns:
        raise ValueError(f"csv: {table.path} has no feature column besides the target {target!r}")
    numeric, categorical = [], []
    for i in columns:
        cells = [row[i] for row in table.rows]
        values = _numbers(cells)
        if values is not None:
            numeric.append(_standardise(values, train))
        else:
            categorical.append(_one_hot(np.array(cells, dtype=object), train))
    blocks = [np.stack(numeric, axis=1)] if numeric else []
    x = np.concatenate(blocks + categorical, axis=1).astype(np.float32)
    described = (f"{len(numeric)} numeric columns standardised, {len(categorical)} text "
                 f"columns one-hot encoded, {x.shape[1]} features")
    return x, described


def _target(table: Table, target: str, task: str | None) -> tuple[np.ndarray, tuple, str]:
    """The target column as (class ids, class names, task) or, for
    regression, (float32 values, (), task)."""
    values = _target_labels(table, target)
    task = task or infer_task(values, max_integer_classes=MAX_INTEGER_CLASSES)
    what = f"csv: {table.path}: target {target!r}"
    if task == "regression":
        (y,) = regression_targets([values], what=what)
        return y, (), task
    (y,), class_names = encode_labels([values], what=what)
    return y, class_names, task


@register("csv", prefix=True, usage="csv:PATH", summary=SUMMARY, options=("target", "task"))
def load_csv(
    argument: str, *, seed: int = 0, validation_split: float = 0.2, target: str | None = None,
    task: str | None = None,
) -> Dataset:
    """Loads `csv:PATH` as a tabular dataset of the `target` column's values:
    classes, or a number to predict (see the module docstring).

    Args:
        argument: The PATH of `csv:PATH` (`~` is expanded).
        seed: Seed of the stratified test and validation splits.
        validation_split: Fraction of the non-test rows for validation.
        target: The name of the target column (`--target`); required.
        task: `"classification"` or `"regression"` (`--task`); None: from
            the target's values.

    Returns:
        The `Dataset` named `csv:PATH`, kind `"tabular"`, with the target's
        values as `class_names` (classification) or as float32 targets
        (regression).

    Raises:
        ValueError: No target given, a missing or empty file, a missing
            target column, a missing target value, a target of one class or
            (classification) of non-integer numbers or (regression) of text,
            or no feature column (all one line).
    """
    if not argument:
        raise ValueError("csv needs a file, e.g. csv:data.csv --target label")
    path = Path(argument).expanduser()
    if target is None:
        raise ValueError(f"csv:{argument} needs a target column: pass --target NAME")
    table = read_table(path)
    y, class_names, task = _target(table, target, task)
    train, val, test = split_indices(y, seed=seed, validation_split=validation_split,
                                     has_test=False)
    x, described = encode_features(table, target, train)
    split = "20 % test split stratified by target quantiles" if task == "regression" \
        else "stratified 20 % test split"
    return Dataset(
        name=f"csv:{argument}", kind="tabular",
        x_train=x[train], y_train=y[train], x_val=x[val], y_val=y[val],
        x_test=x[test], y_test=y[test],
        num_classes=len(class_names), input_shape=(x.shape[1],),
        source=f"table {path}, {task} target {target!r}: {described}; {split}",
        class_names=class_names, task=task,
    )
