"""ASHA (promotions), its stopping variant and median stopping rules, on hand-made learning curves."""

import json

import pytest

from autokeras_nas.core.stopping import (
    ASHA,
    Hyperband,
    MedianStopping,
    Promotion,
    StoppingASHA,
    make_stopping_rule,
)


def test_asha_rungs_are_geometric_and_below_max():
    rule = StoppingASHA(min_epochs=1, max_epochs=9, eta=3)
    assert [e for e in range(1, 12) if rule.is_rung(e)] == [1, 3]
    unbounded = StoppingASHA(min_epochs=2, eta=2)
    assert [e for e in range(1, 20) if unbounded.is_rung(e)] == [2, 4, 8, 16]


def test_asha_keeps_only_top_third_at_a_rung():
    rule = StoppingASHA(min_epochs=1, max_epochs=9, eta=3)
    # First trial at a rung always continues: nothing to compare with.
    assert rule.report("a", 1, 0.5)
    # Better than everything so far: continues; worse: stops.
    assert rule.report("b", 1, 0.9)
    assert not rule.report("c", 1, 0.6)
    assert not rule.report("d", 1, 0.1)
    # Non-rung epochs never stop a trial.
    assert rule.report("d", 2, 0.0)
    # At the maximum there is no rung (training ends anyway).
    assert rule.report("d", 9, 0.0)


def test_asha_most_trials_stop_early_on_random_curves():
    import numpy as np

    rng = np.random.default_rng(0)
    rule = StoppingASHA(min_epochs=1, max_epochs=9, eta=3)
    finished = 0
    for t in range(60):
        quality = rng.uniform()
        for epoch in range(1, 10):
            if not rule.report(str(t), epoch, quality * epoch / 9):
                break
        else:
            finished += 1
    # About 1/9 of the trials reach epoch 9 in expectation; certainly not most.
    assert 2 <= finished <= 20


def test_asha_retried_trial_overwrites_its_value():
    rule = StoppingASHA(min_epochs=1, eta=2)
    rule.report("a", 1, 0.9)
    rule.report("b", 1, 0.1)
    rule.report("a", 1, 0.0)  # "a" retried and did worse this time
    assert rule.report("c", 1, 0.2)  # would fail against the old 0.9


def test_nonfinite_value_stops():
    assert not StoppingASHA().report("a", 1, float("nan"))
    assert not MedianStopping().report("a", 1, float("-inf"))


def test_asha_state_round_trips_through_json():
    rule = StoppingASHA(min_epochs=1, eta=3)
    for i, v in enumerate([0.3, 0.8, 0.5]):
        rule.report(str(i), 1, v)
    again = StoppingASHA(min_epochs=1, eta=3)
    again.load_state_dict(json.loads(json.dumps(rule.state_dict())))
    assert again.report("x", 1, 0.7) == rule.report("x", 1, 0.7)
    assert not again.report("y", 1, 0.4)


def test_median_stopping_needs_enough_trials_then_compares():
    rule = MedianStopping(min_epochs=2, min_trials=2)
    assert rule.report("a", 2, 0.5)
    assert rule.report("b", 2, 0.7)  # only one other trial so far
    assert not rule.report("c", 2, 0.4)  # median of others = 0.6
    assert rule.report("d", 2, 0.8)
    assert rule.report("e", 1, 0.0)  # grace period


@pytest.mark.parametrize("bad", [dict(eta=1), dict(min_epochs=0), dict(min_epochs=3, max_epochs=2), dict(eta=2.5)])
def test_asha_rejects_bad_arguments(bad):
    with pytest.raises(ValueError):
        StoppingASHA(**bad)


def test_make_stopping_rule():
    assert make_stopping_rule(None) is None
    assert make_stopping_rule("none") is None
    assert isinstance(make_stopping_rule("asha"), ASHA)
    assert isinstance(make_stopping_rule("asha-stop"), StoppingASHA)
    assert isinstance(make_stopping_rule("Median"), MedianStopping)
    rule = StoppingASHA(eta=4)
    assert make_stopping_rule(rule) is rule
    assert isinstance(make_stopping_rule("hyperband"), Hyperband)
    with pytest.raises(ValueError, match="unknown early_stopping"):
        make_stopping_rule("successive-halving")


# -- ASHA with promotions ---------------------------------------------------------------
@pytest.mark.parametrize("max_epochs, rungs", [(9, [1, 3, 9]), (27, [1, 3, 9, 27]), (10, [1, 3, 10]),
                                               (3, [1, 3]), (2, [2]), (1, [1])])
def test_promotion_rungs_divide_the_top_rung_by_eta(max_epochs, rungs):
    scheduler = ASHA(eta=3)
    scheduler.set_max_epochs(max_epochs)
    assert scheduler.rungs == rungs
    assert ASHA(max_epochs=max_epochs).rungs == rungs


def _run(scheduler, qualities, steps):
    """Creates `steps` trials; the i-th new configuration scores
    qualities[i] times the epochs it trained in all. Returns, per trial,
    (id, source or "new", configuration, initial epoch, epochs)."""
    log, quality = [], {}
    for n in range(steps):
        trial_id = f"t{n}"
        promotion = scheduler.promotion()
        if promotion is None:
            epochs = scheduler.start_new(trial_id)
            quality[trial_id] = qualities[len(quality)]
            log.append((trial_id, "new", trial_id, 0, epochs))
            config = trial_id
        else:
            scheduler.start_promotion(trial_id, promotion)
            log.append((trial_id, promotion.source, promotion.configuration,
                        promotion.initial_epoch, promotion.epochs))
            config, epochs = promotion.configuration, promotion.epochs
        scheduler.finish(trial_id, quality[config] * epochs)
    return log


def test_asha_promotes_the_top_third_of_a_rung_from_the_top_rung_down():
    log = _run(ASHA(max_epochs=9, eta=3), [5, 9, 1, 2, 3, 8, 7, 4, 6, 0.5], 14)
    assert log == [
        ("t0", "new", "t0", 0, 1), ("t1", "new", "t1", 0, 1), ("t2", "new", "t2", 0, 1),
        ("t3", "t1", "t1", 1, 3),  # 3 at rung 1 epoch: the best goes on
        ("t4", "new", "t4", 0, 1), ("t5", "new", "t5", 0, 1), ("t6", "new", "t6", 0, 1),
        ("t7", "t6", "t6", 1, 3),  # 6 there: the top 2 are t1 (promoted) and t6
        ("t8", "new", "t8", 0, 1), ("t9", "new", "t9", 0, 1), ("t10", "new", "t10", 0, 1),
        ("t11", "t8", "t8", 1, 3),
        ("t12", "t3", "t1", 3, 9),  # 3 at 3 epochs: t1 continues from its trial there
        ("t13", "new", "t13", 0, 1),
    ]


def test_asha_ignores_failures_and_unknown_trials_and_its_state_round_trips():
    scheduler = ASHA(max_epochs=4, eta=2)
    for n, value in enumerate([1.0, None, float("nan"), 2.0]):
        scheduler.start_new(f"t{n}")
        scheduler.finish(f"t{n}", value)
    scheduler.finish("elsewhere", 5.0)
    promotion = scheduler.promotion()  # 2 results (t0, t3): the better goes on
    assert (promotion.source, promotion.initial_epoch, promotion.epochs) == ("t3", 1, 2)
    assert scheduler.is_promotable("t0") and not scheduler.is_promotable("elsewhere")
    scheduler.start_promotion("t4", promotion)
    assert scheduler.is_promotable("t4")  # rung 2 of [1, 2, 4]
    scheduler.finish("t4", 3.0)
    assert scheduler.promotion() is None  # t3 went on; 1 result at 2 epochs is no top half
    scheduler.start_promotion("t5", Promotion("t4", "t3", 2, 2, 4))
    assert not scheduler.is_promotable("t5")  # the top rung
    again = ASHA()
    again.load_state_dict(json.loads(json.dumps(scheduler.state_dict())))
    assert again.rungs == [1, 2, 4] and again.promotion() is None
    again.set_max_epochs(27)  # trials have started: the rungs stay
    assert again.rungs == [1, 2, 4]


def test_make_stopping_rule_names_every_rule_in_its_error():
    with pytest.raises(ValueError, match="none, asha, asha-stop, hyperband, median"):
        make_stopping_rule("bohb")


# -- Hyperband's synchronous brackets ----------------------------------------------------
def test_hyperband_brackets_follow_li_et_al():
    assert Hyperband(max_epochs=81).brackets == [
        [[81, 1], [27, 3], [9, 9], [3, 27], [1, 81]], [[34, 3], [11, 9], [3, 27], [1, 81]],
        [[15, 9], [5, 27], [1, 81]], [[8, 27], [2, 81]], [[5, 81]]]
    twice = Hyperband(eta=3, iterations=2)
    twice.set_max_epochs(9)
    assert twice.brackets == [[[9, 1], [3, 3], [1, 9]], [[5, 3], [1, 9]], [[3, 9]]] * 2


def test_hyperband_runs_each_rung_whole_before_promoting_its_best():
    scheduler = Hyperband(max_epochs=9, eta=3)
    quality, log, running = {}, [], []
    n = 0

    def create():
        nonlocal n
        trial_id = f"t{n}"
        promotion = scheduler.promotion()
        if promotion is not None:
            scheduler.start_promotion(trial_id, promotion)
            entry = (promotion.configuration, promotion.initial_epoch, promotion.epochs)
        elif scheduler.accepts_new():
            quality[trial_id] = (n * 7) % 10  # a fixed shuffle of qualities
            entry = (trial_id, 0, scheduler.start_new(trial_id))
        else:
            return None
        n += 1
        log.append(entry)
        return trial_id, entry

    # Two workers: the second waits while the first rung is still running.
    while True:
        created = [c for c in (create(), create()) if c is not None]
        if not created:
            break
        for trial_id, (config, _, epochs) in created:
            scheduler.finish(trial_id, quality[config] * epochs)
    assert [(start, end) for _, start, end in log] == (
        [(0, 1)] * 9 + [(1, 3)] * 3 + [(3, 9)] + [(0, 3)] * 5 + [(3, 9)] + [(0, 9)] * 3)
    first_rung = {c: quality[c] for c, start, _ in log[:9]}
    promoted = [c for c, start, _ in log[9:12]]
    assert sorted(promoted, key=lambda c: -first_rung[c]) == sorted(
        first_rung, key=lambda c: -first_rung[c])[:3]
    assert not scheduler.accepts_new() and scheduler.promotion() is None  # done
    again = Hyperband()
    again.load_state_dict(json.loads(json.dumps(scheduler.state_dict())))
    assert not again.accepts_new() and again.brackets == scheduler.brackets


def test_hyperband_waits_for_a_running_rung_and_a_failure_completes_it():
    scheduler = Hyperband(max_epochs=3, eta=3)  # brackets [[3, 1], [1, 3]] and [[2, 3]]
    for i in range(3):
        scheduler.start_new(f"t{i}")
    assert not scheduler.accepts_new() and scheduler.promotion() is None
    scheduler.finish("t0", 1.0)
    scheduler.finish("t1", None)  # failed: ends, takes no place
    assert scheduler.promotion() is None  # t2 still runs
    scheduler.finish("t2", 0.5)
    promotion = scheduler.promotion()
    assert (promotion.configuration, promotion.initial_epoch, promotion.epochs) == ("t0", 1, 3)


def test_hyperband_without_end_starts_the_brackets_over_and_resumes_there():
    scheduler = Hyperband(max_epochs=3, eta=3, iterations=None)  # [[3, 1], [1, 3]], [[2, 3]]
    started, n = [], 0
    while len(started) < 13:  # two iterations (6 trials each) and one more
        promotion = scheduler.promotion()
        trial_id = f"t{n}"
        n += 1
        if promotion is not None:
            scheduler.start_promotion(trial_id, promotion)
            started.append((promotion.initial_epoch, promotion.epochs))
        else:
            assert scheduler.accepts_new()
            started.append((0, scheduler.start_new(trial_id)))
        scheduler.finish(trial_id, float(n % 4))
    assert started == ([(0, 1)] * 3 + [(1, 3)] + [(0, 3)] * 2) * 2 + [(0, 1)]
    again = Hyperband(max_epochs=3, eta=3, iterations=None)
    again.load_state_dict(json.loads(json.dumps(scheduler.state_dict())))
    assert again.accepts_new() and again.brackets == scheduler.brackets
    assert len(Hyperband(max_epochs=3, iterations=1).brackets) == 2


# -- the end of a time budget (`endgame`) ------------------------------------------------
def _asha_with_a_leader_at_the_top():
    """Rungs 1, 3, 9: t0..t2 at rung 0 (t1 best), t1 promoted twice to the top (t4)."""
    scheduler = ASHA(max_epochs=9, eta=3)
    for n, value in enumerate([0.5, 0.8, 0.6]):
        scheduler.start_new(f"t{n}")
        scheduler.finish(f"t{n}", value)
    scheduler.start_promotion("t3", scheduler.promotion())
    scheduler.finish("t3", 0.85)
    scheduler.start_promotion("t4", Promotion("t3", "t1", 2, 3, 9))
    scheduler.finish("t4", 0.9)
    return scheduler


def test_asha_spends_the_end_of_a_budget_on_the_leader_annealed():
    scheduler = _asha_with_a_leader_at_the_top()
    costs = {"t0": 2.0, "t1": 5.0, "t2": 3.0}  # seconds per epoch; the median 3
    # Next, a new configuration's first epoch at 3 s; then the leader's reserve,
    # the top rung's 9 epochs at 5 s: 48 s.
    assert scheduler.endgame(48.0, costs) is None
    assert scheduler.accepts_new()
    promotion = scheduler.endgame(47.0, costs)
    # The whole epochs of 5 s in 90 % of the time left (an epoch may run slower).
    assert promotion == Promotion("t4", "t1", 2, 9, 9 + 8, anneal=True)
    scheduler.start_promotion("t5", promotion)
    assert not scheduler.is_promotable("t5")
    scheduler.finish("t5", 0.95)
    # After it the schedule is done: nothing is promoted or started again.
    assert scheduler.promotion() is None and not scheduler.accepts_new()
    assert scheduler.endgame(1000.0, costs) is None
    again = ASHA()
    again.load_state_dict(json.loads(json.dumps(scheduler.state_dict())))
    assert not again.accepts_new() and again.endgame(1.0, costs) is None


def test_asha_endgame_reserves_at_most_a_third_of_the_budget():
    costs = {"t0": 2.0, "t1": 5.0, "t2": 3.0}
    # The reserve: min(9 epochs at 5 s, 90 s / 3) = 30 s, after a 3-s trial.
    assert _asha_with_a_leader_at_the_top().endgame(33.0, costs, 90.0) is None
    promotion = _asha_with_a_leader_at_the_top().endgame(32.0, costs, 90.0)
    assert (promotion.initial_epoch, promotion.epochs) == (9, 9 + 5)


def test_asha_endgame_passes_over_a_promotion_that_no_longer_fits():
    scheduler = ASHA(max_epochs=9, eta=3)
    for n, value in enumerate([0.5, 0.8, 0.6]):
        scheduler.start_new(f"t{n}")
        scheduler.finish(f"t{n}", value)
    costs = {"t0": 1.0, "t1": 4.0, "t2": 1.0}
    # t1 is due at rung 3: 2 epochs at 4 s, then 9 for the leader (t1) at 4 s: 44 s.
    assert scheduler.endgame(44.0, costs) is None
    assert scheduler.promotion().configuration == "t1"
    # With less left, the promotion is passed over while a new configuration
    # (1 epoch at the median 1 s) and the reserve still fit.
    assert scheduler.endgame(40.0, costs) is None
    assert scheduler.promotion() is None and scheduler.accepts_new()
    promotion = scheduler.endgame(36.0, costs)  # the leader is at rung 1 only
    assert (promotion.source, promotion.initial_epoch, promotion.epochs) == ("t1", 1, 1 + 8)


def test_asha_endgame_ends_the_search_when_not_one_epoch_fits_and_can_be_turned_off():
    scheduler = _asha_with_a_leader_at_the_top()
    assert scheduler.endgame(4.0, {"t1": 5.0}) is None
    assert not scheduler.accepts_new() and scheduler.promotion() is None
    off = ASHA(max_epochs=9, eta=3, extend_best=False)
    off.start_new("t0")
    off.finish("t0", 0.5)
    assert off.endgame(1.0, {"t0": 5.0}) is None and off.accepts_new()
    assert ASHA().endgame(1.0, {}) is None  # nothing measured yet
    fresh = ASHA(max_epochs=9)
    fresh.start_new("t0")
    assert fresh.endgame(1.0, {"t9": 1.0}) is None  # no result yet: no leader


def test_hyperband_endgame_counts_its_next_trial_and_the_leaders_reserve():
    scheduler = Hyperband(max_epochs=9, eta=3)  # [[9, 1], [3, 3], [1, 9]], ...
    for n in range(9):
        scheduler.start_new(f"t{n}")
        scheduler.finish(f"t{n}", n / 10)
    costs = {f"t{n}": 2.0 for n in range(9)}
    # Next, t8's promotion to 3 epochs (2 at 2 s); then 9 epochs of the leader t8: 22 s.
    assert scheduler.endgame(22.0, costs) is None
    promotion = scheduler.endgame(21.0, costs)
    assert promotion == Promotion("t8", "t8", 0, 1, 1 + 9, anneal=True)
    scheduler.start_promotion("t9", promotion)
    assert scheduler.promotion() is None and not scheduler.accepts_new()
    again = Hyperband()
    again.load_state_dict(json.loads(json.dumps(scheduler.state_dict())))
    assert not again.accepts_new() and again.promotion() is None


def test_hyperband_endgame_after_its_schedule_is_done_uses_what_is_left():
    scheduler = Hyperband(max_epochs=3, eta=3)  # [[3, 1], [1, 3]], [[2, 3]]
    n = 0
    while scheduler.promotion() is not None or scheduler.accepts_new():
        trial_id, promotion = f"t{n}", scheduler.promotion()
        if promotion is not None:
            scheduler.start_promotion(trial_id, promotion)
        else:
            scheduler.start_new(trial_id)
        scheduler.finish(trial_id, [0.1, 0.5, 0.3, 0.7, 0.6, 0.2][n])
        n += 1
    promotion = scheduler.endgame(1000.0, {"t0": 1.0, "t1": 10.0, "t2": 1.0, "t4": 1.0})
    # The best at the top rung (3 epochs): t3, promoted from t1, at t1's cost.
    assert promotion == Promotion("t3", "t1", 1, 3, 3 + 90, anneal=True)


def test_a_new_run_reopens_the_schedule_and_a_later_endgame_continues_the_extension():
    scheduler = _asha_with_a_leader_at_the_top()
    costs = {"t0": 2.0, "t1": 5.0, "t2": 3.0}
    extension = scheduler.endgame(20.0, costs)
    assert (extension.source, extension.epochs) == ("t4", 9 + 3)
    scheduler.start_promotion("t5", extension)
    scheduler.finish("t5", 0.95)
    assert not scheduler.accepts_new()
    again = ASHA()  # a resumed search: the state as saved
    again.load_state_dict(json.loads(json.dumps(scheduler.state_dict())))
    again.reopen()
    assert again.accepts_new() and again.promotion() is None
    again.start_new("t6")
    again.finish("t6", 0.7)
    # The extended configuration leads at 12 epochs; its extension goes on from there.
    later = again.endgame(20.0, costs)
    assert (later.source, later.configuration, later.initial_epoch) == ("t5", "t1", 12)
    assert later.epochs == 12 + 3 and later.anneal
