"""The ground truth of `autokeras-nas bench oneshot`: a seeded sample of
NAS-Bench-201 cells, the rank statistics that compare an estimate with it,
and the JSON cache of the cells' stand-alone trainings. Numpy (and SciPy for
the rank correlations) only.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from autokeras_nas.bench.nb201 import cell_index, cell_values
from autokeras_nas.results import write_json_atomic
from autokeras_nas.testing.spaces import NB201_EDGES, NB201_OPS

__all__ = ["CACHE_VERSION", "OneshotBenchError", "TruthCache", "arch_key", "choice_rank",
           "is_connected", "rank_correlations", "sample_architectures"]

#: Version of the cache's layout and of the training protocol it records;
#: part of every entry's key, so a changed protocol trains afresh. 2: the
#: cell space's stem has stride 2 on inputs of 28x28 or more.
CACHE_VERSION = 2
_CELLS = len(NB201_OPS) ** len(NB201_EDGES)


class OneshotBenchError(ValueError):
    """Bad input to `bench oneshot`, or an unusable cache (a one-line message)."""


def is_connected(arch: Mapping[str, str]) -> bool:
    """Whether the cell's output depends on its input: a path of edges that
    are not `none` leads from node 0 to node 3."""
    reached = {0}
    for j in range(1, 4):
        if any(arch[f"edge_{i}_{j}"] != "none" and i in reached for i in range(j)):
            reached.add(j)
    return 3 in reached


def sample_architectures(n: int, seed: int) -> list[dict[str, str]]:
    """`n` distinct connected NAS-Bench-201 cells drawn uniformly with `seed`.

    Cells are drawn one after another, so a larger sample of the same seed
    begins with the smaller one (cached trainings stay useful). A cell whose
    output does not depend on its input is left out: every estimate and
    every training scores it at chance, so pairs of them would only add
    ties, and such a cell is no candidate anyone would pick.

    Raises:
        OneshotBenchError: `n` below 1 or above half the space's 15,625
            cells (about 98 % of them are connected, so the draws end fast).
    """
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= _CELLS // 2:
        raise OneshotBenchError(f"the sample size must be an int in [1, {_CELLS // 2}], "
                                f"got {n!r}")
    rng = np.random.default_rng(seed)
    seen: set[int] = set()
    sample: list[dict[str, str]] = []
    while len(sample) < n:
        index = int(rng.integers(_CELLS))
        if index in seen:
            continue
        seen.add(index)
        arch = cell_values(index)
        if is_connected(arch):
            sample.append(arch)
    return sample


def arch_key(arch: Mapping[str, str]) -> str:
    """The cell as text, its edges' operations in `NB201_EDGES` order."""
    return ",".join(str(arch[edge]) for edge in NB201_EDGES)


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def rank_correlations(truth: Sequence[float], estimate: Sequence[float]) -> dict[str, Any]:
    """Kendall's tau (tau-b: ties counted) and Spearman's rho between two
    scorings of the same architectures (pairs where either is missing, None
    or NaN, are left out); None when fewer than 3 pairs remain or a scoring
    is constant."""
    from scipy import stats

    pairs = [(float(t), float(e)) for t, e in zip(truth, estimate, strict=True)
             if t is not None and e is not None and math.isfinite(t) and math.isfinite(e)]
    out: dict[str, Any] = {"kendall_tau": None, "spearman_rho": None, "pairs": len(pairs)}
    if len(pairs) < 3:
        return out
    t, e = np.array(pairs).T
    if np.ptp(t) == 0 or np.ptp(e) == 0:
        return out
    out["kendall_tau"] = _finite(stats.kendalltau(t, e)[0])
    out["spearman_rho"] = _finite(stats.spearmanr(t, e)[0])
    return out


def choice_rank(truth: Sequence[float], scores: Sequence[float | None]) -> dict[str, Any] | None:
    """The architecture a scoring would choose (its highest score; the first
    of equal ones) and its rank by `truth` within the sample: 1 + the number
    of architectures truly better. None when nothing was scored."""
    usable = [i for i, s in enumerate(scores) if s is not None and math.isfinite(s)]
    if not usable:
        return None
    index = max(usable, key=lambda i: (scores[i], -i))
    rank = 1 + sum(1 for t in truth if t > truth[index])
    return {"index": index, "rank": rank, "of": len(truth),
            "top_quarter": rank <= math.ceil(len(truth) / 4),
            "true_accuracy": float(truth[index])}


class TruthCache:
    """Stand-alone trainings of sampled cells, kept in a JSON file.

    The file holds entries, each a `key` (what the trainings depend on:
    dataset, split, batch size, space settings, sample seed, epochs) and its
    `runs`: cell text -> the cell, its NAS-Bench-201 index, and per training
    seed its validation accuracy and seconds. Every `record` rewrites the
    file atomically, so an interrupted benchmark keeps what finished.

    Args:
        path: The JSON file (created on the first record); None keeps the
            trainings in memory only.
        key: This benchmark's key (JSON values).

    Raises:
        OneshotBenchError: the file exists but is not such a cache.
    """

    def __init__(self, path: Path | None, key: Mapping[str, Any]) -> None:
        self.path = path
        self.key = json.loads(json.dumps(dict(key, version=CACHE_VERSION)))
        self.data: dict[str, Any] = {"entries": []}
        if path is not None and path.exists():
            try:
                self.data = json.loads(path.read_text())
                entries = self.data["entries"]
                if not isinstance(entries, list):
                    raise TypeError("entries is not a list")
            except (OSError, ValueError, KeyError, TypeError) as e:
                raise OneshotBenchError(f"{path} is not a bench oneshot cache ({e}); give "
                                        "another --cache file") from None
        found = [e for e in self.data["entries"] if e.get("key") == self.key]
        if found:
            self.entry = found[0]
        else:
            self.entry = {"key": self.key, "runs": {}}
            self.data["entries"].append(self.entry)

    def accuracy(self, arch: Mapping[str, str], seed: int) -> float | None:
        """The recorded validation accuracy of `arch` trained with `seed`."""
        run = self.entry["runs"].get(arch_key(arch), {})
        value = run.get("val_accuracy", {}).get(str(seed))
        return None if value is None else float(value)

    def seconds(self, arch: Mapping[str, str], seed: int) -> float | None:
        """The recorded training seconds of `arch` with `seed`."""
        run = self.entry["runs"].get(arch_key(arch), {})
        value = run.get("train_time_s", {}).get(str(seed))
        return None if value is None else float(value)

    def test_accuracy(self, arch: Mapping[str, str], seed: int) -> float | None:
        """The recorded test accuracy of `arch` trained with `seed` (None:
        not measured, as in trainings recorded before it was)."""
        run = self.entry["runs"].get(arch_key(arch), {})
        value = run.get("test_accuracy", {}).get(str(seed))
        return None if value is None else float(value)

    def record_test(self, arch: Mapping[str, str], seed: int, test_accuracy: float) -> None:
        """Adds the test accuracy of a recorded training's cell and seed
        (measured by another training of it; the recorded validation
        accuracy, the truth, stays) and writes the file."""
        run = self.entry["runs"][arch_key(arch)]
        run.setdefault("test_accuracy", {})[str(seed)] = float(test_accuracy)
        self._write()

    def record(self, arch: Mapping[str, str], seed: int, accuracy: float, seconds: float,
               params: int, test_accuracy: float | None = None) -> None:
        """Records one training and writes the file."""
        run = self.entry["runs"].setdefault(arch_key(arch), {
            "arch": dict(arch), "nb201_index": cell_index(arch), "params": int(params),
            "val_accuracy": {}, "train_time_s": {}})
        run["val_accuracy"][str(seed)] = float(accuracy)
        run["train_time_s"][str(seed)] = round(float(seconds), 3)
        if test_accuracy is not None:
            run.setdefault("test_accuracy", {})[str(seed)] = float(test_accuracy)
        self._write()

    def _write(self) -> None:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_json_atomic(str(self.path), self.data, indent=1)
