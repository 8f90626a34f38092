"""Cost measurements of a trained model."""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np


def measure_latency_ms(model: Any, repeats: int = 20) -> float | None:
    """Median wall time, in ms, of predicting one zero-filled sample.

    Returns None for models whose input shapes are not fully known.
    """
    inputs = getattr(model, "inputs", None)
    if not inputs:
        return None
    batch = []
    for t in inputs:
        shape = tuple(t.shape[1:])
        if any(d is None for d in shape):
            return None
        batch.append(np.zeros((1,) + shape, dtype=t.dtype))
    x = batch[0] if len(batch) == 1 else batch
    for _ in range(3):  # trace and warm up
        model.predict_on_batch(x)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.predict_on_batch(x)
        times.append((time.perf_counter() - t0) * 1000.0)
    return float(statistics.median(times))
