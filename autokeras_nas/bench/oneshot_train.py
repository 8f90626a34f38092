"""The trainings of `autokeras-nas bench oneshot` (imports TensorFlow).

`train_alone` trains one sampled cell on its own (the ground truth);
`run_supernet` runs one strategy's supernet and its estimates with
`NasTuner` and the package's trainers, measuring the supernet's peak
resident memory (`PeakMemory`). See `autokeras_nas.bench.oneshot`.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Any, Mapping

from autokeras_nas import tfenv

tfenv.prepare()

import keras  # noqa: E402  (after tfenv.prepare)
import keras_tuner  # noqa: E402

from autokeras_nas.bench.memory import rss_mb  # noqa: E402
from autokeras_nas.bench.oneshot_strategy import SampleEstimates  # noqa: E402
from autokeras_nas.tuner.trainers.weights import prepare_fit  # noqa: E402

__all__ = ["PeakMemory", "run_supernet", "train_alone"]

#: Seconds between two samples of the resident memory while a supernet
#: trains: a training step lasts longer, so its activations are seen.
SAMPLE_INTERVAL_S = 0.02


def _space(data: Any, space: Mapping[str, int]) -> Any:
    from autokeras_nas.spaces.nb201 import Nb201Space

    return Nb201Space(input_shape=data.input_shape, num_classes=data.num_classes,
                      channels=int(space["channels"]),
                      cells_per_stage=int(space["cells_per_stage"]))


def _pipeline(x: Any, y: Any, batch_size: int, *, shuffle: bool, seed: int) -> Any:
    """The feed of the package's searches: cached, reshuffled every epoch."""
    import tensorflow as tf

    data = tf.data.Dataset.from_tensor_slices((x, y)).cache()
    if shuffle:
        data = data.shuffle(len(y), seed=seed, reshuffle_each_iteration=True)
    return data.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def _pipelines(data: Any, batch_size: int, seed: int) -> tuple[Any, Any]:
    return (_pipeline(data.x_train, data.y_train, batch_size, shuffle=True, seed=seed),
            _pipeline(data.x_val, data.y_val, batch_size, shuffle=False, seed=seed))


def train_alone(arch: Mapping[str, str], data: Any, *, space: Mapping[str, int], epochs: int,
                batch_size: int, seed: int) -> dict[str, Any]:
    """Builds the cell `arch` normally and trains it alone for `epochs`
    epochs with `seed`; returns its last epoch's validation `accuracy`, the
    fit `seconds`, its `params` and, when `data` has a test split, the
    trained model's `test_accuracy`."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    hp = keras_tuner.HyperParameters()
    hp.values.update(arch)
    model = _space(data, space).build(hp)
    if {k: hp.values[k] for k in arch} != dict(arch):
        raise RuntimeError(f"the space did not build the cell {dict(arch)}")
    train, val = _pipelines(data, batch_size, seed)
    prepare_fit(model, (train,), {})  # one cheap trace of the training step, as in a search
    t0 = time.perf_counter()
    history = model.fit(train, validation_data=val, epochs=epochs, shuffle=False, verbose=0)
    seconds = time.perf_counter() - t0
    result = {"accuracy": float(history.history["val_accuracy"][-1]), "seconds": seconds,
              "params": int(model.count_params())}
    if getattr(data, "x_test", None) is not None:
        test = _pipeline(data.x_test, data.y_test, batch_size, shuffle=False, seed=seed)
        result["test_accuracy"] = float(model.evaluate(test, verbose=0, return_dict=True)
                                        ["accuracy"])
    return result


def _reset_peak() -> bool:
    """Resets the kernel's peak-RSS mark of this process (Linux); whether it could."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _kernel_peak_mb() -> float | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


class PeakMemory:
    """The peak resident memory of this process between `start` and `stop`:
    the kernel's high-water mark, reset at `start`, where Linux allows it,
    and the largest of RSS samples taken every `SAMPLE_INTERVAL_S`."""

    def __init__(self) -> None:
        self.before_mb: float | None = None
        self.peak_mb: float | None = None
        self._reset = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.before_mb = self.peak_mb = rss_mb()
        self._reset = _reset_peak()
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_INTERVAL_S):
            self.peak_mb = max(self.peak_mb or 0.0, rss_mb())

    def stop(self) -> None:
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        self.peak_mb = max(self.peak_mb or 0.0, rss_mb())
        kernel = _kernel_peak_mb() if self._reset else None
        if kernel is not None:
            self.peak_mb = max(self.peak_mb, kernel)


def _strategy(config: Mapping[str, Any]) -> Any:
    from autokeras_nas import plugins

    kwargs: dict[str, Any] = {**dict(config.get("params") or {}),
                              "conditional": bool(config["conditional"]),
                              "candidates": max(1, int(config.get("candidates",
                                                                  len(config["sample"])))),
                              "seed": _search_seed(config)}
    if config.get("supernet_epochs") is not None:
        kwargs["supernet_epochs"] = int(config["supernet_epochs"])
    return plugins.load(config["strategy"])(**kwargs)


def _search_seed(config: Mapping[str, Any]) -> int:
    return int(config.get("search_seed", config["seed"]))


def _controller_log_probs(tuner: Any, wrapper: SampleEstimates) -> list[float] | None:
    """ENAS: the trained controller's log-probability of each sampled cell."""
    from autokeras_nas.tuner.trainers.enas import FINAL_STATE, STATE_DIR, enas_options, \
        new_controller

    supernet, told = wrapper.supernet, wrapper.supernet_observation()
    path = os.path.join(tuner.get_trial_dir(wrapper.supernet_id), STATE_DIR, FINAL_STATE)
    if supernet.task != "enas" or not wrapper.sample or not os.path.exists(path):
        return None
    controller = new_controller(dict(told.outputs["choices"]),
                                enas_options(dict(supernet.task_config or {})))
    controller.load(path)
    return [float(v) for v in controller.log_probs(wrapper.sample)]


def _metric(trial: Any, name: str) -> float | None:
    value = trial.metrics.get_last_value(name) if trial.status == "COMPLETED" else None
    return None if value is None else float(value)


def run_supernet(config: Mapping[str, Any], data: Any) -> dict[str, Any]:
    """One variant of the benchmark in this process: the strategy's supernet
    trial, then an estimate of every cell of `config["sample"]`, on `data`
    (the benchmark's dataset, cut to its sizes) in batches of
    `config["batch_size"]`.

    Returns:
        The record: the supernet's task, task_config, epochs, training and
        wall seconds (and its steady seconds per epoch, when the trainer
        reports them), resident memory (before, peak, increase, in MiB), the
        estimates (validation accuracy, None when an estimate failed, in
        sample order) and their seconds; for ENAS the controller's
        log-probability of each cell; for a supernet that derives a cell
        (the differentiable strategies), `derived` (its first reported
        architecture) and `parameter_free_share`.
    """
    from autokeras_nas.tuner import NasTuner

    batch_size = int(config["batch_size"])
    wrapper = SampleEstimates(_strategy(config), config["sample"])
    memory, clock = PeakMemory(), {}

    def progress(event: dict[str, Any]) -> None:
        if event.get("trial_id") != wrapper.supernet_id:
            return
        if event["event"] == "trial_begin":
            clock["begin"] = time.perf_counter()
            memory.start()
        elif event["event"] == "trial_end":
            memory.stop()
            clock["end"] = time.perf_counter()

    keras.utils.set_random_seed(_search_seed(config))
    directory = Path(config["directory"])
    tuner = NasTuner(_space(data, config["space"]), strategy=wrapper, objective="val_accuracy",
                     max_trials=1 + len(wrapper.sample), directory=str(directory.parent),
                     project_name=directory.name, overwrite=True, progress=progress,
                     max_consecutive_failed_trials=len(wrapper.sample) + 2)
    train, val = _pipelines(data, batch_size, _search_seed(config))
    t0 = time.perf_counter()
    tuner.search(train, validation_data=val, epochs=1, shuffle=False, verbose=0)
    searched = time.perf_counter() - t0
    supernet = tuner.oracle.get_trial(wrapper.supernet_id)
    if supernet.status != "COMPLETED":
        raise RuntimeError(f"the supernet trial ended {supernet.status}: {supernet.message}")
    estimates = [tuner.oracle.get_trial(i) for i in wrapper.estimate_ids]
    wall = clock.get("end", t0) - clock.get("begin", t0)
    outputs = wrapper.supernet_observation().outputs
    derived = outputs.get("architectures") if wrapper.supernet.task != "enas" else None
    return {
        "status": "ok", "task": wrapper.supernet.task or "train",
        "task_config": dict(wrapper.supernet.task_config or {}),
        "mode": (wrapper.supernet.task_config or {}).get("mode"),
        "epochs": int(_metric(supernet, "epochs") or 0),
        "supernet_train_s": round(_metric(supernet, "train_time_s") or 0.0, 3),
        "supernet_wall_s": round(wall, 3),
        "seconds_per_epoch": wrapper.supernet_observation().outputs.get("seconds_per_epoch"),
        "rss_before_mb": round(memory.before_mb or 0.0, 1),
        "peak_rss_mb": None if memory.peak_mb is None else round(memory.peak_mb, 1),
        "peak_increase_mb": (None if memory.peak_mb is None
                             else round(memory.peak_mb - memory.before_mb, 1)),
        "estimates": [_metric(t, "val_accuracy") for t in estimates],
        "estimates_s": round(searched - wall, 3), "batch_size": batch_size,
        "controller_log_probs": _controller_log_probs(tuner, wrapper),
        "derived": dict(derived[0]) if isinstance(derived, list) and derived else None,
        "parameter_free_share": outputs.get("parameter_free_share"),
    }
