"""What `autokeras-nas bench` runs: installed strategies and peers.

A searcher is a function `run(space, objectives, n_trials, seed, evaluate)`
that proposes up to `n_trials` points of `space` one after another and
calls `evaluate(values) -> metrics` on each (the benchmark records what it
was asked). Strategies are driven through their ask/tell protocol with no
TensorFlow import. A peer's library (Optuna, KerasTuner) is imported only
when that peer runs.

Peers:
    random        uniform sampling with replacement (numpy)
    optuna-tpe    Optuna's TPESampler (multi-objective TPE with several objectives)
    optuna-nsga2  Optuna's NSGAIISampler, population 20
    kt-random     KerasTuner's RandomSearch oracle, driven by a tuner whose
                  trial is a table look-up
    kt-bayes      KerasTuner's BayesianOptimization oracle, likewise (slow)
"""

from __future__ import annotations

import logging
import tempfile
import time
import warnings
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from autokeras_nas import plugins
from autokeras_nas.core import (
    Boolean,
    Choice,
    Fixed,
    Float,
    HyperSpace,
    Int,
    Objective,
    Observation,
    TrialStatus,
    make_rng,
)

Evaluate = Callable[[Mapping[str, Any]], Mapping[str, float]]
RunFn = Callable[[HyperSpace, tuple[Objective, ...], int, int, Evaluate], None]


@dataclass(frozen=True)
class Searcher:
    """A named way of searching.

    Attributes:
        label: Name in the benchmark's table.
        run: `run(space, objectives, n_trials, seed, evaluate)`.
        max_runs: Runs a slow searcher makes at most unless told otherwise.
        multi_objective: Whether it can search several objectives.
    """

    label: str
    run: RunFn
    max_runs: int | None = None
    multi_objective: bool = True


class SearcherError(ValueError):
    """An unknown strategy or peer, or one that cannot do what is asked."""


# -- strategies -------------------------------------------------------------
#: `warm(seed)`: the configurations a run seeded `seed` starts from.
WarmFn = Callable[[int], Sequence[Mapping[str, Any]]]


def strategy_searcher(name: str, make_kwargs: Mapping[str, Any] | None = None, *,
                      warm: WarmFn | None = None, warm_label: str = "") -> Searcher:
    """An installed strategy plugin as a searcher (sequential ask/tell);
    with `warm`, each run's strategy is warm-started (`warm_start`) with
    `warm(seed)` and its label ends with `warm_label`."""
    try:
        cls = plugins.load(name)
    except plugins.UnknownStrategyError as e:
        raise SearcherError(str(e)) from None
    kwargs = dict(make_kwargs or {})
    try:
        cls(seed=0, **kwargs)
    except (TypeError, ValueError) as e:
        raise SearcherError(f"cannot create strategy {name!r} with {kwargs}: {e}") from None
    label = name + "".join(f" {k}={v}" for k, v in kwargs.items())
    if warm is not None and warm_label:
        label += f" {warm_label}"

    def run(space: HyperSpace, objectives: tuple[Objective, ...], n_trials: int, seed: int,
            evaluate: Evaluate) -> None:
        strategy = cls(seed=seed, **kwargs)
        drive_strategy(strategy, space, objectives, n_trials, evaluate,
                       warm=None if warm is None else warm(seed))

    return Searcher(label, run)


def drive_strategy(strategy: Any, space: Any, objectives: tuple[Objective, ...], n_trials: int,
                   evaluate: Evaluate, *, warm: Sequence[Mapping[str, Any]] | None = None) -> None:
    """Asks and tells `strategy` one trial at a time, `n_trials` at most
    (warm-started with `warm` after its setup)."""
    strategy.setup(space, objectives, n_trials)
    if warm:
        strategy.warm_start(warm)
    for i in range(n_trials):
        trial_id = str(i)
        suggestion = strategy.ask(trial_id)
        if suggestion.kind == "done":
            return
        if suggestion.kind == "wait":
            raise RuntimeError(
                f"strategy {strategy.name!r} said 'wait' with no trial running"
            )
        metrics = dict(evaluate(suggestion.values))
        strategy.tell(Observation(trial_id, dict(suggestion.values), TrialStatus.COMPLETED, metrics))


# -- peers -------------------------------------------------------------------
def _run_random(space: HyperSpace, objectives: tuple[Objective, ...], n_trials: int, seed: int,
                evaluate: Evaluate) -> None:
    rng = make_rng(seed)
    for _ in range(n_trials):
        evaluate(space.sample(rng))


def _optuna_values(trial: Any, space: HyperSpace) -> dict[str, Any]:
    """Values of the active parameters, suggested in the space's order."""
    values: dict[str, Any] = {}
    for p in space.params:
        if p.name in values or not all(c.holds(values) for c in p.conditions):
            continue
        if isinstance(p, Fixed):
            values[p.name] = p.value
        elif isinstance(p, Boolean):
            values[p.name] = trial.suggest_categorical(p.name, [False, True])
        elif isinstance(p, Choice):
            values[p.name] = trial.suggest_categorical(p.name, list(p.values))
        elif isinstance(p, (Int, Float)):
            log = p.sampling != "linear"
            suggest = trial.suggest_int if isinstance(p, Int) else trial.suggest_float
            step = p.step if not log and p.step is not None else None
            if isinstance(p, Int) and step is None:
                step = 1  # Optuna's integer step (the only one it allows on a log scale)
            values[p.name] = suggest(p.name, p.min_value, p.max_value, step=step, log=log)
        else:
            raise SearcherError(f"Optuna peers cannot handle parameter {p!r}")
    return values


def _optuna_runner(sampler_name: str) -> RunFn:
    def run(space: HyperSpace, objectives: tuple[Objective, ...], n_trials: int, seed: int,
            evaluate: Evaluate) -> None:
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        if sampler_name == "tpe":
            sampler = optuna.samplers.TPESampler(seed=seed)
        else:
            sampler = optuna.samplers.NSGAIISampler(population_size=20, seed=seed)
        study = optuna.create_study(
            directions=["maximize" if o.direction == "max" else "minimize" for o in objectives],
            sampler=sampler,
        )
        for _ in range(n_trials):
            trial = study.ask()
            metrics = evaluate(_optuna_values(trial, space))
            values = [float(metrics[o.name]) for o in objectives]
            study.tell(trial, values if len(values) > 1 else values[0])

    return run


def _keras_tuner_runner(oracle_name: str) -> RunFn:
    def run(space: HyperSpace, objectives: tuple[Objective, ...], n_trials: int, seed: int,
            evaluate: Evaluate) -> None:
        import keras_tuner

        logging.getLogger("tensorflow").setLevel(logging.ERROR)
        hp = keras_tuner.HyperParameters.from_config(space.to_config())
        if len(objectives) > 1:
            raise SearcherError("KerasTuner peers rank by one objective")
        objective = keras_tuner.Objective(objectives[0].name, objectives[0].direction)
        common = dict(objective=objective, max_trials=n_trials, hyperparameters=hp, seed=seed)
        if oracle_name == "random":
            oracle = keras_tuner.oracles.RandomSearchOracle(**common)
        else:
            oracle = keras_tuner.oracles.BayesianOptimizationOracle(**common)

        class LookupTuner(keras_tuner.Tuner):
            def run_trial(self, trial: Any, *args: Any, **kwargs: Any) -> dict[str, float]:
                return dict(evaluate(dict(trial.hyperparameters.values)))

        with tempfile.TemporaryDirectory(prefix="akn-bench-") as tmp, warnings.catch_warnings():
            # The Gaussian process' convergence warnings would drown the table.
            warnings.simplefilter("ignore")
            tuner = LookupTuner(oracle=oracle, directory=tmp, project_name="bench", overwrite=True)
            tuner.search(verbose=0)

    return run


PEERS: dict[str, Searcher] = {
    "random": Searcher("random", _run_random),
    "optuna-tpe": Searcher("optuna-tpe", _optuna_runner("tpe")),
    "optuna-nsga2": Searcher("optuna-nsga2", _optuna_runner("nsga2")),
    "kt-random": Searcher("kt-random", _keras_tuner_runner("random"), multi_objective=False),
    "kt-bayes": Searcher("kt-bayes", _keras_tuner_runner("bayes"), max_runs=3, multi_objective=False),
}


def peer_searcher(name: str) -> Searcher:
    """A peer by name (see the module docstring)."""
    if name not in PEERS:
        raise SearcherError(f"unknown peer {name!r}; peers: {', '.join(PEERS)}")
    peer = PEERS[name]
    return Searcher(f"{name} (peer)", peer.run, peer.max_runs, peer.multi_objective)


def timed(fn: Callable[[], None]) -> float:
    """Seconds `fn()` took."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
