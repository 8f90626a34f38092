"""The `Dataset` record and the registry of dataset loaders.

A loader is one function registered under a name. Plain names (`digits`)
take no argument; prefixed names (`npz:PATH`, `tfds:NAME`, `ucr:NAME`) pass
the text after the first colon to the loader registered for the prefix:

```python
@register("npz", prefix=True, usage="npz:PATH")
def load_npz(argument: str, *, seed: int, validation_split: float) -> Dataset:
    ...
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np


@dataclass(frozen=True, eq=False)
class Dataset:
    """A supervised dataset split into train, validation and test parts.

    Attributes:
        name: The name the dataset was loaded by (e.g. `"digits"`).
        kind: What the inputs are: `"image"` (arrays of shape `(H, W, C)`).
        x_train: Training inputs, float32.
        y_train: Training labels, integer class ids.
        x_val: Validation inputs (may hold zero samples).
        y_val: Validation labels.
        x_test: Test inputs, for the final number only.
        y_test: Test labels.
        num_classes: Number of classes; labels lie in `[0, num_classes)`.
        input_shape: Shape of one input, e.g. `(8, 8, 1)`.
        source: Where the data came from, in words.
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

    def describe(self) -> str:
        """One line: name, split sizes, classes and input shape."""
        return (
            f"{self.name}: {len(self.y_train)} train / {len(self.y_val)} val / "
            f"{len(self.y_test)} test, {self.num_classes} classes, "
            f"input {self.input_shape}"
        )


class Loader(Protocol):
    """Signature of a dataset loader.

    `argument` is the text after `prefix:` for a prefixed loader and `""` for
    a plain one; `seed` and `validation_split` are those of `load_dataset`.
    """

    def __call__(self, argument: str, *, seed: int, validation_split: float) -> Dataset: ...


@dataclass(frozen=True)
class _Entry:
    loader: Loader
    usage: str


_PLAIN: dict[str, _Entry] = {}
_PREFIXED: dict[str, _Entry] = {}


def register(
    name: str, *, prefix: bool = False, usage: str | None = None
) -> Callable[[Loader], Loader]:
    """Decorator registering a dataset loader.

    Args:
        name: The dataset name, or the prefix before the colon when `prefix`.
        prefix: Whether the loader handles `name:ARGUMENT` names.
        usage: How the name is shown by `list_datasets()` (default `name`, or
            `name:ARG` for a prefix).

    Returns:
        The decorator, which returns the loader unchanged.
    """
    table = _PREFIXED if prefix else _PLAIN

    def decorator(loader: Loader) -> Loader:
        if name in table:
            raise ValueError(f"a dataset loader named {name!r} is already registered")
        table[name] = _Entry(loader, usage or (f"{name}:ARG" if prefix else name))
        return loader

    return decorator


def unregister(name: str, *, prefix: bool = False) -> None:
    """Removes a registered loader (for tests and plugins that replace one)."""
    (_PREFIXED if prefix else _PLAIN).pop(name, None)


def list_datasets() -> list[str]:
    """Names `load_dataset` accepts, sorted; prefixed forms as e.g. `npz:PATH`."""
    return sorted(e.usage for e in (*_PLAIN.values(), *_PREFIXED.values()))


def _resolve(name: str) -> tuple[Loader, str]:
    if name in _PLAIN:
        return _PLAIN[name].loader, ""
    prefix, sep, argument = name.partition(":")
    if sep and prefix in _PREFIXED:
        return _PREFIXED[prefix].loader, argument
    known = ", ".join(list_datasets()) or "none"
    raise ValueError(f"unknown dataset {name!r}; known datasets: {known}")


def load_dataset(name: str, *, seed: int = 0, validation_split: float = 0.2) -> Dataset:
    """Loads a registered dataset and splits it reproducibly.

    Args:
        name: A name from `list_datasets()`, e.g. `"digits"`.
        seed: Seed of the split (same seed, same split).
        validation_split: Fraction of the non-test data held out for
            validation, in `[0, 1)`.

    Returns:
        The `Dataset`.

    Raises:
        ValueError: Unknown name or invalid `validation_split`.
    """
    loader, argument = _resolve(name)
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
    return loader(argument, seed=seed, validation_split=validation_split)
