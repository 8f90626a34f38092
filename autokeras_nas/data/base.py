"""The `Dataset` record and the registry of dataset loaders.

A loader is one function registered under a name. Plain names (`digits`)
take no argument; prefixed names (`npz:PATH`, `tfds:NAME`, `ucr:NAME`) pass
the text after the first colon to the loader registered for the prefix:

```python
@register("npz", prefix=True, usage="npz:PATH",
          summary="arrays x_train, y_train[, x_test, y_test] from a .npz file")
def load_npz(argument: str, *, seed: int, validation_split: float) -> Dataset:
    ...
```

Options beyond `seed` and `validation_split` (`target` for `csv:PATH`,
`data_dir` for `tfds:NAME`, `task` for `csv:PATH` and `npz:PATH`, `image_size`
and `stream` for `images:DIR`) reach only the loaders that declare them with
`register(..., options=("target",))`, and only when given: `load_dataset`
refuses an option the loader does not take (e.g. a target for `digits`).
`task="classification"` is the one exception: every loader that does not
take `task` makes classification datasets, so it is accepted (and not
passed on) for all of them.
`summary` (a string, or a callable returning one) says in one line what a
dataset holds and where it comes from, for `autokeras-nas datasets`: it must
be cheap, reading no data and importing no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence, Union

import numpy as np

#: What a dataset's target is: class labels, or numbers to predict.
TASKS = ("classification", "regression")


@dataclass(frozen=True, eq=False)
class Dataset:
    """A supervised dataset split into train, validation and test parts.

    Attributes:
        name: The name the dataset was loaded by (e.g. `"digits"`).
        kind: What the inputs are: `"image"` (arrays of shape `(H, W, C)`),
            `"timeseries"` (`(steps, channels)`) or `"tabular"`
            (`(features,)`).
        x_train: Training inputs, float32; for a streamed dataset (see
            `streamed`), an object standing for them (e.g.
            `autokeras_nas.data.images.ImageFiles`) with `len()`, `shape`,
            `join(other)`, `to_numpy()` and `pipeline(labels, batch_size,
            shuffle=, seed=)`, the `tf.data` pipeline a search trains on.
        y_train: Training labels: integer class ids (classification), or
            float32 numbers (regression).
        x_val: Validation inputs (may hold zero samples).
        y_val: Validation labels.
        x_test: Test inputs, for the final number only.
        y_test: Test labels.
        num_classes: Number of classes; labels lie in `[0, num_classes)`.
            0 for a regression dataset.
        input_shape: Shape of one input, e.g. `(8, 8, 1)`.
        source: Where the data came from, in words.
        class_names: The original label of each class id, in id order, when
            the loader knows them (e.g. the strings of a CSV's target
            column); `None` otherwise. Empty for a regression dataset.
        task: `"classification"` (integer class ids) or `"regression"`
            (a float32 target, one number per sample).
    """

    name: str
    kind: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int
    input_shape: tuple[int, ...]
    source: str = ""
    class_names: tuple[str, ...] | None = None
    task: str = "classification"

    @property
    def streamed(self) -> bool:
        """Whether the inputs are read from disk as they are used (not arrays)."""
        return not isinstance(self.x_train, np.ndarray)

    def describe(self) -> str:
        """One line: name, split sizes, classes (or regression) and input shape."""
        target = "regression" if self.task == "regression" else f"{self.num_classes} classes"
        return (
            f"{self.name}: {len(self.y_train)} train / {len(self.y_val)} val / "
            f"{len(self.y_test)} test, {target}, "
            f"input {self.input_shape}{', streamed from disk' if self.streamed else ''}"
        )


class Loader(Protocol):
    """Signature of a dataset loader.

    `argument` is the text after `prefix:` for a prefixed loader and `""` for
    a plain one; `seed` and `validation_split` are those of `load_dataset`.
    `options` holds the given ones (not `None`) among those the loader
    declared with `register(..., options=...)`: `target` (a column name),
    `data_dir` (a directory) and `task` (`"classification"` or
    `"regression"`; not given: decided from the data), all strings,
    `image_size` (`"H,W"` text or a pair) and `stream` (a bool). A loader
    that declares none is called with `seed` and `validation_split` only.
    """

    def __call__(
        self, argument: str, *, seed: int, validation_split: float, **options: Any
    ) -> Dataset: ...


#: A `summary`: one line, or a callable computing it (e.g. whether files exist).
Summary = Union[str, Callable[[], str]]

#: The options `load_dataset` can pass on, with the CLI flag that sets each.
OPTIONS = {"target": "--target", "data_dir": "--data-dir", "task": "--task",
           "image_size": "--image-size", "stream": "--stream/--no-stream"}


@dataclass(frozen=True)
class _Entry:
    loader: Loader
    usage: str
    summary: Summary = ""
    options: tuple[str, ...] = ()


_PLAIN: dict[str, _Entry] = {}
_PREFIXED: dict[str, _Entry] = {}


def register(
    name: str,
    *,
    prefix: bool = False,
    usage: str | None = None,
    summary: Summary = "",
    options: Sequence[str] = (),
) -> Callable[[Loader], Loader]:
    """Decorator registering a dataset loader.

    Args:
        name: The dataset name, or the prefix before the colon when `prefix`.
        prefix: Whether the loader handles `name:ARGUMENT` names.
        usage: How the name is shown by `list_datasets()` (default `name`, or
            `name:ARG` for a prefix).
        summary: One line on size and source for `dataset_summaries()`, or a
            cheap callable returning it (no data read, no TensorFlow).
        options: The keyword options of `load_dataset` the loader takes,
            among `OPTIONS` (`"target"`, `"data_dir"`, `"task"`, `"image_size"`,
            `"stream"`).

    Returns:
        The decorator, which returns the loader unchanged.

    Raises:
        ValueError: The name is taken or an option is unknown.
    """
    table = _PREFIXED if prefix else _PLAIN
    unknown = sorted(set(options) - set(OPTIONS))
    if unknown:
        raise ValueError(f"unknown loader options {unknown}; known: {', '.join(OPTIONS)}")

    def decorator(loader: Loader) -> Loader:
        if name in table:
            raise ValueError(f"a dataset loader named {name!r} is already registered")
        shown = usage or (f"{name}:ARG" if prefix else name)
        table[name] = _Entry(loader, shown, summary, tuple(options))
        return loader

    return decorator


def unregister(name: str, *, prefix: bool = False) -> None:
    """Removes a registered loader (for tests and plugins that replace one)."""
    (_PREFIXED if prefix else _PLAIN).pop(name, None)


def list_datasets() -> list[str]:
    """Names `load_dataset` accepts, sorted; prefixed forms as e.g. `npz:PATH`."""
    return sorted(e.usage for e in (*_PLAIN.values(), *_PREFIXED.values()))


def _summary_text(entry: _Entry) -> str:
    if not callable(entry.summary):
        return entry.summary
    try:
        text = entry.summary()
    except Exception as e:  # a summary must never break the listing
        text = f"unavailable: {e}"
    return " ".join(str(text).split())


def dataset_summaries() -> list[tuple[str, str]]:
    """`(usage, summary)` of every registered dataset, sorted by usage.

    Calls the summaries' callables (cheap by contract); a failing one shows
    as `"unavailable: <error>"`.
    """
    entries = (*_PLAIN.values(), *_PREFIXED.values())
    return sorted((e.usage, _summary_text(e)) for e in entries)


def _resolve(name: str) -> tuple[_Entry, str]:
    if name in _PLAIN:
        return _PLAIN[name], ""
    prefix, sep, argument = name.partition(":")
    if sep and prefix in _PREFIXED:
        return _PREFIXED[prefix], argument
    known = ", ".join(list_datasets()) or "none"
    raise ValueError(f"unknown dataset {name!r}; known datasets: {known}")


def parse_task(task: str | None) -> str | None:
    """`"classification"` or `"regression"`; None for `None` or `"auto"`
    (decided from the data).

    Raises:
        ValueError: any other value.
    """
    if task is None or task == "auto":
        return None
    if task not in TASKS:
        raise ValueError(f"--task must be auto, classification or regression, got {task!r}")
    return task


def _check_options(name: str, entry: _Entry, given: dict[str, str]) -> dict[str, str]:
    """The options to pass to the dataset's loader; refuses one it does not
    take (but drops `task="classification"`, what every such loader makes)."""
    for option in given:
        if option not in entry.options:
            if option == "task" and given[option] == "classification":
                continue
            users = sorted(e.usage for e in (*_PLAIN.values(), *_PREFIXED.values())
                           if option in e.options)
            shown = f"{OPTIONS[option]} {given[option]}" if option == "task" else OPTIONS[option]
            raise ValueError(
                f"{shown} is only used by {' and '.join(users) or 'no dataset'}, "
                f"not by dataset {name!r}"
            )
    return {k: v for k, v in given.items() if k in entry.options}


def load_dataset(
    name: str,
    *,
    seed: int = 0,
    validation_split: float = 0.2,
    target: str | None = None,
    data_dir: str | None = None,
    image_size: str | Sequence[int] | None = None,
    stream: bool | None = None,
    task: str | None = None,
) -> Dataset:
    """Loads a registered dataset and splits it reproducibly.

    Args:
        name: A name from `list_datasets()`, e.g. `"digits"` or `"csv:data.csv"`.
        seed: Seed of the split (same seed, same split).
        validation_split: Fraction of the non-test data held out for
            validation, in `[0, 1)`.
        target: The column of class labels, for `csv:PATH` (`--target`).
        data_dir: Where TensorFlow Datasets keeps its data, for `tfds:NAME`
            (`--data-dir`; default: tfds' own).
        task: `"classification"`, `"regression"`, or `None` / `"auto"`
            for the loader's choice from the data (`--task`); only
            `csv:PATH` and `npz:PATH` make regression datasets.
        image_size: `(height, width)` or `"H,W"` images are resized to, for
            `images:DIR` (`--image-size`).
        stream: Stream `images:DIR` from disk (True), load it whole (False)
            or decide by its size (None) (`--stream/--no-stream`).

    Returns:
        The `Dataset`.

    Raises:
        ValueError: Unknown name, invalid `validation_split` or `task`, an
            option the dataset does not take, or the loader's own errors
            (one line).
    """
    entry, argument = _resolve(name)
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
    task = parse_task(task)
    given = {k: v for k, v in (("target", target), ("data_dir", data_dir), ("task", task),
                               ("image_size", image_size), ("stream", stream))
             if v is not None}
    given = _check_options(name, entry, given)
    return entry.loader(argument, seed=seed, validation_split=validation_split, **given)
