"""Where a trial's seconds go: the fixed cost of a trial outside `fit`.

    python -m autokeras_nas.bench.trial_overhead --dataset digits --trials 20 [--json]

runs a `NasTuner` search of the dataset's default space (the CLI's: a small
CNN for images; tf.data pipelines, batch 32) in this process and times every
phase of every trial: the oracle's round trips (create, per-epoch reports,
end) and the strategy's ask/tell inside them, the search directory's files
(trial.json, oracle.json, results.json, the tuner's state, outputs.json),
clearing the Keras session, garbage collection, building and compiling the
model, creating its training state, `fit` with the trace of its first training and validation steps
separated (the first call's time minus the median of the later ones), saving
the checkpoint and build configuration, the in-trial backup, the latency
measurement and the release of the trial's graphs. Every phase counts its
own time only (a file written inside the oracle's end of a trial counts as
the file, not the oracle), in wall seconds and in this process's CPU
seconds; what no phase covers is `other`. The first trial pays one-off
costs (TensorFlow's first trace, thread pools), so the per-trial figures are
means over the trials after it, the first shown apart.

The timers wrap the tuner's, oracle's and Keras' methods while the search
runs and restore them afterwards. Imports TensorFlow (only when called).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from autokeras_nas import tfenv

#: Phases in print order, with what each one times.
PHASES: dict[str, str] = {
    "oracle: create trial": "KerasTuner's bookkeeping of a new trial",
    "oracle: epoch reports": "update_trial per epoch and the final metrics",
    "oracle: end trial": "KerasTuner's end_trial, telling the strategy",
    "strategy: ask/tell": "the strategy's own ask and tell",
    "files: trial.json": "",
    "files: oracle.json": "",
    "files: results.json": "",
    "files: tuner state, outputs": "the tuner's json and the trial's outputs.json",
    "clear session": "keras.backend.clear_session before each build",
    "gc.collect": "every garbage collection",
    "build": "the hypermodel's build (without compile)",
    "compile": "model.compile",
    "training state": "metrics, loss and optimizer variables created before fit",
    "fit: first-step trace": "first training and validation step minus a typical step",
    "fit": "model.fit without the first-step trace and the phases inside it",
    "checkpoint weights": "the best epoch's weights (atomic)",
    "build config": "build_config.json",
    "in-trial backup": "per-epoch weights and state for resume (epochs > 1)",
    "latency": "the latency_ms measurement",
    "graph release": "dropping the trial's gradient registrations",
    "trial begin/end": "the rest of on_trial_begin and on_trial_end",
    "other": "what no phase covers (loop, callbacks, metrics)",
}
FIT_PHASES = ("fit", "fit: first-step trace")


class PhaseClock:
    """Exclusive wall and process-CPU seconds per phase, bucketed per trial.

    A timed call counts its own time only: the time of timed calls inside
    it goes to their phases.
    """

    def __init__(self) -> None:
        self.trials: list[dict[str, list[float]]] = []
        self._current: dict[str, list[float]] = {}
        self._stack: list[list[float]] = []
        self._mark = (time.perf_counter(), time.process_time())

    def start(self) -> None:
        """Starts the first trial's interval now."""
        self._mark = (time.perf_counter(), time.process_time())

    def add(self, phase: str, wall: float, cpu: float, calls: int = 1) -> None:
        entry = self._current.setdefault(phase, [0.0, 0.0, 0])
        entry[0] += wall
        entry[1] += cpu
        entry[2] += calls

    def wrap(self, fn: Callable[..., Any], phase: str) -> Callable[..., Any]:
        """`fn`, timed under `phase`."""

        def timed(*args: Any, **kwargs: Any) -> Any:
            self._stack.append([0.0, 0.0])
            w0, c0 = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                wall, cpu = time.perf_counter() - w0, time.process_time() - c0
                inner = self._stack.pop()
                self.add(phase, wall - inner[0], cpu - inner[1])
                if self._stack:
                    self._stack[-1][0] += wall
                    self._stack[-1][1] += cpu

        return timed

    def end_trial(self) -> None:
        """Closes the current trial's interval: its total and `other`."""
        now = (time.perf_counter(), time.process_time())
        total = (now[0] - self._mark[0], now[1] - self._mark[1])
        timed = [sum(v[i] for v in self._current.values()) for i in (0, 1)]
        self.add("other", total[0] - timed[0], total[1] - timed[1], 0)
        self._current["total"] = [total[0], total[1], 1]
        self.trials.append(self._current)
        self._current, self._mark = {}, now


class StepTimes:
    """Times every call of a model's train or test function; `settle` moves
    the trace of the first call (its time minus the median of the later
    calls) from "fit" to "fit: first-step trace". No callback is added, so
    Keras keeps dispatching its batch callbacks as it would."""

    def __init__(self, clock: PhaseClock) -> None:
        self.clock = clock
        self._calls: list[list[tuple[float, float]]] = []

    def timed(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """`fn`, each call's wall and CPU seconds recorded."""
        calls: list[tuple[float, float]] = []
        self._calls.append(calls)

        def step(*args: Any, **kwargs: Any) -> Any:
            w0, c0 = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                calls.append((time.perf_counter() - w0, time.process_time() - c0))

        step.timed_steps = True  # type: ignore[attr-defined]
        return step

    def settle(self) -> None:
        for calls in self._calls:
            if len(calls) < 2:
                continue
            trace = [max(0.0, calls[0][i] - statistics.median(c[i] for c in calls[1:]))
                     for i in (0, 1)]
            self.clock.add("fit: first-step trace", trace[0], trace[1])
            self.clock.add("fit", -trace[0], -trace[1], 0)
        self._calls = []

    def patch(self, patches: "Patches") -> None:
        """Wraps the train and test functions Keras makes in `fit`."""
        import keras

        for kind in ("train", "test"):
            make = getattr(keras.Model, f"make_{kind}_function")

            def made(model: Any, *args: Any, _make: Any = make, _attr: str = f"{kind}_function",
                     **kwargs: Any) -> Any:
                out = _make(model, *args, **kwargs)
                fn = getattr(model, _attr, None)
                if fn is not None and not getattr(fn, "timed_steps", False):
                    setattr(model, _attr, self.timed(fn))
                return out

            patches.replace(keras.Model, f"make_{kind}_function", made)


class Patches:
    """Attributes replaced by timed wrappers, restored on `close`."""

    def __init__(self, clock: PhaseClock) -> None:
        self.clock = clock
        self._undo: list[Callable[[], None]] = []

    def time(self, owner: Any, name: str, phase: str) -> None:
        """Times `owner.name` under `phase` (skipped if there is no such attribute)."""
        if hasattr(owner, name):
            self.replace(owner, name, self.clock.wrap(getattr(owner, name), phase))

    def replace(self, owner: Any, name: str, value: Any) -> None:
        """Sets `owner.name` to `value` until `close`."""
        own = vars(owner)
        had, before = name in own, own.get(name)
        setattr(owner, name, value)
        self._undo.append(lambda: setattr(owner, name, before) if had else delattr(owner, name))

    def close(self) -> None:
        while self._undo:
            self._undo.pop()()


def _patch_library(patches: Patches) -> None:
    """Times what every trial calls in Keras, gc and the trainers."""
    import keras

    from autokeras_nas.tuner import tuner as tuner_module
    from autokeras_nas.tuner.trainers import base, epochs

    patches.time(gc, "collect", "gc.collect")
    patches.time(keras.backend, "clear_session", "clear session")
    patches.time(keras.Model, "compile", "compile")
    patches.time(keras.Model, "fit", "fit")
    patches.time(base.TrialContext, "measure_latency_ms", "latency")
    patches.time(base, "prepare_fit", "training state")
    for name in ("save_epoch", "finish_execution", "discard_current", "remove"):
        patches.time(epochs.TrialBackup, name, "in-trial backup")
    patches.time(tuner_module, "write_outputs", "files: tuner state, outputs")


def _patch_search(patches: Patches, tuner: Any, steps: StepTimes) -> None:
    """Times the tuner's and the oracle's phases (instance attributes)."""
    oracle, clock = tuner.oracle, patches.clock
    for name, phase in (("create_trial", "oracle: create trial"),
                        ("update_trial", "oracle: epoch reports"),
                        ("end_trial", "oracle: end trial"), ("save", "files: oracle.json"),
                        ("_save_trial", "files: trial.json"),
                        ("_write_results", "files: results.json")):
        patches.time(oracle, name, phase)
    patches.time(oracle.strategy, "ask", "strategy: ask/tell")
    patches.time(oracle.strategy, "tell", "strategy: ask/tell")
    for name, phase in (("_try_build", "build"), ("_build_hypermodel", "build"),
                        ("save_model", "checkpoint weights"),
                        ("_save_build_config", "build config"),
                        ("save", "files: tuner state, outputs"),
                        ("on_trial_begin", "trial begin/end")):
        patches.time(tuner, name, phase)
    patches.time(tuner._graphs, "release", "graph release")
    on_trial_end = clock.wrap(tuner.on_trial_end, "trial begin/end")

    def end(trial: Any) -> None:
        on_trial_end(trial)
        steps.settle()
        clock.end_trial()

    tuner.on_trial_end = end
    patches._undo.append(lambda: delattr(tuner, "on_trial_end"))


@dataclass
class OverheadBreakdown:
    """Per-phase seconds of each trial of one search (see the module docstring)."""

    dataset: str
    strategy: str
    epochs: int
    latency_repeats: int
    trials: list[dict[str, list[float]]] = field(default_factory=list)
    wall_s: float = 0.0

    def phase(self, name: str, *, first: bool = False) -> tuple[float, float, float]:
        """(wall s, CPU s, calls) of `name` per trial: the first trial's, or
        the mean over the later ones (all of them when there is one)."""
        rows = self.trials[:1] if first or len(self.trials) < 2 else self.trials[1:]
        totals = [sum(t.get(name, [0.0, 0.0, 0])[i] for t in rows) / max(1, len(rows))
                  for i in range(3)]
        return totals[0], totals[1], totals[2]

    def outside_fit(self, *, first: bool = False) -> tuple[float, float]:
        """(wall s, CPU s) per trial outside `fit` (its first-step trace included in fit)."""
        total = self.phase("total", first=first)
        fits = [self.phase(p, first=first) for p in FIT_PHASES]
        return total[0] - sum(f[0] for f in fits), total[1] - sum(f[1] for f in fits)

    def to_dict(self) -> dict[str, Any]:
        phases = {}
        for name in list(PHASES) + ["total"]:
            wall, cpu, calls = self.phase(name)
            phases[name] = {"wall_s": round(wall, 4), "cpu_s": round(cpu, 4),
                            "calls": round(calls, 2),
                            "first_trial_wall_s": round(self.phase(name, first=True)[0], 4)}
        outside = self.outside_fit()
        return {"benchmark": "trial_overhead", "dataset": self.dataset,
                "strategy": self.strategy, "epochs": self.epochs,
                "latency_repeats": self.latency_repeats, "trials": len(self.trials),
                "wall_s": round(self.wall_s, 2), "per_trial": phases,
                "outside_fit": {"wall_s": round(outside[0], 4), "cpu_s": round(outside[1], 4),
                                "first_trial_wall_s": round(self.outside_fit(first=True)[0], 4)}}


def format_breakdown(result: OverheadBreakdown) -> str:
    """A table: per phase, wall and CPU seconds per trial (after the first),
    calls per trial and the first trial's wall seconds."""
    lines = [f"{result.dataset}, {result.strategy}, {len(result.trials)} trials of "
             f"{result.epochs} epoch(s), latency_repeats={result.latency_repeats}; "
             f"search {result.wall_s:.1f}s",
             f"{'phase':<30}{'wall s':>9}{'cpu s':>9}{'calls':>7}{'1st wall':>10}"]
    for name in list(PHASES) + ["total"]:
        wall, cpu, calls = result.phase(name)
        lines.append(f"{name:<30}{wall:>9.3f}{cpu:>9.3f}{calls:>7.1f}"
                     f"{result.phase(name, first=True)[0]:>10.3f}")
    outside, first = result.outside_fit(), result.outside_fit(first=True)
    lines.append(f"{'total outside fit':<30}{outside[0]:>9.3f}{outside[1]:>9.3f}{'':>7}"
                 f"{first[0]:>10.3f}")
    return "\n".join(lines)


def _hypermodel(dataset: Any) -> Any:
    """The dataset's default hyperparameter space (as the CLI's)."""
    if dataset.kind == "image":
        from autokeras_nas.spaces.image import image_classifier

        return image_classifier(dataset.input_shape, dataset.num_classes)
    if dataset.kind == "timeseries":
        from autokeras_nas.spaces.timeseries import timeseries_classifier

        return timeseries_classifier(dataset.input_shape, dataset.num_classes)
    from autokeras_nas.spaces.tabular import tabular_classifier

    return tabular_classifier(dataset.input_shape, dataset.num_classes)


def _pipeline(x: Any, y: Any, batch_size: int, shuffle: bool, seed: int) -> Any:
    """The CLI's input pipeline: cached, shuffled every epoch, batched."""
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle:
        data = data.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


@contextlib.contextmanager
def _timed(clock: PhaseClock) -> Iterator[tuple[Patches, StepTimes]]:
    patches, steps = Patches(clock), StepTimes(clock)
    try:
        _patch_library(patches)
        steps.patch(patches)
        yield patches, steps
    finally:
        patches.close()


def trial_overhead(dataset: str = "digits", trials: int = 20, *, strategy: str = "random",
                   epochs: int = 1, latency_repeats: int = 20, batch_size: int = 32,
                   seed: int = 0, directory: str | None = None) -> OverheadBreakdown:
    """Runs a search of `trials` trials and times each trial's phases.

    Args:
        dataset: A dataset name for `autokeras_nas.data.load_dataset`.
        trials: Trials to run (the first is reported apart).
        strategy: An installed strategy.
        epochs: Epochs per trial (1 as the CLI's quickest search; with more,
            the in-trial backup is written every epoch).
        latency_repeats: `NasTuner`'s timed predictions per trial (its default 20).
        batch_size: Batch size (the CLI's default 32).
        seed: Seed of the data split, Keras and the strategy.
        directory: Where the search directory goes (default: a temporary one).

    Raises:
        ValueError: `trials`, `epochs` or `batch_size` below 1, or
            `latency_repeats` below 0.
    """
    if min(trials, epochs, batch_size) < 1 or latency_repeats < 0:
        raise ValueError(f"trials, epochs and batch_size must be >= 1 and latency_repeats "
                         f">= 0, got {trials}, {epochs}, {batch_size}, {latency_repeats}")
    tfenv.prepare()
    import keras

    from autokeras_nas import plugins
    from autokeras_nas.data import load_dataset
    from autokeras_nas.tuner import NasTuner

    ds = load_dataset(dataset, seed=seed)
    keras.utils.set_random_seed(seed)
    result = OverheadBreakdown(dataset, strategy, epochs, latency_repeats)
    clock = PhaseClock()
    with tempfile.TemporaryDirectory(prefix="akn-overhead-") as tmp, \
            _timed(clock) as (patches, steps):
        tuner = NasTuner(_hypermodel(ds), strategy=plugins.load(strategy)(seed=seed),
                         objective="val_accuracy", max_trials=trials,
                         latency_repeats=latency_repeats, directory=directory or tmp,
                         project_name="overhead", overwrite=True)
        _patch_search(patches, tuner, steps)
        train = _pipeline(ds.x_train, ds.y_train, batch_size, True, seed)
        val = _pipeline(ds.x_val, ds.y_val, batch_size, False, seed)
        clock.start()
        t0 = time.perf_counter()
        tuner.search(train, validation_data=val, epochs=epochs, shuffle=False, verbose=0)
        result.wall_s = time.perf_counter() - t0
    result.trials = clock.trials
    return result


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m autokeras_nas.bench.trial_overhead",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--strategy", default="random")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--latency-repeats", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the breakdown as JSON")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Prints the per-trial breakdown of one search (see the module docstring)."""
    opts = _parse(argv)
    try:
        result = trial_overhead(opts.dataset, opts.trials, strategy=opts.strategy,
                                epochs=opts.epochs, latency_repeats=opts.latency_repeats,
                                batch_size=opts.batch_size, seed=opts.seed)
    except ValueError as e:
        print(f"Error: {e}", file=sys.stderr)
        return 2
    print(json.dumps(result.to_dict(), indent=1) if opts.json else format_breakdown(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
