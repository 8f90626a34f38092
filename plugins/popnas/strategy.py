"""POPNAS: Pareto-optimal progressive SMBO (Falanti et al. 2022/23), PNAS mode."""

from __future__ import annotations

import json
from typing import Any, Callable, Mapping, Sequence

import numpy as np

from autokeras_nas.core import (
    BaseStrategy,
    Objective,
    Observation,
    Scalar,
    SpaceKind,
    Suggestion,
    hypervolume,
    is_infeasible,
    non_dominated_sort,
)
from autokeras_nas_plugins.popnas.predictors import (
    ForestPredictor,
    GaussianProcessPredictor,
    Predictor,
    RidgePredictor,
)
from autokeras_nas_plugins.popnas.warping import WARPINGS, warp

PredictorFactory = Callable[[int], Predictor]
#: Trained configurations whose neighbours are candidates (generic spaces).
N_TOP = 10


def default_accuracy_predictor(seed: int) -> Predictor:
    """Progressive search (cell encodings): a random forest."""
    return ForestPredictor(n_estimators=30, seed=seed)


def default_generic_predictor(seed: int) -> Predictor:
    """Generic spaces (one-hot choices): a Gaussian process."""
    return GaussianProcessPredictor()


def default_time_predictor(seed: int) -> Predictor:
    return RidgePredictor()


class Popnas(BaseStrategy):
    """Pareto-optimal progressive neural architecture search (POPNASv3).

    On a cell space (`cells=`, as `autokeras_nas.Popnas` passes for a
    `CellHyperModel`), the search is progressive: all (or `k_initial`
    sampled) one-block cells are trained, or under a time budget a sample
    sized so that every step gets its share of the trials the budget
    affords (see `k_initial`); then for b = 2..B the predictors
    are fitted on every trained cell, each cell kept at b-1 is expanded by
    every possible new block, and of all candidates the strategy keeps up to
    `k` on the Pareto front of (predicted accuracy up, predicted training
    time down), front after front, plus `n_explore` cells that use the
    least-used operators and inputs; those are trained. In `pnas` mode the
    `k` best by predicted accuracy are kept, with no time objective (PNAS,
    Liu et al. 2018).

    On any other space (a `build_model(hp)`, NAS-Bench-201's six choices) it
    is Pareto SMBO without the progressive expansion: after `n_init` random
    configurations, each trial is the candidate (`n_candidates` random new
    configurations, plus the new neighbours of the best ones) that maximises
    the hypervolume improvement of the optimistic prediction (mean + kappa x
    predicted spread) over the front observed so far; with one objective,
    the largest optimistic prediction. With one objective the default model
    is a Gaussian process with a Hamming kernel, whose spread grows with the
    distance from what was trained (kappa 2), and:

    - the model is fitted on values floored at their `floor_quantile`
      quantile, so that it separates good configurations from each other
      rather than from the useless ones (on NAS-Bench-201, cells cut off
      from the output score 10 % and dominate the variance);
    - the search restarts when it stalls (TuRBO-style): once a phase has
      max(2 x `restart_patience`, `n_init` + `restart_patience`) results and
      its best is `restart_patience` results old, a new phase begins with
      `n_init` random configurations and a model fitted on its own results
      only, because a model fitted on a basin's results does not leave it.
      The answer is the best result of all phases;
    - the model is fitted on warped values (`output_warping`), so that a
      loss spanning orders of magnitude is ranked by its log rather than by
      its few largest values.

    With several objectives the default model is a random forest per
    objective (kappa 0.5), without restarts: it gave the larger hypervolume
    on NAS-Bench-201 (validation accuracy, latency). The measurements behind
    these defaults, and the commands that repeat them, are in
    docs/benchmarks.md ("POPNAS").

    Predictors are replaceable (`accuracy_predictor`, `time_predictor`:
    factories `seed -> predictor` with `fit(X, y)` and `predict(X) -> (mean,
    std)`); see `autokeras_nas_plugins.popnas.predictors` for the measured
    choice of the defaults. Every proposal's notes hold the predictions,
    so results.json has predicted against actual for every trained cell.

    Args:
        mode: "popnas" or "pnas" (accuracy only).
        cells: A cell space spec (`autokeras_nas.spaces.CellSpace` keyword
            arguments plus "macro"), for progressive search; `None` for a
            generic space.
        k: Cells kept per progressive step.
        k_initial: One-block cells trained at most (`None`: all of them,
            or as many as leave room for the later steps within
            `max_trials`, at least `k`; with a time budget and no
            `max_trials`, a seeded sample sized by the budget: each of the
            B steps trains max(2, (A - P) // S) cells, A the trials the
            budget affords at the mean measured seconds per trial, P those
            proposed before the step, S the steps left; see
            `autokeras_nas_plugins.popnas.progressive.Progressive`).
        n_explore: Exploration cells per step.
        n_init: Random configurations before the model (generic spaces).
            `None`: three per hyperparameter of the space, at least 3
            (KerasTuner's `BayesianOptimization` rule).
        n_candidates: Random candidates per proposal (generic spaces).
        kappa: Weight of the predicted spread (optimism) in the acquisition
            (generic spaces). `None`: 2 for the default single-objective
            Gaussian process, else 0.5 (a forest's spread over trees).
        floor_quantile: Single-objective generic mode: objective values below
            this quantile of the observed ones are raised to it before the
            model is fitted (`0`: no floor).
        restart_patience: Single-objective generic mode: results without a
            new best after which a phase restarts (`None`: never).
        output_warping: Single-objective generic mode: the monotone map of
            the (floored) values the model is fitted on, "log", "rank" or
            "none" (`autokeras_nas_plugins.popnas.warping`). Default "log":
            minus the log of a loss minimised, other objectives unchanged
            (so accuracies are modelled as before): on a loss spanning four
            orders of magnitude (`autokeras_nas.testing.spaces.nb201_loss`)
            it found losses as low as "rank" and lower than raw values.
        accuracy_predictor, time_predictor: Predictor factories (default
            accuracy predictor: a Gaussian process on generic spaces with
            one objective, else a random forest).
        seed: Seed of the strategy's generator.
    """

    name = "popnas"
    space_kinds = (SpaceKind.CELLS, SpaceKind.HYPERPARAMETERS)

    def __init__(
        self,
        *,
        mode: str = "popnas",
        cells: Mapping[str, Any] | None = None,
        k: int = 8,
        k_initial: int | None = None,
        n_explore: int = 2,
        n_init: int | None = 10,
        n_candidates: int = 200,
        kappa: float | None = None,
        floor_quantile: float = 0.5,
        restart_patience: int | None = 20,
        output_warping: str = "log",
        accuracy_predictor: PredictorFactory | None = None,
        time_predictor: PredictorFactory | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__(seed=seed)
        if mode not in ("popnas", "pnas"):
            raise ValueError(f"mode must be 'popnas' or 'pnas', got {mode!r}")
        for arg, value, low in (("k", k, 1), ("n_explore", n_explore, 0),
                                ("n_init", 1 if n_init is None else n_init, 1),
                                ("n_candidates", n_candidates, 1)):
            if type(value) is not int or value < low:
                raise ValueError(f"{arg} must be an int >= {low}, got {value!r}")
        if k_initial is not None and (type(k_initial) is not int or k_initial < 1):
            raise ValueError(f"k_initial must be None or an int >= 1, got {k_initial!r}")
        if kappa is not None and not kappa >= 0:
            raise ValueError(f"kappa must be >= 0, got {kappa!r}")
        if not 0 <= floor_quantile < 1:
            raise ValueError(f"floor_quantile must be in [0, 1), got {floor_quantile!r}")
        if restart_patience is not None and (type(restart_patience) is not int or restart_patience < 1):
            raise ValueError(f"restart_patience must be None or an int >= 1, got {restart_patience!r}")
        if output_warping not in WARPINGS:
            raise ValueError(f"output_warping must be one of {', '.join(WARPINGS)}; "
                             f"got {output_warping!r}")
        self.mode = mode
        self.cells = None if cells is None else dict(cells)
        self.k, self.k_initial, self.n_explore = k, k_initial, n_explore
        self.n_init, self.n_candidates = n_init, n_candidates
        self.kappa = None if kappa is None else float(kappa)
        self.floor_quantile = float(floor_quantile)
        self.restart_patience = restart_patience
        self.output_warping = output_warping
        self._user_predictor = accuracy_predictor
        self._make_accuracy = accuracy_predictor or default_accuracy_predictor
        self._make_time = time_predictor or default_time_predictor
        self._fit_cache: tuple[tuple[str, int], list[Predictor], np.ndarray] | None = None
        #: The space's encoding of each candidate of the last proposal (by its
        #: key): the neighbours of the best configurations come back at the
        #: next one, the random candidates rarely do, so only those are kept.
        self._encodings: dict[str, np.ndarray] = {}
        self._progressive: Any = None

    def bind_structure(self, kind: SpaceKind, structure: Any) -> None:
        """`use_space(SpaceKind.CELLS, cells)`: see `use_cells`."""
        self.use_cells(structure)

    def use_cells(self, cells: Mapping[str, Any]) -> None:
        """Searches a cell space progressively (before the first trial,
        before or after `setup`)."""
        if self.asked:
            raise RuntimeError("use_cells() must be called before the first trial")
        self.cells = dict(cells)
        self._progressive = None
        if self.space is not None:
            self._start_progressive()

    def setup(self, space: Any, objectives: Sequence[Objective], max_trials: int | None = None) -> None:
        super().setup(space, objectives, max_trials)
        self._encodings = {}
        if self.cells is not None and self._progressive is None:
            self._start_progressive()

    def _start_progressive(self) -> None:
        from autokeras_nas_plugins.popnas.progressive import Progressive

        self._progressive = Progressive(self)

    # -- proposals ---------------------------------------------------------------
    def propose(self, trial_id: str) -> Suggestion:
        if self._progressive is not None:
            return self._progressive.propose(trial_id)
        return self._propose_generic()

    def _usable(self) -> list[tuple[Observation, tuple[float, ...]]]:
        """Each configuration's latest result (a continued one at the
        highest rung it reached, `BaseStrategy.latest`), in the order the
        configurations were first observed. A configuration a hard
        constraint rejected (infeasible, never trained) counts as the worst
        result seen so far in every objective, so that the model learns
        to keep away from the infeasible region."""
        latest = self.latest()
        found: list[tuple[Observation, tuple[float, ...] | None]] = []
        for o in self.history:
            if o.continues is not None:
                continue
            o = latest.get(o.trial_id, o)
            vec = o.objective_vector(self.objectives)
            if vec is not None or is_infeasible(o.message):
                found.append((o, vec))
        feasible = [vec for _, vec in found if vec is not None]
        if not feasible:
            return []
        worst = tuple(float(v) for v in np.min(np.array(feasible), axis=0))
        return [(o, worst if vec is None else vec) for o, vec in found]

    def _phase_start(self, usable: list[tuple[Observation, tuple[float, ...]]], n_objectives: int) -> int:
        """Index in `usable` where the current phase began (single objective
        with restarts; else 0). A phase ends once it has at least
        max(2 x restart_patience, n_init + restart_patience) results and its
        best is `restart_patience` results old. A pure function of the
        results, so a resumed search finds the same phases."""
        if n_objectives != 1 or self.restart_patience is None:
            return 0
        patience = self.restart_patience
        min_phase = max(2 * patience, self._initial() + patience)
        start, best, best_at = 0, -np.inf, 0
        for i, (_, vec) in enumerate(usable):
            if vec[0] > best:
                best, best_at = vec[0], i
            if i + 1 - start >= min_phase and i - best_at >= patience:
                start, best = i + 1, -np.inf
        return start

    def _propose_generic(self) -> Suggestion:
        objectives = self.objectives[:1] if self.mode == "pnas" else self.objectives
        usable = self._usable()
        start = self._phase_start(usable, len(objectives))
        usable = usable[start:]
        if len(usable) < self._initial():
            return self._random("restart" if start else "random")
        models, trained = self._fitted(usable, len(objectives))
        found = self._candidates(usable, models, trained)
        if not found:
            return self._random("random")
        candidates = [values for _, values in found]
        X = np.stack(self._encoded(found))
        predictions = [m.predict(X) for m in models]
        kappa = self._kappa(len(objectives))
        optimistic = np.stack([mean + kappa * std for mean, std in predictions], axis=1)
        if optimistic.shape[1] == 1:
            best = int(np.argmax(optimistic[:, 0]))
        else:
            best = _best_improvement(optimistic, np.array([v[:len(objectives)] for _, v in usable]))
        notes = {"origin": "model"}
        for obj, (mean, _std) in zip(objectives, predictions):
            notes[f"predicted_{obj.name}"] = float(obj.signed(mean[best]))
        return Suggestion.run(candidates[best], notes=notes)

    def _initial(self) -> int:
        """Random configurations a phase starts with (`n_init`)."""
        if self.n_init is not None:
            return self.n_init
        return max(3 * len(self.space), 3)

    def _random(self, origin: str) -> Suggestion:
        values = self.sample_new()
        if values is None:
            return Suggestion.done("search space exhausted")
        return Suggestion.run(values, notes={"origin": origin})

    def _generic_predictor(self, n_objectives: int) -> PredictorFactory:
        """The model factory of generic spaces: the user's, else a Gaussian
        process with one objective and a forest with several."""
        if self._user_predictor is not None:
            return self._user_predictor
        return default_generic_predictor if n_objectives == 1 else default_accuracy_predictor

    def _kappa(self, n_objectives: int) -> float:
        if self.kappa is not None:
            return self.kappa
        return 2.0 if self._generic_predictor(n_objectives) is default_generic_predictor else 0.5

    def _fitted(self, usable: list[tuple[Observation, tuple[float, ...]]],
                n_objectives: int) -> tuple[list[Predictor], np.ndarray]:
        """One predictor per objective (larger-is-better), refitted when new
        results arrived, and the encoded rows they were fitted on."""
        key = (usable[0][0].trial_id, len(usable))
        if self._fit_cache is not None and self._fit_cache[0] == key:
            return self._fit_cache[1], self._fit_cache[2]
        X = np.stack([self.space.encode(o.values) for o, _ in usable])
        models = []
        for i in range(n_objectives):
            y = np.array([v[i] for _, v in usable])
            if n_objectives == 1 and self.floor_quantile > 0:
                y = np.maximum(y, np.quantile(y, self.floor_quantile))
            if n_objectives == 1:
                y = warp(y, self.output_warping)
            models.append(self._generic_predictor(n_objectives)(self.seed + i).fit(X, y))
        self._fit_cache = (key, models, X)
        return models, X

    def _encoded(self, found: list[tuple[str, dict[str, Scalar]]]) -> list[np.ndarray]:
        """`space.encode` of each `(key, values)` of `found`, reusing the last
        proposal's rows; keeps this proposal's rows only."""
        rows = {key: self._encodings.get(key) for key, _ in found}
        for key, values in found:
            if rows[key] is None:
                rows[key] = self.space.encode(values)
        self._encodings = rows
        return [rows[key] for key, _ in found]

    def _candidates(self, usable: list[tuple[Observation, tuple[float, ...]]],
                    models: list[Predictor], trained: np.ndarray
                    ) -> list[tuple[str, dict[str, Scalar]]]:
        """New configurations, with their keys: the new neighbours of the
        best trained ones (best by the model's denoised prediction, so one
        lucky noisy result does not hold the search), and random ones.
        `trained`: the encoded rows of `usable`."""
        out: dict[str, dict[str, Scalar]] = {}
        predicted = np.stack([m.predict(trained)[0] for m in models], axis=1)
        if predicted.shape[1] > 1:
            top = [i for front in non_dominated_sort(predicted) for i in front][:N_TOP]
        else:
            top = list(np.argsort(-predicted[:, 0], kind="stable")[:N_TOP])
        fresh = [n for i in top for n in self.space.neighbours(usable[int(i)][0].values)]
        fresh += [self.space.sample(self.rng) for _ in range(self.n_candidates)]
        for values in fresh:
            key = self.new_key(values)
            if key is not None:
                out.setdefault(key, values)
        return list(out.items())

    # -- state -------------------------------------------------------------------
    def extra_state(self) -> dict[str, Any]:
        return {} if self._progressive is None else {"progressive": self._progressive.state()}

    def load_extra_state(self, state: Mapping[str, Any]) -> None:
        self._fit_cache = None
        if state.get("progressive") is not None:
            if self._progressive is None:
                self._start_progressive()
            self._progressive.load(json.loads(json.dumps(state["progressive"])))


def _best_improvement(candidates: np.ndarray, observed: np.ndarray) -> int:
    """Index of the candidate whose point adds the most hypervolume to the
    observed points (larger is better in every coordinate); ties, and no
    improvement at all, go to the best sum of ranks."""
    reference = np.minimum(candidates.min(axis=0), observed.min(axis=0)) - 1e-9
    base = hypervolume(observed, reference)
    gains = np.array([hypervolume(np.vstack([observed, c]), reference) - base for c in candidates])
    if gains.max() > 0:
        return int(np.argmax(gains))
    ranks = np.argsort(np.argsort(-candidates, axis=0), axis=0).sum(axis=1)
    return int(np.argmin(ranks))


class Pnas(Popnas):
    """POPNAS in PNAS mode (Liu et al. 2018): progressive search keeping the
    `k` cells of best predicted accuracy, no time objective. Same arguments
    as `Popnas` except `mode`."""

    name = "pnas"

    def __init__(self, **kwargs: Any) -> None:
        if kwargs.pop("mode", "pnas") != "pnas":
            raise ValueError("Pnas is POPNAS in mode 'pnas'")
        super().__init__(mode="pnas", **kwargs)
