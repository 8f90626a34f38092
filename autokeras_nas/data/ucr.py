"""UCR/UEA time-series classification datasets bundled with sktime, as `ucr:NAME`.

The PyPI package `sktime` ships a few datasets of the UCR/UEA archive as `.ts`
files with the official train/test split, in `sktime/datasets/data/NAME/`
(`NAME_TRAIN.ts`, `NAME_TEST.ts`). sktime 1.2 bundles these classification
problems: ACSF1, ArrowHead, BasicMotions, GunPoint, ItalyPowerDemand,
JapaneseVowels, OSULeaf, PLAID and UnitTest (a small Chinatown subset).
`available_datasets()` lists what the installed sktime has: every folder with
both files whose header says `@classLabel true` (the bundled regression
problems, e.g. Tecator, are left out). Nothing is downloaded.

Set `AUTOKERAS_NAS_UCR_DIR` to read another directory of the same layout
instead, e.g. the `Univariate_ts` or `Multivariate_ts` folder of the full
archive unpacked from timeseriesclassification.com.

Install with `pip install "autokeras-nas[timeseries]"`. The files are parsed
with sktime's `load_from_tsfile` (sktime is imported only when a dataset is
loaded, so `import autokeras_nas.data` stays numpy-only).

Names for `load_dataset`: `ucr:NAME`, e.g. `ucr:GunPoint` (the case of NAME
does not matter).

What the loader returns (`kind="timeseries"`):

- Inputs: float32 arrays of shape `(n, steps, channels)`, channels last as
  Keras' `Conv1D` and `LSTM` expect; univariate problems have one channel.
- z-normalisation: each series, and each channel of a multivariate series
  separately, is shifted to mean 0 and scaled to standard deviation 1 over
  its own time steps (population std); a constant series is only shifted
  (divided by 1 instead of 0). No statistic is shared between series, so the
  test set leaks nothing into training.
- Unequal lengths (JapaneseVowels, PLAID): each series is z-normalised over
  its own length, then padded at the END with zeros (the normalised mean) to
  the longest series of the train and test files together.
- Labels: the classes, sorted (numerically when every label is a number,
  e.g. PLAID's 0..10, else as text), become 0..K-1. `read_ucr(NAME).class_names`
  gives the original label of each id; `Dataset.source` names them too.
- Splits: the official test file is the test set; the validation set is a
  seeded stratified sample (`autokeras_nas.data.split.validation_indices`) of
  `validation_split` of the official training file.

Missing values (NaN) are refused with a `ValueError`; none of the bundled
classification problems has any.
"""

from __future__ import annotations

import importlib.util
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autokeras_nas.data.base import Dataset, register
from autokeras_nas.data.split import validation_indices

#: Environment variable naming a directory of `NAME/NAME_{TRAIN,TEST}.ts` folders
#: to read instead of sktime's bundled ones.
ENV_VAR = "AUTOKERAS_NAS_UCR_DIR"
#: How to install the optional dependency.
INSTALL_HINT = 'pip install "autokeras-nas[timeseries]"'
#: The `Dataset.kind` of these datasets.
KIND = "timeseries"

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


@dataclass(frozen=True, eq=False)
class UCRData:
    """One problem as read from its two `.ts` files, before the validation split.

    Attributes:
        name: The canonical name (the folder's), e.g. `"GunPoint"`.
        x_train: Official training series, float32 `(n, steps, channels)`,
            z-normalised and zero-padded as the module docstring says.
        y_train: Their labels, int64 class ids.
        x_test: Official test series, same layout.
        y_test: Their labels.
        class_names: The original label of each class id, in id order.
        lengths_train: Length of each training series before padding.
        lengths_test: Length of each test series before padding.
        directory: The folder read.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    lengths_train: np.ndarray
    lengths_test: np.ndarray
    directory: Path

    @property
    def equal_length(self) -> bool:
        """Whether all series had the same length (no padding happened)."""
        lengths = np.concatenate([self.lengths_train, self.lengths_test])
        return bool(len(lengths) == 0 or np.all(lengths == lengths[0]))


def _missing_sktime() -> ValueError:
    return ValueError(f"ucr datasets need sktime: {INSTALL_HINT}")


def _sktime_data_dir() -> Path:
    """sktime's bundled `datasets/data` folder, found without importing sktime."""
    try:
        spec = importlib.util.find_spec("sktime")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise _missing_sktime()
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"


def data_dir() -> Path:
    """The directory read: `$AUTOKERAS_NAS_UCR_DIR`, or sktime's bundled data.

    Raises:
        ValueError: Neither is set/installed (the message says how to install).
    """
    override = os.environ.get(ENV_VAR)
    return Path(override) if override else _sktime_data_dir()


def _files(directory: Path, name: str) -> tuple[Path, Path]:
    folder = directory / name
    return folder / f"{name}_TRAIN.ts", folder / f"{name}_TEST.ts"


def _header(path: Path) -> dict[str, str]:
    """The `@key value` lines before `@data`, keys lower-cased (first one wins).

    Other lines before `@data` (comments start with `#`, or `%` in some
    bundled files) are skipped.
    """
    header: dict[str, str] = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip()
            if not line.startswith("@"):
                continue
            key, _, value = line[1:].partition(" ")
            key = key.lower()
            if key == "data":
                break
            header.setdefault(key, value.strip())
    return header


def _is_classification(directory: Path, name: str) -> bool:
    train, test = _files(directory, name)
    if not (train.is_file() and test.is_file()):
        return False
    try:
        label = _header(train).get("classlabel", "")
    except OSError:
        return False
    return label.split(" ", 1)[0].lower() == "true"


def available_datasets(directory: str | os.PathLike[str] | None = None) -> tuple[str, ...]:
    """Names of the classification problems in `directory` (default `data_dir()`), sorted.

    Reads only the file headers; sktime is not imported.

    Raises:
        ValueError: No directory given and sktime is not installed.
    """
    root = Path(directory) if directory is not None else data_dir()
    if not root.is_dir():
        return ()
    names = (p.name for p in root.iterdir() if p.is_dir())
    return tuple(sorted((n for n in names if _is_classification(root, n)), key=str.lower))


def _canonical(name: str, directory: Path) -> str:
    names = available_datasets(directory)
    if name in names:
        return name
    folded = [n for n in names if n.lower() == name.lower()]
    if len(folded) == 1:
        return folded[0]
    listed = ", ".join(names) or "none"
    problem = f"unknown ucr dataset {name!r}" if name else "ucr needs a name, e.g. ucr:GunPoint"
    raise ValueError(f"{problem}; available in {directory}: {listed}")


def _label_key(labels: list[str]):
    if labels and all(_NUMBER.fullmatch(label) for label in labels):
        return lambda label: (float(label), label)
    return lambda label: (label, "")


def _class_names(observed: set[str], header_labels: list[str]) -> tuple[str, ...]:
    """The sorted classes, in the header's spelling when it only differs in case.

    sktime lower-cases labels while parsing (`Standing` becomes `standing`);
    the `@classLabel` header line still has the original spelling.
    """
    spelling = {label.lower(): label for label in header_labels}
    names = [spelling.get(label.lower(), label) for label in observed]
    if len({n.lower() for n in names}) != len(names):  # spellings would collide
        names = sorted(observed)
    return tuple(sorted(names, key=_label_key(names)))


def _series(x_nested, path: Path) -> list[list[np.ndarray]]:
    """sktime's nested DataFrame as a list (instances) of lists (channels) of float64 arrays."""
    out = []
    for row in x_nested.itertuples(index=False):
        channels = [np.asarray(cell, dtype=np.float64).reshape(-1) for cell in row]
        for channel in channels:
            if channel.size and not np.all(np.isfinite(channel)):
                raise ValueError(f"{path}: missing or non-finite values are not supported")
        out.append(channels)
    return out


def z_normalise(series: np.ndarray) -> np.ndarray:
    """`(series - mean) / std` along the last axis; std 0 (a constant series) counts as 1."""
    series = np.asarray(series, dtype=np.float64)
    mean = series.mean(axis=-1, keepdims=True)
    std = series.std(axis=-1, keepdims=True)
    std = np.where(std > 0, std, 1.0)
    return (series - mean) / std


def _stack(instances: list[list[np.ndarray]], steps: int) -> tuple[np.ndarray, np.ndarray]:
    """z-normalised, zero-padded `(n, steps, channels)` float32 and per-instance lengths."""
    channels = len(instances[0]) if instances else 0
    x = np.zeros((len(instances), steps, channels), dtype=np.float32)
    lengths = np.zeros(len(instances), dtype=np.int64)
    for i, instance in enumerate(instances):
        for c, values in enumerate(instance):
            if values.size:
                x[i, : values.size, c] = z_normalise(values)
        lengths[i] = max((v.size for v in instance), default=0)
    return x, lengths


def read_ucr(name: str, directory: str | os.PathLike[str] | None = None) -> UCRData:
    """Reads a problem's official train and test files (no validation split).

    Args:
        name: A name from `available_datasets()` (any case).
        directory: Where the `NAME/` folders are (default `data_dir()`).

    Returns:
        The `UCRData`.

    Raises:
        ValueError: sktime is not installed, the name is unknown (the message
            lists the available ones), or the files are malformed or have
            missing values.
    """
    root = Path(directory) if directory is not None else data_dir()
    if importlib.util.find_spec("sktime") is None:
        raise _missing_sktime()
    name = _canonical(name, root)
    try:
        from sktime.datasets import load_from_tsfile
    except ImportError as e:
        raise ValueError(f"cannot import sktime ({e}); {INSTALL_HINT}") from None

    parts = {}
    for split, path in zip(("train", "test"), _files(root, name)):
        try:
            x_nested, y = load_from_tsfile(str(path), return_data_type="nested_univ")
        except (OSError, ValueError, TypeError) as e:
            raise ValueError(f"cannot read {path}: {e}") from None
        instances = _series(x_nested, path)
        labels = [str(label).strip() for label in np.asarray(y).reshape(-1)]
        if len(labels) != len(instances):
            raise ValueError(f"{path}: {len(instances)} series but {len(labels)} labels")
        parts[split] = (instances, labels)

    counts = {len(inst) for instances, _ in parts.values() for inst in instances}
    if len(counts) > 1:
        raise ValueError(f"{name}: series have different numbers of channels {sorted(counts)}")
    steps = max(
        (v.size for instances, _ in parts.values() for inst in instances for v in inst), default=0
    )
    header_labels = _header(_files(root, name)[0]).get("classlabel", "").split()[1:]
    observed = {label for _, labels in parts.values() for label in labels}
    class_names = _class_names(observed, header_labels)
    ids = {label.lower(): i for i, label in enumerate(class_names)}

    arrays = {}
    for split, (instances, labels) in parts.items():
        x, lengths = _stack(instances, steps)
        y = np.array([ids[label.lower()] for label in labels], dtype=np.int64)
        arrays[split] = (x, y, lengths)
    return UCRData(
        name=name,
        x_train=arrays["train"][0], y_train=arrays["train"][1],
        x_test=arrays["test"][0], y_test=arrays["test"][1],
        class_names=class_names,
        lengths_train=arrays["train"][2], lengths_test=arrays["test"][2],
        directory=root / name,
    )


def summary() -> str:
    """One line for `autokeras-nas datasets`: the problems found (file headers only)."""
    override = os.environ.get(ENV_VAR)
    origin = f"{ENV_VAR}={override}" if override else "bundled with sktime"
    names = available_datasets()
    listed = ", ".join(names) if names else "none found"
    return f"UCR/UEA time-series classification, {origin}: {listed}"


@register("ucr", prefix=True, usage="ucr:NAME", summary=summary)
def load_ucr(argument: str, *, seed: int = 0, validation_split: float = 0.2) -> Dataset:
    """Loads `ucr:NAME` as z-normalised float32 `(steps, channels)` series with int labels.

    Args:
        argument: The NAME of `ucr:NAME`, e.g. `"GunPoint"` (any case).
        seed: Seed of the stratified validation sample.
        validation_split: Fraction of the official training set held out for
            validation, in `[0, 1)`.

    Returns:
        The `Dataset` (name `ucr:NAME` with the canonical NAME, kind
        `"timeseries"`); the test set is the official one.

    Raises:
        ValueError: sktime is missing (the message says
            `pip install "autokeras-nas[timeseries]"`), the name is unknown
            (the message lists the available ones), the files are malformed,
            or `validation_split` is invalid.
    """
    if not 0.0 <= validation_split < 1.0:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split!r}")
    data = read_ucr(argument)
    train, val = validation_indices(
        data.y_train, validation_split, np.random.default_rng(seed)
    )
    classes = ", ".join(f"{i}={label}" for i, label in enumerate(data.class_names))
    origin = "AUTOKERAS_NAS_UCR_DIR" if os.environ.get(ENV_VAR) else "bundled with sktime"
    padding = "" if data.equal_length else ", zero-padded at the end"
    return Dataset(
        name=f"ucr:{data.name}",
        kind=KIND,
        x_train=data.x_train[train], y_train=data.y_train[train],
        x_val=data.x_train[val], y_val=data.y_train[val],
        x_test=data.x_test, y_test=data.y_test,
        num_classes=len(data.class_names),
        input_shape=data.x_test.shape[1:],
        source=(
            f"UCR/UEA {data.name}, {origin} ({data.directory}); each series "
            f"z-normalised{padding}; classes {classes}"
        ),
        class_names=data.class_names,
    )
