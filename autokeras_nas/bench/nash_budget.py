"""NASH against its own start network trained for the same wall time.

`autokeras-nas bench nash`: on a real dataset, a NASH search with a time
budget, then NASH's start network trained from scratch for exactly the wall
time the search took (cosine annealing of the learning rate over that time,
the same SGD), and the test accuracy of both. Imports TensorFlow (only this
module of `autokeras_nas.bench` does, and only when called).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

#: Share of the budget given to the strategy as training time; the rest is
#: the tuner's per-trial work (building, weight transfer, checkpoints, latency).
TRAIN_SHARE = 0.75


@dataclass
class NashVsStart:
    dataset: str
    budget_s: float
    nash_wall_s: float
    nash_trials: int
    nash_test_accuracy: float
    nash_val_accuracy: float
    nash_params: int
    nash_trial_id: str
    start_epochs: float
    start_test_accuracy: float
    start_params: int

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _accuracy(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    predictions = model.predict(x, batch_size=512, verbose=0)
    return float(np.mean(np.argmax(predictions, axis=-1) == y))


def _train_for(model: Any, x: np.ndarray, y: np.ndarray, seconds: float, max_lr: float,
               batch_size: int) -> float:
    """Trains `model` for `seconds` of wall time, the learning rate annealed
    along half a cosine over that time; returns the epochs trained."""
    import keras

    class TimedCosine(keras.callbacks.Callback):
        def on_train_begin(self, logs: Any = None) -> None:
            self.start, self.batches = time.perf_counter(), 0

        def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
            fraction = min(1.0, (time.perf_counter() - self.start) / seconds)
            self.model.optimizer.learning_rate.assign(0.5 * max_lr * (1 + math.cos(math.pi * fraction)))

        def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
            self.batches += 1
            if time.perf_counter() - self.start >= seconds:
                self.model.stop_training = True

    timer = TimedCosine()
    model.fit(x, y, epochs=100_000, batch_size=batch_size, callbacks=[timer], verbose=0)
    steps = math.ceil(len(x) / batch_size)
    return timer.batches / steps


def nash_vs_start(
    dataset: str,
    budget_s: float,
    out_dir: Path,
    *,
    seed: int = 0,
    batch_size: int = 128,
    progress: Callable[[str], None] | None = None,
) -> NashVsStart:
    """Runs the comparison; the search directory is `out_dir/nash`."""
    import keras

    from autokeras_nas import plugins
    from autokeras_nas.data import load_dataset
    from autokeras_nas.tuner import MorphHyperModel, NasTuner

    say = progress or (lambda message: None)
    ds = load_dataset(dataset, seed=seed, validation_split=0.2)
    say(f"{ds.describe()}; budget {budget_s:.0f} s")
    keras.utils.set_random_seed(seed)
    hypermodel = MorphHyperModel(ds.input_shape, ds.num_classes)
    started = time.perf_counter()
    strategy = plugins.load("nash")(network=hypermodel.start, seed=seed,
                                    time_budget_s=budget_s * TRAIN_SHARE)
    tuner = NasTuner(hypermodel, strategy=strategy, objective="val_accuracy", max_trials=10_000,
                     directory=str(out_dir), project_name="nash", overwrite=True,
                     progress=lambda e: e["event"] == "trial_end" and say(
                         f"nash trial {e['trial_id']}: {e['status']} "
                         f"val_accuracy {e['metrics'].get('val_accuracy', float('nan')):.4f}"))
    tuner.search(ds.x_train, ds.y_train, validation_data=(ds.x_val, ds.y_val),
                 batch_size=batch_size, verbose=0)
    wall = time.perf_counter() - started
    chosen = _final_or_best(tuner)
    model = tuner.load_model(chosen)
    nash_test = _accuracy(model, ds.x_test, ds.y_test)
    say(f"nash: {wall:.0f} s, trial {chosen.trial_id}, test accuracy {nash_test:.4f}; "
        "now the start network for the same time")

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    import keras_tuner

    start = hypermodel.build(keras_tuner.HyperParameters())
    epochs = _train_for(start, ds.x_train, ds.y_train, wall, hypermodel.max_lr, batch_size)
    start_test = _accuracy(start, ds.x_test, ds.y_test)
    return NashVsStart(
        dataset=dataset, budget_s=budget_s, nash_wall_s=wall,
        nash_trials=len(tuner.oracle.trials), nash_test_accuracy=nash_test,
        nash_val_accuracy=float(chosen.metrics.get_last_value("val_accuracy")),
        nash_params=int(model.count_params()), nash_trial_id=chosen.trial_id,
        start_epochs=epochs, start_test_accuracy=start_test, start_params=int(start.count_params()),
    )


def _final_or_best(tuner: Any) -> Any:
    """The final training's trial if it completed, else the best trial."""
    notes = tuner.oracle.results()["trials"]
    finals = [t["trial_id"] for t in notes
              if t["notes"].get("origin") == "final" and t["status"] == "completed"]
    if finals:
        return tuner.oracle.get_trial(finals[-1])
    return tuner.oracle.get_best_trials(1)[0]


def format_nash_vs_start(r: NashVsStart) -> str:
    return "\n".join([
        f"NASH vs its start network, {r.dataset}, budget {r.budget_s:.0f} s (test accuracy)",
        f"nash                 {r.nash_test_accuracy:.4f}  ({r.nash_trials} trials in "
        f"{r.nash_wall_s:.0f} s; trial {r.nash_trial_id}, val {r.nash_val_accuracy:.4f}, "
        f"{r.nash_params:,} params)",
        f"start net, same time {r.start_test_accuracy:.4f}  ({r.start_epochs:.1f} epochs in "
        f"{r.nash_wall_s:.0f} s, {r.start_params:,} params)",
    ])
