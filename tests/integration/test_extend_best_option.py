"""`SearchConfig(extend_best=...)` (the command line's `--extend-best /
--no-extend-best`): with a time budget, `asha` ends on the leader's
extension by default, and not when it is turned off."""

import json

import pytest

from autokeras_nas import workflow
from autokeras_nas.core.stopping import ASHA, Hyperband, MedianStopping, make_stopping_rule


def test_the_named_schedulers_with_an_endgame_take_extend_best() -> None:
    for name, kind in (("asha", ASHA), ("hyperband", Hyperband)):
        assert isinstance(make_stopping_rule(name), kind)
        assert make_stopping_rule(name).extend_best is True
        assert make_stopping_rule(name, extend_best=False).extend_best is False
    assert isinstance(make_stopping_rule("median", extend_best=False), MedianStopping)
    assert make_stopping_rule("none", extend_best=False) is None


@pytest.mark.tf
def test_no_extend_best_runs_the_schedule_until_the_budget_stops_it(tmp_path, monkeypatch):
    from autokeras_nas.tuner import NasTuner
    from autokeras_nas.workflow import training

    schedulers = []

    class Recording(NasTuner):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            schedulers.append(self.oracle.scheduler)

    monkeypatch.setattr(training, "NasTuner", Recording)
    out = tmp_path / "search"
    workflow.search(workflow.SearchConfig(
        out_dir=out, dataset="digits", strategy="random", time_budget=6, epochs=3,
        early_stopping="asha", extend_best=False))
    # the search's scheduler is ASHA without its endgame (what ASHA(extend_best=False)
    # then does is in tests/unit/test_stopping.py)
    assert [type(s) for s in schedulers] == [ASHA] and schedulers[0].extend_best is False
    trials = json.loads((out / "results.json").read_text())["trials"]
    assert len(trials) >= 2
    assert all(t["notes"].get("origin") != "extension" for t in trials)
    assert json.loads((out / "summary.json").read_text())["extend_best"] is False
