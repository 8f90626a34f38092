"""`autokeras-nas bench real`: searchers on a real dataset with a wall-clock budget.

Every run (one searcher, one seed) is a fresh Python process started with
`child_command`, and the runs go one after another, never two at a time,
so that no run shares the CPU, the memory or TensorFlow's graphs with
another. The child writes its record as JSON; a child that fails or hangs
is recorded as failed with a one-line reason and the next run starts.
After every run the whole benchmark is written to `--json` atomically, so
an interrupted benchmark keeps its finished runs.

A searcher is one of this package's strategies (`random`, `nash`, any
installed plugin), searched exactly as `autokeras-nas search` searches it,
optionally with settings of the search (`random:epochs=9,early_stopping=asha`),
or a peer of `PEERS` (`autokeras_nas.bench.real_peers`). Numpy only here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from autokeras_nas.bench.real_report import derive
from autokeras_nas.results import write_json_atomic

__all__ = ["IMAGE_PEERS", "PEERS", "PROTOCOL_DATASETS", "RealBenchError", "SERIES_PEERS",
           "SearcherSpec", "check_peers", "child_command", "parse_searchers",
           "protocol_dataset", "run_benchmark", "run_one"]

#: KerasTuner's tuners on the shared small-CNN space (image data only).
IMAGE_PEERS = ("kt-hyperband", "kt-random", "kt-bayes")
#: Sktime's 1-nearest-neighbour DTW classifier (`ucr:NAME` data only).
SERIES_PEERS = ("dtw-1nn",)
PEERS = IMAGE_PEERS + SERIES_PEERS
#: Dataset names the protocol sizes: Fashion-MNIST is searched on 25,000 of
#: its training images, split 20,000 / 5,000 (the validation images are the
#: end of that set), and scored on the official 10,000 test images.
PROTOCOL_DATASETS = {"fashion_mnist": "fashion_mnist:25000"}
#: Seconds a run may take beyond twice its budget (start-up, the trial that
#: ends after the budget, the test evaluation) before it is stopped as hung.
GRACE_S = 600.0


class RealBenchError(ValueError):
    """Bad input to the benchmark (a one-line message)."""


@dataclass(frozen=True)
class SearcherSpec:
    """One searcher of the benchmark.

    Attributes:
        name: A strategy plugin or a peer of `PEERS`.
        settings: Search settings that replace the search's defaults
            (SearchConfig fields, for strategies only).
        label: The searcher as the user wrote it (its name in tables).
    """

    name: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""

    @property
    def is_peer(self) -> bool:
        """Whether a peer (not one of this package's strategies) searches."""
        return self.name in PEERS

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "settings": dict(self.settings), "label": self.label}


def protocol_dataset(name: str) -> str:
    """The dataset the benchmark loads for `name` (see `PROTOCOL_DATASETS`)."""
    return PROTOCOL_DATASETS.get(name, name)


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _setting(token: str, text: str) -> tuple[str, Any]:
    key, sep, value = token.partition("=")
    key = key.strip()
    if not sep or not key.isidentifier():
        raise RealBenchError(f"a searcher setting is KEY=VALUE, got {token!r} in {text!r}")
    return key, _value(value.strip())


def parse_searchers(text: str, strategies: Sequence[str]) -> list[SearcherSpec]:
    """`random,random:epochs=9,early_stopping=asha,kt-hyperband` -> specs.

    A comma-separated token `KEY=VALUE` without a `NAME:` before it adds a
    setting to the searcher before it; values are read as JSON when they
    parse (`9`, `null`), else kept as text.

    Raises:
        RealBenchError: an empty list, an unknown searcher, a malformed or
            repeated setting, settings on a peer, or a searcher listed twice.
    """
    specs: list[tuple[str, dict[str, Any], list[str]]] = []
    for token in (t.strip() for t in text.split(",")):
        if not token:
            continue
        name, colon, rest = token.partition(":")
        if not colon and "=" in token:
            if not specs:
                raise RealBenchError(f"setting {token!r} comes before any searcher in {text!r}")
            key, value = _setting(token, text)
            if key in specs[-1][1]:
                raise RealBenchError(f"setting {key!r} given twice for {specs[-1][0]!r}")
            specs[-1][1][key] = value
            specs[-1][2].append(token)
            continue
        settings = dict([_setting(rest, text)]) if colon else {}
        specs.append((name.strip(), settings, [token]))
    if not specs:
        raise RealBenchError("--searchers lists no searcher")
    out = [SearcherSpec(n, s, ",".join(parts)) for n, s, parts in specs]
    for spec in out:
        if spec.name not in PEERS and spec.name not in strategies:
            raise RealBenchError(f"unknown searcher {spec.name!r}: choose a strategy "
                                 f"({', '.join(strategies)}) or a peer ({', '.join(PEERS)})")
        if spec.is_peer and spec.settings:
            raise RealBenchError(f"peer {spec.name!r} takes no settings, got {spec.label!r}")
    labels = [s.label for s in out]
    twice = next((label for label in labels if labels.count(label) > 1), None)
    if twice is not None:
        raise RealBenchError(f"searcher {twice!r} is listed twice")
    return out


def check_peers(specs: Sequence[SearcherSpec], kind: str, dataset: str) -> None:
    """Refuses a peer that cannot search `dataset` (of `Dataset.kind` `kind`).

    Raises:
        RealBenchError: an image peer on non-image data, or `dtw-1nn` on
            data other than `ucr:NAME`.
    """
    for spec in specs:
        if spec.name in IMAGE_PEERS and kind != "image":
            raise RealBenchError(f"{spec.name} searches the image CNN space; {dataset} holds "
                                 f"{kind} data")
        if spec.name in SERIES_PEERS and not dataset.startswith("ucr:"):
            raise RealBenchError(f"{spec.name} classifies ucr:NAME time series, not {dataset}")


def child_command(spec: SearcherSpec, *, dataset: str, budget_s: float, seed: int,
                  batch_size: int, out: Path, result: Path) -> list[str]:
    """The command of one run: `autokeras-nas bench real-run` in a fresh process."""
    return [sys.executable, "-m", "autokeras_nas.cli", "bench", "real-run",
            "--spec", json.dumps(spec.to_dict()), "--dataset", dataset,
            "--budget", repr(float(budget_s)), "--seed", str(seed),
            "--batch-size", str(batch_size), "--out", str(out), "--result", str(result)]


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in label)[:80]


def child_failure(log: Path, code: int) -> str:
    """The last line of a failed child's output (its error), or its exit code."""
    try:
        lines = [line.strip() for line in log.read_text(errors="replace").splitlines()]
    except OSError:
        lines = []
    lines = [line for line in lines if line]
    return lines[-1][:300] if lines else f"exit code {code}"


def run_one(spec: SearcherSpec, *, dataset: str, budget_s: float, seed: int,
            batch_size: int, directory: Path) -> dict[str, Any]:
    """One run in a fresh process, waited for; its record (status `ok` or `failed`)."""
    out = directory / f"{_slug(spec.label)}-seed{seed}"
    out.mkdir(parents=True, exist_ok=True)
    result, log = out / "run.json", out / "log.txt"
    result.unlink(missing_ok=True)
    command = child_command(spec, dataset=dataset, budget_s=budget_s, seed=seed,
                            batch_size=batch_size, out=out / "search", result=result)
    record: dict[str, Any] = {"searcher": spec.label, "name": spec.name,
                              "settings": dict(spec.settings), "seed": seed,
                              "out": str(out), "started_at": time.time()}
    with open(log, "w") as sink:
        try:
            code = subprocess.run(command, stdout=sink, stderr=subprocess.STDOUT,
                                  timeout=2 * budget_s + GRACE_S, env=dict(os.environ)).returncode
            error = None if code == 0 else child_failure(log, code)
        except subprocess.TimeoutExpired:
            error = f"stopped after {2 * budget_s + GRACE_S:.0f} s (hung)"
    record["ended_at"] = time.time()
    if error is None:
        try:
            record.update(json.loads(result.read_text()))
        except (OSError, ValueError) as e:
            error = f"no result written ({e})"
    record["status"] = "ok" if error is None else "failed"
    record["error"] = error
    return record


def run_benchmark(specs: Sequence[SearcherSpec], *, dataset: str, budget_s: float,
                  seeds: Sequence[int], batch_size: int, directory: Path,
                  header: Mapping[str, Any], json_path: Path | None = None,
                  progress: Callable[[dict[str, Any]], None] | None = None
                  ) -> dict[str, Any]:
    """Runs every searcher for every seed (seed by seed), one run at a time.

    Args:
        specs: The searchers, in the order they run within a seed.
        dataset: The dataset name each run loads (see `protocol_dataset`).
        budget_s: Each run's wall-clock budget in seconds.
        seeds: One repeat per seed.
        batch_size: Batch size of the peers (the strategies use their
            search's, the same unless a searcher's settings change it).
        directory: Where each run keeps its search and log.
        header: Fields written at the top of the JSON.
        json_path: Written after every run (atomically), when given.
        progress: Called with each finished run's record.

    Returns:
        The benchmark: `header`, `runs` (with the derived times, see
        `real_report.derive`).
    """
    payload: dict[str, Any] = {**header, "runs": []}
    for seed in seeds:
        for spec in specs:
            record = run_one(spec, dataset=dataset, budget_s=budget_s, seed=seed,
                             batch_size=batch_size, directory=directory)
            payload["runs"].append(record)
            derive(payload["runs"])
            if json_path is not None:
                write_json_atomic(str(json_path), payload, indent=2)
            if progress is not None:
                progress(record)
    return payload
