"""Synflow of every NAS-Bench-201 cell, on NAS-Bench-201's own CIFAR network.

`compute` builds the network of NAS-Bench-201 for CIFAR-10 (`Nb201Space`
with 32x32x3 inputs, 10 classes, 5 cells per stage, 16 channels, a stem of
stride 1) once, as a float64 single-path supernet holding every operation
of every edge, and scores each of the 15,625 cells with
`autokeras_nas.zerocost.synflow_of_paths`: the cell's path is fixed in the
supernet, so the score is synflow of that cell's network, with one random
initialization shared by all cells and one traced step for all of them
(a score costs one forward and one backward pass).

The package ships the scores (`SCORES_PATH`, written by `autokeras-nas
bench nb201-synflow`); `load_scores` reads them with numpy only, in the
order of `autokeras_nas.bench.nb201.cell_index`, for `bench zero-cost` and
the warm-ups of `bench nb201`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from autokeras_nas.bench.nb201 import cell_values
from autokeras_nas.testing.spaces import NB201_EDGES, NB201_OPS

#: The shipped scores (written by `autokeras-nas bench nb201-synflow`).
SCORES_PATH = Path(__file__).parent / "data" / "nb201-cifar10-synflow.json"
N_CELLS = len(NB201_OPS) ** len(NB201_EDGES)
#: NAS-Bench-201's CIFAR-10 network (`Nb201Space` arguments).
NETWORK = {"input_shape": [32, 32, 3], "num_classes": 10, "cells_per_stage": 5,
           "channels": 16, "stem_strides": 1}


class ScoresError(RuntimeError):
    """The scores file is missing or not a scores file of all cells."""


def compute(*, seed: int = 0, limit: int | None = None,
            progress: Callable[[int, float], None] | None = None,
            network: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Synflow of the first `limit` cells (all by default), by cell index.

    Args:
        seed: Seed of the supernet's initialization.
        limit: Score only the cells 0 .. limit - 1 (quick runs).
        progress: Called with (cells scored, seconds so far) every 500 cells.
        network: `Nb201Space` arguments other than `NETWORK` (tests).

    Returns:
        The scores record: `proxy`, `network`, `seed`, `cells`, `seconds`
        (scoring only), `build_seconds` and `scores`.
    """
    import keras
    import keras_tuner

    from autokeras_nas import zerocost
    from autokeras_nas.oneshot import build_supernet
    from autokeras_nas.spaces import Nb201Space

    n = N_CELLS if limit is None else max(1, min(int(limit), N_CELLS))
    network = dict(NETWORK if network is None else network)
    t0 = time.perf_counter()
    keras.utils.set_random_seed(seed)
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float64")
    try:
        space = Nb201Space(conditional=False, **network)
        supernet = build_supernet(space, keras_tuner.HyperParameters(), mode="single", seed=seed)
    finally:
        keras.config.set_dtype_policy(previous)
    built = time.perf_counter()
    scores = []
    for i, value in enumerate(zerocost.synflow_of_paths(supernet, map(cell_values, range(n)))):
        scores.append(float(f"{value:.7g}"))
        if progress is not None and (i + 1) % 500 == 0:
            progress(i + 1, time.perf_counter() - built)
    return {"proxy": "synflow", "network": network, "seed": seed, "cells": n,
            "order": "autokeras_nas.bench.nb201.cell_index (edge operations as base-5 digits)",
            "seconds": round(time.perf_counter() - built, 3),
            "build_seconds": round(built - t0, 3), "scores": scores}


def load_scores(path: Path | str | None = None) -> np.ndarray:
    """The synflow score of every cell, by cell index (the shipped file by
    default).

    Raises:
        ScoresError: the file is missing, or does not hold all 15,625 cells.
    """
    path = Path(path) if path is not None else SCORES_PATH
    try:
        record = json.loads(path.read_text())
        scores = np.asarray(record["scores"], dtype=float)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ScoresError(f"cannot read NAS-Bench-201 scores from {path}: {e}") from None
    if scores.shape != (N_CELLS,) or not np.all(np.isfinite(scores)):
        raise ScoresError(f"{path} holds {scores.size} scores, not the {N_CELLS} finite "
                          "scores of every NAS-Bench-201 cell")
    return scores


def correlations(scores: np.ndarray, accuracy: np.ndarray) -> dict[str, float]:
    """Spearman's rho and Kendall's tau of the scores against accuracy, over
    the cells both give."""
    from scipy.stats import kendalltau, spearmanr

    n = min(len(scores), len(accuracy))
    a, b = np.asarray(scores[:n], dtype=float), np.asarray(accuracy[:n], dtype=float)
    return {"cells": int(n), "spearman": float(spearmanr(a, b).statistic),
            "kendall_tau": float(kendalltau(a, b).statistic)}
