"""POPNAS / PNAS on analytic objectives (no TensorFlow)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from autokeras_nas.core import Choice, HyperSpace, Objective, Observation, SpaceKind, TrialStatus
from autokeras_nas.spaces import CellSpace
from autokeras_nas.testing import check_strategy
from autokeras_nas.testing.spaces import nb201_loss, nb201_objective, nb201_space
from autokeras_nas_plugins.popnas import Pnas, Popnas

SCORE = (Objective("score", "max"),)
OPS = ("identity", "conv3x3", "maxpool3x3")
CELLS = {"ops": list(OPS), "max_blocks": 3, "lookback": 2,
         "macro": {"motifs": 2, "normal_cells": 1, "filters": 8}}


#: n_init, n_candidates and restart_patience tune the generic (hyperparameter)
#: mode only: the progressive cell search ignores them, so with them it runs
#: exactly as with the defaults, which test_conformance.py already checks.
GENERIC = [SpaceKind.HYPERPARAMETERS]


def test_conformance_on_generic_spaces_with_early_model_use():
    # (Both plugins also pass with their defaults in test_conformance.py.)
    check_strategy(Popnas, make_kwargs=lambda seed: {"seed": seed, "n_init": 5, "n_candidates": 50},
                   kinds=GENERIC)


def test_conformance_with_restarts_within_the_run():
    # patience 3, n_init 3: a phase can end after 6 results, so the resume
    # and determinism checks cross several restarts.
    check_strategy(Popnas, make_kwargs=lambda seed: {
        "seed": seed, "n_init": 3, "n_candidates": 30, "restart_patience": 3}, kinds=GENERIC)


def _cell_score(cell) -> dict[str, float]:
    """Convolutions help, more blocks help a little; time grows with convs."""
    convs = sum((b[1] == "conv3x3") + (b[3] == "conv3x3") for b in cell)
    return {"score": 0.5 + 0.1 * convs + 0.02 * len(cell) - 0.03 * sum(b[0] == -2 for b in cell),
            "train_time_s": 1.0 + convs, "epochs": 1.0}


def _drive(strategy, max_trials=None, *, budget=None, seconds=None, start=0, stop=None):
    """Asks and tells until "done" (or `stop` trials); `seconds(cell)` is
    each trial's measured wall time, `budget` the search's time budget."""
    if start == 0:
        strategy.setup(HyperSpace([]), SCORE, max_trials)
        if budget is not None:
            strategy.set_time_budget(budget)
    runs, i = [], start
    while stop is None or i < stop:
        s = strategy.ask(str(i))
        if s.kind == "done":
            return runs
        assert s.kind == "run"
        cell = tuple(tuple(b) for b in json.loads(s.arch)["cell"])
        runs.append((s, cell))
        strategy.tell(Observation(str(i), {}, TrialStatus.COMPLETED, _cell_score(cell), epochs=1,
                                  seconds=None if seconds is None else seconds(cell)))
        i += 1
    return runs


def test_progressive_steps_grow_kept_cells_by_one_block():
    space = CellSpace(ops=OPS, max_blocks=3)
    runs = _drive(Popnas(cells=CELLS, k=4, n_explore=1, k_initial=6, seed=0))
    blocks = [s.notes["blocks"] for s, _ in runs]
    assert blocks == [1] * 6 + [2] * 5 + [3] * 5
    step1 = {space.key(c) for s, c in runs if s.notes["blocks"] == 1}
    step2 = [c for s, c in runs if s.notes["blocks"] == 2]
    assert all(space.key(tuple(c[:1])) in step1 or len(c) == 2 for c in step2)
    for (s, cell) in runs[6:]:
        assert s.notes["origin"] in ("pareto", "exploration")
        assert {"predicted_accuracy", "predicted_time_per_epoch"} <= set(s.notes)
        assert len(cell) == s.notes["blocks"]
    keys = [space.key(c) for _, c in runs]
    assert len(keys) == len(set(keys))  # equivalent cells are trained once


def test_each_child_extends_a_cell_of_the_previous_step():
    space = CellSpace(ops=OPS, max_blocks=3)
    runs = _drive(Popnas(cells=CELLS, k=3, n_explore=0, k_initial=5, seed=1))
    by_step: dict[int, list] = {}
    for s, c in runs:
        by_step.setdefault(s.notes["blocks"], []).append(c)
    for b in (2, 3):
        expansions = {space.key(e) for c in by_step[b - 1] for e in space.expand(c)}
        assert all(space.key(c) in expansions for c in by_step[b])


def test_pnas_keeps_the_top_k_by_predicted_accuracy_without_time():
    runs = _drive(Pnas(cells=CELLS, k=3, n_explore=0, k_initial=6, seed=0))
    later = [s for s, _ in runs if s.notes["blocks"] > 1]
    assert later and all(s.notes["origin"] == "top-k" for s in later)
    assert all("predicted_time_per_epoch" not in s.notes for s in later)
    for b in (2, 3):
        preds = [s.notes["predicted_accuracy"] for s in later if s.notes["blocks"] == b]
        assert preds == sorted(preds, reverse=True)


class _Remembering:
    """Wraps a predictor and remembers every (X, predicted mean) it gave."""

    def __init__(self, inner, calls: list) -> None:
        self.inner, self.calls = inner, calls

    def fit(self, X, y):
        self.inner.fit(X, y)
        return self

    def predict(self, X):
        mean, std = self.inner.predict(X)
        self.calls.append((np.asarray(X, float), np.asarray(mean, float)))
        return mean, std


def test_no_chosen_cell_is_dominated_by_a_rejected_candidate():
    from autokeras_nas_plugins.popnas.strategy import default_accuracy_predictor, default_time_predictor

    accuracy_calls: list = []
    time_calls: list = []
    strategy = Popnas(cells=CELLS, k=2, n_explore=0, k_initial=6, seed=2,
                      accuracy_predictor=lambda s: _Remembering(default_accuracy_predictor(s), accuracy_calls),
                      time_predictor=lambda s: _Remembering(default_time_predictor(s), time_calls))
    runs = _drive(strategy)
    space = CellSpace(ops=OPS, max_blocks=3)
    # One prediction over all candidates of each later step (steps 2 and 3).
    assert len(accuracy_calls) == len(time_calls) == 2
    for b, (X, acc), (_, t) in zip((2, 3), accuracy_calls, time_calls):
        chosen_rows = []
        for s, cell in runs:
            if s.notes["blocks"] != b:
                continue
            (row,) = np.flatnonzero((X == space.encode(cell)).all(axis=1))
            assert (s.notes["predicted_accuracy"], s.notes["predicted_time_per_epoch"]) == (acc[row], t[row])
            chosen_rows.append(row)
        assert len(chosen_rows) == 2 and len(X) > 10  # a real choice among many
        rejected = np.setdiff1d(np.arange(len(X)), chosen_rows)
        for i in chosen_rows:
            dominated_by = rejected[(acc[rejected] >= acc[i]) & (t[rejected] <= t[i])
                                    & ((acc[rejected] > acc[i]) | (t[rejected] < t[i]))]
            assert dominated_by.size == 0, (b, i, dominated_by)


def test_max_trials_leaves_room_for_every_step():
    runs = _drive(Popnas(cells=CELLS, k=2, n_explore=1, seed=0), max_trials=12)
    assert [s.notes["blocks"] for s, _ in runs] == [1] * 6 + [2] * 3 + [3] * 3


def test_a_time_budget_shares_the_affordable_trials_among_the_steps():
    # 21 one-block cells; 100 s at 10 s a trial afford 10 trials: 3 per
    # step (at least 2), and the last step takes what is left.
    runs = _drive(Popnas(cells=CELLS, k=4, n_explore=1, seed=0), budget=100.0,
                  seconds=lambda cell: 10.0)
    assert [s.notes["blocks"] for s, _ in runs] == [1] * 3 + [2] * 3 + [3] * 4
    # Without a budget every one-block cell is trained first.
    unbounded = _drive(Popnas(cells=CELLS, k=4, n_explore=1, seed=0), seconds=lambda cell: 10.0)
    assert [s.notes["blocks"] for s, _ in unbounded][:22] == [1] * 21 + [2]


def test_costlier_cells_shrink_their_own_steps_but_every_step_is_reached():
    cheap = _drive(Popnas(cells=CELLS, k=4, n_explore=1, seed=0), budget=300.0,
                   seconds=lambda cell: 10.0)
    costly = _drive(Popnas(cells=CELLS, k=4, n_explore=1, seed=0), budget=300.0,
                    seconds=lambda cell: 10.0 * len(cell) ** 2)
    sizes = [[sum(s.notes["blocks"] == b for s, _ in runs) for b in (1, 2, 3)]
             for runs in (cheap, costly)]
    # 30 affordable: 10 per step, of which steps 2 and 3 queue k + n_explore.
    assert sizes[0] == [10, 5, 5]
    # Two-block trials cost 4x: step 2 stops early, step 3 still trains 2.
    assert sizes[1] == [10, 3, 2]
    step1 = {str(c) for s, c in costly if s.notes["blocks"] == 1}
    assert step1 == {str(c) for s, c in cheap if s.notes["blocks"] == 1}  # a seeded sample


def test_a_budgeted_search_resumes_with_the_budget_it_started_with():
    def run(seed=3):
        return Popnas(cells=CELLS, k=4, n_explore=1, seed=seed)

    full = _drive(run(), budget=100.0, seconds=lambda cell: 10.0 * len(cell))
    first = run()
    _drive(first, budget=100.0, seconds=lambda cell: 10.0 * len(cell), stop=4)
    resumed = run(seed=99)
    resumed.setup(HyperSpace([]), SCORE, None)
    resumed.set_time_budget(1000.0)  # a resumed run's own budget does not resize the steps
    resumed.load_state_dict(json.loads(json.dumps(first.state_dict())))
    rest = _drive(resumed, seconds=lambda cell: 10.0 * len(cell), start=4)
    assert [s.arch for s, _ in rest] == [s.arch for s, _ in full[4:]]
    assert max(s.notes["blocks"] for s, _ in full) == 3


def test_a_continued_cell_is_ranked_by_its_latest_result():
    # A scheduler promoted trial 0 and continued it as trial "p0": the
    # next step's accuracy model learns the continuation's score, and the
    # time model the seconds per epoch of trial 0 itself.
    fitted: dict[str, list] = {"acc": [], "time": []}

    class Recording(_Recording):
        def __init__(self, key):
            self.key = key

        def fit(self, X, y):
            fitted[self.key].append(np.asarray(y, float))
            return self

    strategy = Popnas(cells=CELLS, k=2, n_explore=0, k_initial=3, seed=0,
                      accuracy_predictor=lambda seed: Recording("acc"),
                      time_predictor=lambda seed: Recording("time"))
    strategy.setup(HyperSpace([]), SCORE, None)
    for i in range(3):
        assert strategy.ask(str(i)).kind == "run"
        strategy.tell(Observation(str(i), {}, TrialStatus.COMPLETED,
                                  {"score": 0.1 * (i + 1), "train_time_s": 2.0}, epochs=1))
    strategy.tell(Observation("p0", {}, TrialStatus.COMPLETED, {"score": 0.9, "train_time_s": 1.0},
                              epochs=3, continues="0"))
    assert strategy.ask("3").notes["blocks"] == 2
    np.testing.assert_allclose(fitted["acc"][-1], [0.9, 0.2, 0.3])
    np.testing.assert_allclose(fitted["time"][-1], [2.0, 2.0, 2.0])


def test_progressive_resume_makes_the_same_proposals():
    full = _drive(Popnas(cells=CELLS, k=3, n_explore=1, k_initial=5, seed=4))
    first = Popnas(cells=CELLS, k=3, n_explore=1, k_initial=5, seed=4)
    first.setup(HyperSpace([]), SCORE, None)
    for i in range(7):
        s = first.ask(str(i))
        cell = tuple(tuple(b) for b in json.loads(s.arch)["cell"])
        first.tell(Observation(str(i), {}, TrialStatus.COMPLETED, _cell_score(cell), epochs=1))
    state = json.loads(json.dumps(first.state_dict()))
    resumed = Popnas(cells=CELLS, k=3, n_explore=1, k_initial=5, seed=99)
    resumed.setup(HyperSpace([]), SCORE, None)
    resumed.load_state_dict(state)
    rest, i = [], 7
    while (s := resumed.ask(str(i))).kind == "run":
        cell = tuple(tuple(b) for b in json.loads(s.arch)["cell"])
        rest.append(s.arch)
        resumed.tell(Observation(str(i), {}, TrialStatus.COMPLETED, _cell_score(cell), epochs=1))
        i += 1
    assert rest == [s.arch for s, _ in full[7:]]


def test_generic_mode_beats_random_on_an_analytic_objective():
    from autokeras_nas_plugins.random_search import RandomStrategy

    def best(strategy, n=40):
        strategy.setup(nb201_space(), SCORE, n)
        top = -np.inf
        for i in range(n):
            s = strategy.ask(str(i))
            v = nb201_objective(s.values)
            top = max(top, v)
            strategy.tell(Observation(str(i), dict(s.values), TrialStatus.COMPLETED, {"score": v}))
        return top

    assert np.mean([best(Popnas(seed=s)) for s in range(4)]) > np.mean(
        [best(RandomStrategy(seed=s)) for s in range(4)])


class _Recording:
    """A predictor that remembers the targets it was fitted on."""

    fitted: list[np.ndarray] = []

    def fit(self, X, y):
        _Recording.fitted.append(np.asarray(y, float))
        return self

    def predict(self, X):
        return np.zeros(len(X)), np.zeros(len(X))


@pytest.mark.parametrize("floor_quantile", [0.0, 0.5, 0.7])
def test_single_objective_model_is_fitted_on_values_floored_at_a_quantile(floor_quantile):
    _Recording.fitted = []
    strategy = Popnas(seed=0, n_init=6, floor_quantile=floor_quantile,
                      accuracy_predictor=lambda seed: _Recording())
    strategy.setup(nb201_space(), SCORE, 10)
    observed = []
    for i in range(7):
        s = strategy.ask(str(i))
        observed.append(nb201_objective(s.values))
        strategy.tell(Observation(str(i), dict(s.values), TrialStatus.COMPLETED, {"score": observed[-1]}))
    y = _Recording.fitted[-1]
    assert len(y) == 6
    if floor_quantile:
        assert y.min() == pytest.approx(np.quantile(observed[:6], floor_quantile))
        assert y.max() == pytest.approx(max(observed[:6]))
    else:
        np.testing.assert_allclose(np.sort(y), np.sort(observed[:6]))


def test_predictors_fitted_on_a_search_of_500_cells_rank_held_out_cells():
    # How long the fit takes is measured by `autokeras-nas bench predictors`.
    from scipy.stats import spearmanr

    space = CellSpace(ops=("identity", "sep3x3", "sep5x5", "sep7x7", "conv1x1", "conv3x3",
                           "maxpool3x3", "avgpool3x3"), max_blocks=3)
    strategy = Popnas(cells={"ops": list(space.ops), "max_blocks": 3}, seed=0)
    strategy.setup(HyperSpace([]), SCORE, None)
    rng = np.random.default_rng(0)
    cells = [space.random_cell(rng, int(rng.integers(1, 4))) for _ in range(600)]
    trained = [(Observation(str(i), {}, TrialStatus.COMPLETED, _cell_score(c), epochs=1), c)
               for i, c in enumerate(cells[:500])]
    acc_model, time_model = strategy._progressive.fit(trained)
    held_out = cells[500:]
    acc, _ = acc_model.predict(np.stack([space.encode(c) for c in held_out]))
    seconds, _ = time_model.predict(np.stack([strategy._progressive._cost(c) for c in held_out]))
    truth = [_cell_score(c) for c in held_out]
    assert spearmanr(acc, [t["score"] for t in truth]).correlation > 0.95  # 0.998 measured
    assert spearmanr(seconds, [t["train_time_s"] for t in truth]).correlation > 0.75  # 0.866


def test_output_warpings_are_monotone_and_scale_free():
    from autokeras_nas_plugins.popnas.warping import warp

    losses = np.array([1e-4, 3e-3, 0.2, 1.0, 3e-3])
    y = -losses  # larger is better
    np.testing.assert_allclose(warp(y, "log"), -np.log(losses))
    np.testing.assert_allclose(warp(np.array([0.5, -0.1, 0.9]), "log"), [0.5, -0.1, 0.9])
    ranks = warp(y, "rank")
    assert ranks[0] == ranks.max() and ranks[3] == ranks.min() and ranks[1] == ranks[4]
    np.testing.assert_allclose(warp(1000.0 * y, "rank"), ranks)  # any scale
    np.testing.assert_allclose(np.sort(warp(np.arange(4.0), "rank")),
                               [-1.150349, -0.318639, 0.318639, 1.150349], atol=1e-6)
    with pytest.raises(ValueError, match="output warping"):
        warp(y, "sqrt")


def test_a_loss_is_modelled_by_its_log():
    _Recording.fitted = []
    strategy = Popnas(seed=0, n_init=6, floor_quantile=0.0, accuracy_predictor=lambda seed: _Recording())
    strategy.setup(nb201_space(), (Objective("loss", "min"),), 10)
    losses = []
    for i in range(7):
        s = strategy.ask(str(i))
        losses.append(nb201_loss(s.values))
        strategy.tell(Observation(str(i), dict(s.values), TrialStatus.COMPLETED, {"loss": losses[-1]}))
    np.testing.assert_allclose(_Recording.fitted[-1], -np.log(losses[:6]))


def _best_loss(strategy, n=20):
    """log10 of the lowest `nb201_loss` in `n` trials."""
    strategy.setup(nb201_space(), (Objective("loss", "min"),), n)
    best = np.inf
    for i in range(n):
        s = strategy.ask(str(i))
        loss = nb201_loss(s.values)
        best = min(best, loss)
        strategy.tell(Observation(str(i), dict(s.values), TrialStatus.COMPLETED, {"loss": loss}))
    return np.log10(best)


def test_a_loss_spanning_four_orders_of_magnitude_is_searched_better_than_at_random():
    from autokeras_nas_plugins.random_search import RandomStrategy

    losses = [nb201_loss(nb201_space().sample(np.random.default_rng(s))) for s in range(200)]
    assert max(losses) / min(losses) > 1e3  # the objective spans orders of magnitude
    seeds = range(4)
    popnas = np.mean([_best_loss(Popnas(seed=s)) for s in seeds])
    random = np.mean([_best_loss(RandomStrategy(seed=s)) for s in seeds])
    assert popnas < random - 0.3, (popnas, random)  # 0.3: a factor of 2 in the loss


def _drive_generic(strategy, values_to_score, n):
    strategy.setup(nb201_space(), SCORE, n)
    proposals = []
    for i in range(n):
        s = strategy.ask(str(i))
        proposals.append(s)
        strategy.tell(Observation(str(i), dict(s.values), TrialStatus.COMPLETED,
                                  {"score": values_to_score(s.values, i)}))
    return proposals


def test_a_stalled_phase_restarts_with_random_configurations_and_a_fresh_model():
    # The best result comes first, so the phase stalls: patience 4 and
    # n_init 3 give a phase of max(2 x 4, 3 + 4) = 8 results, then a new one.
    _Recording.fitted = []
    strategy = Popnas(seed=0, n_init=3, restart_patience=4, floor_quantile=0.0,
                      accuracy_predictor=lambda seed: _Recording())
    proposals = _drive_generic(strategy, lambda values, i: 1.0 if i == 0 else 0.5 - 0.01 * i, 14)
    origins = [p.notes["origin"] for p in proposals]
    assert origins == ["random"] * 3 + ["model"] * 5 + ["restart"] * 3 + ["model"] * 3
    # The model of the new phase is fitted on that phase's results only.
    assert [len(y) for y in _Recording.fitted] == [3, 4, 5, 6, 7, 3, 4, 5]
    assert _Recording.fitted[-1].max() < 1.0


def test_an_improving_phase_does_not_restart():
    strategy = Popnas(seed=0, n_init=3, restart_patience=4, accuracy_predictor=lambda seed: _Recording())
    proposals = _drive_generic(strategy, lambda values, i: float(i), 20)
    assert "restart" not in [p.notes["origin"] for p in proposals]


def test_restarts_can_be_switched_off():
    strategy = Popnas(seed=0, n_init=3, restart_patience=None, accuracy_predictor=lambda seed: _Recording())
    proposals = _drive_generic(strategy, lambda values, i: 1.0 if i == 0 else 0.0, 20)
    assert "restart" not in [p.notes["origin"] for p in proposals]


@pytest.mark.parametrize("kwargs, message", [
    ({"mode": "fast"}, "mode"), ({"k": 0}, "k must"), ({"kappa": -1}, "kappa"),
    ({"k_initial": 0}, "k_initial"), ({"floor_quantile": 1.0}, "floor_quantile"),
    ({"restart_patience": 0}, "restart_patience"), ({"output_warping": "sqrt"}, "output_warping"),
])
def test_bad_arguments_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Popnas(**kwargs)


def test_time_predictor_does_not_extrapolate_exponentially() -> None:
    from autokeras_nas_plugins.popnas.predictors import RidgePredictor

    X = np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])
    y = np.array([0.1, 0.2, 0.4])  # doubles per feature unit: log-linear
    model = RidgePredictor(alpha=1e-6).fit(X, y)
    inside, _ = model.predict(X)
    np.testing.assert_allclose(inside, y, rtol=1e-3)
    far, sd = model.predict(np.array([[30.0, 0.0], [-30.0, 0.0]]))
    # 2**27 x 0.4 unclipped; kept within 4x the range seen in training.
    np.testing.assert_allclose(far, [1.6, 0.025], rtol=1e-6)
    assert np.all(sd >= 0)
    with pytest.raises(ValueError, match="max_ratio"):
        RidgePredictor(max_ratio=0.5)


def _one_hot_rows(rng, n, choices=6, options=5):
    idx = rng.integers(options, size=(n, choices))
    X = np.zeros((n, choices * options))
    for c in range(choices):
        X[np.arange(n), c * options + idx[:, c]] = 1.0
    return idx, X


def test_gaussian_process_ranks_held_out_configurations_and_knows_what_it_has_not_seen():
    from scipy.stats import spearmanr

    from autokeras_nas_plugins.popnas.predictors import GaussianProcessPredictor

    rng = np.random.default_rng(0)
    weights = rng.normal(size=(6, 5))
    idx, X = _one_hot_rows(rng, 300)
    y = weights[np.arange(6), idx].sum(axis=1) + 0.1 * rng.normal(size=300)
    model = GaussianProcessPredictor().fit(X[:150], y[:150])
    mean, std = model.predict(X[150:])
    assert spearmanr(mean, y[150:]).correlation > 0.8
    assert model.theta in model.thetas and model.noise in model.noises
    # The spread is smallest on a trained row, larger one choice away, and
    # largest far from every trained row.
    near = X[:1].copy()
    block = near[0, :5].copy()
    near[0, :5] = np.roll(block, 1)
    far = np.zeros_like(near)
    _, s_trained = model.predict(X[:1])
    _, s_near = model.predict(near)
    _, s_far = model.predict(far)
    assert s_trained[0] < s_near[0] < s_far[0]


def test_default_models_gaussian_process_for_one_objective_forest_otherwise():
    from autokeras_nas_plugins.popnas.predictors import ForestPredictor, GaussianProcessPredictor

    strategy = Popnas(seed=0)
    assert isinstance(strategy._generic_predictor(1)(0), GaussianProcessPredictor)
    assert isinstance(strategy._generic_predictor(2)(0), ForestPredictor)
    assert isinstance(strategy._make_accuracy(0), ForestPredictor)  # progressive
    assert (strategy._kappa(1), strategy._kappa(2)) == (2.0, 0.5)
    custom = Popnas(seed=0, kappa=1.5, accuracy_predictor=lambda seed: _Recording())
    assert isinstance(custom._generic_predictor(1)(0), _Recording)
    assert isinstance(custom._make_accuracy(0), _Recording)
    assert (custom._kappa(1), custom._kappa(2)) == (1.5, 1.5)
    assert Popnas(seed=0, accuracy_predictor=lambda seed: _Recording())._kappa(1) == 0.5


def test_generic_mode_models_each_configuration_by_its_latest_result():
    strategy = Popnas(seed=0, n_init=3)
    strategy.setup(nb201_space(), [Objective("score", "max")], None)
    asked = []
    for i in range(3):
        s = strategy.ask(str(i))
        asked.append(s)
        strategy.tell(Observation(str(i), dict(s.values), TrialStatus.COMPLETED, {"score": 0.1 * i}))
    strategy.tell(Observation("3", dict(asked[0].values), TrialStatus.COMPLETED, {"score": 0.9},
                              epochs=3, continues="0"))
    usable = strategy._usable()
    assert [(o.trial_id, vec) for o, vec in usable] == [("3", (0.9,)), ("1", (0.1,)), ("2", (0.2,))]


def test_generic_mode_without_n_init_starts_with_three_random_per_hyperparameter():
    space = HyperSpace([Choice("a", [0, 1, 2]), Choice("b", [0, 1, 2, 3])])
    strategy = Popnas(n_init=None, seed=0)
    strategy.setup(space, [Objective("score", "max")])
    origins = []
    for i in range(8):
        suggestion = strategy.ask(str(i))
        origins.append(suggestion.notes["origin"])
        strategy.tell(Observation(str(i), suggestion.values, TrialStatus.COMPLETED,
                                  {"score": float(i % 3)}))
    assert origins == ["random"] * 6 + ["model"] * 2


def test_generic_mode_learns_to_avoid_infeasible_configurations():
    """The score rises with `a`, but a >= 5 is infeasible (a hard constraint
    rejects it, untrained): counted as the worst result, the model keeps away."""
    space = HyperSpace([Choice("a", list(range(10))), Choice("b", list(range(10)))])
    proposed = {}
    for learns in (True, False):
        strategy = Popnas(n_init=8, seed=1, restart_patience=None)
        strategy.setup(space, [Objective("score", "max")])
        rejected = 0
        for i in range(40):
            suggestion = strategy.ask(str(i))
            a, b = suggestion.values["a"], suggestion.values["b"]
            if a >= 5:
                message = "infeasible: params 900 > 500" if learns else "ValueError: boom"
                strategy.tell(Observation(str(i), suggestion.values, TrialStatus.FAILED,
                                          message=message))
                rejected += suggestion.notes["origin"] == "model"
            else:
                strategy.tell(Observation(str(i), suggestion.values, TrialStatus.COMPLETED,
                                          {"score": a + 0.1 * b}))
        proposed[learns] = rejected
    assert 2 * proposed[True] <= proposed[False], proposed  # 10 against 25 of 32
