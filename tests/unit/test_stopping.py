"""ASHA and median stopping rules, on hand-made learning curves."""

import json

import pytest

from autokeras_nas.core.stopping import ASHA, MedianStopping, make_stopping_rule


def test_asha_rungs_are_geometric_and_below_max():
    rule = ASHA(min_epochs=1, max_epochs=9, eta=3)
    assert [e for e in range(1, 12) if rule.is_rung(e)] == [1, 3]
    unbounded = ASHA(min_epochs=2, eta=2)
    assert [e for e in range(1, 20) if unbounded.is_rung(e)] == [2, 4, 8, 16]


def test_asha_keeps_only_top_third_at_a_rung():
    rule = ASHA(min_epochs=1, max_epochs=9, eta=3)
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
    rule = ASHA(min_epochs=1, max_epochs=9, eta=3)
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
    rule = ASHA(min_epochs=1, eta=2)
    rule.report("a", 1, 0.9)
    rule.report("b", 1, 0.1)
    rule.report("a", 1, 0.0)  # "a" retried and did worse this time
    assert rule.report("c", 1, 0.2)  # would fail against the old 0.9


def test_nonfinite_value_stops():
    assert not ASHA().report("a", 1, float("nan"))
    assert not MedianStopping().report("a", 1, float("-inf"))


def test_asha_state_round_trips_through_json():
    rule = ASHA(min_epochs=1, eta=3)
    for i, v in enumerate([0.3, 0.8, 0.5]):
        rule.report(str(i), 1, v)
    again = ASHA(min_epochs=1, eta=3)
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
        ASHA(**bad)


def test_make_stopping_rule():
    assert make_stopping_rule(None) is None
    assert make_stopping_rule("none") is None
    assert isinstance(make_stopping_rule("asha"), ASHA)
    assert isinstance(make_stopping_rule("Median"), MedianStopping)
    rule = ASHA(eta=4)
    assert make_stopping_rule(rule) is rule
    with pytest.raises(ValueError, match="unknown early_stopping"):
        make_stopping_rule("hyperband")
