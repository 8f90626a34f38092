"""Memory over a long search: resident memory after every trial.

`autokeras-nas bench memory --trials 50` runs a random search of tiny CNNs
on digits (the CLI's default space, 1 epoch each) in this process and
records its resident set size (RSS) after each trial. KerasTuner clears the
Keras session before building each model and `NasTuner` drops the model
and collects garbage after each trial; a leak shows as a steady slope.
Imports TensorFlow (only when called).
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

import numpy as np

from autokeras_nas import tfenv


def rss_mb() -> float:
    """This process's resident set size, in MiB (psutil, else /proc)."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil ships with the test extra
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    return psutil.Process().memory_info().rss / 2**20


@dataclass
class MemoryResult:
    """RSS (MiB) before the search and after each trial."""

    trials: int
    start_mb: float
    rss_mb: list[float] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def slope_mb_per_trial(self) -> float:
        """Least-squares growth per trial over the second half (after warm-up)."""
        tail = self.rss_mb[len(self.rss_mb) // 2:]
        if len(tail) < 2:
            return 0.0
        return float(np.polyfit(np.arange(len(tail)), tail, 1)[0])

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "slope_mb_per_trial": self.slope_mb_per_trial}


def memory_per_trial(trials: int = 50, *, seed: int = 0, epochs: int = 1,
                     directory: str | None = None,
                     progress: Callable[[str], None] | None = None) -> MemoryResult:
    """Runs `trials` tiny digits trials; returns the RSS after each.

    Raises:
        ValueError: `trials` or `epochs` below 1.
    """
    if trials < 1 or epochs < 1:
        raise ValueError(f"trials and epochs must be >= 1, got {trials}, {epochs}")
    tfenv.prepare()
    import keras

    from autokeras_nas.data import load_dataset
    from autokeras_nas.spaces.image import image_classifier
    from autokeras_nas.tuner import NasTuner

    ds = load_dataset("digits", seed=seed)
    keras.utils.set_random_seed(seed)
    result = MemoryResult(trials=trials, start_mb=rss_mb())

    def record(event: dict[str, Any]) -> None:
        if event.get("event") == "trial_end":
            result.rss_mb.append(round(rss_mb(), 2))
            if progress is not None:
                progress(f"trial {event['trial_id']}: {result.rss_mb[-1]:.1f} MiB")

    with tempfile.TemporaryDirectory(prefix="akn-memory-") as tmp:
        tuner = NasTuner(image_classifier(ds.input_shape, ds.num_classes), strategy="random",
                         objective="val_accuracy", max_trials=trials, progress=record,
                         latency_repeats=3, directory=directory or tmp, project_name="memory",
                         overwrite=True)
        t0 = time.perf_counter()
        tuner.search(ds.x_train, ds.y_train, validation_data=(ds.x_val, ds.y_val),
                     epochs=epochs, batch_size=64, verbose=0)
        result.wall_s = time.perf_counter() - t0
    return result


def format_memory(result: MemoryResult) -> str:
    """A few lines: RSS at the start, after trials 1, 10, 25, 50..., the slope."""
    rss = result.rss_mb
    marks = sorted({1, 10, 25, 50, 100, len(rss)} & set(range(1, len(rss) + 1)))
    lines = [f"RSS before the search: {result.start_mb:.1f} MiB"]
    lines += [f"after trial {i:>3}: {rss[i - 1]:.1f} MiB" for i in marks]
    lines.append(f"growth over the second half: {result.slope_mb_per_trial:+.2f} MiB/trial "
                 f"({len(rss)} trials in {result.wall_s:.0f}s)")
    return "\n".join(lines)
